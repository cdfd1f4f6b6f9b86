/*
** host.c: the engine as the VM's host. Reads go to the store (and to the
** record's bookkeeping for stage, entered, won...); effects of handlers
** become store writes, queued moves and creations, and outbox rows; the
** effects of a test's own steps become engine commands, each in its own
** transaction, exactly as the batch interface would send them.
*/
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "natives/ffi.h"
#include "runtime/engine_int.h"
#include "util/strbuf.h"

/* ---- JSON for effects and the log -------------------------------------------------
**
** The outbox rows, the log entries and the effect lines are written as
** text straight into a buffer (no jansson tree built, dumped and parsed
** again), byte for byte as jansson's compact dump of the same object
** would be: the same escapes (\" \\ \b \f \n \r \t, \u00XX for the other
** controls), UTF-8 as is, and a string that is not valid UTF-8 leaves its
** key out (jansson refuses such a string). An effect line is built only
** when a sink wants it. */

/* Appends the decimal digits of v. */
static void jw_int(StrBuf *b, long long v) {
  char buf[24], *p = buf + sizeof buf;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do *--p = (char)('0' + u % 10); while (u /= 10);
  if (v < 0) *--p = '-';
  sb_add(b, p, (size_t)(buf + sizeof buf - p));
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 if invalid
** (as jansson's utf8_check_full: no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c < 0xC2 || c > 0xF4) return 0;
  if (c < 0xE0) len = 2, cp = c & 0x1F;
  else if (c < 0xF0) len = 3, cp = c & 0x0F;
  else len = 4, cp = c & 0x07;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/* A JSON string; false (and nothing written) if s is not valid UTF-8. */
static bool jw_str(StrBuf *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t l = utf8_len(p + i, n - i);
    if (!l) return false;
    i += l;
  }
  sb_putc(b, '"');
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    sb_add(b, s + run, i - run);
    run = i + 1;
    switch (c) {
    case '"': sb_puts(b, "\\\""); break;
    case '\\': sb_puts(b, "\\\\"); break;
    case '\b': sb_puts(b, "\\b"); break;
    case '\f': sb_puts(b, "\\f"); break;
    case '\n': sb_puts(b, "\\n"); break;
    case '\r': sb_puts(b, "\\r"); break;
    case '\t': sb_puts(b, "\\t"); break;
    default: {
      static const char hex[] = "0123456789ABCDEF";
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      sb_add(b, u, 6);
    }
    }
  }
  sb_add(b, s + run, n - run);
  sb_putc(b, '"');
  return true;
}

static bool jw_cstr(StrBuf *b, const char *s) { return jw_str(b, s, strlen(s)); }

/* `,"key":` (or without the comma at the start of an object) */
static void jw_key(StrBuf *b, const char *key) {
  if (b->len && b->s[b->len - 1] != '{') sb_putc(b, ',');
  jw_cstr(b, key);
  sb_putc(b, ':');
}

/* Drops what was written since `mark` (a value jansson would refuse). */
static void jw_undo(StrBuf *b, size_t mark) {
  b->len = mark;
  if (b->s) b->s[mark] = '\0';
}

/* "key":"text", or nothing when the text is not UTF-8 */
static void jw_kstr(StrBuf *b, const char *key, const char *s) {
  size_t mark = b->len;
  jw_key(b, key);
  if (!jw_cstr(b, s)) jw_undo(b, mark);
}

/* "key":"text" or "key":null */
static void jw_kstr_or_null(StrBuf *b, const char *key, const char *s) {
  if (!s) {
    jw_key(b, key);
    sb_puts(b, "null");
  } else {
    jw_kstr(b, key, s);
  }
}

/* {"id":..,"title":..}; false if either is not UTF-8 */
static bool jw_id_title(StrBuf *b, const char *id, const char *title) {
  size_t mark = b->len;
  sb_puts(b, "{\"id\":");
  if (!jw_cstr(b, id)) goto bad;
  sb_puts(b, ",\"title\":");
  if (!jw_cstr(b, title)) goto bad;
  sb_putc(b, '}');
  return true;
bad:
  jw_undo(b, mark);
  return false;
}

/* ISO-8601 in the default calendar's zone into buf (at least 32 bytes). */
static void iso_into(Engine *e, int64_t utc, char *buf) {
  int32_t off = vm_zone_offset(&e->vm, utc);
  int64_t local = utc + off;
  int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t sod = local - day * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(day, &y, &m, &d);
  int aoff = off < 0 ? -off : off;
  if (y < 0 || y > 9999) {
    snprintf(buf, 32, "%04lld-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", (long long)y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), off < 0 ? '-' : '+', aoff / 3600 % 100, aoff / 60 % 60);
    return;
  }
  int f[8] = {(int)y, (int)m, (int)d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
              aoff / 3600 % 100, aoff / 60 % 60};
  char *p = buf;
  for (int i = 0; i < 8; i++) {
    if (i == 0) {
      *p++ = (char)('0' + f[0] / 1000);
      *p++ = (char)('0' + f[0] / 100 % 10);
    }
    *p++ = (char)('0' + f[i] / 10 % 10);
    *p++ = (char)('0' + f[i] % 10);
    static const char sep[] = "--T::\0:";
    if (i == 5) *p++ = off < 0 ? '-' : '+';
    else if (i < 7 && sep[i]) *p++ = sep[i];
  }
  *p = '\0';
}

