/*
** store_int.h: what store_sqlite.c (the operations) and schema.c (the
** tables derived from the chunk, creation and migration) share. Not part
** of the store's interface: nothing outside src/store includes it.
*/
#ifndef FUNNEL_STORE_INT_H
#define FUNNEL_STORE_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "store/store.h"

/* The version of the layout of the fixed tables (meta, records, users,
** timers...). A database made by a newer funnel is refused. */
#define STORE_FORMAT 2   /* 2: records.timers, no index timers_record (lazy cancellation) */

/* The read-only properties of a record that the store answers from the
** `records` table rather than from a column. */
typedef enum RecordProp {
  RP_NONE, RP_ID, RP_CREATED, RP_STAGE, RP_DIRECTION, RP_ENTERED, RP_WON, RP_LOST, RP_CLOSED,
  RP_OTHER /* read-only and not ours (back references): the engine's business */
} RecordProp;

/* Per field of the chunk: its column (NULL when it is not stored) and the
** statements that read and write it, prepared on first use. */
typedef struct FieldCol {
  char *col;            /* "f_sum" */
  uint8_t prop;         /* RecordProp */
  uint16_t ins_param;   /* its parameter in the entity's full INSERT (0: none) */
  sqlite3_stmt *get, *set, *refs;
} FieldCol;

