/*
** outbox_sqlite.c: the event log and the outbox of the SQLite store:
** appending and listing logged events, putting effects in the outbox under
** their idempotency keys, listing them and recording delivery attempts.
** The operations table in store_sqlite.c points here. Below them, the
** outbox for delivery without a pack (outbox_db_*, see store.h): the
** worker of src/deliver claims, marks and revives rows, and keeps the
** inbox of notifications, tasks and questions.
*/
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define S(st) ((SqlStore *)(st))

int sq_log_event(Store *store, int64_t at, const char *json, int64_t *seq) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_EVENT_LOG);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, at);
  sqlite3_bind_text(st, 2, json ? json : "{}", -1, SQLITE_STATIC);
  int rc = st_run(s, st, "event log");
  if (!rc && seq) *seq = sqlite3_last_insert_rowid(s->db);
  return rc;
}

int sq_log_list(Store *store, int64_t after, int64_t limit, EventRow **rows, size_t *n,
                       Arena *a) {
  SqlStore *s = S(store);
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st = st_stmt(s, SQ_EVENT_LIST);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, after);
  sqlite3_bind_int64(st, 2, limit > 0 ? limit : INT64_MAX);
  size_t cap = 0;
  int rc;
  while ((rc = st_row(s, st, "event log")) == 1) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      EventRow *nr = arena_alloc(a, ncap * sizeof *nr);
      if (*n) memcpy(nr, *rows, *n * sizeof *nr);
      *rows = nr;
      cap = ncap;
    }
    EventRow *r = &(*rows)[(*n)++];
    r->seq = sqlite3_column_int64(st, 0);
    r->at = sqlite3_column_int64(st, 1);
    r->json = st_col_text(st, 2, a);
  }
  return rc < 0 ? rc : ST_OK;
}

int sq_outbox_put(Store *store, OutboxRow *o) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_OUTBOX_PUT);
  if (!st) return ST_ERR;
  st_bind_text_or_null(st, 1, o->key);
  if (o->record)
    sqlite3_bind_int64(st, 2, o->record);
  else
    sqlite3_bind_null(st, 2);
  sqlite3_bind_text(st, 3, o->kind ? o->kind : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, o->json ? o->json : "{}", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, o->created);
  int rc = st_run(s, st, "outbox");
  if (rc == ST_CONFLICT)
    return st_fail(s, ST_CONFLICT, "the outbox has an effect with key '%s' already", o->key);
  if (!rc) {
    o->id = sqlite3_last_insert_rowid(s->db);
    o->status = "pending";
  }
  return rc;
}

int sq_outbox_list(Store *store, int64_t record, const char *kind, OutboxRow **rows,
                          size_t *n, Arena *a) {
  SqlStore *s = S(store);
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st = st_stmt(s, SQ_OUTBOX_LIST);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, record);
  st_bind_text_or_null(st, 2, kind);
  size_t cap = 0;
  int rc;
  while ((rc = st_row(s, st, "outbox")) == 1) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      OutboxRow *nr = arena_alloc(a, ncap * sizeof *nr);
      if (*n) memcpy(nr, *rows, *n * sizeof *nr);
      *rows = nr;
      cap = ncap;
    }
    OutboxRow *o = &(*rows)[(*n)++];
    o->id = sqlite3_column_int64(st, 0);
    o->key = st_col_text(st, 1, a);
    o->record = sqlite3_column_int64(st, 2);
    o->kind = st_col_text(st, 3, a);
    o->json = st_col_text(st, 4, a);
    o->created = sqlite3_column_int64(st, 5);
    o->status = st_col_text(st, 6, a);
  }
  return rc < 0 ? rc : ST_OK;
}

int sq_outbox_mark(Store *store, int64_t id, const char *status, int64_t next_try,
                          int64_t now) {
  SqlStore *s = S(store);
  if (!status || (strcmp(status, "delivered") && strcmp(status, "pending") && strcmp(status, "dead")))
    return st_fail(s, ST_ERR, "outbox: status '%s' is not delivered, pending or dead",
                   status ? status : "(null)");
  sqlite3_stmt *st = st_stmt(s, SQ_OUTBOX_MARK);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, next_try);
  sqlite3_bind_int64(st, 4, now);
  int rc = st_run(s, st, "outbox");
  if (!rc && sqlite3_changes(s->db) == 0)
    return st_fail(s, ST_NOTFOUND, "no outbox row %lld", (long long)id);
  return rc;
}


