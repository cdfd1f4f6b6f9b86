/*
** engine.h: the engine runs a pack against a store. Each command (create,
** update, move, event, answer, a due timer) is processed in one
** transaction: guards, required fields and access, leave and enter
** handlers, change handlers, triggers, computed fields, timers planned and
** cancelled, outbox rows and the event log; a refused or failed command
** changes nothing. The rules hold for every path (the batch interface,
** the API later, robots, triggers and tests alike).
**
** Order, for a move of record R from stage A to stage B:
**   1. guards, required fields of B (every path) and access (persons only);
**   2. `on leave` of A (stage, then direction);
**   3. the timers of A's stage entry are cancelled;
**   4. R enters B: a new stage-entry number, stage history;
**   5. `on enter` of B (stage, then direction);
**   6. the timers of B (stage, then direction) are planned.
** What handlers do takes effect at once, except moves, creations and
** conversions, which queue and run after the handler, in order. Changes of
** fields run `on change` handlers and re-plan `at` timers that depend on
** them; condition triggers are tried after every step. A move into the
** stage a record is in does nothing. A command of more than
** ENGINE_MAX_STEPS steps is an error that rolls it back.
*/
#ifndef FUNNEL_ENGINE_H
#define FUNNEL_ENGINE_H

#include "store/store.h"
#include "vm/vm.h"

/* Steps one command may take (handler runs, condition checks, moves,
** creations): a bound on cascades, far above what a real pack needs. */
#define ENGINE_MAX_STEPS 256

/* An effect the command produced, for the caller to show (funnel run
** prints them); the outbox holds the durable copy. */
typedef struct EngineEffect {
  const char *kind;    /* move, create, delete, set, notify, task, message, document, ask,
                          webhook, native */
  const char *ref;     /* the record */
  int64_t at;          /* the clock when it happened */
  const char *user;    /* notify, task, ask: the user (or role:NAME) */
  const char *to;      /* message: the recipient */
  const char *text;
  int32_t stage;       /* move, create: the stage, -1 for none */
  int32_t field;       /* set: the field */
  const char *json;    /* the effect line as `funnel run` prints it ("effect", "ref"
                          and "at" first, then the rest, without internal
                          timestamps); NULL when no sink is set */
} EngineEffect;

typedef void (*EffectSink)(void *ud, const EngineEffect *e);

typedef struct Engine Engine;

/* FieldSet (a field to set: by id, with its value) is in store/store.h. */

Engine *engine_new(const Chunk *ch, Store *st);
void engine_free(Engine *e);
void engine_set_sink(Engine *e, EffectSink sink, void *ud);
/* The clock: virtual when set, else the wall clock. */
void engine_set_clock(Engine *e, int64_t now);
int64_t engine_now(Engine *e);
/* The last command's error or refusal message. */
const char *engine_error(const Engine *e);

/* Each command returns 0 on success, 1 when refused (a guard, a required
** field, access) and -1 on an error; either way the store is unchanged
** after a non-zero return. `by` is the person acting (NULL: the system). */
int engine_create(Engine *e, int entity, const char *ref, int32_t stage, const FieldSet *fields,
                  size_t n, const char *by, const char **ref_out);
int engine_update(Engine *e, const char *ref, const FieldSet *fields, size_t n, const char *by);
int engine_move(Engine *e, const char *ref, int32_t stage, const char *by);
int engine_event(Engine *e, const char *ref, int event, Value payload);
int engine_answer(Engine *e, const char *ref, const char *question, Value answer);
int engine_user(Engine *e, const UserRow *u);
/* Moves the clock forward to `to`, firing due timers in order. */
int engine_advance(Engine *e, int64_t to);

/* Group commit (`funnel run --batch N`). Between engine_group_begin and
** engine_group_commit the commands share one transaction, each in a
** savepoint of its own: a refused or failed command rolls back only itself
** (and shows nothing), the others stay. Each command still gets its own
** command number, kept with it. The sink is called as each command's
** savepoint is released, before the group commits: the caller holds the
** effects back until engine_group_commit returns 0, and drops them if it
** fails (then nothing of the group was kept). Due timers fired by
** engine_advance inside a group are commands of the group too. */
int engine_group_begin(Engine *e);
int engine_group_commit(Engine *e);
void engine_group_rollback(Engine *e);
/* The fast way to the same result: a group without savepoints (SQLite
** journals every page a savepoint changes, a third of a command's cost).
** It holds as long as every command succeeds; the first that fails (a
** refusal, an error, a failing timer) spoils the group: the command's
** partial writes cannot be undone alone, so engine_group_spoiled turns
** true, later commands fail at once, and the caller rolls the group back
** (engine_group_rollback) and runs it again with engine_group_begin. The
** commands are deterministic and a rollback gives their numbers back, so
** the second run makes the same effects with the same keys. */
int engine_group_begin_optimistic(Engine *e);
bool engine_group_spoiled(const Engine *e);
/* Whether a group is open (a read must not open a transaction of its own). */
bool engine_in_group(const Engine *e);

/* Runs the pack's test number `t` against this engine (a fresh store), on
** the virtual clock; 0 passed, else the VM's error (see engine_vm_error). */
int engine_run_test(Engine *e, uint32_t t);
const VmError *engine_vm_error(const Engine *e);

#endif
