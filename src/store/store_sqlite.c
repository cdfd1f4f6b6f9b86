/*
** store_sqlite.c: the deal store on SQLite. The tables (schema.c and
** docs/store.md) are derived from the pack's chunk: `records` holds every
** record's place in its pipeline, one table per entity holds its fields
** in typed columns, and the fixed tables hold users, stage history, the
** event log, timers, `once` flags, answers and the outbox (the event log
** and the outbox operations are in outbox_sqlite.c).
**
** Statements. Each operation's statement is prepared the first time it
** runs and kept until close (a fresh store for a test prepares only what
** the test uses); a call binds, steps and resets it. Statements per field
** (read, write, referrers) are built from the field's column and cached
** the same way.
**
** Transactions. The engine opens one around each event (begin = BEGIN
** IMMEDIATE, so the write lock is taken up front and a busy database waits
** busy_timeout instead of failing at commit). An operation of several
** statements called outside a transaction (tests, tools) opens its own, so
** it is never half done.
**
** Values are stored by the field's static type (TypeDesc): money as minor
** units plus an ISO code, enum values and stages by NAME (so that a newer
** pack that reorders or inserts them still reads old rows), durations as
** "months:days:seconds:flags", lists as JSON arrays whose elements are
** encoded by the element type. Answers, whose type the store does not
** know, are self-describing JSON: ["money", 150000, "RUB"].
*/
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/strbuf.h"

/* How long a write waits for another process's lock before failing. */
#define BUSY_TIMEOUT_MS 5000
/* Refs the store makes ("deal-12") that collide with a caller's ref get a
** suffix ("deal-12.2"); this many tries, then the create fails. */
#define MAX_REF_TRIES 100

static const char *const stmt_sql[SQ__COUNT] = {
#define X(id, sql) sql,
    STORE_STMTS(X)
#undef X
};

static const char *vtype_name(uint8_t k) { return k < V__COUNT ? st_vtype_names[k] : "unknown"; }

/* ---- errors ---------------------------------------------------------------------------- */

int st_fail(SqlStore *s, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->base.error, sizeof s->base.error, fmt, ap);
  va_end(ap);
  return code;
}

/* The database's error after a failed step: a unique or primary key
** violation is ST_CONFLICT, anything else ST_ERR. */
static int db_error(SqlStore *s, int rc, const char *what) {
  int x = sqlite3_extended_errcode(s->db);
  int code = (x == SQLITE_CONSTRAINT_UNIQUE || x == SQLITE_CONSTRAINT_PRIMARYKEY) ? ST_CONFLICT
                                                                                    : ST_ERR;
  return st_fail(s, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

int st_exec(SqlStore *s, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return ST_OK;
  int rc = st_fail(s, ST_ERR, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
  sqlite3_free(msg);
  return rc;
}

#define S(st) ((SqlStore *)(st))

/* The fixed statement `id`, prepared on first use; NULL with the error
** set if it cannot be prepared. */
sqlite3_stmt *st_stmt(SqlStore *s, StmtId id) {
  if (!s->st[id] && sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                       &s->st[id], NULL) != SQLITE_OK) {
    st_fail(s, ST_ERR, "preparing a statement: %s", sqlite3_errmsg(s->db));
    s->st[id] = NULL;
  }
  return s->st[id];
}

static sqlite3_stmt *prepare(SqlStore *s, sqlite3_stmt **slot, const char *sql) {
  if (!*slot &&
      sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
    st_fail(s, ST_ERR, "preparing a statement: %s", sqlite3_errmsg(s->db));
    *slot = NULL;
  }
  return *slot;
}

/* Steps a statement that returns no rows and resets it. */
int st_run(SqlStore *s, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  int code = rc == SQLITE_DONE || rc == SQLITE_ROW ? ST_OK : db_error(s, rc, what);
  sqlite3_reset(st);
  return code;
}

/* Steps a query for its next row: 1 a row, 0 none (the statement is then
** reset), or an error (reset too). */
int st_row(SqlStore *s, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return 1;
  int code = rc == SQLITE_DONE ? 0 : db_error(s, rc, what);
  sqlite3_reset(st);
  return code;
}

void st_bind_text_or_null(sqlite3_stmt *st, int i, const char *t) {
  if (t)
    sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

const char *st_col_text(sqlite3_stmt *st, int i, Arena *a) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* ---- the record cache (store_int.h) ------------------------------------------------------ */

/* Drops every cached record: a new transaction, or work undone. */
static void rc_clear(SqlStore *s) {
  if (++s->rc_gen == 0) { /* wrapped: old entries could look valid again */
    memset(s->rcache, 0, REC_CACHE * sizeof *s->rcache);
    for (int i = 0; i < FIELD_CACHE; i++) s->fcache[i].gen = 0;
    s->rc_gen = 1;
  }
}

/* Inside a transaction only: outside one another process may write. */
static bool rc_usable(SqlStore *s) { return s->rcache && !sqlite3_get_autocommit(s->db); }

static uint32_t rc_hash_ref(const char *ref) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)ref; *p; p++) h = (h ^ *p) * 16777619u;
  return h & (REC_CACHE - 1);
}

static RecCacheEnt *rc_get(SqlStore *s, int64_t id) {
  if (!rc_usable(s)) return NULL;
  RecCacheEnt *c = &s->rcache[(uint64_t)id & (REC_CACHE - 1)];
  return c->gen == s->rc_gen && c->id == id ? c : NULL;
}

static void rc_put(SqlStore *s, const RecordInfo *ri) {
  if (!rc_usable(s) || !ri->ref || strlen(ri->ref) >= REC_CACHE_REF) return;
  RecCacheEnt *c = &s->rcache[(uint64_t)ri->id & (REC_CACHE - 1)];
  c->gen = s->rc_gen;
  c->id = ri->id;
  c->entity = ri->entity;
  c->stage = ri->stage;
  c->entry = ri->entry;
  c->entered = ri->entered;
  c->created = ri->created;
  c->deleted = ri->deleted;
  strcpy(c->ref, ri->ref);
  s->rc_byref[rc_hash_ref(ri->ref)] = ri->id;
}

static void rc_read(const RecCacheEnt *c, RecordInfo *out, Arena *a) {
  out->id = c->id;
  out->entity = c->entity;
  out->ref = arena_strdup(a, c->ref);
  out->stage = c->stage;
  out->entry = c->entry;
  out->entered = c->entered;
  out->created = c->created;
  out->deleted = c->deleted;
}

/* The field cache (store_int.h): valid while its generation is rc_gen. */
static FieldCacheEnt *fc_slot(SqlStore *s, int64_t id, uint32_t field) {
  uint64_t h = ((uint64_t)id * 31 + field) * 0x9E3779B97F4A7C15ull;
  return &s->fcache[(h >> 40) & (FIELD_CACHE - 1)];
}

static bool fc_get(SqlStore *s, int64_t id, uint32_t field, Value *out, Arena *a) {
  if (!rc_usable(s)) return false;
  FieldCacheEnt *c = fc_slot(s, id, field);
  if (c->gen != s->rc_gen || c->id != id || c->field != field) return false;
  *out = c->v;
  if (c->v.type == V_TEXT || c->v.type == V_USER) {
    *out = v_text(text_new(a, c->buf, c->len));
    out->type = c->v.type;
  }
  return true;
}

static void fc_drop(SqlStore *s, int64_t id, uint32_t field) {
  FieldCacheEnt *c = fc_slot(s, id, field);
  if (c->id == id && c->field == field) c->gen = 0;
}

/* Caches v, a value exactly as read_field returns it; others are dropped. */
static void fc_put(SqlStore *s, int64_t id, uint32_t field, const Value *v) {
  if (!rc_usable(s)) return;
  FieldCacheEnt *c = fc_slot(s, id, field);
  switch (v->type) {
  case V_NULL: case V_BOOL: case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_REC:
  case V_MONEY: case V_ENUM:
    c->v = *v;
    break;
  case V_TEXT: case V_USER:
    if (c->cap < v->u.t->len + 1) {
      c->cap = v->u.t->len + 1;
      c->buf = xrealloc(c->buf, c->cap);
    }
    memcpy(c->buf, v->u.t->s, v->u.t->len);
    c->buf[v->u.t->len] = '\0';
    c->len = v->u.t->len;
    c->v = *v;
    c->v.u.t = NULL; /* the bytes are in buf */
    break;
  default:
    fc_drop(s, id, field);
    return;
  }
  c->gen = s->rc_gen;
  c->id = id;
  c->field = field;
}

/* ---- transactions ---------------------------------------------------------------------- */

