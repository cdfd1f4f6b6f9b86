/*
** schema.c: the tables a pack needs, derived from its chunk, and the
** migration of a database made for an older version of the pack.
**
** One table per entity ("deal", "contact", "company", "lead"), keyed by
** the record's id in `records`, with one typed column per stored field:
** "f_NAME" (and "f_NAME__cur" for the currency of money). Computed fields
** and the read-only properties (id, created, stage, direction, entered,
** won, lost, closed, back references) have no column: they come from
** `records` or from queries.
**
** The schema a database was made for is kept in meta as JSON:
**
**   {"format":1, "pack":"water", "version":"1.0.0",
**    "entities":{"deal":{"sum":"money","kind":"enum(deal.kind)",...},...},
**    "directions":{"sales":{"entity":"deal","stages":["fresh","won",...]}},
**    "enums":{"deal.kind":["truck","bus"],...}}
**
** On open the stored schema is compared with the chunk's. Added fields
** become new columns (ALTER TABLE ADD COLUMN: old rows read null); added
** stages, directions and enum values need nothing. A removed field, a
** field whose type changed, a removed stage or enum value that live
** records still hold, or another pack's database are refused with
** ST_SCHEMA and a message listing every such change. Everything runs in
** one transaction: a database is migrated completely or not at all.
*/
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/strbuf.h"

/* How many changes a refusal lists before "and N more". */
#define MAX_LISTED_CHANGES 6

const char *const st_vtype_names[V__COUNT] = {
    "null", "bool", "int", "decimal", "money", "date", "datetime", "duration", "text",
    "enum", "list", "record", "user", "stage", "direction", "role", "object"};

static void type_name(StrBuf *b, const Chunk *ch, uint8_t kind, uint16_t ref, uint8_t elem) {
  const char *k = kind < V__COUNT ? st_vtype_names[kind] : "unknown";
  switch (kind) {
  case V_ENUM:
    sb_printf(b, "enum(%s)", ref < ch->nenums ? ch->enums[ref].name : "?");
    break;
  case V_REC:
    sb_printf(b, "record(%s)", ref < ch->nentities ? ch->entities[ref].name : "?");
    break;
  case V_LIST:
    sb_puts(b, "list(");
    type_name(b, ch, elem, ref, V_NULL);
    sb_putc(b, ')');
    break;
  default: sb_puts(b, k);
  }
}

char *schema_type_name(const Chunk *ch, TypeDesc t) {
  StrBuf b = {0};
  type_name(&b, ch, t.kind, t.ref, t.elem);
  return b.s ? b.s : xstrdup("");
}

static const struct {
  const char *name;
  RecordProp prop;
} record_props[] = {
    {"id", RP_ID},           {"created", RP_CREATED}, {"stage", RP_STAGE},
    {"direction", RP_DIRECTION}, {"entered", RP_ENTERED}, {"won", RP_WON},
    {"lost", RP_LOST},       {"closed", RP_CLOSED},
};

/* A field has a column unless it is computed or read-only. The read-only
** builtins the store can answer from `records` get their RecordProp. */
void schema_columns(SqlStore *s) {
  const Chunk *ch = s->base.ch;
  s->cols = xcalloc(ch->nfields ? ch->nfields : 1, sizeof *s->cols);
  for (uint32_t i = 0; i < ch->nfields; i++) {
    const FieldDef *f = &ch->fields[i];
    FieldCol *c = &s->cols[i];
    if (f->readonly) {
      c->prop = RP_OTHER;
      if (f->builtin)
        for (size_t k = 0; k < sizeof record_props / sizeof *record_props; k++)
          if (!strcmp(f->name, record_props[k].name)) c->prop = (uint8_t)record_props[k].prop;
      continue;
    }
    if (f->computed >= 0) continue;
    size_t n = strlen(f->name) + 3;
    c->col = xmalloc(n);
    snprintf(c->col, n, "f_%s", f->name);
  }
}

/* ---- the schema as JSON --------------------------------------------------------------- */

