/*
** testrun.c: `test` blocks. A test runs in its own VM against an engine
** with a fresh store, on a virtual clock that starts at 2026-01-01 09:00
** in the pack's default time zone unless the test sets it (`at ...`). Each
** step of the test (create, set, move, emit, answer, advance) is an engine
** command of its own, processed and committed exactly as the batch
** interface would process it; `expect` reads the state between steps.
** Moves made by a test count as moves by the record's owner (a person:
** guards, required fields and access apply), or by the system when the
** record has no owner.
*/
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engine_int.h"

enum {
#define BUILTIN(id, name, nargs, test) TB_##id,
#include "bytecode/builtins.def"
#undef BUILTIN
};

/* Test-side strings live in the test VM's arena `a`: the engine's own
** per-command arena is reset by each command the step starts. */
static const char *ref_of(Engine *e, const Value *rec, Arena *a) {
  RecordInfo ri;
  if (rec->type == V_REC && e->st->ops->info(e->st, rec->u.i, &ri, a) == ST_OK) return ri.ref;
  return NULL;
}

/* Who moves a record in a test: its owner, if it has one. */
static const char *mover(Engine *e, const Value *rec, Arena *a) {
  const EntityDef *ed = &e->ch->entities[rec->aux];
  for (uint32_t k = 0; k < ed->nfields; k++) {
    if (strcmp(e->ch->fields[ed->first_field + k].name, "owner")) continue;
    Value v;
    if (e->st->ops->get(e->st, rec->u.i, ed->first_field + k, &v, a) == ST_OK && v.type == V_USER)
      return v.u.t->s;
  }
  return NULL;
}

/* An object {name: value} as FieldSets of `entity`. */
static FieldSet *fields_of(Engine *e, int entity, const Value *obj, size_t *n, Arena *a) {
  *n = 0;
  if (obj->type != V_OBJ) return NULL;
  FieldSet *fs = arena_alloc(a, (obj->u.o->len + 1) * sizeof *fs);
  const EntityDef *ed = &e->ch->entities[entity];
  for (uint32_t i = 0; i < obj->u.o->len; i++)
    for (uint32_t k = 0; k < ed->nfields; k++)
      if (!strcmp(e->ch->fields[ed->first_field + k].name, obj->u.o->keys[i]))
        fs[(*n)++] = (FieldSet){ed->first_field + k, obj->u.o->vals[i]};
  return fs;
}

static HostStatus verdict(Engine *e, int rc, const char **msg) {
  if (rc == 0) return HOST_OK;
  *msg = e->err;
  return rc == 1 ? HOST_REFUSED : HOST_ERROR;
}

/* A moment from a date (local midnight) or a datetime. */
static int64_t moment(Engine *e, const Value *v) {
  if (v->type == V_DATE) return v->u.i * 86400 - vm_zone_offset(&e->vm, v->u.i * 86400);
  return v->u.i;
}

HostStatus eng_test_effect(Engine *e, const VmEffect *ef, Value *result, const char **msg, Arena *a);
HostStatus eng_test_effect(Engine *e, const VmEffect *ef, Value *result, const char **msg, Arena *a) {
  const Chunk *ch = e->ch;
  int rc;
  switch (ef->op) {
  case OP_SETFIELD: {
    const char *ref = ref_of(e, &ef->rec, a);
    FieldSet fs = {ef->index, ef->a};
    return verdict(e, engine_update(e, ref, &fs, 1, mover(e, &ef->rec, a)), msg);
  }
  case OP_MOVETO:
    return verdict(e, engine_move(e, ref_of(e, &ef->rec, a), (int32_t)ef->index, mover(e, &ef->rec, a)), msg);
  case OP_CREATE:
  case OP_CREATEIN: {
    int entity = ef->op == OP_CREATE ? (int)ef->index : ch->directions[ch->stages[ef->index].direction].entity;
    int32_t stage = ef->op == OP_CREATE ? -1 : (int32_t)ef->index;
    size_t n;
    FieldSet *fs = fields_of(e, entity, &ef->a, &n, a);
    const char *ref = NULL;
    rc = engine_create(e, entity, NULL, stage, fs, n, NULL, &ref);
    if (rc != 0) return verdict(e, rc, msg);
    RecordInfo ri;
    if (e->st->ops->find(e->st, ref, &ri, a) != ST_OK) return HOST_ERROR;
    *result = eng_rec(entity, ri.id);
    return HOST_OK;
  }
  case OP_TCLOCK:
    engine_set_clock(e, moment(e, &ef->a));
    *result = v_datetime(engine_now(e));
    return HOST_OK;
  case OP_TADVANCE: {
    int64_t to;
    if (ef->index == 1) {
      to = moment(e, &ef->a);
    } else {
      Value now = v_datetime(engine_now(e)), r;
      if (!vm_arith(&e->tvm, OP_ADD, &now, &ef->a, &r)) {
        *msg = "the duration cannot be counted";
        return HOST_ERROR;
      }
      to = moment(e, &r);
    }
    HostStatus hs = verdict(e, engine_advance(e, to), msg);
    *result = v_datetime(engine_now(e));
    return hs;
  }
  case OP_TEMIT:
    return verdict(e, engine_event(e, ef->rec.type == V_REC ? ref_of(e, &ef->rec, a) : NULL, (int)ef->index, ef->a), msg);
  case OP_TANSWER:
    return verdict(e, engine_answer(e, ref_of(e, &ef->rec, a), ef->b.u.t->s, ef->a), msg);
  case OP_TUSER: {
    UserRow u = {0};
    u.id = u.name = ef->c.u.t->s;
    u.supervisor = ef->b.type == V_USER ? ef->b.u.t->s : NULL;
    if (ef->a.type == V_LIST) {
      u.roles = arena_alloc(a, (ef->a.u.l->len + 1) * sizeof *u.roles);
      for (uint32_t i = 0; i < ef->a.u.l->len; i++) {
        int64_t r = ef->a.u.l->items[i].u.i;
        if (r >= 0 && (uint64_t)r < ch->nroles) u.roles[u.nroles++] = ch->roles[r].name;
      }
    }
    return verdict(e, engine_user(e, &u), msg);
  }
  default:
    *msg = "this step is not a test step";
    return HOST_ERROR;
  }
}

