/*
** engine.c: commands, handlers, triggers and timers over a store (the
** order of things is documented in engine.h and docs/runtime.md).
**
** The engine is the VM's host: the VM reads fields through it and hands it
** effects. Moves, creations and conversions made by handlers queue and run
** after the handler (bounded by ENGINE_MAX_CASCADE per command); messages,
** tasks and the like become outbox rows whose idempotency key is (record,
** stage entry, handler, ordinal of the effect in the run), so that a
** handler run again (after an `ask` is answered) does not send twice.
*/
#include "runtime/engine.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engine_int.h"

/* ---- small helpers ------------------------------------------------------------ */

int eng_fail(Engine *e, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->err, sizeof e->err, fmt, ap);
  va_end(ap);
  return rc;
}

const char *engine_error(const Engine *e) { return e->err; }
const VmError *engine_vm_error(const Engine *e) { return &e->test_error; }

void engine_set_sink(Engine *e, EffectSink sink, void *ud) {
  e->sink = sink;
  e->sink_ud = ud;
}

void engine_set_clock(Engine *e, int64_t now) {
  e->now = now;
  e->virtual_clock = true;
}

int64_t engine_now(Engine *e) {
  if (!e->virtual_clock) e->now = (int64_t)time(NULL);
  return e->now;
}

/* Which read-only property a field is, by name. */
static Prop prop_of(const FieldDef *f) {
  static const char *names[] = {NULL, "stage", "direction", "entered", "won", "lost", "closed", "id",
                                "created"};
  if (!f->readonly) return PROP_NONE;
  for (int k = 1; k < (int)(sizeof names / sizeof *names); k++)
    if (!strcmp(f->name, names[k])) return (Prop)k;
  return PROP_NONE;
}

Engine *engine_new(const Chunk *ch, Store *st) {
  Engine *e = xcalloc(1, sizeof *e);
  e->ch = ch;
  e->st = st;
  arena_init(&e->cmd);
  e->props = xcalloc(ch->nfields + 1, sizeof *e->props);
  for (uint32_t i = 0; i < ch->nfields; i++) e->props[i] = prop_of(&ch->fields[i]);
  VmHost host = eng_host(e);
  vm_init(&e->vm, ch, &host);
  vm_init(&e->tvm, ch, &host);
  e->now = (int64_t)time(NULL);
  return e;
}

void engine_free(Engine *e) {
  if (!e) return;
  vm_free(&e->vm);
  vm_free(&e->tvm);
  arena_free(&e->cmd);
  vec_free(&e->queue);
  vec_free(&e->effects);
  vec_free(&e->changed);
  sb_free(&e->jbody);
  sb_free(&e->jline);
  free(e->props);
  free(e);
}

/* ---- transactions ------------------------------------------------------------- */

/* Starts a command: a transaction and a clean slate. */
static int begin(Engine *e) {
  if (e->depth++ > 0) return 0; /* a test step inside a test: the same transaction */
  arena_reset(&e->cmd);
  e->queue.len = 0;
  e->effects.len = 0;
  e->changed.len = 0;
  e->steps = 0;
  e->runs = 0;
  e->err[0] = '\0';
  if (e->group) {
    /* group commit: this command is a savepoint of the group's transaction
    ** (none in an optimistic group, which a failure spoils whole) */
    if (e->group_lost) return eng_fail(e, -1, "the group's transaction was lost");
    if (e->spoiled) return eng_fail(e, -1, "the group is to be run again");
    if (!e->optimistic) {
      if (e->st->ops->savepoint(e->st) != ST_OK) return eng_fail(e, -1, "%s", store_error(e->st));
      e->in_savepoint = true;
    }
  } else if (e->st->ops->begin(e->st) != ST_OK) {
    return eng_fail(e, -1, "%s", store_error(e->st));
  }
  /* the command's number, committed with it: processed again after a
  ** crash, it gets the same number, so its effects the same keys */
  if (e->st->ops->next_command(e->st, &e->cmd_id) != ST_OK) return eng_fail(e, -1, "%s", store_error(e->st));
  return 0;
}

