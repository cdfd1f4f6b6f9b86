/*
** worker.h: the outbox worker. A pass claims the due rows of the outbox
** (a batch at a time), delivers each through its channel and marks it:
** delivered; pending again after a back-off; or dead after the last
** attempt or a permanent failure. docs/delivery.md describes the states
** and what "exactly once" means.
*/
#ifndef FUNNEL_DELIVER_WORKER_H
#define FUNNEL_DELIVER_WORKER_H

#include <signal.h>
#include <stdio.h>

#include "deliver/config.h"
#include "store/store.h"

typedef struct DeliverStats {
  long delivered, retried, dead;
  long errors;               /* database errors (the row stays claimed until its lease ends) */
} DeliverStats;

typedef struct Worker {
  OutboxDb *db;
  const DeliverConfig *cfg;
  FILE *log;                 /* a line per attempt (NULL: quiet) */
  volatile sig_atomic_t *stop;   /* set by a signal: finish the row at hand, then stop */
  long crash_after;          /* tests: SIGKILL itself after this many external sends, before marking */
  long sends;
} Worker;

/* The delay before attempt `failed + 1`, after `failed` failed ones:
** base * factor^(failed - 1), at most cap. */
int64_t backoff_delay(const DeliverConfig *c, int failed);
/* One pass: everything due at `now`. 0, or -1 when the database fails
** (the message in outbox_db_error). */
int worker_pass(Worker *w, int64_t now, DeliverStats *st);

#endif