/* notifications(user), tasks(user), questions(user), messages(record),
** documents(record), webhooks(): the outbox as a list of effects. */
HostStatus eng_effects_of(Engine *e, int builtin, Value arg, Value *out, Arena *a);
HostStatus eng_effects_of(Engine *e, int builtin, Value arg, Value *out, Arena *a) {
  const char *kind = builtin == TB_NOTIFICATIONS ? "notify" : builtin == TB_TASKS ? "task"
                     : builtin == TB_QUESTIONS   ? "ask"
                     : builtin == TB_MESSAGES    ? "message"
                     : builtin == TB_DOCUMENTS   ? "document"
                                                 : "webhook";
  OutboxRow *rows;
  size_t n;
  if (e->st->ops->outbox_list(e->st, 0, kind, &rows, &n, a) != ST_OK) return HOST_ERROR;
  const char *want_user = arg.type == V_USER ? arg.u.t->s : NULL;
  const char *want_ref = arg.type == V_REC ? ref_of(e, &arg, a) : NULL;
  List *l = list_new(a, (uint32_t)(n ? n : 1));
  for (size_t i = 0; i < n; i++) {
    json_t *j = json_loads(rows[i].json, 0, NULL);
    if (!j) continue;
    const char *user = json_string_value(json_object_get(j, "user"));
    const char *to = json_string_value(json_object_get(j, "to"));
    bool mine = true;
    if (want_user) {
      /* a notification to a role reaches every user who has it */
      mine = user && !strcmp(user, want_user);
      if (!mine && user && !strncmp(user, "role:", 5))
        for (uint32_t r = 0; r < e->ch->nroles && !mine; r++)
          mine = !strcmp(e->ch->roles[r].name, user + 5) && eng_user_has_role(e, want_user, r);
    }
    if (want_ref) {
      RecordInfo ri;
      bool own = e->st->ops->info(e->st, rows[i].record, &ri, a) == ST_OK && !strcmp(ri.ref, want_ref);
      bool addressed = to && to[0] == '@' && !strcmp(to + 1, want_ref);
      mine = own || addressed;
    }
    if (!mine) {
      json_decref(j);
      continue;
    }
    static const char *keys[] = {"kind", "text", "title", "user", "at", "due", "channel"};
    Obj *o = arena_alloc(a, sizeof *o);
    o->len = 7;
    o->keys = arena_alloc(a, 7 * sizeof *o->keys);
    o->vals = arena_alloc(a, 7 * sizeof *o->vals);
    for (int k = 0; k < 7; k++) o->keys[k] = keys[k];
    const char *text = json_string_value(json_object_get(j, "text"));
    if (!text) text = json_string_value(json_object_get(j, "url")); /* a webhook: its address */
    /* a document's kind is the kind of document (invoice, act...) */
    const char *k = json_string_value(json_object_get(j, "document"));
    if (!k) k = kind;
    o->vals[0] = v_text(text_new(a, k, strlen(k)));
    o->vals[1] = text ? v_text(text_new(a, text, strlen(text))) : v_null();
    o->vals[2] = o->vals[1];
    o->vals[3] = v_null();
    if (user) {
      o->vals[3] = v_text(text_new(a, user, strlen(user)));
      o->vals[3].type = V_USER;
    }
    o->vals[4] = v_datetime(json_integer_value(json_object_get(j, "at_ts")));
    json_t *due = json_object_get(j, "due_ts");
    o->vals[5] = due ? v_datetime(json_integer_value(due)) : v_null();
    const char *chn = json_string_value(json_object_get(j, "channel"));
    o->vals[6] = chn ? v_text(text_new(a, chn, strlen(chn))) : v_null();
    Value v = {0};
    v.type = V_OBJ;
    v.u.o = o;
    list_push(a, l, v);
    json_decref(j);
  }
  *out = v_list(l);
  return HOST_OK;
}

int engine_run_test(Engine *e, uint32_t t) {
  const Chunk *ch = e->ch;
  if (t >= ch->ntests) return -1;
  /* 2026-01-01 09:00 in the default zone */
  int64_t start = days_from_civil(2026, 1, 1) * 86400 + 9 * 3600;
  engine_set_clock(e, start - vm_zone_offset(&e->vm, start));
  e->in_test = true;
  RunCtx saved = e->run;
  e->run.handler = -2;
  e->run.rec = 0;
  Value r;
  VmStatus st = vm_run(&e->tvm, ch->tests[t].func, NULL, 0, v_null(), v_null(), engine_now(e), &r);
  e->run = saved;
  e->in_test = false;
  if (st == VM_OK) return 0;
  e->test_error = e->tvm.error;
  if (st == VM_SUSPENDED) {
    e->test_error.code = RE_TEST;
    snprintf(e->test_error.message, sizeof e->test_error.message, "the test itself waited for an answer");
  }
  return 1;
}