/* Ends a command: commits and shows its effects, or rolls back. */
static int end(Engine *e, int rc) {
  if (--e->depth > 0) return rc;
  if (e->group) {
    /* group commit: release the command's savepoint (committed with the
    ** group) or undo it alone; a failure there loses the whole group */
    if (e->in_savepoint) {
      e->in_savepoint = false;
      if (rc == 0 && e->st->ops->release(e->st) != ST_OK) rc = eng_fail(e, -1, "%s", store_error(e->st));
      if (rc != 0 && e->st->ops->rollback_to(e->st) != ST_OK) e->group_lost = true;
    } else if (e->optimistic && rc != 0) {
      e->spoiled = true;
    }
    if (rc != 0) return rc;
  } else {
    if (rc == 0 && e->st->ops->commit(e->st) != ST_OK) rc = eng_fail(e, -1, "%s", store_error(e->st));
    if (rc != 0) {
      e->st->ops->rollback(e->st);
      return rc;
    }
  }
  if (e->sink)
    for (size_t i = 0; i < e->effects.len; i++) e->sink(e->sink_ud, &e->effects.items[i]);
  return 0;
}

/* Group commit: see engine.h. */
int engine_group_begin(Engine *e) {
  if (e->group || e->depth) return eng_fail(e, -1, "a group or a command is open already");
  if (e->st->ops->begin(e->st) != ST_OK) return eng_fail(e, -1, "%s", store_error(e->st));
  e->group = true;
  e->group_lost = false;
  e->optimistic = e->spoiled = false;
  return 0;
}

int engine_group_begin_optimistic(Engine *e) {
  if (engine_group_begin(e) != 0) return -1;
  e->optimistic = true;
  return 0;
}

bool engine_group_spoiled(const Engine *e) { return e->spoiled; }

int engine_group_commit(Engine *e) {
  if (!e->group) return eng_fail(e, -1, "no group is open");
  e->group = false;
  if (e->spoiled) e->group_lost = true;   /* the caller should have rolled it back */
  e->optimistic = e->spoiled = false;
  if (e->group_lost) {
    e->st->ops->rollback(e->st);
    return eng_fail(e, -1, "the group's transaction was lost: nothing of it was kept");
  }
  if (e->st->ops->commit(e->st) != ST_OK) {
    eng_fail(e, -1, "the group's commit failed: %s", store_error(e->st));
    e->st->ops->rollback(e->st);
    return -1;
  }
  return 0;
}

void engine_group_rollback(Engine *e) {
  if (!e->group) return;
  e->group = false;
  e->optimistic = e->spoiled = false;
  e->st->ops->rollback(e->st);
}

bool engine_in_group(const Engine *e) { return e->group; }

/* ---- records -------------------------------------------------------------------- */

int eng_info(Engine *e, int64_t id, RecordInfo *ri) {
  int rc = e->st->ops->info(e->st, id, ri, &e->cmd);
  return rc == ST_OK ? 0 : eng_fail(e, -1, "no record %lld", (long long)id);
}

int eng_find(Engine *e, const char *ref, RecordInfo *ri) {
  if (!ref) return eng_fail(e, -1, "no record given");
  int rc = e->st->ops->find(e->st, ref, ri, &e->cmd);
  if (rc == ST_NOTFOUND || (rc == ST_OK && ri->deleted)) return eng_fail(e, -1, "no record '%s'", ref);
  return rc == ST_OK ? 0 : eng_fail(e, -1, "%s", store_error(e->st));
}

Value eng_rec(int entity, int64_t id) {
  Value v = v_tagged(V_REC, id);
  v.aux = (uint16_t)entity;
  return v;
}

/* ---- running handlers ------------------------------------------------------------ */

/* Runs function f for record ri (NULL: none) with an event payload. */
int eng_run(Engine *e, uint32_t f, const RecordInfo *ri, int32_t handler, Value event, Value *result) {
  if (++e->steps > ENGINE_MAX_STEPS)
    return eng_fail(e, -1, "more than %d steps in one command: robots moving deals in a circle?",
                    ENGINE_MAX_STEPS);
  RunCtx saved = e->run;
  if (handler >= 0)
    e->run.key = e->replay_key ? e->replay_key
                               : arena_printf(&e->cmd, "%lld.%d", (long long)e->cmd_id, ++e->runs);
  e->replay_key = NULL;
  e->run.rec = ri ? ri->id : 0;
  e->run.entity = ri ? ri->entity : -1;
  e->run.entry = ri ? ri->entry : 0;
  e->run.handler = handler;
  e->run.ordinal = 0;
  Value self = ri ? eng_rec(ri->entity, ri->id) : v_null();
  Value r;
  VmStatus st = vm_run(&e->vm, f, NULL, 0, self, event, engine_now(e), &r);
  if (result) *result = st == VM_OK ? r : v_null();
  e->run = saved;
  if (st == VM_ERROR) {
    const VmError *ve = &e->vm.error;
    if (!e->err[0])
      eng_fail(e, -1, "%s:%u: runtime error[%s]: %s", e->ch->files[ve->file < e->ch->nfiles ? ve->file : 0],
               ve->line, vm_error_code(ve->code), ve->message);
    return -1;
  }
  return 0; /* VM_SUSPENDED: the question is in the outbox; the run resumes on the answer */
}