/* The fixed statements, prepared on first use and kept until close. */
#define STORE_STMTS(X)                                                                        \
  X(BEGIN, "BEGIN IMMEDIATE")                                                                 \
  X(COMMIT, "COMMIT")                                                                         \
  X(ROLLBACK, "ROLLBACK")                                                                     \
  X(SAVEPOINT, "SAVEPOINT cmd")       /* group commit: one command of a group */              \
  X(RELEASE, "RELEASE cmd")                                                                   \
  X(ROLLBACK_TO, "ROLLBACK TO cmd")                                                           \
  X(REC_INSERT, "INSERT INTO records(entity, ref, stage, entry, entered, created) "           \
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                            \
  X(REC_SETREF, "UPDATE records SET ref = ?2 WHERE id = ?1")                                  \
  X(REC_BY_REF, "SELECT id, entity, ref, stage, entry, entered, created, deleted "            \
                "FROM records WHERE ref = ?1")                                                \
  X(REC_BY_ID, "SELECT id, entity, ref, stage, entry, entered, created, deleted "             \
               "FROM records WHERE id = ?1")                                                  \
  X(REC_MOVE, "UPDATE records SET stage = ?2, entry = ?3, entered = ?4 "                      \
              "WHERE id = ?1 AND entity = ?5 AND deleted IS NULL")                            \
  X(REC_AT_PLAN, "UPDATE records SET timers = json_set(coalesce(timers, '{}'), ?2, "             \
                 "json_array(?3, ?4)) WHERE id = ?1")                                          \
  X(REC_AT_GET, "SELECT json_extract(timers, ?2) FROM records WHERE id = ?1")                  \
  X(REC_REMOVE, "UPDATE records SET deleted = ?2 WHERE id = ?1 AND deleted IS NULL")          \
  X(HIST_CLOSE, "UPDATE stage_history SET \"left\" = ?2 WHERE record = ?1 AND \"left\" IS NULL") \
  X(HIST_OPEN, "INSERT INTO stage_history(record, stage, entry, entered, by_user) "           \
               "VALUES (?1, ?2, ?3, ?4, ?5)")                                                 \
  X(HIST_LIST, "SELECT stage, entry, entered, \"left\", by_user FROM stage_history "          \
               "WHERE record = ?1 ORDER BY rowid")                                            \
  X(USER_PUT, "INSERT INTO users(id, name, supervisor, email, phone) VALUES (?1, ?2, ?3, ?4, ?5) " \
              "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "                          \
              "supervisor = excluded.supervisor, email = excluded.email, phone = excluded.phone") \
  X(USER_GET, "SELECT id, name, supervisor, email, phone FROM users WHERE id = ?1")           \
  X(ROLES_CLEAR, "DELETE FROM user_roles WHERE user = ?1")                                    \
  X(ROLE_ADD, "INSERT OR IGNORE INTO user_roles(user, role) VALUES (?1, ?2)")                 \
  X(ROLES_GET, "SELECT role FROM user_roles WHERE user = ?1 ORDER BY rowid")                  \
  X(TIMER_ADD, "INSERT INTO timers(due, id, record, handler, entry) VALUES (?1, ?2, ?3, ?4, ?5)") \
  X(TIMER_CANCEL_ALL, "DELETE FROM timers WHERE record = ?1")                                 \
  X(TIMER_CANCEL_ENTRY, "DELETE FROM timers WHERE record = ?1 AND entry = ?2")                \
  X(TIMER_CANCEL_HANDLER, "DELETE FROM timers WHERE record = ?1 AND handler = ?2")            \
  X(TIMER_NEXT, "SELECT due, id, record, handler, entry FROM timers WHERE due <= ?1 "         \
                "ORDER BY due, id LIMIT 1")                                                   \
  X(TIMER_DELETE, "DELETE FROM timers WHERE due = ?1 AND id = ?2")                            \
  X(ONCE_GET, "SELECT 1 FROM once_done WHERE record = ?1 AND handler = ?2")                   \
  X(ONCE_SET, "INSERT OR IGNORE INTO once_done(record, handler) VALUES (?1, ?2)")             \
  X(ANSWER_GET, "SELECT value FROM answers WHERE record = ?1 AND key = ?2")                   \
  X(ANSWER_PUT, "INSERT OR REPLACE INTO answers(record, key, value) VALUES (?1, ?2, ?3)")     \
  X(EVENT_LOG, "INSERT INTO events(at, json) VALUES (?1, ?2)")                                \
  X(EVENT_LIST, "SELECT seq, at, json FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")      \
  X(OUTBOX_PUT, "INSERT INTO outbox(key, record, kind, json, created, next_try) "             \
                "VALUES (?1, ?2, ?3, ?4, ?5, ?5)")                                            \
  X(OUTBOX_LIST, "SELECT id, key, record, kind, json, created, status FROM outbox "           \
                 "WHERE (?1 = 0 OR record = ?1) AND (?2 IS NULL OR kind = ?2) ORDER BY id")   \
  X(OUTBOX_MARK, "UPDATE outbox SET status = ?2, attempts = attempts + 1, next_try = ?3, "    \
                 "delivered = CASE WHEN ?2 = 'delivered' THEN ?4 ELSE delivered END "         \
                 "WHERE id = ?1")                                                             \
  X(META_GET, "SELECT value FROM meta WHERE key = ?1")                                        \
  X(META_PUT, "INSERT INTO meta(key, value) VALUES (?1, ?2) "                                 \
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value")

typedef enum StmtId {
#define X(id, sql) SQ_##id,
  STORE_STMTS(X)
#undef X
  SQ__COUNT
} StmtId;

/* The record cache: the `records` rows read or written in the open
** transaction, by id (direct-mapped), so that the many lookups of the same
** record within a command (and a group of commands) read memory. Valid
** only inside one transaction, where no other process can write: begin,
** commit, rollback and a savepoint's rollback drop it all (a generation
** number, bumped), and the store's own writes (create, move, remove)
** update it. Refs longer than the slot are not cached. */
#define REC_CACHE 512
#define REC_CACHE_REF 40
typedef struct RecCacheEnt {
  uint32_t gen;                /* valid while equal to SqlStore.rc_gen */
  int32_t stage, entry;
  int entity;
  bool deleted;
  int64_t id, entered, created;
  char ref[REC_CACHE_REF];
} RecCacheEnt;

/* The field cache: field values of records read or written in the open
** transaction, by (record, field), with the same lifetime and the same
** rules as the record cache; values as a read would return them (texts
** copied into the entry), lists and other JSON-stored values not cached.
** A new record's fields not given at its creation are known empty. */
#define FIELD_CACHE 1024
typedef struct FieldCacheEnt {
  uint32_t gen;
  uint32_t field;
  int64_t id;
  Value v;              /* a text's bytes are in `buf` */
  char *buf;
  size_t len, cap;
} FieldCacheEnt;

typedef struct SqlStore {
  Store base;
  sqlite3 *db;
  const char *path;
  FieldCol *cols;              /* one per chunk field */
  sqlite3_stmt **ent_insert;   /* per entity: INSERT INTO "deal"(id) */
  sqlite3_stmt **ent_insert_all;  /* per entity: the same with every column */
  char **stage_names;          /* per stage: "direction.stage" */
  sqlite3_stmt *st[SQ__COUNT];
  /* timer ids: a sequence kept in meta ("timer_seq"), read once per
  ** transaction and written back at commit */
  int64_t timer_seq;
  bool seq_loaded, seq_dirty;
  /* command numbers: the same, in meta "command"; `sp_*`: as they were
  ** when the command's savepoint was opened, for its rollback */
  int64_t cmd_seq, sp_cmd_seq;
  bool cmd_loaded, cmd_dirty, sp_cmd_loaded, sp_cmd_dirty;
  /* the record cache (above), and by ref: a hash of the ref to an id */
  uint32_t rc_gen;
  RecCacheEnt *rcache;         /* REC_CACHE entries */
  int64_t *rc_byref;           /* REC_CACHE ids, by hash of the ref */
  FieldCacheEnt *fcache;       /* FIELD_CACHE entries (gen: rc_gen) */
} SqlStore;

/* The store's error: formats into s->base.error and returns code. */
int st_fail(SqlStore *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Runs SQL text with no result rows (DDL, pragmas); ST_ERR with the
** database's message on failure. */
int st_exec(SqlStore *s, const char *sql);

/* The fixed statement `id`, prepared on first use; NULL with the error
** set if it cannot be prepared. */
sqlite3_stmt *st_stmt(SqlStore *s, StmtId id);
/* Steps a statement that returns no rows and resets it. */
int st_run(SqlStore *s, sqlite3_stmt *st, const char *what);
/* Steps a query for its next row: 1 a row, 0 none (the statement is then
** reset), or an error (reset too). */
int st_row(SqlStore *s, sqlite3_stmt *st, const char *what);
void st_bind_text_or_null(sqlite3_stmt *st, int i, const char *t);
/* A text column copied into the arena (NULL for SQL NULL). */
const char *st_col_text(sqlite3_stmt *st, int i, Arena *a);

/* The event log and the outbox (outbox_sqlite.c). */
int sq_log_event(Store *store, int64_t at, const char *json, int64_t *seq);
int sq_log_list(Store *store, int64_t after, int64_t limit, EventRow **rows, size_t *n, Arena *a);
int sq_outbox_put(Store *store, OutboxRow *o);
int sq_outbox_list(Store *store, int64_t record, const char *kind, OutboxRow **rows, size_t *n,
                   Arena *a);
int sq_outbox_mark(Store *store, int64_t id, const char *status, int64_t next_try, int64_t now);

/* The names of the ValueTypes, as the schema and the answers' JSON write them. */
extern const char *const st_vtype_names[V__COUNT];

/* The storage type of a field, as the schema in meta records it:
** "money", "enum(deal.kind)", "list(record(contact))"... (malloc'd). */
char *schema_type_name(const Chunk *ch, TypeDesc t);
/* Fills s->cols: which fields have a column and what it is called. */
void schema_columns(SqlStore *s);
/* Creates the tables of a new database, or checks and migrates the tables
** of an existing one (see docs/store.md): ST_OK, or ST_SCHEMA / ST_ERR
** with the message in s->base.error. Runs in its own transaction. */
int schema_apply(SqlStore *s);

#endif