const char *eng_iso(Engine *e, int64_t utc) {
  char buf[48];
  iso_into(e, utc, buf);
  return arena_strdup(&e->cmd, buf);
}

static void jw_kiso(Engine *e, StrBuf *b, const char *key, int64_t utc) {
  char buf[48];
  iso_into(e, utc, buf);
  jw_key(b, key);
  jw_cstr(b, buf);
}

/* A value as JSON text, as eng_value_json makes it; false where that
** would be NULL (text that is not UTF-8), and then nothing is written. */
static bool jw_value(Engine *e, StrBuf *b, const Value *v) {
  const Chunk *ch = e->ch;
  switch (v->type) {
  case V_NULL: sb_puts(b, "null"); return true;
  case V_BOOL: sb_puts(b, v->u.i ? "true" : "false"); return true;
  case V_INT: jw_int(b, (long long)v->u.i); return true;
  case V_DATETIME: {
    char buf[48];
    iso_into(e, v->u.i, buf);
    return jw_cstr(b, buf);
  }
  case V_TEXT: case V_USER: return jw_str(b, v->u.t->s, v->u.t->len);
  case V_ENUM: {
    const char *s = vm_title(&e->vm, v, 1);
    if (!s) {
      sb_puts(b, "null");
      return true;
    }
    return jw_cstr(b, s);
  }
  case V_STAGE:
    if ((uint64_t)v->u.i < ch->nstages) {
      const StageDef *s = &ch->stages[v->u.i];
      StrBuf id = {0};
      sb_printf(&id, "%s.%s", ch->directions[s->direction].name, s->name);
      bool ok = jw_id_title(b, sb_str(&id), s->title);
      sb_free(&id);
      return ok;
    }
    sb_puts(b, "null");
    return true;
  case V_REC: {
    RecordInfo ri;
    if (e->st->ops->info(e->st, v->u.i, &ri, &e->cmd) != ST_OK) {
      sb_puts(b, "null");
      return true;
    }
    StrBuf t = {0};
    sb_putc(&t, '@');
    sb_puts(&t, ri.ref);
    bool ok = jw_str(b, t.s, t.len);
    sb_free(&t);
    return ok;
  }
  case V_LIST: {
    sb_putc(b, '[');
    bool first = true;
    for (uint32_t i = 0; i < v->u.l->len; i++) {
      size_t m = b->len;
      if (!first) sb_putc(b, ',');
      if (jw_value(e, b, &v->u.l->items[i])) first = false;
      else jw_undo(b, m); /* jansson leaves out what it cannot append */
    }
    sb_putc(b, ']');
    return true;
  }
  case V_OBJ: {
    sb_putc(b, '{');
    for (uint32_t i = 0; i < v->u.o->len; i++) {
      size_t m = b->len;
      jw_key(b, v->u.o->keys[i]);
      if (!jw_value(e, b, &v->u.o->vals[i])) jw_undo(b, m);
    }
    sb_putc(b, '}');
    return true;
  }
  default: {
    StrBuf t = {0};
    vm_format(&e->vm, &t, v);
    bool ok = jw_cstr(b, sb_str(&t));
    sb_free(&t);
    return ok;
  }
  }
}

/* "key":value, or nothing where eng_value_json would give NULL */
static void jw_kvalue(Engine *e, StrBuf *b, const char *key, const Value *v) {
  size_t mark = b->len;
  jw_key(b, key);
  if (!jw_value(e, b, v)) jw_undo(b, mark);
}

