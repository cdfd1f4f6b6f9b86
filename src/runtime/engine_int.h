/*
** engine_int.h: the engine's private state, shared by engine.c (commands
** and moves), host.c (the VM's host: fields, effects, the outbox),
** timers.c (planning and firing), triggers.c (events, changes,
** triggers) and testrun.c (`funnel test`).
*/
#ifndef FUNNEL_ENGINE_INT_H
#define FUNNEL_ENGINE_INT_H

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "runtime/engine.h"
#include "util/strbuf.h"
#include "util/vec.h"
#include "vm/vm_int.h"

typedef enum Prop {
  PROP_NONE, PROP_STAGE, PROP_DIRECTION, PROP_ENTERED, PROP_WON, PROP_LOST, PROP_CLOSED, PROP_ID,
  PROP_CREATED
} Prop;

typedef enum PendKind { PEND_MOVE, PEND_CREATED } PendKind;

typedef struct Pending {
  PendKind kind;
  int64_t rec;
  int32_t stage;
} Pending;

/* What the running handler is, for idempotency keys. */
typedef struct RunCtx {
  const char *key;     /* "command.run": the prefix of its effects' keys */
  int64_t rec;
  int entity;
  int32_t entry;
  int32_t handler;     /* -1: a condition or a message, which make no effects */
  uint32_t ordinal;
} RunCtx;

typedef struct Changed {
  int64_t rec;
  uint32_t field;
} Changed;

struct Engine {
  const Chunk *ch;
  Store *st;
  Vm vm;               /* handlers, conditions, computed fields */
  Vm tvm;              /* a test's own run */
  Arena cmd;           /* per command */
  int64_t now;
  bool virtual_clock;
  EffectSink sink;
  void *sink_ud;
  char err[512];
  int depth;           /* nested begin() (test steps) */
  /* group commit (engine_group_begin): commands in savepoints of one
  ** transaction; `lost` once SQLite dropped that transaction */
  bool group, group_lost, in_savepoint;
  bool optimistic;     /* a group without savepoints (engine_group_begin_optimistic) */
  bool spoiled;        /* ... in which a command failed: to be rolled back and run again */
  int steps;
  int64_t cmd_id;      /* this command's number, from the store */
  int runs;            /* handler runs so far in this command */
  const char *replay_key;  /* a run again after an answer: its first key */
  VEC(Pending) queue;
  VEC(EngineEffect) effects;
  VEC(Changed) changed;
  RunCtx run;
  int64_t replay_until;  /* a handler run again after an answer: effects up to
                            this ordinal were applied by the first run */
  Prop *props;
  /* scratch for JSON text (host.c): an effect's fields, its line */
  StrBuf jbody, jline;
  /* tests */
  bool in_test;
  const char *test_user;
  VmError test_error;
};

/* engine.c */
int eng_fail(Engine *e, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int eng_info(Engine *e, int64_t id, RecordInfo *ri);
int eng_find(Engine *e, const char *ref, RecordInfo *ri);
Value eng_rec(int entity, int64_t id);
int eng_run(Engine *e, uint32_t f, const RecordInfo *ri, int32_t handler, Value event, Value *result);
int eng_cond(Engine *e, uint32_t f, const RecordInfo *ri, Value event);
const char *eng_refusal(Engine *e, const RecordInfo *ri, int32_t s, const char *by);
int eng_enter(Engine *e, int64_t rec, int32_t s, const char *by);
int eng_move(Engine *e, int64_t rec, int32_t s, const char *by);
int eng_drain(Engine *e);
int eng_created(Engine *e, int64_t rec, int32_t s);

/* host.c */
VmHost eng_host(Engine *e);
int eng_set(Engine *e, int64_t rec, uint32_t field, const Value *v);
bool eng_user_has_role(Engine *e, const char *user, uint32_t role);
void eng_effect_move(Engine *e, const RecordInfo *ri, int32_t stage);
void eng_effect_set(Engine *e, int64_t rec, uint32_t field, const Value *v);
void eng_effect_create(Engine *e, const RecordInfo *ri, int32_t stage);
void eng_log(Engine *e, const char *what, int64_t rec, const char *detail);
void eng_log_command(Engine *e, const char *op, const char *ref, int rc);
/* A value as JSON (money and decimals as exact strings, dates as ISO
** text, enum values and stages by id); a new reference. */
struct json_t;
struct json_t *eng_value_json(Engine *e, const Value *v);
/* ISO-8601 in the default calendar's zone: 2026-01-12T10:00:00+03:00 */
const char *eng_iso(Engine *e, int64_t utc);

/* timers.c */
int eng_plan_stage_timers(Engine *e, int64_t rec, int32_t s);
int eng_plan_entity_timers(Engine *e, int64_t rec);
int eng_replan(Engine *e, int64_t rec, uint32_t field);
int eng_fire(Engine *e, const TimerRow *t);
bool eng_timer_stale(Engine *e, const TimerRow *t);
const CalendarDef *eng_calendar(Engine *e, int32_t index);

/* triggers.c */
int eng_after_changes(Engine *e);
int eng_try_triggers(Engine *e);
int eng_record_event(Engine *e, const RecordInfo *ri, int event, Value payload);
int eng_answer(Engine *e, const RecordInfo *ri, const char *question, Value answer);

#endif