static int write_seq(SqlStore *s, const char *key, int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  sqlite3_stmt *st = st_stmt(s, SQ_META_PUT);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, buf, -1, SQLITE_TRANSIENT);
  return st_run(s, st, "saving a sequence");
}

/* A sequence kept in meta: its value, 0 when it is not there yet. */
static int read_seq(SqlStore *s, const char *key, int64_t *v) {
  sqlite3_stmt *st = st_stmt(s, SQ_META_GET);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = st_row(s, st, "reading a sequence");
  if (rc < 0) return rc;
  *v = rc ? sqlite3_column_int64(st, 0) : 0;
  if (rc) sqlite3_reset(st);
  return ST_OK;
}

static int sq_begin(Store *store) {
  SqlStore *s = S(store);
  if (!sqlite3_get_autocommit(s->db)) return st_fail(s, ST_ERR, "a transaction is already open");
  sqlite3_stmt *st = st_stmt(s, SQ_BEGIN);
  if (!st) return ST_ERR;
  s->seq_loaded = s->seq_dirty = false;
  s->cmd_loaded = s->cmd_dirty = false;
  rc_clear(s);
  return st_run(s, st, "begin");
}

static int sq_rollback(Store *store) {
  SqlStore *s = S(store);
  s->seq_loaded = s->seq_dirty = false;
  s->cmd_loaded = s->cmd_dirty = false;
  rc_clear(s);
  if (sqlite3_get_autocommit(s->db)) return ST_OK; /* nothing open (SQLite may have rolled back) */
  sqlite3_stmt *st = st_stmt(s, SQ_ROLLBACK);
  return st ? st_run(s, st, "rollback") : ST_ERR;
}

static int sq_commit(Store *store) {
  SqlStore *s = S(store);
  if (sqlite3_get_autocommit(s->db)) return st_fail(s, ST_ERR, "commit: no transaction is open");
  int rc = s->seq_dirty ? write_seq(s, "timer_seq", s->timer_seq) : ST_OK;
  if (!rc && s->cmd_dirty) rc = write_seq(s, "command", s->cmd_seq);
  sqlite3_stmt *st = rc ? NULL : st_stmt(s, SQ_COMMIT);
  if (!st) return ST_ERR;
  rc = st_run(s, st, "commit");
  if (!rc) s->seq_dirty = s->cmd_dirty = false;
  rc_clear(s);
  return rc;
}

/* Group commit: a savepoint per command inside the group's transaction.
** A rolled-back savepoint leaves the in-memory timer sequence ahead of
** what it used: a gap in timer ids, harmless. */
static int sq_savepoint(Store *store) {
  SqlStore *s = S(store);
  if (sqlite3_get_autocommit(s->db)) return st_fail(s, ST_ERR, "savepoint: no transaction is open");
  s->sp_cmd_seq = s->cmd_seq;
  s->sp_cmd_loaded = s->cmd_loaded;
  s->sp_cmd_dirty = s->cmd_dirty;
  sqlite3_stmt *st = st_stmt(s, SQ_SAVEPOINT);
  return st ? st_run(s, st, "savepoint") : ST_ERR;
}

static int sq_release(Store *store) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_RELEASE);
  return st ? st_run(s, st, "release") : ST_ERR;
}

static int sq_rollback_to(Store *store) {
  SqlStore *s = S(store);
  rc_clear(s); /* what the command read or wrote is undone */
  s->cmd_seq = s->sp_cmd_seq;
  s->cmd_loaded = s->sp_cmd_loaded;
  s->cmd_dirty = s->sp_cmd_dirty;
  /* SQLite may have rolled the whole transaction back (a full disk, I/O) */
  if (sqlite3_get_autocommit(s->db)) return st_fail(s, ST_ERR, "the group's transaction was lost");
  sqlite3_stmt *st = st_stmt(s, SQ_ROLLBACK_TO);
  int rc = st ? st_run(s, st, "rollback to savepoint") : ST_ERR;
  return rc ? rc : sq_release(store);
}

/* Operations of several statements run in a transaction: the caller's, or
** their own when called outside one. */
static int tx_own(SqlStore *s, bool *own) {
  *own = sqlite3_get_autocommit(s->db) != 0;
  return *own ? sq_begin(&s->base) : ST_OK;
}

static int tx_end(SqlStore *s, bool own, int rc) {
  if (!own) return rc;
  if (!rc) {
    rc = sq_commit(&s->base);
    if (!rc) return ST_OK;
  }
  char keep[sizeof s->base.error];
  memcpy(keep, s->base.error, sizeof keep);
  sq_rollback(&s->base);
  memcpy(s->base.error, keep, sizeof keep);
  return rc;
}

/* ---- names of stages, enum values, directions, roles ------------------------------------ */

static int32_t stage_by_name(const SqlStore *s, const char *name) {
  for (uint32_t i = 0; i < s->base.ch->nstages; i++)
    if (!strcmp(s->stage_names[i], name)) return (int32_t)i;
  return -1;
}

static int enum_value(const Chunk *ch, uint16_t e, const char *name) {
  if (e >= ch->nenums) return -1;
  for (uint32_t i = 0; i < ch->enums[e].nvalues; i++)
    if (!strcmp(ch->enums[e].values[i], name)) return (int)i;
  return -1;
}

static int enum_by_name(const Chunk *ch, const char *name) {
  for (uint32_t i = 0; i < ch->nenums; i++)
    if (!strcmp(ch->enums[i].name, name)) return (int)i;
  return -1;
}

static int direction_by_name(const Chunk *ch, const char *name) {
  for (uint32_t i = 0; i < ch->ndirections; i++)
    if (!strcmp(ch->directions[i].name, name)) return (int)i;
  return -1;
}

static int role_by_name(const Chunk *ch, const char *name) {
  for (uint32_t i = 0; i < ch->nroles; i++)
    if (!strcmp(ch->roles[i].name, name)) return (int)i;
  return -1;
}

static int entity_by_name(const Chunk *ch, const char *name) {
  for (uint32_t i = 0; i < ch->nentities; i++)
    if (!strcmp(ch->entities[i].name, name)) return (int)i;
  return -1;
}

/* ---- encoding values -------------------------------------------------------------------- */

/* "months:days:seconds:flags"; months are signed (value.h) */
static void duration_text(char *buf, size_t n, const Value *v) {
  snprintf(buf, n, "%d:%d:%lld:%u", (int)(int16_t)v->aux, (int)v->aux32, (long long)v->u.i,
           (unsigned)v->flags);
}

static bool duration_parse(const char *t, Value *out) {
  int months, days;
  long long secs;
  unsigned flags;
  char extra;
  if (!t || sscanf(t, "%d:%d:%lld:%u%c", &months, &days, &secs, &flags, &extra) != 4 ||
      months < INT16_MIN || months > INT16_MAX || flags > 255)
    return false;
  *out = v_tagged(V_DURATION, secs);
  out->aux = (uint16_t)(int16_t)months;
  out->aux32 = days;
  out->flags = (uint8_t)flags;
  return true;
}

static json_t *tagged_to_json(const SqlStore *s, const Value *v);

/* A list element as JSON, by the element type: numbers and record ids
** as integers, money as [minor, "RUB"], names as strings. */
static json_t *elem_to_json(const SqlStore *s, const Value *v) {
  const Chunk *ch = s->base.ch;
  char buf[96];
  switch (v->type) {
  case V_NULL: return json_null();
  case V_BOOL: return json_boolean(v->u.i != 0);
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_REC: return json_integer(v->u.i);
  case V_MONEY: return json_pack("[Is]", (json_int_t)v->u.i, currency_code(v->aux));
  case V_TEXT: case V_USER: return json_stringn(v->u.t->s, v->u.t->len);
  case V_ENUM:
    return v->aux < ch->nenums && (uint64_t)v->u.i < ch->enums[v->aux].nvalues
               ? json_string(ch->enums[v->aux].values[v->u.i])
               : NULL;
  case V_DURATION: duration_text(buf, sizeof buf, v); return json_string(buf);
  case V_STAGE:
    return (uint64_t)v->u.i < ch->nstages ? json_string(s->stage_names[v->u.i]) : NULL;
  case V_DIR:
    return (uint64_t)v->u.i < ch->ndirections ? json_string(ch->directions[v->u.i].name) : NULL;
  case V_ROLE: return (uint64_t)v->u.i < ch->nroles ? json_string(ch->roles[v->u.i].name) : NULL;
  default: return tagged_to_json(s, v);
  }
}

static int tagged_from_json(SqlStore *s, json_t *j, Value *out, Arena *a);