/* A value as JSON: money and decimals as exact strings, dates as ISO text,
** enum values and stages by id. */
json_t *eng_value_json(Engine *e, const Value *v) {
  const Chunk *ch = e->ch;
  StrBuf b = {0};
  json_t *j;
  switch (v->type) {
  case V_NULL: return json_null();
  case V_BOOL: return json_boolean(v->u.i);
  case V_INT: return json_integer(v->u.i);
  case V_DATETIME: return json_string(eng_iso(e, v->u.i));
  case V_TEXT: case V_USER: return json_stringn(v->u.t->s, v->u.t->len);
  case V_ENUM: {
    const char *s = vm_title(&e->vm, v, 1);
    return s ? json_string(s) : json_null();
  }
  case V_STAGE:
    if ((uint64_t)v->u.i < ch->nstages) {
      const StageDef *s = &ch->stages[v->u.i];
      return json_pack("{s:s,s:s}", "id", arena_printf(&e->cmd, "%s.%s", ch->directions[s->direction].name, s->name),
                       "title", s->title);
    }
    return json_null();
  case V_REC: {
    RecordInfo ri;
    if (e->st->ops->info(e->st, v->u.i, &ri, &e->cmd) == ST_OK) return json_string(arena_printf(&e->cmd, "@%s", ri.ref));
    return json_null();
  }
  case V_LIST:
    j = json_array();
    for (uint32_t i = 0; i < v->u.l->len; i++) json_array_append_new(j, eng_value_json(e, &v->u.l->items[i]));
    return j;
  case V_OBJ:
    j = json_object();
    for (uint32_t i = 0; i < v->u.o->len; i++)
      json_object_set_new(j, v->u.o->keys[i], eng_value_json(e, &v->u.o->vals[i]));
    return j;
  default:
    vm_format(&e->vm, &b, v);
    j = json_string(sb_str(&b));
    sb_free(&b);
    return j;
  }
}

static const char *ref_of(Engine *e, int64_t rec) {
  RecordInfo ri;
  if (rec && e->st->ops->info(e->st, rec, &ri, &e->cmd) == ST_OK) return ri.ref;
  return "";
}

/* The buffer for an effect's fields, opened: "{" then jw_key/value... */
static StrBuf *body_start(Engine *e) {
  sb_clear(&e->jbody);
  sb_putc(&e->jbody, '{');
  return &e->jbody;
}

/* Records an effect for the caller to show after commit. Its line (when a
** sink wants one): effect, ref and at, then the first `body_end` bytes of
** `body` (its fields, "{" first), the outbox key, and for moves and
** creations the direction and stage. */
static void add_effect(Engine *e, const char *kind, int64_t rec, const StrBuf *body, size_t body_end,
                       const char *key, int32_t stage) {
  EngineEffect ef = {0};
  ef.kind = kind;
  ef.ref = ref_of(e, rec);
  ef.at = engine_now(e);
  ef.stage = stage;
  ef.field = -1;
  if (e->sink) {
    const Chunk *ch = e->ch;
    StrBuf *l = &e->jline;
    sb_clear(l);
    sb_putc(l, '{');
    jw_kstr(l, "effect", kind);
    jw_kstr(l, "ref", ef.ref);
    jw_kiso(e, l, "at", ef.at);
    if (body && body_end > 1) {
      sb_putc(l, ',');
      sb_add(l, body->s + 1, body_end - 1);
    }
    if (key) jw_kstr(l, "key", key);
    if (stage >= 0) {
      size_t mark = l->len;
      jw_key(l, "direction");
      if ((uint32_t)stage >= ch->nstages) sb_puts(l, "null");
      else if (!jw_id_title(l, ch->directions[ch->stages[stage].direction].name,
                            ch->directions[ch->stages[stage].direction].title)) jw_undo(l, mark);
      mark = l->len;
      jw_key(l, "stage");
      if ((uint32_t)stage >= ch->nstages) sb_puts(l, "null");
      else if (!jw_id_title(l, ch->stages[stage].name, ch->stages[stage].title)) jw_undo(l, mark);
    }
    sb_putc(l, '}');
    ef.json = arena_strndup(&e->cmd, l->s, l->len);
  }
  vec_push(&e->effects, ef);
}

void eng_effect_move(Engine *e, const RecordInfo *ri, int32_t stage) {
  add_effect(e, "move", ri->id, NULL, 0, NULL, stage);
}

void eng_effect_create(Engine *e, const RecordInfo *ri, int32_t stage) {
  StrBuf *b = body_start(e);
  jw_kstr(b, "entity", e->ch->entities[ri->entity].name);
  add_effect(e, "create", ri->id, b, b->len, NULL, stage);
}

/* An entry of the event log: {"k":"v",...} from pairs of strings; "{}"
** (as the store writes a NULL) if one is not UTF-8. */
static void log_pairs(Engine *e, const char *const *kv, int n, const int *count) {
  StrBuf *b = body_start(e);
  bool ok = true;
  for (int i = 0; i < n && ok; i++) {
    jw_key(b, kv[2 * i]);
    ok = jw_cstr(b, kv[2 * i + 1]);
  }
  if (ok && count) {
    jw_key(b, "effects");
    jw_int(b, *count);
  }
  sb_putc(b, '}');
  int64_t seq;
  e->st->ops->log_event(e->st, engine_now(e), ok ? b->s : NULL, &seq);
}