/* ---- the outbox for delivery, without a pack ------------------------------------------------
**
** A connection of its own (sqlite3 directly): the deliverer has no chunk,
** and needs none. The statements below are prepared once per connection. */


#define ODB_BUSY_TIMEOUT_MS 10000

#define ODB_STMTS(X)                                                                          \
  X(BEGIN, "BEGIN IMMEDIATE")                                                                 \
  X(COMMIT, "COMMIT")                                                                         \
  X(ROLLBACK, "ROLLBACK")                                                                     \
  X(DUE, "SELECT o.id, o.key, o.record, o.kind, o.json, o.created, o.status, o.attempts, "     \
         "o.next_try, o.delivered, o.last_error, r.ref FROM outbox AS o "                     \
         "LEFT JOIN records AS r ON r.id = o.record "                                         \
         "WHERE o.status = 'pending' AND o.next_try <= ?1 ORDER BY o.next_try, o.id LIMIT ?2") \
  X(CLAIM, "UPDATE outbox SET attempts = attempts + 1, next_try = ?2 "                        \
           "WHERE id = ?1 AND status = 'pending'")                                            \
  X(RELEASE, "UPDATE outbox SET attempts = max(attempts - 1, 0), next_try = ?2 "              \
             "WHERE id = ?1 AND status = 'pending'")                                          \
  X(DELIVERED, "UPDATE outbox SET status = 'delivered', delivered = ?2 WHERE id = ?1")         \
  X(RETRY, "UPDATE outbox SET status = 'pending', next_try = ?2, last_error = ?3 WHERE id = ?1") \
  X(DEAD, "UPDATE outbox SET status = 'dead', last_error = ?2 WHERE id = ?1")                 \
  X(STATUS, "SELECT status FROM outbox WHERE id = ?1")                                        \
  X(REVIVE, "UPDATE outbox SET status = 'pending', attempts = 0, next_try = ?2 "              \
            "WHERE id = ?1 AND status = 'dead'")                                              \
  X(LIST, "SELECT o.id, o.key, o.record, o.kind, o.json, o.created, o.status, o.attempts, "   \
          "o.next_try, o.delivered, o.last_error, r.ref FROM outbox AS o "                    \
          "LEFT JOIN records AS r ON r.id = o.record "                                        \
          "WHERE ?1 IS NULL OR o.status = ?1 ORDER BY o.id")                                  \
  X(ROLE_USERS, "SELECT user FROM user_roles WHERE role = ?1 ORDER BY user")                  \
  X(INBOX_PUT, "INSERT OR IGNORE INTO inbox(key, user, kind, record, text, due, created, "    \
               "delivered, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")                \
  X(INBOX_LIST, "SELECT i.id, i.key, i.user, i.kind, i.record, i.text, i.due, i.created, "    \
                "i.delivered, i.done, i.json, r.ref FROM inbox AS i "                         \
                "LEFT JOIN records AS r ON r.id = i.record "                                  \
                "WHERE ?1 IS NULL OR i.user = ?1 ORDER BY i.id")                              \
  X(INBOX_DONE, "UPDATE inbox SET done = ?2 WHERE id = ?1 AND done IS NULL")                  \
  X(INBOX_HAS, "SELECT done FROM inbox WHERE id = ?1")                                        \
  X(ANSWER, "SELECT value FROM answers WHERE record = ?1 AND key = ?2")

typedef enum OdbStmt {
#define X(id, sql) ODB_##id,
  ODB_STMTS(X)
#undef X
  ODB__COUNT
} OdbStmt;

static const char *const odb_sql[ODB__COUNT] = {
#define X(id, sql) sql,
    ODB_STMTS(X)
#undef X
};