/* The inverse of elem_to_json for an element of static type t. */
static int elem_from_json(SqlStore *s, TypeDesc t, json_t *j, Value *out, Arena *a) {
  const Chunk *ch = s->base.ch;
  *out = v_null();
  if (json_is_null(j)) return ST_OK;
  switch (t.kind) {
  case V_BOOL:
    if (!json_is_boolean(j)) break;
    *out = v_bool(json_is_true(j));
    return ST_OK;
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_REC:
    if (!json_is_integer(j)) break;
    *out = v_tagged(t.kind, json_integer_value(j));
    if (t.kind == V_REC) out->aux = t.ref;
    return ST_OK;
  case V_MONEY: {
    json_t *m = json_array_get(j, 0), *c = json_array_get(j, 1);
    uint16_t cur = json_is_string(c) ? currency_index(json_string_value(c)) : UINT16_MAX;
    if (!json_is_integer(m) || cur == UINT16_MAX) break;
    *out = v_money(json_integer_value(m), cur);
    return ST_OK;
  }
  case V_TEXT: case V_USER:
    if (!json_is_string(j)) break;
    *out = v_text(text_new(a, json_string_value(j), json_string_length(j)));
    out->type = t.kind;
    return ST_OK;
  case V_ENUM: {
    int k = json_is_string(j) ? enum_value(ch, t.ref, json_string_value(j)) : -1;
    if (k >= 0) { /* a value the pack no longer has reads as empty */
      *out = v_tagged(V_ENUM, k);
      out->aux = t.ref;
    }
    return json_is_string(j) ? ST_OK : st_fail(s, ST_ERR, "an enum value that is not a name");
  }
  case V_DURATION:
    if (!duration_parse(json_string_value(j), out)) break;
    return ST_OK;
  case V_STAGE: case V_DIR: case V_ROLE: {
    if (!json_is_string(j)) break;
    const char *n = json_string_value(j);
    int k = t.kind == V_STAGE ? stage_by_name(s, n)
            : t.kind == V_DIR ? direction_by_name(ch, n) : role_by_name(ch, n);
    if (k >= 0) *out = v_tagged(t.kind, k);
    return ST_OK;
  }
  default: return tagged_from_json(s, j, out, a);
  }
  return st_fail(s, ST_ERR, "a stored %s that does not read as one", vtype_name(t.kind));
}

/* Any value with its type: null, true/false, or [type, payload...]. */
static json_t *tagged_to_json(const SqlStore *s, const Value *v) {
  const Chunk *ch = s->base.ch;
  const char *tn = vtype_name(v->type);
  switch (v->type) {
  case V_NULL: return json_null();
  case V_BOOL: return json_boolean(v->u.i != 0);
  case V_MONEY: return json_pack("[sIs]", tn, (json_int_t)v->u.i, currency_code(v->aux));
  case V_ENUM:
    if (v->aux >= ch->nenums || (uint64_t)v->u.i >= ch->enums[v->aux].nvalues) return NULL;
    return json_pack("[sss]", tn, ch->enums[v->aux].name, ch->enums[v->aux].values[v->u.i]);
  case V_REC:
    if (v->aux >= ch->nentities) return NULL;
    return json_pack("[ssI]", tn, ch->entities[v->aux].name, (json_int_t)v->u.i);
  case V_LIST: {
    json_t *arr = json_array();
    for (uint32_t i = 0; i < v->u.l->len; i++) {
      json_t *e = tagged_to_json(s, &v->u.l->items[i]);
      if (!e) {
        json_decref(arr);
        return NULL;
      }
      json_array_append_new(arr, e);
    }
    return json_pack("[so]", tn, arr);
  }
  case V_OBJ: {
    json_t *obj = json_object();
    for (uint32_t i = 0; i < v->u.o->len; i++) {
      json_t *e = tagged_to_json(s, &v->u.o->vals[i]);
      if (!e) {
        json_decref(obj);
        return NULL;
      }
      json_object_set_new(obj, v->u.o->keys[i], e);
    }
    return json_pack("[so]", tn, obj);
  }
  default: {
    json_t *e = elem_to_json(s, v);
    return e ? json_pack("[so]", tn, e) : NULL;
  }
  }
}

static int tagged_from_json(SqlStore *s, json_t *j, Value *out, Arena *a) {
  const Chunk *ch = s->base.ch;
  *out = v_null();
  if (json_is_null(j)) return ST_OK;
  if (json_is_boolean(j)) {
    *out = v_bool(json_is_true(j));
    return ST_OK;
  }
  const char *tn = json_string_value(json_array_get(j, 0));
  int k = -1;
  for (int i = 0; tn && i < V__COUNT; i++)
    if (!strcmp(st_vtype_names[i], tn)) k = i;
  json_t *p1 = json_array_get(j, 1), *p2 = json_array_get(j, 2);
  switch (k) {
  case V_MONEY: {
    json_t *m = json_pack("[OO]", p1, p2);
    int rc = elem_from_json(s, (TypeDesc){V_MONEY, 0, 0}, m, out, a);
    json_decref(m);
    return rc;
  }
  case V_ENUM: {
    int e = json_is_string(p1) ? enum_by_name(ch, json_string_value(p1)) : -1;
    if (e < 0) return st_fail(s, ST_ERR, "a stored value of an enum the pack no longer has");
    return elem_from_json(s, (TypeDesc){V_ENUM, 0, (uint16_t)e}, p2, out, a);
  }
  case V_REC: {
    int e = json_is_string(p1) ? entity_by_name(ch, json_string_value(p1)) : -1;
    if (e < 0) break;
    return elem_from_json(s, (TypeDesc){V_REC, 0, (uint16_t)e}, p2, out, a);
  }
  case V_LIST: {
    if (!json_is_array(p1)) break;
    List *l = list_new(a, (uint32_t)json_array_size(p1));
    size_t i;
    json_t *e;
    json_array_foreach(p1, i, e) {
      Value v;
      int rc = tagged_from_json(s, e, &v, a);
      if (rc) return rc;
      list_push(a, l, v);
    }
    *out = v_list(l);
    return ST_OK;
  }
  case V_OBJ: {
    if (!json_is_object(p1)) break;
    Obj *o = ARENA_NEW(a, Obj);
    size_t n = json_object_size(p1);
    o->keys = arena_alloc(a, (n ? n : 1) * sizeof *o->keys);
    o->vals = arena_alloc(a, (n ? n : 1) * sizeof *o->vals);
    const char *key;
    json_t *e;
    json_object_foreach(p1, key, e) {
      int rc = tagged_from_json(s, e, &o->vals[o->len], a);
      if (rc) return rc;
      o->keys[o->len++] = arena_strdup(a, key);
    }
    out->type = V_OBJ;
    out->u.o = o;
    return ST_OK;
  }
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_DURATION: case V_TEXT:
  case V_USER: case V_STAGE: case V_DIR: case V_ROLE:
    return elem_from_json(s, (TypeDesc){(uint8_t)k, 0, 0}, p1, out, a);
  default: break;
  }
  return st_fail(s, ST_ERR, "a stored value that does not read as one");
}

/* Is v a value of type t? An int is taken for a decimal (scaled); v is
** rewritten in *ok_v. Sets the error otherwise. */
static int conform(SqlStore *s, const FieldDef *f, TypeDesc t, const Value *v, Value *ok_v) {
  *ok_v = *v;
  if (v->type == V_NULL) return ST_OK;
  if (v->type == V_INT && t.kind == V_DEC) {
    if (__builtin_mul_overflow(v->u.i, DEC_SCALE, &ok_v->u.i))
      return st_fail(s, ST_ERR, "%s.%s: %lld does not fit a decimal",
                     s->base.ch->entities[f->entity].name, f->name, (long long)v->u.i);
    ok_v->type = V_DEC;
    return ST_OK;
  }
  if (v->type == t.kind) {
    if (t.kind == V_ENUM && (v->aux != t.ref || (uint64_t)v->u.i >= s->base.ch->enums[t.ref].nvalues))
      goto bad;
    if (t.kind == V_REC && v->aux != t.ref) goto bad;
    if (t.kind == V_MONEY && !strcmp(currency_code(v->aux), "XXX")) goto bad;
    return ST_OK;
  }
bad:;
  char *want = schema_type_name(s->base.ch, t);
  int rc = st_fail(s, ST_ERR, "%s.%s holds %s, not %s", s->base.ch->entities[f->entity].name,
                   f->name, want, vtype_name(v->type));
  if (v->type == t.kind) /* same kind, wrong enum, entity or currency */
    snprintf(s->base.error, sizeof s->base.error, "%s.%s holds %s: the value is of another %s",
             s->base.ch->entities[f->entity].name, f->name, want, vtype_name(v->type));
  free(want);
  return rc;
}

