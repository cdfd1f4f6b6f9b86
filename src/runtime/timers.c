/*
** timers.c: delayed and scheduled handlers. Timers live in the store,
** clustered by due time, so a million pending delays cost no memory and
** survive restarts.
**   after D   entering the stage + D (in the handler's calendar, or the
**             default one, for working time); cancelled when the deal
**             leaves the stage entry it was planned for
**   every D   like after, then again every D while in the same entry
**   at M      the moment M, computed from fields; planned again when those
**             fields change; a date means the start of that day's working
**             hours (00:00 without a calendar); an empty moment is not
**             planned, and the log says so
**   once      a handler marked once runs at most once per record, ever
** Entity-level timers are bound to no stage entry and survive moves.
**
** Cancellation is lazy: leaving a stage, deleting a record or planning an
** `at` timer anew deletes nothing; a timer is found stale when it comes
** due (eng_timer_stale) and dropped then, within the command of the next
** live timer, so that stale timers take no command numbers. The timers
** table thus needs no index on record. Stale means exactly what the eager
** deletes removed: the record was deleted; the timer belongs to a stage
** entry (> 0) the record has left; or it is an `at` timer whose handler
** was planned anew since (the store remembers the current one).
*/
#include <string.h>

#include "runtime/engine_int.h"

/* Timers of `ask` timeouts carry this bit in their handler id. */
#define ASK_TIMER 0x80000000u

const CalendarDef *eng_calendar(Engine *e, int32_t index) {
  const Chunk *ch = e->ch;
  if (index < 0) index = ch->default_calendar;
  return index >= 0 && (uint32_t)index < ch->ncalendars ? &ch->calendars[index] : NULL;
}

/* base + d, working time counted in the calendar `cal` (or the default). */
static bool add_delay(Engine *e, const CalendarDef *cal, int64_t base, const Value *d, int64_t *out) {
  if (d->type != V_DURATION) return false;
  if ((d->flags & VF_WORK) && cal) {
    int64_t t = base;
    if (d->aux32) {
      int32_t off;
      if (!tz_offset_at(cal->timezone, t, &off)) return false;
      int64_t local = t + off, day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
      int64_t sod = local - day * 86400;
      if (!cal_add_workdays(cal, day, d->aux32, &day)) return false;
      if (!tz_local_to_utc(cal->timezone, day * 86400 + sod, &t)) return false;
    }
    if (d->u.i && !cal_add_workminutes(cal, t, d->u.i /* minutes */, &t)) return false;
    *out = t;
    return true;
  }
  Value now = v_datetime(base), r;
  if (!vm_arith(&e->vm, OP_ADD, &now, d, &r) || r.type != V_DATETIME) return false;
  *out = r.u.i;
  return true;
}

/* The moment a date stands for: the start of its working hours. */
static int64_t date_moment(Engine *e, const CalendarDef *cal, int64_t day) {
  int64_t utc;
  if (cal) {
    int32_t off;
    tz_offset_at(cal->timezone, day * 86400, &off);
    int64_t local_midnight_utc = day * 86400 - off;
    if (cal_add_workminutes(cal, local_midnight_utc, 0, &utc)) return utc;
    return local_midnight_utc;
  }
  return day * 86400 - vm_zone_offset(&e->vm, day * 86400);
}

static bool bound_to_entry(const HandlerDef *hd) {
  return hd->scope == HS_STAGE || hd->scope == HS_DIRECTION;
}

/* Plans handler h of record ri, counting from `from`; *id: the timer
** (0: none, a `once` done or an empty moment). */
static int plan(Engine *e, const RecordInfo *ri, uint32_t h, int64_t from, int64_t *id) {
  const HandlerDef *hd = &e->ch->handlers[h];
  *id = 0;
  if (hd->once) {
    bool done = false;
    e->st->ops->once_get(e->st, ri->id, h, &done);
    if (done) return 0;
  }
  Value v;
  if (eng_run(e, (uint32_t)hd->timing, ri, -1, v_null(), &v) != 0) return -1;
  const CalendarDef *cal = eng_calendar(e, hd->calendar);
  int64_t due;
  if (hd->when == HW_AT) {
    if (v.type == V_NULL) {
      eng_log(e, "timer skipped", ri->id,
              arena_printf(&e->cmd, "%s: the moment is empty", e->ch->funcs[hd->body].name));
      return 0;
    }
    due = v.type == V_DATE ? date_moment(e, cal, v.u.i) : v.u.i;
  } else if (!add_delay(e, cal, from, &v, &due)) {
    return eng_fail(e, -1, "%s: the delay cannot be counted (a calendar without working time?)",
                    e->ch->funcs[hd->body].name);
  }
  TimerRow t = {0, due, ri->id, h, bound_to_entry(hd) ? ri->entry : 0};
  if (e->st->ops->add_timer(e->st, &t) != ST_OK) return eng_fail(e, -1, "%s", store_error(e->st));
  *id = t.id;
  return 0;
}

static bool is_timer(const HandlerDef *hd) {
  return hd->when == HW_AFTER || hd->when == HW_AT || hd->when == HW_EVERY;
}

