/*
** vm.h: the virtual machine. It runs one function of a Chunk at a time (a
** handler, a guard, a computed field, a test) against a host: the engine
** in production, an in-memory store in tests. The VM does no I/O and
** knows no SQLite: it reads records through the host, and everything a
** run does to the world (set, move, create, notify, ...) is an effect it
** hands to the host. The same chunk, inputs, host answers and clock
** always give the same effects.
**
** Limits make a pack unable to hang or crash its host: an instruction
** budget per run, a memory limit on the run's scratch arena, a call depth.
** A runtime error stops the run with a code (R01xx), a message and a trace
** naming the pack's file:line and the function ("stage
** new_clients.contract, on enter").
*/
#ifndef FUNNEL_VM_H
#define FUNNEL_VM_H

#include <stdio.h>

#include "bytecode/chunk.h"

/* Runtime error codes, stable like the compiler's. */
#define VM_ERRORS(X)                                                   \
  X(RE_TYPE, "R0101", "a value of the wrong type")                    \
  X(RE_OVERFLOW, "R0102", "arithmetic overflow")                      \
  X(RE_DIVZERO, "R0103", "division by zero")                          \
  X(RE_BUDGET, "R0104", "the run used up its instruction budget")     \
  X(RE_MEMORY, "R0105", "the run used up its memory")                 \
  X(RE_DEPTH, "R0106", "calls nested too deeply")                     \
  X(RE_CURRENCY, "R0107", "money in different currencies")            \
  X(RE_HOST, "R0108", "the store refused an operation")               \
  X(RE_NATIVE, "R0109", "a native function failed")                   \
  X(RE_TEST, "R0110", "a test expectation failed")                    \
  X(RE_CALENDAR, "R0111", "working time without a working calendar")  \
  X(RE_INDEX, "R0112", "an index outside the list")

typedef enum VmErrorCode {
#define X(id, code, desc) id,
  VM_ERRORS(X)
#undef X
  RE__COUNT
} VmErrorCode;

const char *vm_error_code(VmErrorCode e);

typedef enum VmStatus {
  VM_OK,
  VM_ERROR,      /* a runtime error: see Vm.error */
  VM_SUSPENDED,  /* an `ask` waits for its answer */
} VmStatus;

/* How `ask` works: the VM hands the question to the host (OP_ASK). If the
** host already has the answer, it returns it and the run goes on; if not,
** it says HOST_WAIT and the run ends VM_SUSPENDED. When the answer comes,
** the engine runs the handler again from the start: the run is
** deterministic, so it reaches the same question, now answered, and the
** effects it makes again on the way are recognized by their idempotency
** keys and not applied twice. No VM state has to survive a restart. */

/* What the host says about an effect. */
typedef enum HostStatus {
  HOST_OK,
  HOST_REFUSED,  /* a guard, a required field or an access rule said no */
  HOST_ERROR,    /* anything else: the run stops with RE_HOST */
  HOST_WAIT,     /* OP_ASK: no answer yet; the run suspends */
  HOST_DEFERRED, /* OP_CALLN: recorded, to be called after the commit; the call gives null */
} HostStatus;

/* An effect: the instruction that made it and its operands. */
typedef struct VmEffect {
  OpCode op;           /* OP_SETFIELD, OP_MOVETO, OP_CREATE..., OP_T* */
  Value rec;           /* the record acted on, when there is one */
  uint32_t index;      /* field, stage, entity or event id; ask: answer type */
  Value a, b, c, d;    /* the operands, in the order of opcodes.def */
  const char *func;    /* the function making it, for the host's log */
  uint32_t line;
} VmEffect;

typedef struct VmHost {
  void *ud;
  /* A stored field of a record (computed fields are the VM's business). */
  HostStatus (*get_field)(void *ud, Value rec, uint32_t field, Value *out, Arena *a);
  /* The records whose field src_field refers to `target`, as a list. */
  HostStatus (*backref)(void *ud, Value target, uint32_t src_field, Value *out, Arena *a);
  /* A user's name (0), supervisor (1), e-mail (2) or phone (3). */
  HostStatus (*user_member)(void *ud, Value user, int which, Value *out, Arena *a);
  bool (*has_role)(void *ud, Value user, uint32_t role);
  /* Applies or records an effect; a create fills *result with the new
  ** record, a refusal fills *msg. */
  HostStatus (*effect)(void *ud, const VmEffect *e, Value *result, const char **msg, Arena *a);
  /* Tests: the effects recorded so far, for notifications() and the like
  ** (`builtin` is the index in builtins.def, `arg` its argument). */
  HostStatus (*effects_of)(void *ud, int builtin, Value arg, Value *out, Arena *a);
} VmHost;

typedef struct VmLimits {
  uint64_t budget;     /* backward jumps, loop turns and calls per run */
  size_t memory;       /* bytes of the run's scratch arena */
  int depth;           /* nested calls, computed fields included */
} VmLimits;

/* The defaults: generous for any real handler, tight for a runaway one. */
#define VM_DEFAULT_BUDGET 10000000ULL
#define VM_DEFAULT_MEMORY (64u << 20)
#define VM_DEFAULT_DEPTH 200

typedef struct VmError {
  VmErrorCode code;
  char message[256];
  char trace[1024];    /* "  at stage x.y, on enter (deals.pipe:12)\n" per frame */
  const char *func;
  uint32_t file, line;
} VmError;

typedef struct Frame Frame;

typedef struct Vm {
  const Chunk *ch;
  VmHost host;
  VmLimits limits;
  Arena scratch;       /* everything a run allocates; reset by vm_run */
  Value *stack;        /* registers of all active frames */
  size_t stack_cap;
  Frame *frames;
  int nframes;
  uint64_t budget;
  Value self, event;   /* the current record and event payload */
  int64_t now;         /* the clock, seconds since the epoch (UTC) */
  VmError error;
  /* tests: the open `expect refused` blocks */
  struct {
    int frame;
    const Instr *target;
    Value text;
  } refusals[8];
  int nrefusals;
  const char *refusal;  /* the host's message for the last refusal */
  /* a cache of the default calendar's UTC offset */
  int64_t tz_from, tz_to;
  int32_t tz_offset;
} Vm;

void vm_init(Vm *vm, const Chunk *ch, const VmHost *host);
void vm_free(Vm *vm);

/* Runs function `func` with `nargs` arguments; `self` is the current
** record (null for none), `event` the payload (null for none), `now` the
** clock. On VM_OK, *result holds the returned value (null for none),
** valid until the next run. */
VmStatus vm_run(Vm *vm, uint32_t func, const Value *args, int nargs, Value self, Value event,
                int64_t now, Value *result);

/* Prints the last error as `file:line: runtime error[R0102]: message`
** followed by its trace. */
void vm_print_error(const Vm *vm, FILE *out);

#endif