/* Binds field value v (already conformed to f's type) at parameter i (and
** i + 1 for the currency of money). */
static int bind_field(SqlStore *s, sqlite3_stmt *st, int i, const FieldDef *f, const Value *v) {
  const Chunk *ch = s->base.ch;
  char buf[96];
  if (f->type.kind == V_MONEY) {
    if (v->type == V_NULL) {
      sqlite3_bind_null(st, i);
      sqlite3_bind_null(st, i + 1);
    } else {
      sqlite3_bind_int64(st, i, v->u.i);
      sqlite3_bind_text(st, i + 1, currency_code(v->aux), -1, SQLITE_STATIC);
    }
    return ST_OK;
  }
  if (v->type == V_NULL || (v->type == V_REC && v->u.i == 0)) {
    sqlite3_bind_null(st, i);
    return ST_OK;
  }
  switch (f->type.kind) {
  case V_BOOL: sqlite3_bind_int64(st, i, v->u.i != 0); return ST_OK;
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_REC:
    sqlite3_bind_int64(st, i, v->u.i);
    return ST_OK;
  case V_TEXT: case V_USER:
    sqlite3_bind_text(st, i, v->u.t->s, (int)v->u.t->len, SQLITE_STATIC);
    return ST_OK;
  case V_ENUM:
    sqlite3_bind_text(st, i, ch->enums[f->type.ref].values[v->u.i], -1, SQLITE_STATIC);
    return ST_OK;
  case V_DURATION:
    duration_text(buf, sizeof buf, v);
    sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
    return ST_OK;
  default: break;
  }
  /* lists and the rest: JSON */
  json_t *j = NULL;
  if (f->type.kind == V_LIST) {
    j = json_array();
    TypeDesc et = {f->type.elem, 0, f->type.ref};
    for (uint32_t k = 0; k < v->u.l->len; k++) {
      Value e;
      const Value *item = &v->u.l->items[k];
      if (conform(s, f, et, item, &e)) {
        json_decref(j);
        return ST_ERR;
      }
      json_t *je = elem_to_json(s, &e);
      if (!je) {
        json_decref(j);
        return st_fail(s, ST_ERR, "%s.%s: item %u cannot be stored (text that is not UTF-8?)",
                       ch->entities[f->entity].name, f->name, k + 1);
      }
      json_array_append_new(j, je);
    }
  } else {
    j = elem_to_json(s, v);
    if (!j) return st_fail(s, ST_ERR, "%s.%s: a value out of range", ch->entities[f->entity].name,
                           f->name);
  }
  char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(j);
  sqlite3_bind_text(st, i, text, -1, free);
  return ST_OK;
}

/* Reads column i (and i + 1 for money) as a value of f's type. */
static int read_field(SqlStore *s, sqlite3_stmt *st, int i, const FieldDef *f, Value *out,
                      Arena *a) {
  const Chunk *ch = s->base.ch;
  TypeDesc t = f->type;
  *out = v_null();
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return ST_OK;
  switch (t.kind) {
  case V_MONEY: {
    const char *c = (const char *)sqlite3_column_text(st, i + 1);
    uint16_t cur = c ? currency_index(c) : UINT16_MAX;
    if (cur == UINT16_MAX) break;
    *out = v_money(sqlite3_column_int64(st, i), cur);
    return ST_OK;
  }
  case V_BOOL: *out = v_bool(sqlite3_column_int64(st, i) != 0); return ST_OK;
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_REC:
    *out = v_tagged(t.kind, sqlite3_column_int64(st, i));
    if (t.kind == V_REC) out->aux = t.ref;
    return ST_OK;
  case V_TEXT: case V_USER:
    *out = v_text(text_new(a, (const char *)sqlite3_column_text(st, i),
                           (size_t)sqlite3_column_bytes(st, i)));
    out->type = t.kind;
    return ST_OK;
  case V_ENUM: {
    int k = enum_value(ch, t.ref, (const char *)sqlite3_column_text(st, i));
    if (k >= 0) { /* a value the pack no longer has reads as empty */
      *out = v_tagged(V_ENUM, k);
      out->aux = t.ref;
    }
    return ST_OK;
  }
  case V_DURATION:
    if (!duration_parse((const char *)sqlite3_column_text(st, i), out)) break;
    return ST_OK;
  default: {
    json_error_t jerr;
    json_t *j = json_loads((const char *)sqlite3_column_text(st, i), JSON_DECODE_ANY, &jerr);
    if (!j) break;
    int rc = ST_OK;
    if (t.kind == V_LIST) {
      if (!json_is_array(j)) {
        json_decref(j);
        break;
      }
      List *l = list_new(a, (uint32_t)json_array_size(j));
      TypeDesc et = {t.elem, 0, t.ref};
      size_t k;
      json_t *e;
      json_array_foreach(j, k, e) {
        Value v;
        if ((rc = elem_from_json(s, et, e, &v, a))) break;
        list_push(a, l, v);
      }
      *out = v_list(l);
    } else {
      rc = elem_from_json(s, t, j, out, a);
    }
    json_decref(j);
    if (rc) break;
    return ST_OK;
  }
  }
  return st_fail(s, ST_ERR, "%s.%s: a stored value that does not read as %s",
                 ch->entities[f->entity].name, f->name, vtype_name(t.kind));
}

/* ---- records ---------------------------------------------------------------------------- */

static bool stage_ok(const SqlStore *s, int32_t stage, int entity) {
  const Chunk *ch = s->base.ch;
  return stage >= 0 && (uint32_t)stage < ch->nstages &&
         ch->stages[stage].direction < ch->ndirections &&
         ch->directions[ch->stages[stage].direction].entity == entity;
}

/* A stored value (conformed to f's type) as read_field will read it back:
** false for the kinds not cached (lists, durations, JSON). */
static bool as_read(const FieldDef *f, const Value *v, Value *out) {
  TypeDesc t = f->type;
  if (v->type == V_NULL || (v->type == V_REC && v->u.i == 0)) {
    *out = v_null();
    return true;
  }
  switch (t.kind) {
  case V_MONEY: *out = v_money(v->u.i, v->aux); return true;
  case V_BOOL: *out = v_bool(v->u.i != 0); return true;
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_REC:
    *out = v_tagged(t.kind, v->u.i);
    if (t.kind == V_REC) out->aux = t.ref;
    return true;
  case V_TEXT: case V_USER:
    *out = v_text(v->u.t);
    out->type = t.kind;
    return true;
  case V_ENUM:
    *out = v_tagged(V_ENUM, v->u.i);
    out->aux = t.ref;
    return true;
  default: return false;
  }
}

/* A new row's fields into the field cache: the given values (the last of
** a field given twice), the others empty. */
static void cache_new_row(SqlStore *s, int entity, int64_t rid, const FieldSet *fields, size_t n) {
  const Chunk *ch = s->base.ch;
  const EntityDef *ed = &ch->entities[entity];
  if (!rc_usable(s)) return;
  for (uint32_t i = ed->first_field; i < ed->first_field + ed->nfields && i < ch->nfields; i++) {
    if (!s->cols[i].col) continue;
    const Value *given = NULL;
    for (size_t k = 0; k < n; k++)
      if (fields[k].field == i) given = &fields[k].value;
    Value ok_v, cv = v_null();
    if (!given || (conform(s, &ch->fields[i], ch->fields[i].type, given, &ok_v) == ST_OK &&
                   as_read(&ch->fields[i], &ok_v, &cv)))
      fc_put(s, rid, i, &cv);
    else
      fc_drop(s, rid, i);
  }
}

/* The entity's full INSERT: id and every column, each field's parameter
** noted in its FieldCol. */
static sqlite3_stmt *insert_all(SqlStore *s, int entity) {
  if (s->ent_insert_all[entity]) return s->ent_insert_all[entity];
  const Chunk *ch = s->base.ch;
  const EntityDef *ed = &ch->entities[entity];
  StrBuf cols = {0}, params = {0};
  int n = 1;
  sb_puts(&cols, "id");
  sb_puts(&params, "?1");
  for (uint32_t i = ed->first_field; i < ed->first_field + ed->nfields && i < ch->nfields; i++) {
    FieldCol *c = &s->cols[i];
    if (!c->col) continue;
    c->ins_param = (uint16_t)++n;
    sb_printf(&cols, ", \"%s\"", c->col);
    sb_printf(&params, ", ?%d", n);
    if (ch->fields[i].type.kind == V_MONEY) {
      sb_printf(&cols, ", \"%s__cur\"", c->col);
      sb_printf(&params, ", ?%d", ++n);
    }
  }
  StrBuf sql = {0};
  sb_printf(&sql, "INSERT INTO \"%s\"(%s) VALUES (%s)", ed->name, sb_str(&cols), sb_str(&params));
  prepare(s, &s->ent_insert_all[entity], sb_str(&sql));
  sb_free(&sql);
  sb_free(&cols);
  sb_free(&params);
  return s->ent_insert_all[entity];
}