/* Evaluates a condition function: true, false; -1 on error. */
int eng_cond(Engine *e, uint32_t f, const RecordInfo *ri, Value event) {
  Value r;
  if (eng_run(e, f, ri, -1, event, &r) != 0) return -1;
  return r.type == V_BOOL && r.u.i;
}

/* Runs the handlers of `when` owned by stage s (and its direction). */
static int run_stage_handlers(Engine *e, int64_t rec, int32_t s, HandlerWhen when) {
  const Chunk *ch = e->ch;
  if (s < 0) return 0;
  for (int pass = 0; pass < 2; pass++) {
    for (uint32_t h = 0; h < ch->nhandlers; h++) {
      const HandlerDef *hd = &ch->handlers[h];
      if (hd->when != when) continue;
      bool mine = pass == 0 ? hd->scope == HS_STAGE && (int32_t)hd->owner == s
                            : hd->scope == HS_DIRECTION && hd->owner == ch->stages[s].direction;
      if (!mine) continue;
      RecordInfo ri;
      if (eng_info(e, rec, &ri) != 0) return -1;
      if (ri.deleted) return 0;
      if (eng_run(e, hd->body, &ri, (int32_t)h, v_null(), NULL) != 0) return -1;
    }
  }
  return 0;
}

/* ---- enter and leave -------------------------------------------------------------- */

/* Why a record may not enter stage s: NULL if it may. */
const char *eng_refusal(Engine *e, const RecordInfo *ri, int32_t s, const char *by) {
  const Chunk *ch = e->ch;
  const StageDef *sd = &ch->stages[s];
  /* access: a person needs one of the roles that may move deals into the
  ** stage, and out of the stage the deal is in */
  for (int side = 0; by && side < 2; side++) {
    int32_t which = side == 0 ? s : ri->stage;
    if (which < 0) continue;
    const StageDef *a = &ch->stages[which];
    bool any_move_rule = false, allowed = false;
    for (uint32_t k = 0; k < a->naccess; k++) {
      if (!(a->access_bits[k] & ACC_MOVE)) continue;
      any_move_rule = true;
      if (eng_user_has_role(e, by, a->access_roles[k])) allowed = true;
    }
    if (any_move_rule && !allowed)
      return arena_printf(&e->cmd, "%s may not move deals %s «%s»", by, side == 0 ? "into" : "out of",
                          a->title);
  }
  for (uint32_t k = 0; k < sd->nrequired; k++) {
    Value v;
    if (e->st->ops->get(e->st, ri->id, sd->required[k], &v, &e->cmd) != ST_OK) continue;
    bool empty = v.type == V_NULL || (v.type == V_TEXT && v.u.t->len == 0) ||
                 (v.type == V_LIST && v.u.l->len == 0);
    if (!empty) continue;
    if (sd->require_msg >= 0) {
      Value m;
      if (eng_run(e, (uint32_t)sd->require_msg, ri, -1, v_null(), &m) == 0 && m.type == V_TEXT)
        return arena_strdup(&e->cmd, m.u.t->s);
    }
    return arena_printf(&e->cmd, "«%s» must be filled in before «%s»", ch->fields[sd->required[k]].title,
                        sd->title);
  }
  for (uint32_t g = 0; g < ch->nguards; g++) {
    if ((int32_t)ch->guards[g].stage != s) continue;
    int ok = eng_cond(e, ch->guards[g].cond, ri, v_null());
    if (ok < 0) return arena_printf(&e->cmd, "%s", e->err);
    if (ok) continue;
    Value m;
    if (eng_run(e, ch->guards[g].message, ri, -1, v_null(), &m) == 0 && m.type == V_TEXT)
      return arena_strdup(&e->cmd, m.u.t->s);
    return arena_printf(&e->cmd, "a guard of «%s» says no", sd->title);
  }
  return NULL;
}