struct OutboxDb {
  sqlite3 *db;
  sqlite3_stmt *st[ODB__COUNT];
  char error[512];
};

static int odb_fail(OutboxDb *d, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int odb_fail(OutboxDb *d, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->error, sizeof d->error, fmt, ap);
  va_end(ap);
  return code;
}

const char *outbox_db_error(const OutboxDb *d) { return d ? d->error : "no database"; }

static sqlite3_stmt *odb_stmt(OutboxDb *d, OdbStmt id) {
  if (!d->st[id] && sqlite3_prepare_v3(d->db, odb_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                       &d->st[id], NULL) != SQLITE_OK) {
    odb_fail(d, ST_ERR, "preparing a statement: %s", sqlite3_errmsg(d->db));
    d->st[id] = NULL;
  }
  if (d->st[id]) sqlite3_clear_bindings(d->st[id]);
  return d->st[id];
}

/* Steps a statement without rows, resets it. */
static int odb_run(OutboxDb *d, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  int code = rc == SQLITE_DONE || rc == SQLITE_ROW
                 ? ST_OK
                 : odb_fail(d, ST_ERR, "%s: %s", what, sqlite3_errmsg(d->db));
  sqlite3_reset(st);
  return code;
}

/* Next row: 1, 0 at the end (reset), < 0 an error (reset). */
static int odb_row(OutboxDb *d, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return 1;
  int code = rc == SQLITE_DONE ? 0 : odb_fail(d, ST_ERR, "%s: %s", what, sqlite3_errmsg(d->db));
  sqlite3_reset(st);
  return code;
}

static int odb_exec(OutboxDb *d, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) == SQLITE_OK) return ST_OK;
  odb_fail(d, ST_ERR, "%s", msg ? msg : sqlite3_errmsg(d->db));
  sqlite3_free(msg);
  return ST_ERR;
}

static bool odb_has(OutboxDb *d, const char *sql) {
  sqlite3_stmt *st = NULL;
  bool yes = false;
  if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) == SQLITE_OK)
    yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
  sqlite3_finalize(st);
  return yes;
}

/* What delivery adds to a database, idempotently, in one transaction. */
static int odb_migrate(OutboxDb *d) {
  if (odb_exec(d, "BEGIN IMMEDIATE")) return ST_ERR;
  int rc = ST_OK;
  if (!odb_has(d, "SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'last_error'"))
    rc = odb_exec(d, "ALTER TABLE outbox ADD COLUMN last_error TEXT");
  if (!rc) rc = odb_exec(d, "UPDATE outbox SET next_try = created WHERE next_try IS NULL");
  if (!rc)
    rc = odb_exec(d,
                  "CREATE TABLE IF NOT EXISTS inbox(id INTEGER PRIMARY KEY, key TEXT NOT NULL,\n"
                  "  user TEXT NOT NULL, kind TEXT NOT NULL, record INTEGER, text TEXT,\n"
                  "  due INTEGER, created INTEGER NOT NULL, delivered INTEGER NOT NULL,\n"
                  "  done INTEGER, json TEXT, UNIQUE(key, user));\n"
                  "CREATE INDEX IF NOT EXISTS inbox_user ON inbox(user, id);");
  if (rc) {
    char keep[sizeof d->error];
    memcpy(keep, d->error, sizeof keep);
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    memcpy(d->error, keep, sizeof keep);
    return rc;
  }
  return odb_exec(d, "COMMIT");
}