static json_t *schema_build(const SqlStore *s) {
  const Chunk *ch = s->base.ch;
  json_t *root = json_object();
  json_object_set_new(root, "format", json_integer(STORE_FORMAT));
  json_object_set_new(root, "pack", json_string(ch->pack_name ? ch->pack_name : ""));
  json_object_set_new(root, "version", json_string(ch->pack_version ? ch->pack_version : ""));
  json_t *ents = json_object();
  for (uint32_t e = 0; e < ch->nentities; e++) {
    const EntityDef *ed = &ch->entities[e];
    json_t *fields = json_object();
    for (uint32_t i = ed->first_field; i < ed->first_field + ed->nfields && i < ch->nfields; i++) {
      if (!s->cols[i].col) continue;
      char *t = schema_type_name(ch, ch->fields[i].type);
      json_object_set_new(fields, ch->fields[i].name, json_string(t));
      free(t);
    }
    json_object_set_new(ents, ed->name, fields);
  }
  json_object_set_new(root, "entities", ents);
  json_t *dirs = json_object();
  for (uint32_t d = 0; d < ch->ndirections; d++) {
    const DirectionDef *dd = &ch->directions[d];
    json_t *dir = json_object(), *stages = json_array();
    json_object_set_new(dir, "entity",
                        json_string(dd->entity < ch->nentities ? ch->entities[dd->entity].name : "?"));
    for (uint32_t k = dd->first_stage; k < dd->first_stage + dd->nstages && k < ch->nstages; k++)
      json_array_append_new(stages, json_string(ch->stages[k].name));
    json_object_set_new(dir, "stages", stages);
    json_object_set_new(dirs, dd->name, dir);
  }
  json_object_set_new(root, "directions", dirs);
  json_t *enums = json_object();
  for (uint32_t k = 0; k < ch->nenums; k++) {
    json_t *vals = json_array();
    for (uint32_t v = 0; v < ch->enums[k].nvalues; v++)
      json_array_append_new(vals, json_string(ch->enums[k].values[v]));
    json_object_set_new(enums, ch->enums[k].name, vals);
  }
  json_object_set_new(root, "enums", enums);
  return root;
}

/* ---- creating tables ------------------------------------------------------------------ */

static const char *const fixed_tables =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);\n"
    "CREATE TABLE records(id INTEGER PRIMARY KEY, entity INTEGER NOT NULL, ref TEXT UNIQUE,\n"
    "  stage TEXT, entry INTEGER NOT NULL DEFAULT 0, entered INTEGER, created INTEGER NOT NULL,\n"
    "  deleted INTEGER, timers TEXT);\n"
    "CREATE TABLE users(id TEXT PRIMARY KEY, name TEXT, supervisor TEXT, email TEXT, phone TEXT);\n"
    "CREATE TABLE user_roles(user TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
    "  role TEXT NOT NULL, PRIMARY KEY(user, role));\n"
    "CREATE TABLE stage_history(record INTEGER NOT NULL REFERENCES records(id),\n"
    "  stage TEXT NOT NULL, entry INTEGER NOT NULL, entered INTEGER NOT NULL, \"left\" INTEGER,\n"
    "  by_user TEXT);\n"
    "CREATE INDEX stage_history_record ON stage_history(record);\n"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, json TEXT NOT NULL);\n"
    "CREATE TABLE timers(due INTEGER NOT NULL, id INTEGER NOT NULL, record INTEGER NOT NULL,\n"
    "  handler INTEGER NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY(due, id)) WITHOUT ROWID;\n"
    "CREATE TABLE once_done(record INTEGER NOT NULL, handler INTEGER NOT NULL,\n"
    "  PRIMARY KEY(record, handler)) WITHOUT ROWID;\n"
    "CREATE TABLE answers(record INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,\n"
    "  PRIMARY KEY(record, key)) WITHOUT ROWID;\n"
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, key TEXT UNIQUE, record INTEGER,\n"
    "  kind TEXT NOT NULL, json TEXT NOT NULL, created INTEGER NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  next_try INTEGER, delivered INTEGER, last_error TEXT);\n"
    "CREATE INDEX outbox_status ON outbox(status, next_try);\n";

static bool kind_is_integer(uint8_t k) {
  switch (k) {
  case V_BOOL: case V_INT: case V_DEC: case V_MONEY: case V_DATE: case V_DATETIME: case V_REC:
    return true;
  default: return false;
  }
}

