/*
** store.h: the deal store, an interface. The engine reads and writes
** records, stage history, the event log, timers and the outbox through
** it, always inside a transaction it opens; SQLite (store_sqlite.c) is the
** embedded implementation, and another (PostgreSQL) can sit behind the same
** operations. The store knows the pack only through the Chunk's tables:
** it derives its tables from the entities and fields (typed columns, one
** table per entity) and checks, when it opens a database made for an older
** version of the pack, that it can migrate it.
**
** Every function returns 0 on success or an error code (< 0), with a
** message in store_error().
*/
#ifndef FUNNEL_STORE_H
#define FUNNEL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "bytecode/chunk.h"

enum {
  ST_OK = 0,
  ST_ERR = -1,        /* anything the database said */
  ST_NOTFOUND = -2,   /* no such record, user, timer... */
  ST_CONFLICT = -3,   /* a ref or key that exists already */
  ST_SCHEMA = -4,     /* the database cannot hold this pack (see migration) */
};

typedef struct Store Store;

/* A field to set: by id, with its value. */
typedef struct FieldSet {
  uint32_t field;
  Value value;
} FieldSet;

/* A record's place in its pipeline and its bookkeeping. */
typedef struct RecordInfo {
  int64_t id;
  int entity;          /* EntityKind */
  const char *ref;     /* the caller's name for it ("d1"), in the arena */
  int32_t stage;       /* -1 for records outside any direction */
  int32_t entry;       /* how many times a stage was entered: the stage-entry number */
  int64_t entered;     /* when the current stage was entered (UTC seconds) */
  int64_t created;
  bool deleted;
} RecordInfo;

/* A pending timer: handler `handler` of `record`, due at `due`, valid while
** the record is in the stage entry `entry` (0: not bound to a stage). */
typedef struct TimerRow {
  int64_t id;
  int64_t due;
  int64_t record;
  uint32_t handler;
  int32_t entry;
} TimerRow;

/* An effect for the world, stored in the same transaction as the event
** that made it, and delivered after commit. `key` makes it idempotent. */
typedef struct OutboxRow {
  int64_t id;
  const char *key;     /* record/stage-entry/handler/ordinal */
  int64_t record;
  const char *kind;    /* notify, task, message, document, webhook, ask */
  const char *json;    /* the effect as JSON */
  int64_t created;
  const char *status;  /* pending, delivered, dead */
} OutboxRow;

/* One stay of a record in a stage, oldest first. */
typedef struct HistoryRow {
  int32_t stage;       /* -1: a stage the pack no longer has */
  const char *stage_name;  /* "direction.stage", in the arena */
  int32_t entry;       /* the stage-entry number */
  int64_t entered;
  int64_t left;        /* 0 while the record is still there */
  const char *by;      /* who moved it there; NULL for robots, triggers, creation */
} HistoryRow;

typedef struct UserRow {
  const char *id, *name, *supervisor;   /* supervisor may be NULL */
  const char *email, *phone;
  uint32_t nroles;
  const char **roles;  /* role names */
} UserRow;

/* An entry of the event log. */
typedef struct EventRow {
  int64_t seq;
  int64_t at;
  const char *json;
} EventRow;