void eng_log(Engine *e, const char *what, int64_t rec, const char *detail) {
  const char *kv[] = {"log", what, "ref", ref_of(e, rec), "detail", detail ? detail : ""};
  log_pairs(e, kv, 3, NULL);
}

void eng_log_command(Engine *e, const char *op, const char *ref, int rc) {
  if (rc != 0) return; /* a refused or failed command leaves no trace: it rolls back */
  const char *kv[] = {"command", op, "ref", ref ? ref : ""};
  int n = (int)e->effects.len;
  log_pairs(e, kv, 2, &n);
}

/* ---- the outbox ---------------------------------------------------------------------- */

/* Puts an effect in the outbox under its idempotency key; a key seen
** before (a handler run again after an answer) is not sent twice. `body`
** holds its fields ("{" first, not closed); the effect line leaves out
** what follows `line_end` (internal timestamps such as a task's due_ts). */
static HostStatus outbox(Engine *e, const char *kind, StrBuf *body, size_t line_end) {
  /* the command that ran the handler, which run of it, which effect of the
  ** run: the same after a crash (the command is processed again, with the
  ** same number) and after an answer (the run takes its first key again) */
  StrBuf *k = &e->jline;
  sb_clear(k);
  sb_puts(k, e->run.key);
  sb_putc(k, '/');
  jw_int(k, (long long)e->run.rec);
  sb_putc(k, '/');
  jw_int(k, e->run.handler);
  sb_putc(k, '/');
  jw_int(k, e->run.ordinal);
  sb_putc(k, '/');
  sb_puts(k, kind);
  const char *key = arena_strndup(&e->cmd, k->s, k->len);
  add_effect(e, kind, e->run.rec, body, line_end, key, -1);
  jw_kstr(body, "key", key);
  jw_kiso(e, body, "at", engine_now(e));   /* in the calendar's zone: documents date by it */
  jw_key(body, "at_ts");
  jw_int(body, (long long)engine_now(e));
  sb_putc(body, '}');
  OutboxRow o = {0};
  o.key = key;
  o.record = e->run.rec;
  o.kind = kind;
  o.json = body->s;
  o.created = engine_now(e);
  int rc = e->st->ops->outbox_put(e->st, &o);
  if (rc == ST_CONFLICT) {
    e->effects.len--; /* already sent by the first run */
    return HOST_OK;
  }
  return rc == ST_OK ? HOST_OK : HOST_ERROR;
}

static const char *user_json(Engine *e, const Value *v) {
  if (v->type == V_USER) return v->u.t->s;
  if (v->type == V_ROLE && (uint64_t)v->u.i < e->ch->nroles)
    return arena_printf(&e->cmd, "role:%s", e->ch->roles[v->u.i].name);
  return NULL;
}

/* ---- reading ----------------------------------------------------------------------------- */

static HostStatus get_field(void *ud, Value rec, uint32_t field, Value *out, Arena *a) {
  Engine *e = ud;
  RecordInfo ri;
  Prop p = e->props[field];
  if (p != PROP_NONE) {
    if (e->st->ops->info(e->st, rec.u.i, &ri, a) != ST_OK) return HOST_ERROR;
    const Chunk *ch = e->ch;
    int k = ri.stage >= 0 ? ch->stages[ri.stage].kind : STAGE_PROGRESS;
    switch (p) {
    case PROP_STAGE: *out = ri.stage >= 0 ? v_tagged(V_STAGE, ri.stage) : v_null(); break;
    case PROP_DIRECTION: *out = ri.stage >= 0 ? v_tagged(V_DIR, ch->stages[ri.stage].direction) : v_null(); break;
    case PROP_ENTERED: *out = ri.stage >= 0 ? v_datetime(ri.entered) : v_null(); break;
    case PROP_WON: *out = v_bool(k == STAGE_SUCCESS); break;
    case PROP_LOST: *out = v_bool(k == STAGE_FAILURE); break;
    case PROP_CLOSED: *out = v_bool(k != STAGE_PROGRESS); break;
    case PROP_ID: *out = v_text(text_new(a, ri.ref, strlen(ri.ref))); break;
    case PROP_CREATED: *out = v_datetime(ri.created); break;
    default: *out = v_null(); break;
    }
    return HOST_OK;
  }
  return e->st->ops->get(e->st, rec.u.i, field, out, a) == ST_OK ? HOST_OK : HOST_ERROR;
}

static HostStatus backref(void *ud, Value target, uint32_t src_field, Value *out, Arena *a) {
  Engine *e = ud;
  int64_t *ids;
  size_t n;
  if (e->st->ops->referrers(e->st, src_field, target.u.i, &ids, &n, a) != ST_OK) return HOST_ERROR;
  List *l = list_new(a, (uint32_t)(n ? n : 1));
  int entity = e->ch->fields[src_field].entity;
  for (size_t i = 0; i < n; i++) list_push(a, l, eng_rec(entity, ids[i]));
  *out = v_list(l);
  return HOST_OK;
}

