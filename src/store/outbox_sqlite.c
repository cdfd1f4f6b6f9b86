/*
** outbox_sqlite.c: the event log and the outbox of the SQLite store:
** appending and listing logged events, putting effects in the outbox under
** their idempotency keys, listing them and recording delivery attempts.
** The operations table in store_sqlite.c points here.
*/
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