/* The entity row of a new record, with its first field values. */
static int insert_entity_row(SqlStore *s, int entity, int64_t rid, const FieldSet *fields, size_t n) {
  const Chunk *ch = s->base.ch;
  char sql[128];
  sqlite3_stmt *st;
  if (!n) {
    snprintf(sql, sizeof sql, "INSERT INTO \"%s\"(id) VALUES (?1)", ch->entities[entity].name);
    st = prepare(s, &s->ent_insert[entity], sql);
    if (!st) return ST_ERR;
    sqlite3_bind_int64(st, 1, rid);
    int rc = st_run(s, st, "create");
    if (!rc) cache_new_row(s, entity, rid, NULL, 0);
    return rc;
  }
  st = insert_all(s, entity);
  if (!st) return ST_ERR;
  int rc = ST_OK;
  for (size_t k = 0; k < n && !rc; k++) {
    uint32_t field = fields[k].field;
    if (field >= ch->nfields || ch->fields[field].entity != entity) {
      rc = st_fail(s, ST_ERR, "create: field %u is not a field of a %s", field, ch->entities[entity].name);
      break;
    }
    const FieldDef *f = &ch->fields[field];
    FieldCol *c = &s->cols[field];
    if (!c->col) {
      rc = st_fail(s, ST_ERR, "%s.%s is %s: it cannot be set", ch->entities[entity].name, f->name,
                   f->computed >= 0 ? "computed" : "read-only");
      break;
    }
    Value ok_v;
    rc = conform(s, f, f->type, &fields[k].value, &ok_v);
    if (!rc) rc = bind_field(s, st, c->ins_param, f, &ok_v);
  }
  if (!rc) {
    sqlite3_bind_int64(st, 1, rid);
    rc = st_run(s, st, "create");
  }
  sqlite3_clear_bindings(st); /* every column NULL again; lists' JSON freed */
  if (!rc) cache_new_row(s, entity, rid, fields, n);
  return rc;
}

static int sq_create_with(Store *store, int entity, const char *ref, int32_t stage, int64_t now,
                          const FieldSet *fields, size_t nfields, int64_t *id) {
  SqlStore *s = S(store);
  const Chunk *ch = s->base.ch;
  if (entity < 0 || (uint32_t)entity >= ch->nentities)
    return st_fail(s, ST_ERR, "create: no entity %d", entity);
  if (stage >= 0 && !stage_ok(s, stage, entity))
    return st_fail(s, ST_ERR, "create: stage %d is not a stage of a %s direction", stage,
                   ch->entities[entity].name);
  if (ref && !*ref) ref = NULL;
  bool own;
  int rc = tx_own(s, &own);
  if (rc) return rc;
  sqlite3_stmt *st = st_stmt(s, SQ_REC_INSERT);
  if (!st) return tx_end(s, own, ST_ERR);
  const char *sname = stage >= 0 ? s->stage_names[stage] : NULL;
  sqlite3_bind_int(st, 1, entity);
  st_bind_text_or_null(st, 2, ref);
  st_bind_text_or_null(st, 3, sname);
  sqlite3_bind_int(st, 4, stage >= 0 ? 1 : 0);
  if (stage >= 0)
    sqlite3_bind_int64(st, 5, now);
  else
    sqlite3_bind_null(st, 5);
  sqlite3_bind_int64(st, 6, now);
  rc = st_run(s, st, "create");
  if (rc == ST_CONFLICT)
    return tx_end(s, own, st_fail(s, ST_CONFLICT, "a record '%s' exists already", ref));
  if (rc) return tx_end(s, own, rc);
  int64_t rid = sqlite3_last_insert_rowid(s->db);
  char made[96];   /* the generated ref: `ref` points here until the end */
  if (!ref) {
    snprintf(made, sizeof made, "%s-%lld", ch->entities[entity].name, (long long)rid);
    size_t base = strlen(made);
    st = st_stmt(s, SQ_REC_SETREF);
    rc = st ? ST_CONFLICT : ST_ERR;
    for (int k = 2; rc == ST_CONFLICT && k < MAX_REF_TRIES; k++) {
      if (k > 2) snprintf(made + base, sizeof made - base, ".%d", k - 1);
      sqlite3_bind_int64(st, 1, rid);
      sqlite3_bind_text(st, 2, made, -1, SQLITE_STATIC);
      rc = st_run(s, st, "create");
    }
    if (rc) return tx_end(s, own, rc);
    ref = made;
  }
  rc = insert_entity_row(s, entity, rid, fields, nfields);
  if (!rc && stage >= 0) {
    st = st_stmt(s, SQ_HIST_OPEN);
    if (!st) return tx_end(s, own, ST_ERR);
    sqlite3_bind_int64(st, 1, rid);
    sqlite3_bind_text(st, 2, sname, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, 1);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_null(st, 5);
    rc = st_run(s, st, "create");
  }
  if (!rc && id) *id = rid;
  if (!rc) {
    RecordInfo ri = {rid, entity, ref, stage, stage >= 0 ? 1 : 0, stage >= 0 ? now : 0, now, false};
    rc_put(s, &ri);
  }
  return tx_end(s, own, rc);
}

static int sq_create(Store *store, int entity, const char *ref, int32_t stage, int64_t now,
                     int64_t *id) {
  return sq_create_with(store, entity, ref, stage, now, NULL, 0, id);
}

/* Reads a RecordInfo from a REC_BY_* row and resets the statement. */
static void read_info(SqlStore *s, sqlite3_stmt *st, RecordInfo *out, Arena *a) {
  out->id = sqlite3_column_int64(st, 0);
  out->entity = sqlite3_column_int(st, 1);
  out->ref = st_col_text(st, 2, a);
  const char *stage = (const char *)sqlite3_column_text(st, 3);
  out->stage = stage ? stage_by_name(s, stage) : -1;
  out->entry = sqlite3_column_int(st, 4);
  out->entered = sqlite3_column_int64(st, 5);
  out->created = sqlite3_column_int64(st, 6);
  out->deleted = sqlite3_column_type(st, 7) != SQLITE_NULL;
  sqlite3_reset(st);
}

static int sq_find(Store *store, const char *ref, RecordInfo *out, Arena *a) {
  SqlStore *s = S(store);
  if (rc_usable(s)) {
    RecCacheEnt *c = rc_get(s, s->rc_byref[rc_hash_ref(ref)]);
    if (c && !strcmp(c->ref, ref)) {
      rc_read(c, out, a);
      return ST_OK;
    }
  }
  sqlite3_stmt *st = st_stmt(s, SQ_REC_BY_REF);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
  int rc = st_row(s, st, "find");
  if (rc == 0) return st_fail(s, ST_NOTFOUND, "no record '%s'", ref);
  if (rc < 0) return rc;
  read_info(s, st, out, a);
  rc_put(s, out);
  return ST_OK;
}

static int sq_info(Store *store, int64_t id, RecordInfo *out, Arena *a) {
  SqlStore *s = S(store);
  RecCacheEnt *c = rc_get(s, id);
  if (c) {
    rc_read(c, out, a);
    return ST_OK;
  }
  sqlite3_stmt *st = st_stmt(s, SQ_REC_BY_ID);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  int rc = st_row(s, st, "info");
  if (rc == 0) return st_fail(s, ST_NOTFOUND, "no record with id %lld", (long long)id);
  if (rc < 0) return rc;
  read_info(s, st, out, a);
  rc_put(s, out);
  return ST_OK;
}