static HostStatus user_member(void *ud, Value user, int which, Value *out, Arena *a) {
  Engine *e = ud;
  UserRow u;
  *out = v_null();
  if (e->st->ops->get_user(e->st, user.u.t->s, &u, a) != ST_OK) {
    /* a user the pack declares and the data does not: its title and supervisor */
    const UserDefC *pu = NULL;
    for (uint32_t i = 0; i < e->ch->nusers && !pu; i++)
      if (!strcmp(e->ch->users[i].name, user.u.t->s)) pu = &e->ch->users[i];
    if (which == 0) *out = pu ? v_text(text_new(a, pu->title, strlen(pu->title))) : user;
    if (which == 1 && pu && pu->supervisor >= 0 && (uint32_t)pu->supervisor < e->ch->nusers) {
      const char *s = e->ch->users[pu->supervisor].name;
      *out = v_text(text_new(a, s, strlen(s)));
      out->type = V_USER;
    }
    return HOST_OK;
  }
  const char *s = which == 0 ? u.name : which == 1 ? u.supervisor : which == 2 ? u.email : u.phone;
  if (!s) return HOST_OK;
  *out = v_text(text_new(a, s, strlen(s)));
  if (which == 1) out->type = V_USER;
  return HOST_OK;
}

bool eng_user_has_role(Engine *e, const char *user, uint32_t role) {
  UserRow u;
  if (!user || role >= e->ch->nroles) return false;
  if (e->st->ops->get_user(e->st, user, &u, &e->cmd) != ST_OK) {
    /* the pack's own users */
    for (uint32_t i = 0; i < e->ch->nusers; i++)
      if (!strcmp(e->ch->users[i].name, user))
        for (uint32_t k = 0; k < e->ch->users[i].nroles; k++)
          if (e->ch->users[i].roles[k] == role) return true;
    return false;
  }
  for (uint32_t k = 0; k < u.nroles; k++)
    if (!strcmp(u.roles[k], e->ch->roles[role].name)) return true;
  return false;
}

static bool has_role(void *ud, Value user, uint32_t role) {
  return user.type == V_USER && eng_user_has_role(ud, user.u.t->s, role);
}

/* ---- writing ------------------------------------------------------------------------------ */

int eng_set(Engine *e, int64_t rec, uint32_t field, const Value *v) {
  const FieldDef *fd = &e->ch->fields[field];
  if (fd->readonly || fd->computed >= 0)
    return eng_fail(e, -1, "'%s' cannot be set", fd->name);
  Value old;
  if (e->st->ops->get(e->st, rec, field, &old, &e->cmd) == ST_OK && value_eq(&old, v)) return 0;
  if (e->st->ops->set(e->st, rec, field, v) != ST_OK) return eng_fail(e, -1, "%s", store_error(e->st));
  Changed c = {rec, field};
  vec_push(&e->changed, c);
  eng_effect_set(e, rec, field, v);
  return 0;
}

void eng_effect_set(Engine *e, int64_t rec, uint32_t field, const Value *v) {
  const FieldDef *fd = &e->ch->fields[field];
  if (e->sink) {
    StrBuf *b = body_start(e);
    size_t mark = b->len;
    jw_key(b, "field");
    if (!jw_id_title(b, fd->name, fd->title)) jw_undo(b, mark);
    jw_kvalue(e, b, "value", v);
    add_effect(e, "set", rec, b, b->len, NULL, -1);
  } else {
    add_effect(e, "set", rec, NULL, 0, NULL, -1); /* nobody shows it: no JSON */
  }
  e->effects.items[e->effects.len - 1].field = (int32_t)field;
}

/* Sets the fields of an object {name: value} on a record of `entity`. */
static int set_object(Engine *e, int64_t rec, int entity, const Value *obj) {
  if (!obj || obj->type != V_OBJ) return 0;
  const EntityDef *ed = &e->ch->entities[entity];
  for (uint32_t i = 0; i < obj->u.o->len; i++) {
    for (uint32_t k = 0; k < ed->nfields; k++) {
      if (strcmp(e->ch->fields[ed->first_field + k].name, obj->u.o->keys[i])) continue;
      if (eng_set(e, rec, ed->first_field + k, &obj->u.o->vals[i]) != 0) return -1;
    }
  }
  return 0;
}