/* Moves record `rec` into stage s (no checks): leave, enter, timers. */
int eng_enter(Engine *e, int64_t rec, int32_t s, const char *by) {
  RecordInfo ri;
  if (eng_info(e, rec, &ri) != 0) return -1;
  /* the timers of the stage entry left are not deleted: stale now, they
  ** are dropped when they come due (timers.c) */
  if (ri.stage >= 0 && run_stage_handlers(e, rec, ri.stage, HW_LEAVE) != 0) return -1;
  int32_t entry = ri.entry + 1;
  if (e->st->ops->move(e->st, rec, s, entry, engine_now(e), by) != ST_OK)
    return eng_fail(e, -1, "%s", store_error(e->st));
  eng_effect_move(e, &ri, s);
  if (run_stage_handlers(e, rec, s, HW_ENTER) != 0) return -1;
  return eng_plan_stage_timers(e, rec, s);
}

/* A checked move: refusal (1) or done (0). */
int eng_move(Engine *e, int64_t rec, int32_t s, const char *by) {
  RecordInfo ri;
  if (eng_info(e, rec, &ri) != 0) return -1;
  if (ri.deleted || ri.stage == s) return 0; /* already there: a move is no re-entry */
  if (ri.entity != e->ch->directions[e->ch->stages[s].direction].entity)
    return eng_fail(e, -1, "a %s cannot go into «%s»", e->ch->entities[ri.entity].name, e->ch->stages[s].title);
  const char *why = eng_refusal(e, &ri, s, by);
  if (why) {
    if (e->err[0] && strstr(why, "runtime error")) return -1;
    eng_fail(e, 1, "%s", why);
    return 1;
  }
  return eng_enter(e, rec, s, by);
}

/* Runs the queue of moves and creations handlers made. */
int eng_drain(Engine *e) {
  while (e->queue.len) {
    Pending p = e->queue.items[0];
    memmove(e->queue.items, e->queue.items + 1, (e->queue.len - 1) * sizeof(Pending));
    e->queue.len--;
    if (++e->steps > ENGINE_MAX_STEPS)
      return eng_fail(e, -1, "more than %d steps in one command: robots moving deals in a circle?",
                      ENGINE_MAX_STEPS);
    int rc = 0;
    switch (p.kind) {
    case PEND_MOVE:
      rc = eng_move(e, p.rec, p.stage, NULL);
      if (rc == 1) {
        /* a robot's move that a guard refuses is skipped, and the log says so */
        eng_log(e, "skip", p.rec, e->err);
        e->err[0] = '\0';
        rc = 0;
      }
      break;
    case PEND_CREATED: rc = eng_created(e, p.rec, p.stage); break;
    }
    if (rc != 0) return rc;
    if (eng_try_triggers(e) != 0) return -1;
  }
  return 0;
}

/* ---- the commands ------------------------------------------------------------------ */

/* After a record exists: `on create`, then the entry into its first stage. */
int eng_created(Engine *e, int64_t rec, int32_t s) {
  RecordInfo ri;
  if (eng_info(e, rec, &ri) != 0) return -1;
  for (uint32_t h = 0; h < e->ch->nhandlers; h++) {
    const HandlerDef *hd = &e->ch->handlers[h];
    if (hd->scope == HS_ENTITY && hd->owner == (uint32_t)ri.entity && hd->when == HW_CREATE)
      if (eng_run(e, hd->body, &ri, (int32_t)h, v_null(), NULL) != 0) return -1;
  }
  if (eng_plan_entity_timers(e, rec) != 0) return -1;
  if (s < 0) return 0;
  /* a record a robot creates enters its stage under the stage's rules too:
  ** refused, the creation is undone (and the log says why) */
  const char *why = eng_refusal(e, &ri, s, NULL);
  if (why) {
    if (strstr(why, "runtime error")) return -1;
    eng_log(e, "create refused", rec, why);
    e->st->ops->remove(e->st, rec, engine_now(e)); /* its timers: stale (timers.c) */
    e->err[0] = '\0';
    return 0;
  }
  return eng_enter(e, rec, s, NULL);
}

