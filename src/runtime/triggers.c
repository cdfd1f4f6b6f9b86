/*
** triggers.c: what follows an event or a change.
**   on change   after fields change: handlers watching those fields (of
**               the entity, the current stage and its direction, in the
**               order of the handler table: directions and stages first),
**               and `at` timers depending on them are planned anew;
**   triggers    an event, or a condition becoming true, moves a deal into
**               the trigger's stage: only forward (to a later stage of the
**               direction) unless the trigger says `may move back`, only
**               from the listed stages if it lists any; when several
**               match, the one whose stage comes first wins; a trigger's
**               move obeys guards and required fields like any other
**               (access rules are for people), and a refused one is
**               skipped and logged;
**   on event    handlers of the record's entity, stage and direction;
**   answers     a question's answer runs its handler again (ask, vm.h).
*/
#include <string.h>

#include "runtime/engine_int.h"

static bool watches(const HandlerDef *hd, uint32_t field) {
  for (uint32_t k = 0; k < hd->nfields; k++)
    if (hd->fields[k] == field) return true;
  return false;
}

/* Is handler hd one that applies to the record in its current stage? */
static bool applies(const Chunk *ch, const HandlerDef *hd, const RecordInfo *ri) {
  switch (hd->scope) {
  case HS_ENTITY: return (int)hd->owner == ri->entity;
  case HS_STAGE: return ri->stage >= 0 && (int32_t)hd->owner == ri->stage;
  case HS_DIRECTION: return ri->stage >= 0 && hd->owner == ch->stages[ri->stage].direction;
  default: return false;
  }
}

/* Records touched by this round of changes, each once. */
typedef VEC(int64_t) RecVec;

static void touch(RecVec *v, int64_t rec) {
  for (size_t i = 0; i < v->len; i++)
    if (v->items[i] == rec) return;
  vec_push(v, rec);
}

/* The stage a trigger of record ri would move it to, or -1: the matching
** trigger whose stage comes first in the direction. */
static int32_t pick_trigger(Engine *e, const RecordInfo *ri, int event, Value payload, int *err) {
  const Chunk *ch = e->ch;
  *err = 0;
  if (ri->stage < 0) return -1;
  uint16_t dir = ch->stages[ri->stage].direction;
  int32_t cur = ri->stage, best = -1;
  for (uint32_t t = 0; t < ch->ntriggers; t++) {
    const TriggerDef *td = &ch->triggers[t];
    int32_t to = (int32_t)td->stage;
    if (ch->stages[to].direction != dir || to == cur || td->event != event) continue;
    if (event < 0 && td->cond < 0) continue;
    if (!td->may_move_back && to < cur) continue;
    if (td->nfrom) {
      bool from = false;
      for (uint32_t k = 0; k < td->nfrom; k++) from |= (int32_t)td->from[k] == cur;
      if (!from) continue;
    }
    if (best >= 0 && to >= best) continue;
    if (td->cond >= 0) {
      int ok = eng_cond(e, (uint32_t)td->cond, ri, payload);
      if (ok < 0) {
        *err = 1;
        return -1;
      }
      if (!ok) continue;
    }
    best = to;
  }
  return best;
}

static int trigger_move(Engine *e, int64_t rec, int32_t to) {
  int rc = eng_move(e, rec, to, NULL);
  if (rc == 1) {
    eng_log(e, "trigger refused", rec, e->err);
    e->err[0] = '\0';
    return 0;
  }
  return rc;
}

int eng_try_triggers(Engine *e) {
  /* condition triggers, for every record a change touched */
  RecVec recs = {0};
  for (size_t i = 0; i < e->changed.len; i++) touch(&recs, e->changed.items[i].rec);
  int rc = 0;
  for (size_t i = 0; i < recs.len && rc == 0; i++) {
    RecordInfo ri;
    if (eng_info(e, recs.items[i], &ri) != 0 || ri.deleted) continue;
    int err;
    int32_t to = pick_trigger(e, &ri, -1, v_null(), &err);
    if (err) rc = -1;
    else if (to >= 0) rc = trigger_move(e, ri.id, to);
  }
  vec_free(&recs);
  return rc;
}