OutboxDb *outbox_db_open(const char *path, char *err, size_t errlen) {
  OutboxDb *d = xcalloc(1, sizeof *d);
  /* no CREATE: a database is made by `funnel run` for its pack */
  if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    odb_fail(d, ST_ERR, "cannot open %s: %s", path, d->db ? sqlite3_errmsg(d->db) : "out of memory");
    goto fail;
  }
  sqlite3_extended_result_codes(d->db, 1);
  sqlite3_busy_timeout(d->db, ODB_BUSY_TIMEOUT_MS);
  if (odb_exec(d, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")) {
    char keep[sizeof d->error];
    memcpy(keep, d->error, sizeof keep);
    odb_fail(d, ST_ERR, "cannot open %s: %s", path, keep);
    goto fail;
  }
  if (!odb_has(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'") ||
      !odb_has(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'")) {
    odb_fail(d, ST_SCHEMA, "%s is not a funnel database (no meta and outbox tables): "
             "`funnel run --db %s PACK` makes one", path, path);
    goto fail;
  }
  if (odb_exec(d, "PRAGMA journal_mode = WAL;") || odb_migrate(d)) {
    char keep[sizeof d->error];
    memcpy(keep, d->error, sizeof keep);
    odb_fail(d, ST_ERR, "%s: %s", path, keep);
    goto fail;
  }
  return d;
fail:
  if (err && errlen) snprintf(err, errlen, "%s", d->error);
  outbox_db_close(d);
  return NULL;
}

void outbox_db_close(OutboxDb *d) {
  if (!d) return;
  for (int i = 0; i < ODB__COUNT; i++) sqlite3_finalize(d->st[i]);
  sqlite3_close(d->db);
  free(d);
}

static int odb_simple(OutboxDb *d, OdbStmt id) {
  sqlite3_stmt *st = odb_stmt(d, id);
  return st ? odb_run(d, st, "transaction") : ST_ERR;
}

int outbox_db_begin(OutboxDb *d) { return odb_simple(d, ODB_BEGIN); }
int outbox_db_commit(OutboxDb *d) { return odb_simple(d, ODB_COMMIT); }

void outbox_db_rollback(OutboxDb *d) {
  char keep[sizeof d->error];
  memcpy(keep, d->error, sizeof keep);
  if (sqlite3_get_autocommit(d->db) == 0) sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
  memcpy(d->error, keep, sizeof keep);
}

static const char *col_text(sqlite3_stmt *st, int i, Arena *a) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

static void read_item(sqlite3_stmt *st, OutboxItem *o, Arena *a) {
  o->id = sqlite3_column_int64(st, 0);
  o->key = col_text(st, 1, a);
  o->record = sqlite3_column_int64(st, 2);
  o->kind = col_text(st, 3, a);
  o->json = col_text(st, 4, a);
  o->created = sqlite3_column_int64(st, 5);
  o->status = col_text(st, 6, a);
  o->attempts = sqlite3_column_int(st, 7);
  o->next_try = sqlite3_column_int64(st, 8);
  o->delivered = sqlite3_column_int64(st, 9);
  o->last_error = col_text(st, 10, a);
  o->ref = col_text(st, 11, a);
}

/* Reads the rows of a query into an arena array. */
static int read_items(OutboxDb *d, sqlite3_stmt *st, OutboxItem **rows, size_t *n, Arena *a) {
  size_t cap = 0;
  int rc;
  while ((rc = odb_row(d, st, "outbox")) == 1) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      OutboxItem *nr = arena_alloc(a, ncap * sizeof *nr);
      if (*n) memcpy(nr, *rows, *n * sizeof *nr);
      *rows = nr;
      cap = ncap;
    }
    read_item(st, &(*rows)[(*n)++], a);
  }
  return rc < 0 ? rc : ST_OK;
}

int outbox_db_claim(OutboxDb *d, int64_t now, int64_t lease, int limit, OutboxItem **rows,
                    size_t *n, Arena *a) {
  *rows = NULL;
  *n = 0;
  if (outbox_db_begin(d)) return ST_ERR;
  sqlite3_stmt *st = odb_stmt(d, ODB_DUE);
  int rc = st ? ST_OK : ST_ERR;
  if (!rc) {
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : 1);
    rc = read_items(d, st, rows, n, a);
  }
  sqlite3_stmt *cl = rc ? NULL : odb_stmt(d, ODB_CLAIM);
  if (!rc && !cl) rc = ST_ERR;
  for (size_t i = 0; !rc && i < *n; i++) {
    sqlite3_bind_int64(cl, 1, (*rows)[i].id);
    sqlite3_bind_int64(cl, 2, now + lease);
    rc = odb_run(d, cl, "claiming an outbox row");
    (*rows)[i].attempts++;
    (*rows)[i].next_try = now + lease;
  }
  if (!rc) rc = outbox_db_commit(d);
  if (rc) {
    outbox_db_rollback(d);
    *n = 0;
  }
  return rc;
}