static int set_fields(Engine *e, int64_t rec, const FieldSet *fields, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (eng_set(e, rec, fields[i].field, &fields[i].value) != 0) return -1;
  return 0;
}

static bool empty(const Value *v) {
  return v->type == V_NULL || (v->type == V_TEXT && v->u.t->len == 0) ||
         (v->type == V_LIST && v->u.l->len == 0);
}

/* A field declared `required` may never be empty: refused (1) if one is. */
static int check_required(Engine *e, const RecordInfo *ri) {
  const EntityDef *ed = &e->ch->entities[ri->entity];
  for (uint32_t k = 0; k < ed->nfields; k++) {
    const FieldDef *f = &e->ch->fields[ed->first_field + k];
    if (!f->required || f->readonly || f->builtin || f->computed >= 0) continue;
    Value v;
    if (e->st->ops->get(e->st, ri->id, ed->first_field + k, &v, &e->cmd) == ST_OK && empty(&v))
      return eng_fail(e, 1, "«%s» is required", f->title);
  }
  return 0;
}

/* Can a new record's fields go into its INSERT? Each settable, and each
** given once (else they are set one by one, as an update would). */
static bool insertable(const Engine *e, int entity, const FieldSet *fields, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (fields[i].field >= e->ch->nfields) return false;
    const FieldDef *fd = &e->ch->fields[fields[i].field];
    if (fd->entity != entity || fd->readonly || fd->computed >= 0) return false;
    for (size_t k = 0; k < i; k++)
      if (fields[k].field == fields[i].field) return false;
  }
  return true;
}

/* check_required for a record just created with `fields`: the values are
** known, nothing to read. */
static int check_required_given(Engine *e, int entity, const FieldSet *fields, size_t n) {
  const EntityDef *ed = &e->ch->entities[entity];
  for (uint32_t k = 0; k < ed->nfields; k++) {
    const FieldDef *f = &e->ch->fields[ed->first_field + k];
    if (!f->required || f->readonly || f->builtin || f->computed >= 0) continue;
    const Value *v = NULL;
    for (size_t i = 0; i < n; i++)
      if (fields[i].field == ed->first_field + k) v = &fields[i].value;
    if (!v || empty(v)) return eng_fail(e, 1, "«%s» is required", f->title);
  }
  return 0;
}

int engine_create(Engine *e, int entity, const char *ref, int32_t stage, const FieldSet *fields,
                  size_t n, const char *by, const char **ref_out) {
  if (begin(e) != 0) return end(e, -1);
  int64_t id;
  /* the fields go into the record's INSERT when they can; their `set`
  ** effects are the same as when they are set one by one */
  bool direct = insertable(e, entity, fields, n);
  int rc = direct ? e->st->ops->create_with(e->st, entity, ref, -1, engine_now(e), fields, n, &id)
                  : e->st->ops->create(e->st, entity, ref, -1, engine_now(e), &id);
  if (rc == ST_CONFLICT) return end(e, eng_fail(e, -1, "a record '%s' exists already", ref));
  if (rc != ST_OK) return end(e, eng_fail(e, -1, "%s", store_error(e->st)));
  RecordInfo ri;
  if (eng_info(e, id, &ri) != 0) return end(e, -1);
  if (ref_out) *ref_out = ri.ref;
  eng_effect_create(e, &ri, stage);
  if (direct) {
    Value none = v_null();
    for (size_t i = 0; i < n; i++)
      if (!value_eq(&none, &fields[i].value)) eng_effect_set(e, id, fields[i].field, &fields[i].value);
    if (check_required_given(e, entity, fields, n) != 0) return end(e, 1);
  } else {
    if (set_fields(e, id, fields, n) != 0) return end(e, -1);
    if (check_required(e, &ri) != 0) return end(e, 1);
  }
  /* a new record's fields are not changes, but its conditions are tried */
  e->changed.len = 0;
  Changed touched = {id, UINT32_MAX};
  vec_push(&e->changed, touched);
  if (stage >= 0) {
    const char *why = eng_refusal(e, &ri, stage, by);
    if (why) return end(e, eng_fail(e, 1, "%s", why));
  }
  rc = eng_created(e, id, stage);
  if (rc == 0) rc = eng_after_changes(e);
  if (rc == 0) rc = eng_drain(e);
  eng_log_command(e, "create", ri.ref, rc);
  return end(e, rc);
}

