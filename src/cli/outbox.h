/*
** outbox.h: the delivery commands (outbox.c, docs/delivery.md):
**
**   funnel outbox --db FILE [--status S] [--json]    list the outbox
**   funnel outbox --db FILE --retry ID               a dead effect back to pending
**   funnel deliver --db FILE --config FILE [--once | --follow [--interval S]]
**   funnel inbox --db FILE [--user U] [--json]       notifications, tasks, questions
**   funnel inbox --db FILE --done ID                 a task done
**
** They need no pack: the effects in the outbox carry what delivery needs.
*/
#ifndef FUNNEL_CLI_OUTBOX_H
#define FUNNEL_CLI_OUTBOX_H

/* argv[0] is the command's name. Returns the exit status: 0, 1 (an
** error: the database, the configuration), 2 (usage). */
int cmd_outbox(int argc, char **argv);
int cmd_deliver(int argc, char **argv);
int cmd_inbox(int argc, char **argv);

#endif
