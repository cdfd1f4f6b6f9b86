/*
** document.h: `funnel document`, a document rendered by hand (document.c).
*/
#ifndef FUNNEL_CLI_DOCUMENT_H
#define FUNNEL_CLI_DOCUMENT_H

/* funnel document --template-dir DIR NAME [--params JSON|@FILE]
**                 [--html OUT.html] [--pdf OUT.pdf]
** argv[0] is "document". Returns the exit status: 0 written, 1 the
** document could not be made (the reason on stderr), 2 a usage error. */
int cmd_document(int argc, char **argv);

#endif