/* The column definitions of field i: `"f_x" INTEGER` and, for money, the
** currency column; a record reference also gets an index (referrers). */
static void column_defs(const SqlStore *s, uint32_t i, StrBuf *cols, StrBuf *after) {
  const FieldDef *f = &s->base.ch->fields[i];
  const char *col = s->cols[i].col;
  const char *ent = s->base.ch->entities[f->entity].name;
  sb_printf(cols, "\"%s\" %s", col, kind_is_integer(f->type.kind) ? "INTEGER" : "TEXT");
  if (f->type.kind == V_REC) sb_puts(cols, " REFERENCES records(id)");
  if (f->type.kind == V_MONEY) sb_printf(cols, ", \"%s__cur\" TEXT", col);
  if (f->type.kind == V_REC)
    sb_printf(after, "CREATE INDEX \"%s_%s\" ON \"%s\"(\"%s\");\n", ent, col, ent, col);
}

static int create_entity_table(SqlStore *s, uint32_t e) {
  const Chunk *ch = s->base.ch;
  const EntityDef *ed = &ch->entities[e];
  StrBuf sql = {0}, after = {0};
  sb_printf(&sql, "CREATE TABLE \"%s\"(id INTEGER PRIMARY KEY REFERENCES records(id)", ed->name);
  for (uint32_t i = ed->first_field; i < ed->first_field + ed->nfields && i < ch->nfields; i++) {
    if (!s->cols[i].col) continue;
    sb_puts(&sql, ", ");
    column_defs(s, i, &sql, &after);
  }
  sb_puts(&sql, ");\n");
  sb_puts(&sql, sb_str(&after));
  int rc = st_exec(s, sb_str(&sql));
  sb_free(&sql);
  sb_free(&after);
  return rc;
}

static int add_column(SqlStore *s, uint32_t i) {
  const FieldDef *f = &s->base.ch->fields[i];
  const char *ent = s->base.ch->entities[f->entity].name;
  const char *col = s->cols[i].col;
  StrBuf sql = {0}, after = {0}, def = {0};
  sb_printf(&sql, "ALTER TABLE \"%s\" ADD COLUMN \"%s\" %s%s;\n", ent, col,
            kind_is_integer(f->type.kind) ? "INTEGER" : "TEXT",
            f->type.kind == V_REC ? " REFERENCES records(id)" : "");
  if (f->type.kind == V_MONEY)
    sb_printf(&sql, "ALTER TABLE \"%s\" ADD COLUMN \"%s__cur\" TEXT;\n", ent, col);
  column_defs(s, i, &def, &after);
  sb_puts(&sql, sb_str(&after));
  int rc = st_exec(s, sb_str(&sql));
  sb_free(&sql);
  sb_free(&after);
  sb_free(&def);
  return rc;
}

/* ---- helpers over SQL ------------------------------------------------------------------ */

/* Runs a query returning one integer, with up to two text parameters. */
static int query_int(SqlStore *s, const char *sql, const char *a1, const char *a2, int64_t *out) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return st_fail(s, ST_ERR, "%s", sqlite3_errmsg(s->db));
  if (a1) sqlite3_bind_text(st, 1, a1, -1, SQLITE_STATIC);
  if (a2) sqlite3_bind_text(st, 2, a2, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  int code = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK
                                                    : st_fail(s, ST_ERR, "%s", sqlite3_errmsg(s->db));
  sqlite3_finalize(st);
  return code;
}

/* The value of a meta key (malloc'd), or NULL. */
static char *meta_text(SqlStore *s, const char *key) {
  sqlite3_stmt *st = NULL;
  char *v = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    v = xstrdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

static int meta_set(SqlStore *s, const char *key, const char *value) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db,
                         "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         -1, &st, NULL) != SQLITE_OK)
    return st_fail(s, ST_ERR, "%s", sqlite3_errmsg(s->db));
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? ST_OK : st_fail(s, ST_ERR, "%s", sqlite3_errmsg(s->db));
}

static int write_meta(SqlStore *s, json_t *schema) {
  const Chunk *ch = s->base.ch;
  char *text = json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER);
  char fmt[16];
  snprintf(fmt, sizeof fmt, "%d", STORE_FORMAT);
  int rc = meta_set(s, "schema", text);
  if (!rc) rc = meta_set(s, "format", fmt);
  if (!rc) rc = meta_set(s, "pack", ch->pack_name ? ch->pack_name : "");
  if (!rc) rc = meta_set(s, "pack_version", ch->pack_version ? ch->pack_version : "");
  free(text);
  return rc;
}