/* Runs a one-row update and says ST_NOTFOUND when it touched nothing. */
static int odb_update(OutboxDb *d, sqlite3_stmt *st, int64_t id) {
  int rc = odb_run(d, st, "outbox");
  if (!rc && sqlite3_changes(d->db) == 0)
    return odb_fail(d, ST_NOTFOUND, "no outbox row %lld in that state", (long long)id);
  return rc;
}

int outbox_db_release(OutboxDb *d, int64_t id, int64_t now) {
  sqlite3_stmt *st = odb_stmt(d, ODB_RELEASE);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now);
  return odb_update(d, st, id);
}

int outbox_db_delivered(OutboxDb *d, int64_t id, int64_t now) {
  sqlite3_stmt *st = odb_stmt(d, ODB_DELIVERED);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now);
  return odb_update(d, st, id);
}

int outbox_db_retry_at(OutboxDb *d, int64_t id, int64_t next_try, const char *error) {
  sqlite3_stmt *st = odb_stmt(d, ODB_RETRY);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, next_try);
  sqlite3_bind_text(st, 3, error ? error : "", -1, SQLITE_TRANSIENT);
  return odb_update(d, st, id);
}

int outbox_db_dead(OutboxDb *d, int64_t id, const char *error) {
  sqlite3_stmt *st = odb_stmt(d, ODB_DEAD);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_text(st, 2, error ? error : "", -1, SQLITE_TRANSIENT);
  return odb_update(d, st, id);
}

int outbox_db_revive(OutboxDb *d, int64_t id, int64_t now) {
  sqlite3_stmt *st = odb_stmt(d, ODB_STATUS);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  int rc = odb_row(d, st, "outbox");
  if (rc < 0) return rc;
  if (rc == 0) return odb_fail(d, ST_NOTFOUND, "no outbox row %lld", (long long)id);
  char status[32];
  snprintf(status, sizeof status, "%s",
           sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
  sqlite3_reset(st);
  if (strcmp(status, "dead"))
    return odb_fail(d, ST_CONFLICT, "outbox row %lld is %s, not dead: only a dead row is retried",
                    (long long)id, status);
  st = odb_stmt(d, ODB_REVIVE);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now);
  return odb_update(d, st, id);
}

int outbox_db_list(OutboxDb *d, const char *status, OutboxItem **rows, size_t *n, Arena *a) {
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st = odb_stmt(d, ODB_LIST);
  if (!st) return ST_ERR;
  if (status)
    sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 1);
  return read_items(d, st, rows, n, a);
}

int outbox_db_role_users(OutboxDb *d, const char *role, const char ***users, size_t *n, Arena *a) {
  *users = NULL;
  *n = 0;
  sqlite3_stmt *st = odb_stmt(d, ODB_ROLE_USERS);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, role, -1, SQLITE_TRANSIENT);
  size_t cap = 0;
  int rc;
  while ((rc = odb_row(d, st, "users")) == 1) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      const char **nu = arena_alloc(a, ncap * sizeof *nu);
      if (*n) memcpy(nu, *users, *n * sizeof *nu);
      *users = nu;
      cap = ncap;
    }
    (*users)[(*n)++] = col_text(st, 0, a);
  }
  return rc < 0 ? rc : ST_OK;
}

int outbox_db_inbox_put(OutboxDb *d, const InboxItem *it) {
  sqlite3_stmt *st = odb_stmt(d, ODB_INBOX_PUT);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, it->key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, it->user, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, it->kind, -1, SQLITE_TRANSIENT);
  if (it->record)
    sqlite3_bind_int64(st, 4, it->record);
  else
    sqlite3_bind_null(st, 4);
  if (it->text)
    sqlite3_bind_text(st, 5, it->text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 5);
  if (it->due)
    sqlite3_bind_int64(st, 6, it->due);
  else
    sqlite3_bind_null(st, 6);
  sqlite3_bind_int64(st, 7, it->created);
  sqlite3_bind_int64(st, 8, it->delivered);
  if (it->json)
    sqlite3_bind_text(st, 9, it->json, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 9);
  return odb_run(d, st, "inbox");
}

