/*
** worker.c: a pass of the outbox worker (worker.h).
**
** Each row is claimed first (outbox_db_claim: attempts + 1 and a lease,
** committed), then sent, then marked. A crash after the claim leaves the
** row pending, due again when the lease ends: it is sent again with the
** same key. Notifications, tasks and questions are written to the inbox
** in the same transaction as their "delivered" mark, so they are never
** stored twice. A failed attempt is due again after backoff_delay(); the
** attempt that reaches max_attempts, or a failure no retry can mend (a
** 4xx, an SMTP 5xx, no address, a channel not configured), makes it dead.
*/
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deliver/channel.h"
#include "deliver/worker.h"
#include "util/arena.h"

static void iso(int64_t t, char *buf, size_t n) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool local_kind(const char *kind) {
  return !strcmp(kind, "notify") || !strcmp(kind, "task") || !strcmp(kind, "ask");
}

static Verdict send_external(Worker *w, Job *j) {
  const char *kind = j->row->kind;
  Verdict v;
  if (!strcmp(kind, "message")) {
    const char *ch = effect_text(j->effect, "channel");
    v = !strcmp(ch, "email") ? chan_email(j) : chan_messenger(j);
  } else if (!strcmp(kind, "webhook")) {
    v = chan_webhook(j);
  } else if (!strcmp(kind, "document")) {
    v = chan_document(j);
  } else if (!strcmp(kind, "native")) {
    v = chan_native(j);
  } else {
    return job_fail(j, V_DEAD, "no channel delivers '%s' effects", kind);
  }
  if (v == V_DELIVERED && w->crash_after > 0 && ++w->sends >= w->crash_after) {
    /* the fault the tests inject: sent, not yet marked */
    if (w->log) fflush(w->log);
    kill(getpid(), SIGKILL);
  }
  return v;
}

/* Delivers one claimed row and marks it. */
static int deliver_row(Worker *w, const OutboxItem *row, int64_t now, DeliverStats *st) {
  char err[600] = "";
  json_error_t jerr;
  json_t *effect = json_loads(row->json, 0, &jerr);
  Job j = {w->cfg, row, effect, now, err, sizeof err};
  Verdict v;
  int rc = ST_OK;
  if (!json_is_object(effect)) {
    v = job_fail(&j, V_DEAD, "the effect is not a JSON object: %s", jerr.text);
  } else if (local_kind(row->kind)) {
    /* the inbox and the mark in one transaction */
    if (outbox_db_begin(w->db) != ST_OK) {
      json_decref(effect);
      return -1;
    }
    v = chan_inbox(&j, w->db);
    if (v == V_DELIVERED) {
      rc = outbox_db_delivered(w->db, row->id, now);
      if (!rc) rc = outbox_db_commit(w->db);
      if (rc) outbox_db_rollback(w->db);
      if (!rc) {
        st->delivered++;
        if (w->log) fprintf(w->log, "delivered #%lld %s %s\n", (long long)row->id, row->kind, row->key);
      }
      json_decref(effect);
      return rc ? -1 : 0;
    }
    outbox_db_rollback(w->db);
  } else {
    v = send_external(w, &j);
  }
  json_decref(effect);
  char at[32];
  if (v == V_DELIVERED) {
    rc = outbox_db_delivered(w->db, row->id, now);
    if (!rc) st->delivered++;
    if (!rc && w->log) fprintf(w->log, "delivered #%lld %s %s\n", (long long)row->id, row->kind, row->key);
  } else if (v == V_RETRY && row->attempts < w->cfg->max_attempts) {
    int64_t next = now + backoff_delay(w->cfg, row->attempts);
    rc = outbox_db_retry_at(w->db, row->id, next, err);
    iso(next, at, sizeof at);
    if (!rc) st->retried++;
    if (!rc && w->log)
      fprintf(w->log, "retry #%lld %s %s (attempt %d, next at %s): %s\n", (long long)row->id,
              row->kind, row->key, row->attempts, at, err);
  } else {
    char why[700];
    if (v == V_RETRY)
      snprintf(why, sizeof why, "gave up after %d attempts: %s", row->attempts, err);
    else
      snprintf(why, sizeof why, "%s", err);
    rc = outbox_db_dead(w->db, row->id, why);
    if (!rc) st->dead++;
    if (!rc && w->log) fprintf(w->log, "dead #%lld %s %s: %s\n", (long long)row->id, row->kind, row->key, why);
  }
  return rc ? -1 : 0;
}

int worker_pass(Worker *w, int64_t now, DeliverStats *st) {
  Arena a;
  arena_init(&a);
  int rc = 0;
  while (!(w->stop && *w->stop)) {
    OutboxItem *rows;
    size_t n;
    arena_reset(&a);
    if (outbox_db_claim(w->db, now, w->cfg->lease, w->cfg->batch, &rows, &n, &a) != ST_OK) {
      rc = -1;
      break;
    }
    if (!n) break;
    for (size_t i = 0; i < n; i++) {
      if (w->stop && *w->stop) {
        /* stopping: the rows not tried yet go back as they were */
        for (; i < n; i++) outbox_db_release(w->db, rows[i].id, now);
        break;
      }
      if (deliver_row(w, &rows[i], now, st) != 0) {
        st->errors++;
        if (w->log)
          fprintf(w->log, "error #%lld: %s (it is due again when its lease ends)\n",
                  (long long)rows[i].id, outbox_db_error(w->db));
      }
    }
    /* rows marked pending again are due after `now` (base >= 1s): the
    ** next claim does not see them, so a pass ends */
  }
  arena_free(&a);
  return rc;
}