typedef struct StoreOps {
  int (*begin)(Store *s);
  int (*commit)(Store *s);
  int (*rollback)(Store *s);
  /* Group commit (funnel run --batch): inside an open transaction, each
  ** command of the group runs in a savepoint of its own. `release` keeps
  ** its work (committed with the group), `rollback_to` undoes it and ends
  ** the savepoint; an error there means the whole transaction was lost. */
  int (*savepoint)(Store *s);
  int (*release)(Store *s);
  int (*rollback_to)(Store *s);
  void (*close)(Store *s);

  /* records */
  int (*create)(Store *s, int entity, const char *ref, int32_t stage, int64_t now, int64_t *id);
  /* the same, with the new record's first field values written in its
  ** INSERT (a field given twice: the last value) */
  int (*create_with)(Store *s, int entity, const char *ref, int32_t stage, int64_t now,
                     const FieldSet *fields, size_t n, int64_t *id);
  int (*find)(Store *s, const char *ref, RecordInfo *out, Arena *a);
  int (*info)(Store *s, int64_t id, RecordInfo *out, Arena *a);
  int (*get)(Store *s, int64_t id, uint32_t field, Value *out, Arena *a);
  int (*set)(Store *s, int64_t id, uint32_t field, const Value *v);
  /* moves the record into `stage` as stage entry `entry` (history kept);
  ** `by` is the user who moved it, NULL for robots and triggers */
  int (*move)(Store *s, int64_t id, int32_t stage, int32_t entry, int64_t now, const char *by);
  int (*remove)(Store *s, int64_t id, int64_t now);
  /* the records of entity `entity` whose field `field` refers to `target` */
  int (*referrers)(Store *s, uint32_t field, int64_t target, int64_t **ids, size_t *n, Arena *a);
  /* the record's stays in stages, oldest first */
  int (*history)(Store *s, int64_t id, HistoryRow **rows, size_t *n, Arena *a);

  /* users */
  int (*put_user)(Store *s, const UserRow *u);
  int (*get_user)(Store *s, const char *id, UserRow *out, Arena *a);

  /* timers, clustered by due time */
  int (*add_timer)(Store *s, TimerRow *t);
  /* eager cancellation, for tools (the engine cancels lazily): a scan of
  ** the table, which has no index on record */
  int (*cancel_timers)(Store *s, int64_t record, int32_t entry);   /* entry < 0: all */
  int (*cancel_handler)(Store *s, int64_t record, uint32_t handler);
  /* Timers are cancelled lazily (docs/store.md): the engine drops a stale
  ** timer when it comes due. For an `at` timer planned anew when its
  ** fields change, the store remembers which timer of the record's
  ** handler is the current one: at_plan records it (0: none, the moment
  ** was empty) with the stage entry it was planned in; at_current reads
  ** it back (1: recorded, 0: the handler was never planned anew). */
  int (*at_plan)(Store *s, int64_t record, uint32_t handler, int32_t entry, int64_t timer);
  int (*at_current)(Store *s, int64_t record, uint32_t handler, int32_t *entry, int64_t *timer);
  /* the earliest timer due at or before `until`, if any (1: found) */
  int (*next_timer)(Store *s, int64_t until, TimerRow *out);
  int (*delete_timer)(Store *s, int64_t id, int64_t due);

  /* the `once` flags: has handler h already run for record r? */
  int (*once_get)(Store *s, int64_t record, uint32_t handler, bool *done);
  int (*once_set)(Store *s, int64_t record, uint32_t handler);

  /* answers to `ask` questions, by record and question key */
  int (*answer_get)(Store *s, int64_t record, const char *key, Value *out, Arena *a);
  int (*answer_put)(Store *s, int64_t record, const char *key, const Value *v);

  /* the event log and the outbox */
  int (*log_event)(Store *s, int64_t at, const char *json, int64_t *seq);
  /* read-only: up to `limit` entries after `after` (a seq; 0: from the start) */
  int (*log_list)(Store *s, int64_t after, int64_t limit, EventRow **rows, size_t *n, Arena *a);
  int (*outbox_put)(Store *s, OutboxRow *o);     /* ST_CONFLICT: the key was there */
  int (*outbox_list)(Store *s, int64_t record, const char *kind, OutboxRow **rows, size_t *n,
                     Arena *a);                  /* record 0 / kind NULL: all */
  /* after a delivery attempt: status "delivered" (at `now`), "pending"
  ** (retry at next_try) or "dead"; counts the attempt */
  int (*outbox_mark)(Store *s, int64_t id, const char *status, int64_t next_try, int64_t now);

  /* the next command number (meta "command"): read once per transaction,
  ** kept in memory and written back at commit, so that it is durable with
  ** the commands that used it; a savepoint's rollback gives back the
  ** numbers its command took */
  int (*next_command)(Store *s, int64_t *id);

  /* settings that survive restarts (the virtual clock, the pack's version) */
  int (*meta_get)(Store *s, const char *key, const char **value, Arena *a);
  int (*meta_put)(Store *s, const char *key, const char *value);
} StoreOps;

struct Store {
  const StoreOps *ops;
  const Chunk *ch;
  char error[512];
};