int engine_update(Engine *e, const char *ref, const FieldSet *fields, size_t n, const char *by) {
  if (begin(e) != 0) return end(e, -1);
  RecordInfo ri;
  if (eng_find(e, ref, &ri) != 0) return end(e, -1);
  int rc = set_fields(e, ri.id, fields, n);
  if (rc == 0) rc = check_required(e, &ri);
  if (rc == 0) rc = eng_after_changes(e);
  if (rc == 0) rc = eng_drain(e);
  eng_log_command(e, "update", ref, rc);
  return end(e, rc);
}

int engine_move(Engine *e, const char *ref, int32_t stage, const char *by) {
  if (begin(e) != 0) return end(e, -1);
  RecordInfo ri;
  if (eng_find(e, ref, &ri) != 0) return end(e, -1);
  int rc = eng_move(e, ri.id, stage, by);
  if (rc == 0) rc = eng_after_changes(e);
  if (rc == 0) rc = eng_drain(e);
  eng_log_command(e, "move", ref, rc);
  return end(e, rc);
}

int engine_event(Engine *e, const char *ref, int event, Value payload) {
  if (begin(e) != 0) return end(e, -1);
  int rc = 0;
  if (ref) {
    RecordInfo ri;
    if (eng_find(e, ref, &ri) != 0) return end(e, -1);
    rc = eng_record_event(e, &ri, event, payload);
  } else {
    for (uint32_t h = 0; h < e->ch->nhandlers && rc == 0; h++) {
      const HandlerDef *hd = &e->ch->handlers[h];
      if (hd->scope == HS_TOP && hd->when == HW_EVENT && hd->event == event)
        rc = eng_run(e, hd->body, NULL, (int32_t)h, payload, NULL);
    }
  }
  if (rc == 0) rc = eng_after_changes(e);
  if (rc == 0) rc = eng_drain(e);
  eng_log_command(e, "event", ref ? ref : "", rc);
  return end(e, rc);
}

int engine_user(Engine *e, const UserRow *u) {
  if (begin(e) != 0) return end(e, -1);
  int rc = e->st->ops->put_user(e->st, u) == ST_OK ? 0 : eng_fail(e, -1, "%s", store_error(e->st));
  return end(e, rc);
}

int engine_answer(Engine *e, const char *ref, const char *question, Value answer) {
  if (begin(e) != 0) return end(e, -1);
  RecordInfo ri;
  if (eng_find(e, ref, &ri) != 0) return end(e, -1);
  int rc = eng_answer(e, &ri, question, answer);
  if (rc == 0) rc = eng_after_changes(e);
  if (rc == 0) rc = eng_drain(e);
  eng_log_command(e, "answer", ref, rc);
  return end(e, rc);
}

int engine_advance(Engine *e, int64_t to) {
  if (to < engine_now(e)) return eng_fail(e, -1, "the clock only goes forward");
  for (;;) {
    if (begin(e) != 0) return end(e, -1);
    TimerRow t;
    int found = e->st->ops->next_timer(e->st, to, &t);
    /* stale timers (cancelled lazily, timers.c) go without a command of their own */
    while (found == 1 && eng_timer_stale(e, &t)) {
      if (e->st->ops->delete_timer(e->st, t.id, t.due) != ST_OK) break;
      found = e->st->ops->next_timer(e->st, to, &t);
    }
    if (found != 1) {
      end(e, 0);
      break;
    }
    if (t.due > e->now) e->now = t.due;
    int rc = eng_fire(e, &t);
    if (rc == 0) rc = eng_after_changes(e);
    if (rc == 0) rc = eng_drain(e);
    if (end(e, rc) != 0) {
      /* the timer's work rolled back; drop the timer and say so, so that
      ** one broken handler does not stop the clock for every record */
      char why[512];
      snprintf(why, sizeof why, "%s", e->err);
      if (begin(e) == 0) {
        e->st->ops->delete_timer(e->st, t.id, t.due);
        eng_log(e, "timer failed", t.record, why);
        end(e, 0);
      } else {
        end(e, -1); /* a failed begin counted its depth too */
      }
      snprintf(e->err, sizeof e->err, "%s", why);
      return -1;
    }
  }
  e->now = to;
  return 0;
}