int eng_plan_stage_timers(Engine *e, int64_t rec, int32_t s) {
  const Chunk *ch = e->ch;
  RecordInfo ri;
  if (eng_info(e, rec, &ri) != 0) return -1;
  for (uint32_t h = 0; h < ch->nhandlers; h++) {
    const HandlerDef *hd = &ch->handlers[h];
    if (!is_timer(hd)) continue;
    bool mine = (hd->scope == HS_STAGE && (int32_t)hd->owner == s) ||
                (hd->scope == HS_DIRECTION && hd->owner == ch->stages[s].direction);
    int64_t id;
    if (mine && plan(e, &ri, h, ri.entered, &id) != 0) return -1;
  }
  return 0;
}

int eng_plan_entity_timers(Engine *e, int64_t rec) {
  const Chunk *ch = e->ch;
  RecordInfo ri;
  if (eng_info(e, rec, &ri) != 0) return -1;
  for (uint32_t h = 0; h < ch->nhandlers; h++) {
    const HandlerDef *hd = &ch->handlers[h];
    int64_t id;
    if (is_timer(hd) && hd->scope == HS_ENTITY && (int)hd->owner == ri.entity &&
        plan(e, &ri, h, ri.created, &id) != 0)
      return -1;
  }
  return 0;
}

/* A field changed: the `at` timers that depend on it are planned anew. */
int eng_replan(Engine *e, int64_t rec, uint32_t field) {
  const Chunk *ch = e->ch;
  RecordInfo ri;
  if (eng_info(e, rec, &ri) != 0) return -1;
  for (uint32_t h = 0; h < ch->nhandlers; h++) {
    const HandlerDef *hd = &ch->handlers[h];
    if (hd->when != HW_AT) continue;
    bool depends = false;
    for (uint32_t k = 0; k < hd->nfields; k++) depends |= hd->fields[k] == field;
    if (!depends) continue;
    bool live = (hd->scope == HS_ENTITY && (int)hd->owner == ri.entity) ||
                (ri.stage >= 0 && hd->scope == HS_STAGE && (int32_t)hd->owner == ri.stage) ||
                (ri.stage >= 0 && hd->scope == HS_DIRECTION && hd->owner == ch->stages[ri.stage].direction);
    if (!live) continue;
    /* the new timer is the current one: the older ones are stale (lazy) */
    int64_t id;
    if (plan(e, &ri, h, engine_now(e), &id) != 0) return -1;
    if (e->st->ops->at_plan(e->st, rec, h, bound_to_entry(hd) ? ri.entry : 0, id) != ST_OK)
      return eng_fail(e, -1, "%s", store_error(e->st));
  }
  return 0;
}

bool eng_timer_stale(Engine *e, const TimerRow *t) {
  RecordInfo ri;
  if (e->st->ops->info(e->st, t->record, &ri, &e->cmd) != ST_OK) return false; /* eng_fire says why */
  if (ri.deleted) return true;
  /* a stage entry left (ask timeouts too: they belong to the entry they
  ** were asked in); entry 0 is no stage's */
  if (t->entry > 0 && t->entry != ri.entry) return true;
  if (t->handler & ASK_TIMER || t->handler >= e->ch->nhandlers) return false;
  if (e->ch->handlers[t->handler].when != HW_AT) return false;
  int32_t entry;
  int64_t current;
  return e->st->ops->at_current(e->st, t->record, t->handler, &entry, &current) == 1 && entry == t->entry &&
         current != t->id;
}

/* The timeout of an `ask`: the default answer, and the handler again. */
static int ask_timeout(Engine *e, const TimerRow *t, const RecordInfo *ri) {
  uint32_t h = t->handler & 0x7FFF;
  const char *pending;
  Value name;
  if (e->st->ops->answer_get(e->st, ri->id, arena_printf(&e->cmd, "pending:%u", h), &name, &e->cmd) != ST_OK ||
      name.type != V_TEXT)
    return 0; /* answered meanwhile */
  pending = name.u.t->s;
  Value def = v_null();
  e->st->ops->answer_get(e->st, ri->id, arena_printf(&e->cmd, "default:%u/%s", h, pending), &def, &e->cmd);
  return eng_answer(e, ri, pending, def);
}

int eng_fire(Engine *e, const TimerRow *t) {
  const Chunk *ch = e->ch;
  e->st->ops->delete_timer(e->st, t->id, t->due);
  RecordInfo ri;
  if (eng_info(e, t->record, &ri) != 0) return -1;
  if (ri.deleted || eng_timer_stale(e, t)) return 0;
  if (t->handler & ASK_TIMER) return ask_timeout(e, t, &ri);
  if (t->handler >= ch->nhandlers) return 0;
  const HandlerDef *hd = &ch->handlers[t->handler];
  if (bound_to_entry(hd) && ri.entry != t->entry) return 0; /* left the stage: stale */
  if (hd->once) {
    bool done = false;
    e->st->ops->once_get(e->st, ri.id, t->handler, &done);
    if (done) return 0;
    e->st->ops->once_set(e->st, ri.id, t->handler);
  }
  eng_log(e, "timer", ri.id, e->ch->funcs[hd->body].name);
  if (eng_run(e, hd->body, &ri, (int32_t)t->handler, v_null(), NULL) != 0) return -1;
  if (hd->when == HW_EVERY) {
    if (eng_info(e, t->record, &ri) != 0) return -1;
    int64_t id;
    if (!ri.deleted && (!bound_to_entry(hd) || ri.entry == t->entry)) return plan(e, &ri, t->handler, t->due, &id);
  }
  return 0;
}