/* Opens (creating if needed) a SQLite store for chunk `ch` at `path`
** (":memory:" for a fresh in-memory one). Migrates an older schema when
** the pack only added fields or stages; refuses (ST_SCHEMA) a removal or
** a type change. Returns NULL with a message in *err. */
Store *store_open_sqlite(const Chunk *ch, const char *path, char *err, size_t errlen);
const char *store_error(const Store *s);

/* ---- the outbox for delivery, without a pack (outbox_sqlite.c) ----------------------------
**
** `funnel deliver`, `funnel outbox` and `funnel inbox` work on a pack's
** database without the pack: the effect's JSON has what delivery needs.
** outbox_db_open opens the file with sqlite3 directly (same format, WAL,
** synchronous=FULL, a busy timeout), refuses a file that is not a funnel
** database, and migrates it for delivery (idempotently): the outbox gets
** its `last_error` column and the `inbox` table (notifications, tasks and
** questions stored for users) is created. docs/delivery.md has the states.
** Every function returns ST_OK or an error code, the message in
** outbox_db_error(). */
typedef struct OutboxDb OutboxDb;

typedef struct OutboxItem {
  int64_t id;
  const char *key, *kind, *json, *status;
  int64_t record;
  const char *ref;       /* the record's ref, NULL for none */
  int64_t created;
  int attempts;          /* attempts started (a claim counts one) */
  int64_t next_try;      /* pending: when it is due (a claimed row: when its lease ends) */
  int64_t delivered;     /* 0 until delivered */
  const char *last_error;
} OutboxItem;

typedef struct InboxItem {
  int64_t id;
  const char *key;       /* the effect's idempotency key */
  const char *user, *kind, *text, *ref;   /* kind: notify, task, ask */
  const char *json;      /* the effect as stored */
  int64_t record;
  int64_t due;           /* tasks: 0 when it has none */
  int64_t created, delivered, done;   /* done: 0 while not done */
  int open;              /* ask: 1 while waiting for its answer, 0 answered or closed; -1 others */
} InboxItem;

OutboxDb *outbox_db_open(const char *path, char *err, size_t errlen);
void outbox_db_close(OutboxDb *db);
const char *outbox_db_error(const OutboxDb *db);
int outbox_db_begin(OutboxDb *db);
int outbox_db_commit(OutboxDb *db);
void outbox_db_rollback(OutboxDb *db);
/* Claims up to `limit` due rows (pending, next_try <= now), oldest due
** first, in a transaction of its own: each gets attempts + 1 and next_try
** = now + lease, so that no other worker takes it while it is being sent
** and a crash before it is marked leaves it pending, due again when the
** lease ends. Rows in the arena. */
int outbox_db_claim(OutboxDb *db, int64_t now, int64_t lease, int limit, OutboxItem **rows,
                    size_t *n, Arena *a);
/* Gives a claimed row back unsent (a stop): due at `now`, the attempt uncounted. */
int outbox_db_release(OutboxDb *db, int64_t id, int64_t now);
/* The end of an attempt: delivered at `now`; pending again at next_try
** with the error; dead with the error. */
int outbox_db_delivered(OutboxDb *db, int64_t id, int64_t now);
int outbox_db_retry_at(OutboxDb *db, int64_t id, int64_t next_try, const char *error);
int outbox_db_dead(OutboxDb *db, int64_t id, const char *error);
/* A dead row back to pending, due at `now`, attempts from zero
** (ST_NOTFOUND: no such row; ST_CONFLICT: it is not dead). */
int outbox_db_revive(OutboxDb *db, int64_t id, int64_t now);
/* The rows (status NULL: all), oldest first. */
int outbox_db_list(OutboxDb *db, const char *status, OutboxItem **rows, size_t *n, Arena *a);
/* The users who have role `role`. */
int outbox_db_role_users(OutboxDb *db, const char *role, const char ***users, size_t *n, Arena *a);
/* Stores an item for a user; the same key for the same user twice is
** kept once. */
int outbox_db_inbox_put(OutboxDb *db, const InboxItem *it);
/* A user's items (user NULL: everyone's), oldest first. */
int outbox_db_inbox_list(OutboxDb *db, const char *user, InboxItem **rows, size_t *n, Arena *a);
/* Marks a task done at `now` (ST_NOTFOUND: no such item). */
int outbox_db_inbox_done(OutboxDb *db, int64_t id, int64_t now);

#endif