/* A read-only property from `records`. */
static int get_prop(SqlStore *s, int64_t id, const FieldDef *f, RecordProp p, Value *out,
                    Arena *a) {
  const Chunk *ch = s->base.ch;
  RecordInfo ri;
  int rc = sq_info(&s->base, id, &ri, a);
  if (rc) return rc;
  if (ri.entity != f->entity)
    return st_fail(s, ST_NOTFOUND, "record %lld is a %s, not a %s", (long long)id,
                   ri.entity >= 0 && (uint32_t)ri.entity < ch->nentities ? ch->entities[ri.entity].name : "?",
                   ch->entities[f->entity].name);
  *out = v_null();
  bool in = ri.stage >= 0;
  uint8_t kind = in ? ch->stages[ri.stage].kind : 0;
  switch (p) {
  case RP_ID: *out = v_text(text_new(a, ri.ref, strlen(ri.ref))); break;
  case RP_CREATED: *out = v_datetime(ri.created); break;
  case RP_STAGE: if (in) *out = v_tagged(V_STAGE, ri.stage); break;
  case RP_DIRECTION: if (in) *out = v_tagged(V_DIR, ch->stages[ri.stage].direction); break;
  case RP_ENTERED: if (in) *out = v_datetime(ri.entered); break;
  /* StageKind: 0 progress, 1 success, 2 failure (ast.h) */
  case RP_WON: *out = v_bool(in && kind == 1); break;
  case RP_LOST: *out = v_bool(in && kind == 2); break;
  case RP_CLOSED: *out = v_bool(in && kind != 0); break;
  default: break;
  }
  return ST_OK;
}

static int sq_get(Store *store, int64_t id, uint32_t field, Value *out, Arena *a) {
  SqlStore *s = S(store);
  const Chunk *ch = s->base.ch;
  if (field >= ch->nfields) return st_fail(s, ST_ERR, "get: no field %u", field);
  const FieldDef *f = &ch->fields[field];
  FieldCol *c = &s->cols[field];
  const char *ent = ch->entities[f->entity].name;
  if (c->prop != RP_NONE && c->prop != RP_OTHER) return get_prop(s, id, f, c->prop, out, a);
  if (!c->col)
    return st_fail(s, ST_ERR, "%s.%s is %s, not stored", ent, f->name,
                   f->computed >= 0 ? "computed" : "a back reference");
  if (fc_get(s, id, field, out, a)) return ST_OK;
  if (!c->get) {
    char sql[256];
    if (f->type.kind == V_MONEY)
      snprintf(sql, sizeof sql, "SELECT \"%s\", \"%s__cur\" FROM \"%s\" WHERE id = ?1", c->col,
               c->col, ent);
    else
      snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"%s\" WHERE id = ?1", c->col, ent);
    if (!prepare(s, &c->get, sql)) return ST_ERR;
  }
  sqlite3_bind_int64(c->get, 1, id);
  int rc = st_row(s, c->get, "get");
  if (rc == 0) return st_fail(s, ST_NOTFOUND, "no %s with id %lld", ent, (long long)id);
  if (rc < 0) return rc;
  rc = read_field(s, c->get, 0, f, out, a);
  sqlite3_reset(c->get);
  if (!rc) fc_put(s, id, field, out);
  return rc;
}

static int sq_set(Store *store, int64_t id, uint32_t field, const Value *v) {
  SqlStore *s = S(store);
  const Chunk *ch = s->base.ch;
  if (field >= ch->nfields) return st_fail(s, ST_ERR, "set: no field %u", field);
  const FieldDef *f = &ch->fields[field];
  FieldCol *c = &s->cols[field];
  const char *ent = ch->entities[f->entity].name;
  if (!c->col)
    return st_fail(s, ST_ERR, "%s.%s is %s: it cannot be set", ent, f->name,
                   f->computed >= 0 ? "computed" : "read-only");
  Value ok_v;
  int rc = conform(s, f, f->type, v, &ok_v);
  if (rc) return rc;
  int nparam = f->type.kind == V_MONEY ? 2 : 1;
  if (!c->set) {
    char sql[256];
    if (nparam == 2)
      snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?1, \"%s__cur\" = ?2 WHERE id = ?3",
               ent, c->col, c->col);
    else
      snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?1 WHERE id = ?2", ent, c->col);
    if (!prepare(s, &c->set, sql)) return ST_ERR;
  }
  if ((rc = bind_field(s, c->set, 1, f, &ok_v))) {
    sqlite3_clear_bindings(c->set);
    return rc;
  }
  sqlite3_bind_int64(c->set, nparam + 1, id);
  rc = st_run(s, c->set, "set");
  sqlite3_clear_bindings(c->set); /* the JSON text of a list is freed now */
  if (!rc && sqlite3_changes(s->db) == 0) rc = st_fail(s, ST_NOTFOUND, "no %s with id %lld", ent, (long long)id);
  Value cv;
  if (!rc && as_read(f, &ok_v, &cv))
    fc_put(s, id, field, &cv);
  else
    fc_drop(s, id, field);
  return rc;
}

static int close_history(SqlStore *s, int64_t id, int64_t now) {
  sqlite3_stmt *st = st_stmt(s, SQ_HIST_CLOSE);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now);
  return st_run(s, st, "stage history");
}

static int sq_move(Store *store, int64_t id, int32_t stage, int32_t entry, int64_t now,
                   const char *by) {
  SqlStore *s = S(store);
  const Chunk *ch = s->base.ch;
  if (stage < 0 || (uint32_t)stage >= ch->nstages) return st_fail(s, ST_ERR, "move: no stage %d", stage);
  int entity = ch->directions[ch->stages[stage].direction].entity;
  bool own;
  int rc = tx_own(s, &own);
  if (rc) return rc;
  sqlite3_stmt *st = st_stmt(s, SQ_REC_MOVE);
  if (!st) return tx_end(s, own, ST_ERR);
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_text(st, 2, s->stage_names[stage], -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, entry);
  sqlite3_bind_int64(st, 4, now);
  sqlite3_bind_int(st, 5, entity);
  /* a record in no stage yet (just created) has no stay to close */
  RecCacheEnt *was = rc_get(s, id);
  bool no_stay = was && was->stage < 0;
  rc = st_run(s, st, "move");
  if (!rc && sqlite3_changes(s->db) == 0)
    rc = st_fail(s, ST_NOTFOUND, "move: no live %s with id %lld", ch->entities[entity].name,
                 (long long)id);
  if (!rc && !no_stay) rc = close_history(s, id, now);
  if (!rc) {
    st = st_stmt(s, SQ_HIST_OPEN);
    if (!st) return tx_end(s, own, ST_ERR);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, s->stage_names[stage], -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, entry);
    sqlite3_bind_int64(st, 4, now);
    st_bind_text_or_null(st, 5, by);
    rc = st_run(s, st, "move");
  }
  RecCacheEnt *c = rc_get(s, id);
  if (c && !rc) {
    c->stage = stage;
    c->entry = entry;
    c->entered = now;
  } else if (c) {
    c->gen = 0;
  }
  return tx_end(s, own, rc);
}

static int sq_remove(Store *store, int64_t id, int64_t now) {
  SqlStore *s = S(store);
  bool own;
  int rc = tx_own(s, &own);
  if (rc) return rc;
  sqlite3_stmt *st = st_stmt(s, SQ_REC_REMOVE);
  if (!st) return tx_end(s, own, ST_ERR);
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now);
  rc = st_run(s, st, "remove");
  if (!rc && sqlite3_changes(s->db) == 0)
    rc = st_fail(s, ST_NOTFOUND, "remove: no live record with id %lld", (long long)id);
  if (!rc) rc = close_history(s, id, now);
  RecCacheEnt *c = rc_get(s, id);
  if (c && !rc) c->deleted = true;
  else if (c) c->gen = 0;
  return tx_end(s, own, rc);
}

static int sq_referrers(Store *store, uint32_t field, int64_t target, int64_t **ids, size_t *n,
                        Arena *a) {
  SqlStore *s = S(store);
  const Chunk *ch = s->base.ch;
  *ids = NULL;
  *n = 0;
  if (field >= ch->nfields) return st_fail(s, ST_ERR, "referrers: no field %u", field);
  const FieldDef *f = &ch->fields[field];
  FieldCol *c = &s->cols[field];
  const char *ent = ch->entities[f->entity].name;
  if (!c->col || f->type.kind != V_REC)
    return st_fail(s, ST_ERR, "referrers: %s.%s is not a stored reference to a record", ent,
                   f->name);
  if (!c->refs) {
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT t.id FROM \"%s\" AS t JOIN records AS r ON r.id = t.id "
             "WHERE t.\"%s\" = ?1 AND r.deleted IS NULL ORDER BY t.id", ent, c->col);
    if (!prepare(s, &c->refs, sql)) return ST_ERR;
  }
  sqlite3_bind_int64(c->refs, 1, target);
  size_t cap = 0;
  int64_t *buf = NULL;
  int rc;
  while ((rc = st_row(s, c->refs, "referrers")) == 1) {
    if (*n == cap) buf = xrealloc(buf, (cap = cap ? cap * 2 : 16) * sizeof *buf);
    buf[(*n)++] = sqlite3_column_int64(c->refs, 0);
  }
  if (rc == 0 && *n) {
    *ids = arena_alloc(a, *n * sizeof **ids);
    memcpy(*ids, buf, *n * sizeof **ids);
  }
  free(buf);
  if (rc < 0) *n = 0;
  return rc < 0 ? rc : ST_OK;
}

