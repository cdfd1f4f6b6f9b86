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

#include "runtime/engine_int.h"

/* ---- JSON for effects and the log ------------------------------------------------- */

const char *eng_iso(Engine *e, int64_t utc) {
  int32_t off = vm_zone_offset(&e->vm, utc);
  int64_t local = utc + off;
  int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t sod = local - day * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(day, &y, &m, &d);
  int aoff = off < 0 ? -off : off;
  return arena_printf(&e->cmd, "%04lld-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", (long long)y, m, d,
                      (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), off < 0 ? '-' : '+',
                      aoff / 3600, aoff / 60 % 60);
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

static json_t *stage_json(Engine *e, int32_t s) {
  const Chunk *ch = e->ch;
  if (s < 0 || (uint32_t)s >= ch->nstages) return json_null();
  const StageDef *sd = &ch->stages[s];
  return json_pack("{s:s,s:s}", "id", sd->name, "title", sd->title);
}

static json_t *direction_json(Engine *e, int32_t s) {
  const Chunk *ch = e->ch;
  if (s < 0 || (uint32_t)s >= ch->nstages) return json_null();
  const DirectionDef *d = &ch->directions[ch->stages[s].direction];
  return json_pack("{s:s,s:s}", "id", d->name, "title", d->title);
}

/* Records an effect for the caller to show after commit; takes j. */
static void add_effect(Engine *e, const char *kind, int64_t rec, json_t *j, int32_t stage) {
  json_object_set_new(j, "effect", json_string(kind));
  json_object_set_new(j, "ref", json_string(ref_of(e, rec)));
  json_object_set_new(j, "at", json_string(eng_iso(e, engine_now(e))));
  if (stage >= 0) {
    json_object_set_new(j, "direction", direction_json(e, stage));
    json_object_set_new(j, "stage", stage_json(e, stage));
  }
  char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  EngineEffect ef = {0};
  ef.kind = arena_strdup(&e->cmd, kind);
  ef.ref = ref_of(e, rec);
  ef.at = engine_now(e);
  ef.stage = stage;
  ef.field = -1;
  ef.json = arena_strdup(&e->cmd, s ? s : "{}");
  free(s);
  json_decref(j);
  vec_push(&e->effects, ef);
}

void eng_effect_move(Engine *e, const RecordInfo *ri, int32_t stage) {
  add_effect(e, "move", ri->id, json_object(), stage);
}

void eng_effect_create(Engine *e, const RecordInfo *ri, int32_t stage) {
  json_t *j = json_object();
  json_object_set_new(j, "entity", json_string(e->ch->entities[ri->entity].name));
  add_effect(e, "create", ri->id, j, stage);
}

void eng_log(Engine *e, const char *what, int64_t rec, const char *detail) {
  json_t *j = json_pack("{s:s,s:s,s:s}", "log", what, "ref", ref_of(e, rec), "detail", detail ? detail : "");
  char *s = json_dumps(j, JSON_COMPACT);
  int64_t seq;
  e->st->ops->log_event(e->st, engine_now(e), s, &seq);
  free(s);
  json_decref(j);
}

void eng_log_command(Engine *e, const char *op, const char *ref, int rc) {
  if (rc != 0) return; /* a refused or failed command leaves no trace: it rolls back */
  json_t *j = json_pack("{s:s,s:s,s:i}", "command", op, "ref", ref ? ref : "", "effects", (int)e->effects.len);
  char *s = json_dumps(j, JSON_COMPACT);
  int64_t seq;
  e->st->ops->log_event(e->st, engine_now(e), s, &seq);
  free(s);
  json_decref(j);
}

/* ---- the outbox ---------------------------------------------------------------------- */

/* Puts an effect in the outbox under its idempotency key; a key seen
** before (a handler run again after an answer) is not sent twice. */
static HostStatus outbox(Engine *e, const char *kind, json_t *j) {
  /* the command that ran the handler, which run of it, which effect of the
  ** run: the same after a crash (the command is processed again, with the
  ** same number) and after an answer (the run takes its first key again) */
  const char *key = arena_printf(&e->cmd, "%s/%lld/%d/%u/%s", e->run.key, (long long)e->run.rec,
                                 e->run.handler, e->run.ordinal, kind);
  json_object_set_new(j, "key", json_string(key));
  json_object_set_new(j, "at_ts", json_integer(engine_now(e)));
  add_effect(e, kind, e->run.rec, json_deep_copy(j), -1);
  char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  OutboxRow o = {0};
  o.key = key;
  o.record = e->run.rec;
  o.kind = kind;
  o.json = s;
  o.created = engine_now(e);
  int rc = e->st->ops->outbox_put(e->st, &o);
  free(s);
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
  json_t *j = json_object();
  json_object_set_new(j, "field", json_pack("{s:s,s:s}", "id", fd->name, "title", fd->title));
  json_object_set_new(j, "value", eng_value_json(e, v));
  add_effect(e, "set", rec, j, -1);
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
** user's e-mail for `email`, its phone for the other channels. NULL when
** the recipient has none (the deliverer then dead-letters the message). */
static const char *message_address(Engine *e, const Value *channel, const Value *to) {
  bool email = channel->type == V_TEXT && channel->u.t->len == 5 && !memcmp(channel->u.t->s, "email", 5);
  const char *want = email ? "email" : "phone";
  Value v = v_null();
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
  json_t *j = json_object();
  /* what kind of answer: yes/no, or one of an enum's values */
  if (ef->index > 0 && ef->index <= e->ch->nenums)
    json_object_set_new(j, "enum", json_string(e->ch->enums[ef->index - 1].name));
  else
    json_object_set_new(j, "answer", json_string("bool"));
  const char *who = user_json(e, &ef->a);
  json_object_set_new(j, "user", who ? json_string(who) : json_null());
  json_object_set_new(j, "text", eng_value_json(e, &ef->b));
  json_object_set_new(j, "question", json_string(name));
  if (ef->c.type == V_DURATION) {
    Value due, now = v_datetime(engine_now(e));
    if (vm_arith(&e->vm, OP_ADD, &now, &ef->c, &due) && due.type == V_DATETIME) {
      json_object_set_new(j, "timeout", json_string(eng_iso(e, due.u.i)));
      st->ops->answer_put(st, rec, arena_printf(&e->cmd, "default:%d/%s", h, name), &ef->d);
      TimerRow t = {0, due.u.i, rec, 0x80000000u | (uint32_t)h, e->run.entry};
      st->ops->add_timer(st, &t);
    }
  }
  HostStatus hs = outbox(e, "ask", j);
  json_decref(j);
  return hs == HOST_OK ? HOST_WAIT : hs;
}

static HostStatus handler_effect(Engine *e, const VmEffect *ef, Value *result, Arena *a) {
  const Chunk *ch = e->ch;
  e->run.ordinal++;
  json_t *j;
  HostStatus st = HOST_OK;
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
    if (e->st->ops->remove(e->st, ef->rec.u.i, engine_now(e)) != ST_OK) return HOST_ERROR;
    e->st->ops->cancel_timers(e->st, ef->rec.u.i, -1);
    add_effect(e, "delete", ef->rec.u.i, json_object(), -1);
    return HOST_OK;
  case OP_CONVERT: return convert(e, ef->rec.u.i, (int32_t)ef->index, (int)ef->a.u.i);
  case OP_ASK: return ask(e, ef, result, a);
  case OP_NOTIFY:
  case OP_TASK: {
    const char *user = user_json(e, &ef->a);
    j = json_object();
    json_object_set_new(j, "user", user ? json_string(user) : json_null());
    json_object_set_new(j, "text", eng_value_json(e, &ef->b));
    if (ef->op == OP_TASK && ef->c.type != V_NULL) {
      Value due = ef->c, now = v_datetime(engine_now(e));
      if (due.type == V_DURATION && !vm_arith(&e->vm, OP_ADD, &now, &ef->c, &due)) due = v_null();
      if (due.type == V_DATE) due = v_datetime(due.u.i * 86400 - vm_zone_offset(&e->vm, due.u.i * 86400));
      if (due.type == V_DATETIME) {
        json_object_set_new(j, "due", json_string(eng_iso(e, due.u.i)));
        json_object_set_new(j, "due_ts", json_integer(due.u.i));
      }
    }
    st = outbox(e, ef->op == OP_NOTIFY ? "notify" : "task", j);
    json_decref(j);
    return st;
  }
  case OP_MESSAGE: {
    j = json_object();
    json_object_set_new(j, "channel", eng_value_json(e, &ef->a));
    json_object_set_new(j, "to", eng_value_json(e, &ef->b));
    const char *addr = message_address(e, &ef->a, &ef->b);
    json_object_set_new(j, "address", addr ? json_string(addr) : json_null());
    json_object_set_new(j, "text", eng_value_json(e, &ef->c));
    st = outbox(e, "message", j);
    json_decref(j);
    return st;
  }
  case OP_DOCUMENT: {
    j = json_object();
    json_object_set_new(j, "document", eng_value_json(e, &ef->a));
    json_object_set_new(j, "text", eng_value_json(e, &ef->b));
    json_object_set_new(j, "params", eng_value_json(e, &ef->c));
    st = outbox(e, "document", j);
    json_decref(j);
    return st;
  }
  case OP_WEBHOOK: {
    j = json_object();
    json_object_set_new(j, "url", eng_value_json(e, &ef->a));
    json_object_set_new(j, "body", eng_value_json(e, &ef->b));
    st = outbox(e, "webhook", j);
    json_decref(j);
    return st;
  }
  case OP_CALLN: {   /* natives (issue 5): the VM calls it; the log records it */
    j = json_object();
    json_object_set_new(j, "native", json_string(ch->natives[ef->index].name));
    json_object_set_new(j, "args", eng_value_json(e, &ef->a));
    add_effect(e, "native", e->run.rec, j, -1);
    return HOST_OK;
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