/* A question is open while the engine waits for it: its handler's
** "pending:H" answer names it and "key:H" is the run that asked (the key
** is RUN/record/handler/position/ask). */
static int question_open(OutboxDb *d, const InboxItem *it) {
  char run[128];
  unsigned long long rec = 0;
  unsigned handler = 0;
  const char *slash = strchr(it->key, '/');
  if (!slash || (size_t)(slash - it->key) >= sizeof run) return 0;
  memcpy(run, it->key, (size_t)(slash - it->key));
  run[slash - it->key] = 0;
  if (sscanf(slash + 1, "%llu/%u/", &rec, &handler) != 2) return 0;
  json_t *j = it->json ? json_loads(it->json, 0, NULL) : NULL;
  const char *q = json_string_value(json_object_get(j, "question"));
  int open = 0;
  sqlite3_stmt *st = odb_stmt(d, ODB_ANSWER);
  if (q && st) {
    char key[64], want_q[512], want_k[256];
    snprintf(want_q, sizeof want_q, "[\"text\",\"%s\"]", q);
    snprintf(want_k, sizeof want_k, "[\"text\",\"%s\"]", run);
    snprintf(key, sizeof key, "pending:%u", handler);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)rec);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    bool pending = odb_row(d, st, "answers") == 1 && sqlite3_column_text(st, 0) &&
                   !strcmp((const char *)sqlite3_column_text(st, 0), want_q);
    sqlite3_reset(st);
    snprintf(key, sizeof key, "key:%u", handler);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    bool same_run = odb_row(d, st, "answers") == 1 && sqlite3_column_text(st, 0) &&
                    !strcmp((const char *)sqlite3_column_text(st, 0), want_k);
    sqlite3_reset(st);
    open = pending && same_run;
  }
  json_decref(j);
  return open;
}

int outbox_db_inbox_list(OutboxDb *d, const char *user, InboxItem **rows, size_t *n, Arena *a) {
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st = odb_stmt(d, ODB_INBOX_LIST);
  if (!st) return ST_ERR;
  if (user)
    sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 1);
  size_t cap = 0;
  int rc;
  while ((rc = odb_row(d, st, "inbox")) == 1) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      InboxItem *nr = arena_alloc(a, ncap * sizeof *nr);
      if (*n) memcpy(nr, *rows, *n * sizeof *nr);
      *rows = nr;
      cap = ncap;
    }
    InboxItem *it = &(*rows)[(*n)++];
    it->id = sqlite3_column_int64(st, 0);
    it->key = col_text(st, 1, a);
    it->user = col_text(st, 2, a);
    it->kind = col_text(st, 3, a);
    it->record = sqlite3_column_int64(st, 4);
    it->text = col_text(st, 5, a);
    it->due = sqlite3_column_int64(st, 6);
    it->created = sqlite3_column_int64(st, 7);
    it->delivered = sqlite3_column_int64(st, 8);
    it->done = sqlite3_column_int64(st, 9);
    it->json = col_text(st, 10, a);
    it->ref = col_text(st, 11, a);
    it->open = -1;
  }
  if (rc < 0) return rc;
  for (size_t i = 0; i < *n; i++)
    if (!strcmp((*rows)[i].kind, "ask")) (*rows)[i].open = question_open(d, &(*rows)[i]);
  return ST_OK;
}

int outbox_db_inbox_done(OutboxDb *d, int64_t id, int64_t now) {
  sqlite3_stmt *st = odb_stmt(d, ODB_INBOX_HAS);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  int rc = odb_row(d, st, "inbox");
  if (rc < 0) return rc;
  if (rc == 0) return odb_fail(d, ST_NOTFOUND, "no inbox item %lld", (long long)id);
  sqlite3_reset(st);
  st = odb_stmt(d, ODB_INBOX_DONE);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now);
  return odb_run(d, st, "inbox");
}