static int sq_history(Store *store, int64_t id, HistoryRow **rows, size_t *n, Arena *a) {
  SqlStore *s = S(store);
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st = st_stmt(s, SQ_HIST_LIST);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, id);
  size_t cap = 0;
  int rc;
  while ((rc = st_row(s, st, "history")) == 1) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      HistoryRow *nr = arena_alloc(a, ncap * sizeof *nr);
      if (*n) memcpy(nr, *rows, *n * sizeof *nr);
      *rows = nr;
      cap = ncap;
    }
    HistoryRow *h = &(*rows)[(*n)++];
    h->stage_name = st_col_text(st, 0, a);
    h->stage = h->stage_name ? stage_by_name(s, h->stage_name) : -1;
    h->entry = sqlite3_column_int(st, 1);
    h->entered = sqlite3_column_int64(st, 2);
    h->left = sqlite3_column_int64(st, 3);
    h->by = st_col_text(st, 4, a);
  }
  return rc < 0 ? rc : ST_OK;
}

/* ---- users ------------------------------------------------------------------------------ */

static int sq_put_user(Store *store, const UserRow *u) {
  SqlStore *s = S(store);
  if (!u->id || !*u->id) return st_fail(s, ST_ERR, "a user needs an id");
  bool own;
  int rc = tx_own(s, &own);
  if (rc) return rc;
  sqlite3_stmt *st = st_stmt(s, SQ_USER_PUT);
  if (!st) return tx_end(s, own, ST_ERR);
  sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
  st_bind_text_or_null(st, 2, u->name);
  st_bind_text_or_null(st, 3, u->supervisor);
  st_bind_text_or_null(st, 4, u->email);
  st_bind_text_or_null(st, 5, u->phone);
  rc = st_run(s, st, "user");
  if (!rc) {
    st = st_stmt(s, SQ_ROLES_CLEAR);
    if (!st) return tx_end(s, own, ST_ERR);
    sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
    rc = st_run(s, st, "user roles");
  }
  for (uint32_t i = 0; !rc && i < u->nroles; i++) {
    st = st_stmt(s, SQ_ROLE_ADD);
    if (!st) return tx_end(s, own, ST_ERR);
    sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->roles[i], -1, SQLITE_STATIC);
    rc = st_run(s, st, "user roles");
  }
  return tx_end(s, own, rc);
}

static int sq_get_user(Store *store, const char *id, UserRow *out, Arena *a) {
  SqlStore *s = S(store);
  memset(out, 0, sizeof *out);
  sqlite3_stmt *st = st_stmt(s, SQ_USER_GET);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = st_row(s, st, "user");
  if (rc == 0) return st_fail(s, ST_NOTFOUND, "no user '%s'", id);
  if (rc < 0) return rc;
  out->id = st_col_text(st, 0, a);
  out->name = st_col_text(st, 1, a);
  out->supervisor = st_col_text(st, 2, a);
  out->email = st_col_text(st, 3, a);
  out->phone = st_col_text(st, 4, a);
  sqlite3_reset(st);
  st = st_stmt(s, SQ_ROLES_GET);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  uint32_t cap = 0;
  while ((rc = st_row(s, st, "user roles")) == 1) {
    if (out->nroles == cap) {
      uint32_t ncap = cap ? cap * 2 : 4;
      const char **nr = arena_alloc(a, ncap * sizeof *nr);
      if (out->nroles) memcpy(nr, out->roles, out->nroles * sizeof *nr);
      out->roles = nr;
      cap = ncap;
    }
    out->roles[out->nroles++] = st_col_text(st, 0, a);
  }
  return rc < 0 ? rc : ST_OK;
}

/* ---- timers ----------------------------------------------------------------------------- */

/* The next timer id. The sequence lives in meta; inside a transaction it
** is read once and written back at commit (another process may have used
** it since our last transaction). */
static int next_timer_id(SqlStore *s, int64_t *id) {
  if (!s->seq_loaded) {
    int rc = read_seq(s, "timer_seq", &s->timer_seq);
    if (rc) return rc;
    s->seq_loaded = true;
  }
  *id = ++s->timer_seq;
  s->seq_dirty = true;
  return ST_OK;
}

static int sq_add_timer(Store *store, TimerRow *t) {
  SqlStore *s = S(store);
  bool own;
  int rc = tx_own(s, &own);
  if (rc) return rc;
  if (!t->id && (rc = next_timer_id(s, &t->id))) return tx_end(s, own, rc);
  sqlite3_stmt *st = st_stmt(s, SQ_TIMER_ADD);
  if (!st) return tx_end(s, own, ST_ERR);
  sqlite3_bind_int64(st, 1, t->due);
  sqlite3_bind_int64(st, 2, t->id);
  sqlite3_bind_int64(st, 3, t->record);
  sqlite3_bind_int64(st, 4, t->handler);
  sqlite3_bind_int(st, 5, t->entry);
  rc = st_run(s, st, "timer");
  return tx_end(s, own, rc);
}

static int sq_cancel_timers(Store *store, int64_t record, int32_t entry) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, entry < 0 ? SQ_TIMER_CANCEL_ALL : SQ_TIMER_CANCEL_ENTRY);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, record);
  if (entry >= 0) sqlite3_bind_int(st, 2, entry);
  return st_run(s, st, "cancel timers");
}

static int sq_cancel_handler(Store *store, int64_t record, uint32_t handler) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_TIMER_CANCEL_HANDLER);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, record);
  sqlite3_bind_int64(st, 2, handler);
  return st_run(s, st, "cancel timers");
}

/* The path of handler h in records.timers: $."h" */
static void at_path(char *buf, size_t n, uint32_t handler) { snprintf(buf, n, "$.\"%u\"", handler); }

static int sq_at_plan(Store *store, int64_t record, uint32_t handler, int32_t entry, int64_t timer) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_REC_AT_PLAN);
  if (!st) return ST_ERR;
  char path[32];
  at_path(path, sizeof path, handler);
  sqlite3_bind_int64(st, 1, record);
  sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 3, entry);
  sqlite3_bind_int64(st, 4, timer);
  int rc = st_run(s, st, "timer plan");
  if (!rc && sqlite3_changes(s->db) == 0)
    return st_fail(s, ST_NOTFOUND, "timer plan: no record with id %lld", (long long)record);
  return rc;
}

static int sq_at_current(Store *store, int64_t record, uint32_t handler, int32_t *entry,
                         int64_t *timer) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_REC_AT_GET);
  if (!st) return ST_ERR;
  char path[32];
  at_path(path, sizeof path, handler);
  sqlite3_bind_int64(st, 1, record);
  sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
  int rc = st_row(s, st, "timer plan");
  if (rc <= 0) return rc;
  const char *t = (const char *)sqlite3_column_text(st, 0);
  int e;
  long long id;
  rc = t && sscanf(t, "[%d,%lld]", &e, &id) == 2;
  if (rc) {
    *entry = e;
    *timer = id;
  }
  sqlite3_reset(st);
  return rc;
}

static int sq_next_timer(Store *store, int64_t until, TimerRow *out) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_TIMER_NEXT);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, until);
  int rc = st_row(s, st, "next timer");
  if (rc != 1) return rc;
  out->due = sqlite3_column_int64(st, 0);
  out->id = sqlite3_column_int64(st, 1);
  out->record = sqlite3_column_int64(st, 2);
  out->handler = (uint32_t)sqlite3_column_int64(st, 3);
  out->entry = sqlite3_column_int(st, 4);
  sqlite3_reset(st);
  return 1;
}

static int sq_delete_timer(Store *store, int64_t id, int64_t due) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_TIMER_DELETE);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, due);
  sqlite3_bind_int64(st, 2, id);
  int rc = st_run(s, st, "delete timer");
  if (!rc && sqlite3_changes(s->db) == 0)
    return st_fail(s, ST_NOTFOUND, "no timer %lld due at %lld", (long long)id, (long long)due);
  return rc;
}

/* ---- once, answers ---------------------------------------------------------------------- */