/* A new record from a handler: created now (so it has a ref), entered
** after the handler. */
static HostStatus create(Engine *e, int entity, int32_t stage, const Value *fields, Value *out) {
  int64_t id;
  if (e->st->ops->create(e->st, entity, NULL, -1, engine_now(e), &id) != ST_OK) return HOST_ERROR;
  RecordInfo ri;
  if (eng_info(e, id, &ri) != 0) return HOST_ERROR;
  eng_effect_create(e, &ri, stage);
  if (set_object(e, id, entity, fields) != 0) return HOST_ERROR;
  Pending p = {PEND_CREATED, id, stage};
  vec_push(&e->queue, p);
  *out = eng_rec(entity, id);
  return HOST_OK;
}

/* Copies the fields of `from` that `to`'s entity has under the same name. */
static void copy_same_named(Engine *e, int64_t from, int from_ent, int64_t to, int to_ent) {
  const Chunk *ch = e->ch;
  const EntityDef *fe = &ch->entities[from_ent], *te = &ch->entities[to_ent];
  for (uint32_t i = 0; i < fe->nfields; i++) {
    const FieldDef *f = &ch->fields[fe->first_field + i];
    if (f->readonly || f->computed >= 0) continue;
    for (uint32_t k = 0; k < te->nfields; k++) {
      const FieldDef *g = &ch->fields[te->first_field + k];
      if (strcmp(f->name, g->name) || g->readonly || g->computed >= 0 || g->type.kind != f->type.kind) continue;
      Value v;
      if (e->st->ops->get(e->st, from, fe->first_field + i, &v, &e->cmd) == ST_OK && v.type != V_NULL)
        eng_set(e, to, te->first_field + k, &v);
    }
  }
}

static uint32_t field_named(const Chunk *ch, int entity, const char *name) {
  const EntityDef *ed = &ch->entities[entity];
  for (uint32_t k = 0; k < ed->nfields; k++)
    if (!strcmp(ch->fields[ed->first_field + k].name, name)) return ed->first_field + k;
  return UINT32_MAX;
}

/* Where a message goes: a text is the address already; a record's or a
** user's e-mail for `email`, its phone for the other channels; without a
** recipient, the current record's client's. NULL when the recipient has
** none (the deliverer then dead-letters the message). */
static const char *message_address(Engine *e, const Value *channel, const Value *to) {
  bool email = channel->type == V_TEXT && channel->u.t->len == 5 && !memcmp(channel->u.t->s, "email", 5);
  const char *want = email ? "email" : "phone";
  Value v = v_null(), client;
  if (to->type == V_NULL && e->run.rec) {
    /* no `to`: the current record's client (a deal's contact, else its
    ** company), or the record itself when it has the address (a lead) */
    RecordInfo ri;
    if (eng_info(e, e->run.rec, &ri) != 0) return NULL;
    for (const char *const *f = (const char *const[]){"contact", "company", NULL}; *f; f++) {
      uint32_t cf = field_named(e->ch, ri.entity, *f);
      if (cf != UINT32_MAX && e->st->ops->get(e->st, e->run.rec, cf, &client, &e->cmd) == ST_OK &&
          client.type == V_REC) {
        const char *a = message_address(e, channel, &client);
        if (a) return a;
      }
    }
    Value self = eng_rec(ri.entity, e->run.rec);
    return message_address(e, channel, &self);
  }
  if (to->type == V_TEXT) {
    v = *to;
  } else if (to->type == V_USER) {
    UserRow u;
    if (e->st->ops->get_user(e->st, to->u.t->s, &u, &e->cmd) != ST_OK) return NULL;
    return email ? u.email : u.phone;
  } else if (to->type == V_REC) {
    RecordInfo ri;
    if (eng_info(e, to->u.i, &ri) != 0) return NULL;
    uint32_t f = field_named(e->ch, ri.entity, want);
    if (f == UINT32_MAX || e->st->ops->get(e->st, to->u.i, f, &v, &e->cmd) != ST_OK) return NULL;
  }
  if (v.type != V_TEXT || v.u.t->len == 0) return NULL;
  return arena_printf(&e->cmd, "%.*s", (int)v.u.t->len, v.u.t->s);
}

/* convert: a lead becomes a deal of the chosen stage, with a contact (and
** a company when asked and the lead names one); the lead's fields go to
** the fields of the same names. */
static HostStatus convert(Engine *e, int64_t lead, int32_t stage, int flags) {
  const Chunk *ch = e->ch;
  Value deal, contact = v_null(), company = v_null();
  if (create(e, ENT_DEAL, stage, NULL, &deal) != HOST_OK) return HOST_ERROR;
  copy_same_named(e, lead, ENT_LEAD, deal.u.i, ENT_DEAL);
  if (flags & CONV_CONTACT) {
    if (create(e, ENT_CONTACT, -1, NULL, &contact) != HOST_OK) return HOST_ERROR;
    copy_same_named(e, lead, ENT_LEAD, contact.u.i, ENT_CONTACT);
    uint32_t f = field_named(ch, ENT_DEAL, "contact");
    if (f != UINT32_MAX) eng_set(e, deal.u.i, f, &contact);
  }
  if (flags & CONV_COMPANY) {
    uint32_t cn = field_named(ch, ENT_LEAD, "company_name");
    Value name = v_null();
    if (cn != UINT32_MAX) e->st->ops->get(e->st, lead, cn, &name, &e->cmd);
    if (name.type == V_TEXT && name.u.t->len) {
      if (create(e, ENT_COMPANY, -1, NULL, &company) != HOST_OK) return HOST_ERROR;
      uint32_t f = field_named(ch, ENT_COMPANY, "name");
      if (f != UINT32_MAX) eng_set(e, company.u.i, f, &name);
      f = field_named(ch, ENT_DEAL, "company");
      if (f != UINT32_MAX) eng_set(e, deal.u.i, f, &company);
    }
  }
  return HOST_OK;
}