/* ---- a new database ------------------------------------------------------------------- */

static int create_all(SqlStore *s, json_t *schema) {
  int rc = st_exec(s, fixed_tables);
  for (uint32_t e = 0; !rc && e < s->base.ch->nentities; e++) rc = create_entity_table(s, e);
  if (!rc) rc = write_meta(s, schema);
  return rc;
}

/* ---- migration ------------------------------------------------------------------------ */

typedef struct Changes {
  StrBuf text;
  int n;
} Changes;

static void change(Changes *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void change(Changes *c, const char *fmt, ...) {
  c->n++;
  if (c->n > MAX_LISTED_CHANGES) return;
  if (c->n > 1) sb_puts(&c->text, "; ");
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  sb_puts(&c->text, buf);
}

static const char *json_str(json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  return v ? v : "";
}

static int entity_index(const Chunk *ch, const char *name) {
  for (uint32_t e = 0; e < ch->nentities; e++)
    if (!strcmp(ch->entities[e].name, name)) return (int)e;
  return -1;
}

static const char *entity_plural(const char *name) {
  if (!strcmp(name, "company")) return "companies";
  return NULL;
}

/* "3 deals", "1 company" */
static void records_phrase(char *buf, size_t n, int64_t count, const char *entity) {
  const char *pl = entity_plural(entity);
  if (count == 1)
    snprintf(buf, n, "1 %s", entity);
  else if (pl)
    snprintf(buf, n, "%lld %s", (long long)count, pl);
  else
    snprintf(buf, n, "%lld %ss", (long long)count, entity);
}

/* Fields: removed or retyped ones are changes; added ones are listed in
** `added` (field ids) for ALTER TABLE. */
static int compare_fields(SqlStore *s, json_t *old, Changes *c, uint32_t *added, size_t *nadded,
                          bool *new_entity) {
  const Chunk *ch = s->base.ch;
  json_t *oents = json_object_get(old, "entities");
  const char *ename;
  json_t *ofields;
  json_object_foreach(oents, ename, ofields) {
    int e = entity_index(ch, ename);
    const char *fname;
    json_t *otype;
    json_object_foreach(ofields, fname, otype) {
      int found = -1;
      if (e >= 0) {
        const EntityDef *ed = &ch->entities[e];
        for (uint32_t i = ed->first_field; i < ed->first_field + ed->nfields; i++)
          if (!strcmp(ch->fields[i].name, fname)) found = (int)i;
      }
      if (found < 0 || (!s->cols[found].col && ch->fields[found].computed < 0)) {
        change(c, "field %s.%s (%s) was removed", ename, fname, json_string_value(otype));
        continue;
      }
      if (!s->cols[found].col) {
        change(c, "field %s.%s is now computed", ename, fname);
        continue;
      }
      char *t = schema_type_name(ch, ch->fields[found].type);
      if (strcmp(t, json_string_value(otype) ? json_string_value(otype) : ""))
        change(c, "field %s.%s changed type from %s to %s", ename, fname,
               json_string_value(otype), t);
      free(t);
    }
  }
  for (uint32_t e = 0; e < ch->nentities; e++) {
    json_t *ofs = json_object_get(oents, ch->entities[e].name);
    if (!ofs) {
      new_entity[e] = true;
      continue;
    }
    const EntityDef *ed = &ch->entities[e];
    for (uint32_t i = ed->first_field; i < ed->first_field + ed->nfields; i++)
      if (s->cols[i].col && !json_object_get(ofs, ch->fields[i].name)) added[(*nadded)++] = i;
  }
  return ST_OK;
}

/* Stages that are gone (or whose direction now serves another entity)
** matter only if live records are still in them. */
static int compare_stages(SqlStore *s, json_t *old, Changes *c) {
  const Chunk *ch = s->base.ch;
  const char *dname;
  json_t *odir;
  json_object_foreach(json_object_get(old, "directions"), dname, odir) {
    const char *oent = json_str(odir, "entity");
    int d = -1;
    for (uint32_t k = 0; k < ch->ndirections; k++)
      if (!strcmp(ch->directions[k].name, dname)) d = (int)k;
    bool moved = d >= 0 && strcmp(ch->entities[ch->directions[d].entity].name, oent);
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(odir, "stages"), i, st) {
      const char *sname = json_string_value(st);
      if (!sname) continue;
      bool have = false;
      if (d >= 0 && !moved) {
        const DirectionDef *dd = &ch->directions[d];
        for (uint32_t k = dd->first_stage; k < dd->first_stage + dd->nstages; k++)
          if (!strcmp(ch->stages[k].name, sname)) have = true;
      }
      if (have) continue;
      char full[512];
      snprintf(full, sizeof full, "%s.%s", dname, sname);
      int64_t n = 0;
      int rc = query_int(s, "SELECT count(*) FROM records WHERE stage = ?1 AND deleted IS NULL",
                         full, NULL, &n);
      if (rc) return rc;
      if (!n) continue;
      char what[64];
      records_phrase(what, sizeof what, n, oent);
      if (moved)
        change(c, "direction %s now holds %ss, but %s %s in its stage %s", dname,
               ch->entities[ch->directions[d].entity].name, what, n == 1 ? "is" : "are", sname);
      else if (d < 0)
        change(c, "direction %s was removed, but %s %s in its stage %s", dname, what,
               n == 1 ? "is" : "are", sname);
      else
        change(c, "stage %s was removed, but %s %s in it", full, what, n == 1 ? "is" : "are");
    }
  }
  return ST_OK;
}