int eng_after_changes(Engine *e) {
  const Chunk *ch = e->ch;
  size_t done = 0;
  /* handlers may change more fields: work through the list as it grows */
  while (done < e->changed.len) {
    Changed c = e->changed.items[done++];
    if (++e->steps > ENGINE_MAX_STEPS)
      return eng_fail(e, -1, "more than %d steps in one command: handlers changing fields in a circle?",
                      ENGINE_MAX_STEPS);
    RecordInfo ri;
    if (eng_info(e, c.rec, &ri) != 0) return -1;
    if (ri.deleted) continue;
    for (uint32_t h = 0; h < ch->nhandlers; h++) {
      const HandlerDef *hd = &ch->handlers[h];
      if (hd->when != HW_CHANGE || !watches(hd, c.field) || !applies(ch, hd, &ri)) continue;
      if (eng_run(e, hd->body, &ri, (int32_t)h, v_null(), NULL) != 0) return -1;
    }
    if (eng_replan(e, c.rec, c.field) != 0) return -1;
  }
  int rc = eng_try_triggers(e);
  e->changed.len = 0;
  return rc;
}

int eng_record_event(Engine *e, const RecordInfo *ri, int event, Value payload) {
  const Chunk *ch = e->ch;
  for (uint32_t h = 0; h < ch->nhandlers; h++) {
    const HandlerDef *hd = &ch->handlers[h];
    if (hd->when != HW_EVENT || hd->event != event || !applies(ch, hd, ri)) continue;
    RecordInfo now;
    if (eng_info(e, ri->id, &now) != 0) return -1;
    if (now.deleted) return 0;
    if (eng_run(e, hd->body, &now, (int32_t)h, payload, NULL) != 0) return -1;
  }
  RecordInfo now;
  if (eng_info(e, ri->id, &now) != 0) return -1;
  if (now.deleted) return 0;
  int err;
  int32_t to = pick_trigger(e, &now, event, payload, &err);
  if (err) return -1;
  return to >= 0 ? trigger_move(e, now.id, to) : 0;
}

int eng_answer(Engine *e, const RecordInfo *ri, const char *question, Value answer) {
  const Chunk *ch = e->ch;
  for (uint32_t h = 0; h < ch->nhandlers; h++) {
    Value name;
    const char *pk = arena_printf(&e->cmd, "pending:%u", h);
    if (e->st->ops->answer_get(e->st, ri->id, pk, &name, &e->cmd) != ST_OK || name.type != V_TEXT ||
        strcmp(name.u.t->s, question))
      continue;
    const HandlerDef *hd = &ch->handlers[h];
    Value entry;
    e->st->ops->answer_get(e->st, ri->id, arena_printf(&e->cmd, "entry:%u", h), &entry, &e->cmd);
    if ((hd->scope == HS_STAGE || hd->scope == HS_DIRECTION) && entry.type == V_INT && entry.u.i != ri->entry)
      return eng_fail(e, -1, "the question '%s' is no longer open: the deal left the stage", question);
    Value null = v_null();
    e->st->ops->answer_put(e->st, ri->id, pk, &null);
    e->st->ops->answer_put(e->st, ri->id, arena_printf(&e->cmd, "%u/%d/%s", h, ri->entry, question), &answer);
    Value upto = v_int(0), key = v_null();
    e->st->ops->answer_get(e->st, ri->id, arena_printf(&e->cmd, "suspended:%u", h), &upto, &e->cmd);
    e->st->ops->answer_get(e->st, ri->id, arena_printf(&e->cmd, "key:%u", h), &key, &e->cmd);
    int64_t saved = e->replay_until;
    e->replay_until = upto.type == V_INT ? upto.u.i : 0;
    e->replay_key = key.type == V_TEXT ? arena_strdup(&e->cmd, key.u.t->s) : NULL;
    int rc = eng_run(e, hd->body, ri, (int32_t)h, v_null(), NULL);
    e->replay_until = saved;
    return rc;
  }
  return eng_fail(e, -1, "record '%s' has no open question '%s'", ri->ref, question);
}