/* `ask`: the answer if it is there; else the question goes out (once),
** its default and timeout are noted, and the handler waits. The key of a
** question is the handler and the name of the variable it answers. */
static HostStatus ask(Engine *e, const VmEffect *ef, Value *result, Arena *a) {
  Store *st = e->st;
  int64_t rec = e->run.rec;
  int32_t h = e->run.handler;
  const char *name = ef->rec.type == V_TEXT ? ef->rec.u.t->s : "answer";
  Value v;
  /* an answer belongs to one stage entry: entering the stage again asks again */
  if (st->ops->answer_get(st, rec, arena_printf(&e->cmd, "%d/%d/%s", h, e->run.entry, name), &v, a) == ST_OK) {
    *result = v;
    return HOST_OK;
  }
  Value nm = v_text(text_new(&e->cmd, name, strlen(name)));
  Value entry = v_int(e->run.entry), upto = v_int(e->run.ordinal);
  Value key = v_text(text_new(&e->cmd, e->run.key, strlen(e->run.key)));
  st->ops->answer_put(st, rec, arena_printf(&e->cmd, "pending:%d", h), &nm);
  st->ops->answer_put(st, rec, arena_printf(&e->cmd, "entry:%d", h), &entry);
  st->ops->answer_put(st, rec, arena_printf(&e->cmd, "suspended:%d", h), &upto);
  st->ops->answer_put(st, rec, arena_printf(&e->cmd, "key:%d", h), &key);
  StrBuf *j = body_start(e);
  /* what kind of answer: yes/no, or one of an enum's values */
  if (ef->index > 0 && ef->index <= e->ch->nenums)
    jw_kstr(j, "enum", e->ch->enums[ef->index - 1].name);
  else
    jw_kstr(j, "answer", "bool");
  jw_kstr_or_null(j, "user", user_json(e, &ef->a));
  jw_kvalue(e, j, "text", &ef->b);
  jw_kstr(j, "question", name);
  if (ef->c.type == V_DURATION) {
    Value due, now = v_datetime(engine_now(e));
    if (vm_arith(&e->vm, OP_ADD, &now, &ef->c, &due) && due.type == V_DATETIME) {
      jw_kiso(e, j, "timeout", due.u.i);
      st->ops->answer_put(st, rec, arena_printf(&e->cmd, "default:%d/%s", h, name), &ef->d);
      TimerRow t = {0, due.u.i, rec, 0x80000000u | (uint32_t)h, e->run.entry};
      st->ops->add_timer(st, &t);
    }
  }
  HostStatus hs = outbox(e, "ask", j, j->len);
  return hs == HOST_OK ? HOST_WAIT : hs;
}