/* Enum values that are gone matter only if live records hold them, in a
** field of that enum or in a list of it. */
static int compare_enums(SqlStore *s, json_t *old, Changes *c) {
  const Chunk *ch = s->base.ch;
  const char *ename;
  json_t *ovals;
  json_object_foreach(json_object_get(old, "enums"), ename, ovals) {
    int k = -1;
    for (uint32_t j = 0; j < ch->nenums; j++)
      if (!strcmp(ch->enums[j].name, ename)) k = (int)j;
    if (k < 0) continue; /* fields of it changed type: reported there */
    size_t vi;
    json_t *ov;
    json_array_foreach(ovals, vi, ov) {
      const char *val = json_string_value(ov);
      if (!val) continue;
      bool have = false;
      for (uint32_t j = 0; j < ch->enums[k].nvalues; j++)
        if (!strcmp(ch->enums[k].values[j], val)) have = true;
      if (have) continue;
      for (uint32_t i = 0; i < ch->nfields; i++) {
        const FieldDef *f = &ch->fields[i];
        bool scalar = f->type.kind == V_ENUM, list = f->type.kind == V_LIST && f->type.elem == V_ENUM;
        if (!s->cols[i].col || (!scalar && !list) || f->type.ref != k) continue;
        const char *ent = ch->entities[f->entity].name;
        /* a field added just now has no column yet, and holds nothing */
        if (!json_object_get(json_object_get(json_object_get(old, "entities"), ent), f->name))
          continue;
        char sql[512];
        if (scalar)
          snprintf(sql, sizeof sql,
                   "SELECT count(*) FROM \"%s\" AS t JOIN records AS r ON r.id = t.id "
                   "WHERE r.deleted IS NULL AND t.\"%s\" = ?1", ent, s->cols[i].col);
        else
          snprintf(sql, sizeof sql,
                   "SELECT count(*) FROM \"%s\" AS t JOIN records AS r ON r.id = t.id "
                   "WHERE r.deleted IS NULL AND EXISTS (SELECT 1 FROM json_each(t.\"%s\") AS j "
                   "WHERE j.value = ?1)", ent, s->cols[i].col);
        int64_t n = 0;
        int rc = query_int(s, sql, val, NULL, &n);
        if (rc) return rc;
        if (!n) continue;
        char what[64];
        records_phrase(what, sizeof what, n, ent);
        change(c, "value %s of %s was removed, but %s %s it in %s", val, ename, what,
               n == 1 ? "holds" : "hold", f->name);
      }
    }
  }
  return ST_OK;
}