static int sq_once_get(Store *store, int64_t record, uint32_t handler, bool *done) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_ONCE_GET);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, record);
  sqlite3_bind_int64(st, 2, handler);
  int rc = st_row(s, st, "once");
  if (rc < 0) return rc;
  *done = rc == 1;
  if (rc) sqlite3_reset(st);
  return ST_OK;
}

static int sq_once_set(Store *store, int64_t record, uint32_t handler) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_ONCE_SET);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, record);
  sqlite3_bind_int64(st, 2, handler);
  return st_run(s, st, "once");
}

static int sq_answer_get(Store *store, int64_t record, const char *key, Value *out, Arena *a) {
  SqlStore *s = S(store);
  *out = v_null();
  sqlite3_stmt *st = st_stmt(s, SQ_ANSWER_GET);
  if (!st) return ST_ERR;
  sqlite3_bind_int64(st, 1, record);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  int rc = st_row(s, st, "answer");
  if (rc == 0) return st_fail(s, ST_NOTFOUND, "no answer '%s' for record %lld", key, (long long)record);
  if (rc < 0) return rc;
  json_error_t jerr;
  const char *text = (const char *)sqlite3_column_text(st, 0);
  json_t *j = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : json_null();
  sqlite3_reset(st);
  if (!j) return st_fail(s, ST_ERR, "answer '%s': stored text that is not JSON", key);
  rc = tagged_from_json(s, j, out, a);
  json_decref(j);
  return rc;
}

static int sq_answer_put(Store *store, int64_t record, const char *key, const Value *v) {
  SqlStore *s = S(store);
  json_t *j = tagged_to_json(s, v);
  if (!j) return st_fail(s, ST_ERR, "answer '%s': a value out of range", key);
  char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(j);
  sqlite3_stmt *st = st_stmt(s, SQ_ANSWER_PUT);
  if (!st) {
    free(text);
    return ST_ERR;
  }
  sqlite3_bind_int64(st, 1, record);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
  int rc = st_run(s, st, "answer");
  sqlite3_clear_bindings(st);
  free(text);
  return rc;
}

/* ---- meta ------------------------------------------------------------------------------- */

/* The next command number: as the timer ids, read once per transaction
** and written back at commit (with the commands that used it). */
static int sq_next_command(Store *store, int64_t *id) {
  SqlStore *s = S(store);
  if (sqlite3_get_autocommit(s->db)) return st_fail(s, ST_ERR, "next_command: no transaction is open");
  if (!s->cmd_loaded) {
    int rc = read_seq(s, "command", &s->cmd_seq);
    if (rc) return rc;
    s->cmd_loaded = true;
  }
  *id = ++s->cmd_seq;
  s->cmd_dirty = true;
  return ST_OK;
}

static int sq_meta_get(Store *store, const char *key, const char **value, Arena *a) {
  SqlStore *s = S(store);
  *value = NULL;
  sqlite3_stmt *st = st_stmt(s, SQ_META_GET);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = st_row(s, st, "meta");
  if (rc == 0) return st_fail(s, ST_NOTFOUND, "no setting '%s'", key);
  if (rc < 0) return rc;
  *value = st_col_text(st, 0, a);
  sqlite3_reset(st);
  return ST_OK;
}

static int sq_meta_put(Store *store, const char *key, const char *value) {
  SqlStore *s = S(store);
  sqlite3_stmt *st = st_stmt(s, SQ_META_PUT);
  if (!st) return ST_ERR;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  st_bind_text_or_null(st, 2, value);
  return st_run(s, st, "meta");
}

/* ---- open and close --------------------------------------------------------------------- */

static void free_store(SqlStore *s) {
  const Chunk *ch = s->base.ch;
  for (int i = 0; i < SQ__COUNT; i++) sqlite3_finalize(s->st[i]);
  if (s->cols)
    for (uint32_t i = 0; i < ch->nfields; i++) {
      sqlite3_finalize(s->cols[i].get);
      sqlite3_finalize(s->cols[i].set);
      sqlite3_finalize(s->cols[i].refs);
      free(s->cols[i].col);
    }
  if (s->ent_insert)
    for (uint32_t i = 0; i < ch->nentities; i++) sqlite3_finalize(s->ent_insert[i]);
  if (s->ent_insert_all)
    for (uint32_t i = 0; i < ch->nentities; i++) sqlite3_finalize(s->ent_insert_all[i]);
  if (s->stage_names)
    for (uint32_t i = 0; i < ch->nstages; i++) free(s->stage_names[i]);
  if (s->db) sqlite3_close(s->db);
  free(s->cols);
  free(s->ent_insert);
  free(s->ent_insert_all);
  free(s->stage_names);
  free(s->rcache);
  if (s->fcache)
    for (int i = 0; i < FIELD_CACHE; i++) free(s->fcache[i].buf);
  free(s->fcache);
  free(s->rc_byref);
  free((char *)s->path);
  free(s);
}

static void sq_close(Store *store) {
  if (!store) return;
  SqlStore *s = S(store);
  if (s->db && !sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  free_store(s);
}

static const StoreOps sqlite_ops = {
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .close = sq_close,
    .create = sq_create,
    .create_with = sq_create_with,
    .find = sq_find,
    .info = sq_info,
    .get = sq_get,
    .set = sq_set,
    .move = sq_move,
    .remove = sq_remove,
    .referrers = sq_referrers,
    .history = sq_history,
    .put_user = sq_put_user,
    .get_user = sq_get_user,
    .add_timer = sq_add_timer,
    .cancel_timers = sq_cancel_timers,
    .cancel_handler = sq_cancel_handler,
    .at_plan = sq_at_plan,
    .at_current = sq_at_current,
    .next_timer = sq_next_timer,
    .delete_timer = sq_delete_timer,
    .once_get = sq_once_get,
    .once_set = sq_once_set,
    .answer_get = sq_answer_get,
    .answer_put = sq_answer_put,
    .log_event = sq_log_event,
    .log_list = sq_log_list,
    .outbox_put = sq_outbox_put,
    .outbox_list = sq_outbox_list,
    .outbox_mark = sq_outbox_mark,
    .next_command = sq_next_command,
    .meta_get = sq_meta_get,
    .meta_put = sq_meta_put,
};

/* Opens or creates the database, sets its pragmas (WAL for files,
** synchronous=FULL, foreign keys, a busy timeout), then creates or
** migrates its tables for the chunk. NULL with the reason in err. */
Store *store_open_sqlite(const Chunk *ch, const char *path, char *err, size_t errlen) {
  if (!path || !*path) path = ":memory:";
  SqlStore *s = xcalloc(1, sizeof *s);
  s->base.ops = &sqlite_ops;
  s->base.ch = ch;
  s->path = xstrdup(path);
  bool memory = !strcmp(path, ":memory:");
  /* a store is used by one thread at a time: no mutex around each call */
  int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    st_fail(s, ST_ERR, "cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
    goto fail;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
  /* temp_store = MEMORY: the statement journal of a command's savepoint
  ** (group commit) stays in memory instead of spilling to a temporary
  ** file past 64 KiB; it only serves ROLLBACK TO, never crash recovery */
  if (st_exec(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;"))
    goto fail;
  if (!memory && st_exec(s, "PRAGMA journal_mode = WAL;")) goto fail;
  s->stage_names = xcalloc(ch->nstages ? ch->nstages : 1, sizeof *s->stage_names);
  for (uint32_t i = 0; i < ch->nstages; i++) {
    const char *d = ch->stages[i].direction < ch->ndirections
                        ? ch->directions[ch->stages[i].direction].name : "?";
    size_t n = strlen(d) + strlen(ch->stages[i].name) + 2;
    s->stage_names[i] = xmalloc(n);
    snprintf(s->stage_names[i], n, "%s.%s", d, ch->stages[i].name);
  }
  s->ent_insert = xcalloc(ch->nentities ? ch->nentities : 1, sizeof *s->ent_insert);
  s->ent_insert_all = xcalloc(ch->nentities ? ch->nentities : 1, sizeof *s->ent_insert_all);
  s->rcache = xcalloc(REC_CACHE, sizeof *s->rcache);
  s->rc_byref = xcalloc(REC_CACHE, sizeof *s->rc_byref);
  s->fcache = xcalloc(FIELD_CACHE, sizeof *s->fcache);
  s->rc_gen = 1;
  schema_columns(s);
  if (schema_apply(s)) goto fail;
  return &s->base;
fail:
  if (err && errlen) snprintf(err, errlen, "%s", s->base.error);
  free_store(s);
  return NULL;
}

const char *store_error(const Store *s) { return s ? s->error : "no store"; }