static HostStatus handler_effect(Engine *e, const VmEffect *ef, Value *result, Arena *a) {
  const Chunk *ch = e->ch;
  e->run.ordinal++;
  StrBuf *j;
  /* a handler run again after an answer: what the first run did to
  ** records is done; messages are kept from repeating by their keys */
  if (e->run.ordinal <= e->replay_until &&
      (ef->op == OP_MOVETO || ef->op == OP_CREATE || ef->op == OP_CREATEIN || ef->op == OP_DELETE ||
       ef->op == OP_CONVERT)) {
    *result = v_null();
    return HOST_OK;
  }
  switch (ef->op) {
  case OP_SETFIELD:
    return eng_set(e, ef->rec.u.i, ef->index, &ef->a) == 0 ? HOST_OK : HOST_ERROR;
  case OP_MOVETO: {
    Pending p = {PEND_MOVE, ef->rec.u.i, (int32_t)ef->index};
    vec_push(&e->queue, p);
    return HOST_OK;
  }
  case OP_CREATE: return create(e, (int)ef->index, -1, &ef->a, result);
  case OP_CREATEIN:
    return create(e, ch->directions[ch->stages[ef->index].direction].entity, (int32_t)ef->index, &ef->a, result);
  case OP_DELETE:
    /* its timers are not deleted: stale now, dropped when due (timers.c) */
    if (e->st->ops->remove(e->st, ef->rec.u.i, engine_now(e)) != ST_OK) return HOST_ERROR;
    add_effect(e, "delete", ef->rec.u.i, NULL, 0, NULL, -1);
    return HOST_OK;
  case OP_CONVERT: return convert(e, ef->rec.u.i, (int32_t)ef->index, (int)ef->a.u.i);
  case OP_ASK: return ask(e, ef, result, a);
  case OP_NOTIFY:
  case OP_TASK: {
    j = body_start(e);
    jw_kstr_or_null(j, "user", user_json(e, &ef->a));
    jw_kvalue(e, j, "text", &ef->b);
    size_t line_end = j->len;
    if (ef->op == OP_TASK && ef->c.type != V_NULL) {
      Value due = ef->c, now = v_datetime(engine_now(e));
      if (due.type == V_DURATION && !vm_arith(&e->vm, OP_ADD, &now, &ef->c, &due)) due = v_null();
      if (due.type == V_DATE) due = v_datetime(due.u.i * 86400 - vm_zone_offset(&e->vm, due.u.i * 86400));
      if (due.type == V_DATETIME) {
        jw_kiso(e, j, "due", due.u.i);
        line_end = j->len;
        jw_key(j, "due_ts");
        jw_int(j, (long long)due.u.i);
      }
    }
    return outbox(e, ef->op == OP_NOTIFY ? "notify" : "task", j, line_end);
  }
  case OP_MESSAGE: {
    const char *addr = message_address(e, &ef->a, &ef->b);
    j = body_start(e);
    jw_kvalue(e, j, "channel", &ef->a);
    jw_kvalue(e, j, "to", &ef->b);
    jw_kstr_or_null(j, "address", addr);
    jw_kvalue(e, j, "text", &ef->c);
    return outbox(e, "message", j, j->len);
  }
  case OP_DOCUMENT: {
    j = body_start(e);
    jw_kvalue(e, j, "document", &ef->a);
    jw_kvalue(e, j, "text", &ef->b);
    jw_kvalue(e, j, "params", &ef->c);
    return outbox(e, "document", j, j->len);
  }
  case OP_WEBHOOK: {
    j = body_start(e);
    jw_kvalue(e, j, "url", &ef->a);
    jw_kvalue(e, j, "body", &ef->b);
    return outbox(e, "webhook", j, j->len);
  }
  case OP_CALLN: {   /* an effectful native: recorded now, called from the outbox after the commit */
    j = body_start(e);
    jw_kstr(j, "native", ch->natives[ef->index].name);
    jw_kvalue(e, j, "args", &ef->a);
    size_t line_end = j->len;
    /* the exact arguments, for the call (not in the effect line) */
    json_t *call = natives_args_to_json(ch, ef->index, ef->a.type == V_LIST ? ef->a.u.l->items : NULL);
    char *cs = json_dumps(call, JSON_COMPACT);
    json_decref(call);
    if (!cs) return HOST_ERROR;
    jw_key(j, "call");
    sb_puts(j, cs);
    free(cs);
    HostStatus hs = outbox(e, "native", j, line_end);
    return hs == HOST_OK ? HOST_DEFERRED : hs;
  }
  default: return HOST_ERROR;
  }
}

/* The steps of a test: each an engine command of its own. */
HostStatus eng_test_effect(Engine *e, const VmEffect *ef, Value *result, const char **msg, Arena *a);

static HostStatus effect(void *ud, const VmEffect *ef, Value *result, const char **msg, Arena *a) {
  Engine *e = ud;
  if (ef->op == OP_CALLN && e->in_test && e->run.handler == -2) return HOST_OK;  /* natives (issue 5) */
  if (e->in_test && e->run.handler == -2) return eng_test_effect(e, ef, result, msg, a);
  if (e->run.handler < 0 && ef->op != OP_CREATE && ef->op != OP_CREATEIN && ef->op != OP_SETFIELD &&
      ef->op != OP_MOVETO) {
    *msg = "a condition cannot act";
    return HOST_ERROR;
  }
  HostStatus st = handler_effect(e, ef, result, a);
  if (st == HOST_ERROR && !*msg) *msg = e->err[0] ? e->err : "the store failed";
  return st;
}

HostStatus eng_effects_of(Engine *e, int builtin, Value arg, Value *out, Arena *a);

static HostStatus effects_of(void *ud, int builtin, Value arg, Value *out, Arena *a) {
  return eng_effects_of(ud, builtin, arg, out, a);
}

VmHost eng_host(Engine *e) {
  VmHost h = {e, get_field, backref, user_member, has_role, effect, effects_of};
  return h;
}