static int migrate(SqlStore *s, json_t *schema) {
  const Chunk *ch = s->base.ch;
  char *fmt = meta_text(s, "format");
  int format = fmt ? atoi(fmt) : 0;
  free(fmt);
  if (format > STORE_FORMAT)
    return st_fail(s, ST_SCHEMA,
                   "the database %s was made by a newer funnel (store format %d; this one "
                   "knows %d): open it with that version",
                   s->path, format, STORE_FORMAT);
  char *text = meta_text(s, "schema");
  json_error_t jerr;
  json_t *old = text ? json_loads(text, 0, &jerr) : NULL;
  if (!old || !json_is_object(old)) {
    free(text);
    json_decref(old);
    return st_fail(s, ST_SCHEMA,
                   "the database %s has no readable schema in its meta table: it was not made "
                   "by funnel, or it is damaged", s->path);
  }
  /* the fixed tables of an older format: 1 -> 2, lazy timer cancellation
  ** (records.timers; the index on timers.record goes) */
  if (format < 2) {
    int rc = st_exec(s, "ALTER TABLE records ADD COLUMN timers TEXT;"
                        "DROP INDEX IF EXISTS timers_record;");
    char f[16];
    snprintf(f, sizeof f, "%d", STORE_FORMAT);
    if (!rc) rc = meta_set(s, "format", f);
    if (rc) {
      json_decref(old);
      free(text);
      return rc;
    }
  }
  const char *opack = json_str(old, "pack"), *over = json_str(old, "version");
  const char *npack = ch->pack_name ? ch->pack_name : "", *nver = ch->pack_version ? ch->pack_version : "";
  int rc = ST_OK;
  if (strcmp(opack, npack)) {
    rc = st_fail(s, ST_SCHEMA,
                 "the database %s belongs to pack '%s', not '%s': give each pack its own "
                 "database", s->path, opack, npack);
    goto done;
  }
  char *ntext = json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER);
  bool same = !strcmp(ntext, text);
  free(ntext);
  if (same) goto done;

  Changes c = {{0}, 0};
  uint32_t *added = xcalloc(ch->nfields + 1, sizeof *added);
  size_t nadded = 0;
  bool new_entity[64] = {false};
  if (ch->nentities > 64) {
    rc = st_fail(s, ST_ERR, "too many entities");
    free(added);
    goto done;
  }
  rc = compare_fields(s, old, &c, added, &nadded, new_entity);
  if (!rc) rc = compare_stages(s, old, &c);
  if (!rc) rc = compare_enums(s, old, &c);
  if (!rc && c.n) {
    if (c.n > MAX_LISTED_CHANGES) sb_printf(&c.text, "; and %d more", c.n - MAX_LISTED_CHANGES);
    rc = st_fail(s, ST_SCHEMA,
                 "the database %s was made for pack '%s' %s, and pack '%s' %s cannot use it: %s. "
                 "funnel migrates a database when a pack adds fields or stages; a removal or a "
                 "type change needs a new database or an explicit migration, which funnel does "
                 "not do yet",
                 s->path, opack, over, npack, nver, sb_str(&c.text));
  }
  for (uint32_t e = 0; !rc && e < ch->nentities; e++)
    if (new_entity[e]) rc = create_entity_table(s, e);
  for (size_t i = 0; !rc && i < nadded; i++)
    if (!new_entity[ch->fields[added[i]].entity]) rc = add_column(s, added[i]);
  if (!rc) rc = write_meta(s, schema);
  sb_free(&c.text);
  free(added);
done:
  json_decref(old);
  free(text);
  return rc;
}

int schema_apply(SqlStore *s) {
  json_t *schema = schema_build(s);
  int rc = st_exec(s, "BEGIN IMMEDIATE");
  if (rc) {
    json_decref(schema);
    return rc;
  }
  int64_t has_meta = 0, ntables = 0;
  rc = query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                 NULL, NULL, &has_meta);
  if (!rc)
    rc = query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", NULL, NULL,
                   &ntables);
  if (!rc) {
    if (has_meta)
      rc = migrate(s, schema);
    else if (ntables)
      rc = st_fail(s, ST_SCHEMA,
                   "%s is a SQLite database with tables of its own, not a funnel database: "
                   "give funnel a new file", s->path);
    else
      rc = create_all(s, schema);
  }
  json_decref(schema);
  if (rc) {
    char keep[sizeof s->base.error];
    memcpy(keep, s->base.error, sizeof keep);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    memcpy(s->base.error, keep, sizeof keep);
    return rc;
  }
  return st_exec(s, "COMMIT");
}
