/*
** vm.c: the dispatch loop and every instruction's meaning.
**
** Registers: each frame owns a window of the value stack (base ..
** base+nregs). Instructions address registers relative to the base. Calls
** push a frame above the caller's window; RET copies the result into the
** caller's target register.
**
** Dispatch is by computed goto where the compiler has labels as values
** (VM_DISPATCH / VM_CASE / VM_NEXT), else by a switch, as in Lua and Wren.
**
** Null: arithmetic with an empty value gives an empty value; an order
** comparison with an empty value is false; an empty condition is false.
** This is how CRM users read empty fields ("no sum yet" is not an error).
**
** Money next to a plain number (the checker allows this only for
** literals: `sum > 0`, `paid + 100`) takes the number as an amount in the
** money's currency.
*/
#include "vm/vm.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "natives/ffi.h"   /* natives (issue 5) */
#include "vm/vm_int.h"

const char *vm_error_code(VmErrorCode e) {
  static const char *codes[] = {
#define X(id, code, desc) code,
      VM_ERRORS(X)
#undef X
  };
  return e < RE__COUNT ? codes[e] : "R0000";
}

void vm_init(Vm *vm, const Chunk *ch, const VmHost *host) {
  memset(vm, 0, sizeof *vm);
  vm->ch = ch;
  vm->host = *host;
  vm->limits = (VmLimits){VM_DEFAULT_BUDGET, VM_DEFAULT_MEMORY, VM_DEFAULT_DEPTH};
  arena_init(&vm->scratch);
  vm->stack_cap = 1024;
  vm->stack = xcalloc(vm->stack_cap, sizeof(Value));
  vm->frames = xcalloc((size_t)VM_DEFAULT_DEPTH + 1, sizeof(Frame));
}

void vm_free(Vm *vm) {
  arena_free(&vm->scratch);
  free(vm->stack);
  free(vm->frames);
}

/* ---- errors -------------------------------------------------------------- */

/* Records a runtime error with a trace of the active frames. */
bool vm_fail(Vm *vm, VmErrorCode code, const char *fmt, ...) {
  VmError *e = &vm->error;
  e->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  e->trace[0] = '\0';
  size_t used = 0;
  for (int i = vm->nframes - 1; i >= 0; i--) {
    const Frame *f = &vm->frames[i];
    const Func *fn = &vm->ch->funcs[f->func];
    uint32_t pc = (uint32_t)(f->pc - fn->code);
    uint32_t line = fn->lines && pc > 0 ? fn->lines[pc - 1] : 0;
    const char *file = fn->file < vm->ch->nfiles ? vm->ch->files[fn->file] : "?";
    if (i == vm->nframes - 1) {
      e->func = fn->name;
      e->file = fn->file;
      e->line = line;
    }
    int n = snprintf(e->trace + used, sizeof e->trace - used, "  at %s (%s:%u)\n", fn->name, file, line);
    if (n < 0 || (size_t)n >= sizeof e->trace - used) break;
    used += (size_t)n;
  }
  return false;
}

void vm_print_error(const Vm *vm, FILE *out) {
  const VmError *e = &vm->error;
  const char *file = e->file < vm->ch->nfiles ? vm->ch->files[e->file] : "?";
  fprintf(out, "%s:%u: runtime error[%s]: %s\n%s", file, e->line, vm_error_code(e->code), e->message,
          e->trace);
}

/* ---- memory and time ------------------------------------------------------ */

bool vm_check_memory(Vm *vm) {
  if (vm->scratch.total <= vm->limits.memory) return true;
  return vm_fail(vm, RE_MEMORY, "the run allocated more than %zu bytes", vm->limits.memory);
}

/* The default calendar's UTC offset at `utc` (cached per hour: offsets
** change on the hour, if ever). */
int32_t vm_zone_offset(Vm *vm, int64_t utc) {
  if (utc >= vm->tz_from && utc < vm->tz_to) return vm->tz_offset;
  const Chunk *ch = vm->ch;
  const char *zone = ch->default_calendar >= 0 ? ch->calendars[ch->default_calendar].timezone
                                               : "Europe/Moscow";
  int32_t off = 0;
  if (!tz_offset_at(zone, utc, &off)) off = 0;
  int64_t hour = utc - ((utc % 3600) + 3600) % 3600;
  vm->tz_from = hour;
  vm->tz_to = hour + 3600;
  vm->tz_offset = off;
  return off;
}

/* ---- the loop ---------------------------------------------------------------- */

static bool grow_stack(Vm *vm, size_t need) {
  if (need <= vm->stack_cap) return true;
  size_t cap = vm->stack_cap;
  while (cap < need) cap *= 2;
  Value *old = vm->stack;
  vm->stack = xrealloc(vm->stack, cap * sizeof(Value));
  memset(vm->stack + vm->stack_cap, 0, (cap - vm->stack_cap) * sizeof(Value));
  for (int i = 0; i < vm->nframes; i++) vm->frames[i].base = vm->stack + (vm->frames[i].base - old);
  vm->stack_cap = cap;
  return true;
}

static bool push_frame(Vm *vm, uint32_t func, Value *base, int ret) {
  if (vm->nframes >= vm->limits.depth || vm->nframes >= VM_DEFAULT_DEPTH)
    return vm_fail(vm, RE_DEPTH, "calls nested more than %d deep", vm->limits.depth);
  const Func *fn = &vm->ch->funcs[func];
  size_t off = (size_t)(base - vm->stack);
  grow_stack(vm, off + fn->nregs + 8);
  base = vm->stack + off;
  Frame *f = &vm->frames[vm->nframes++];
  if (fn->nregs > fn->nparams) memset(base + fn->nparams, 0, (size_t)(fn->nregs - fn->nparams) * sizeof(Value));
  f->func = func;
  f->pc = fn->code;
  f->base = base;
  f->ret = ret;
  return true;
}

/* Runs frames from the current top down to `floor` frames. */
static VmStatus execute(Vm *vm, int floor, Value *result);

VmStatus vm_run(Vm *vm, uint32_t func, const Value *args, int nargs, Value self, Value event,
                int64_t now, Value *result) {
  arena_reset(&vm->scratch);
  vm->nframes = 0;
  vm->nrefusals = 0;
  vm->budget = vm->limits.budget;
  vm->self = self;
  vm->event = event;
  vm->now = now;
  vm->error.code = 0;
  vm->error.message[0] = vm->error.trace[0] = '\0';
  *result = v_null();
  if (func >= vm->ch->nfuncs) {
    vm_fail(vm, RE_TYPE, "no function %u", func);
    return VM_ERROR;
  }
  const Func *fn = &vm->ch->funcs[func];
  grow_stack(vm, (size_t)fn->nregs + 8);
  for (int i = 0; i < nargs && i < fn->nparams; i++) vm->stack[i] = args[i];
  for (int i = nargs; i < fn->nparams; i++) vm->stack[i] = v_null();
  if (!push_frame(vm, func, vm->stack, -1)) return VM_ERROR;
  return execute(vm, 0, result);
}

/* Runs a function to completion from inside an instruction (a computed
** field): the nested run shares the stack, the budget and the frames. */
bool vm_call_nested(Vm *vm, uint32_t func, Value self, Value *out) {
  const Frame *top = &vm->frames[vm->nframes - 1];
  const Func *cur = &vm->ch->funcs[top->func];
  Value saved_self = vm->self;
  vm->self = self;
  if (!push_frame(vm, func, top->base + cur->nregs, -1)) return false;
  VmStatus st = execute(vm, vm->nframes - 1, out);
  vm->self = saved_self;
  return st == VM_OK;
}

#ifdef HAVE_COMPUTED_GOTO
#define VM_DISPATCH(op) goto *labels[op];
#define VM_CASE(name) L_##name:
#define VM_NEXT()                         \
  do {                                    \
    i = *pc++;                            \
    goto *labels[GET_OP(i)];              \
  } while (0)
#else
#define VM_DISPATCH(op) switch (op)
#define VM_CASE(name) case OP_##name:
#define VM_NEXT() goto next
#endif

#define RA (base + GET_A(i))
#define RB (base + GET_B(i))
#define RC (base + GET_C(i))
#define SAVE() (vm->frames[vm->nframes - 1].pc = pc)
#define FAIL() do { SAVE(); goto fail; } while (0)
/* Backward jumps, loop turns and calls spend the budget. */
#define SPEND()                                                       \
  do {                                                                \
    if (vm->budget-- == 0) {                                          \
      SAVE();                                                         \
      vm_fail(vm, RE_BUDGET, "more than %llu steps: a loop that does not end?", \
              (unsigned long long)vm->limits.budget);                 \
      goto fail;                                                      \
    }                                                                 \
  } while (0)

static VmStatus execute(Vm *vm, int floor, Value *result) {
#ifdef HAVE_COMPUTED_GOTO
  static const void *const labels[OP__COUNT] = {
#define OP(name, fmt, syn) &&L_##name,
#include "bytecode/opcodes.def"
#undef OP
  };
#endif
  const Chunk *ch = vm->ch;
  Frame *fr = &vm->frames[vm->nframes - 1];
  const Instr *pc = fr->pc;
  Value *base = fr->base;
  const Value *K = ch->consts;
  Instr i;
  VmStatus status = VM_OK;

#define RELOAD()                               \
  do {                                         \
    fr = &vm->frames[vm->nframes - 1];         \
    pc = fr->pc;                               \
    base = fr->base;                           \
  } while (0)

#ifdef HAVE_COMPUTED_GOTO
  VM_NEXT();
#else
next:
  i = *pc++;
#endif
  VM_DISPATCH(GET_OP(i)) {
    /* MOVE A B: R[A] = R[B]. */
    VM_CASE(MOVE) { *RA = *RB; VM_NEXT(); }
    /* LOADK A Bx: R[A] = K[Bx], a constant of the chunk. */
    VM_CASE(LOADK) { *RA = K[GET_Bx(i)]; VM_NEXT(); }
    /* LOADI A sBx: R[A] = the small integer sBx. */
    VM_CASE(LOADI) { *RA = v_int(GET_sBx(i)); VM_NEXT(); }
    /* LOADNULL A: R[A] = null. */
    VM_CASE(LOADNULL) { *RA = v_null(); VM_NEXT(); }
    /* LOADBOOL A B: R[A] = (B != 0). */
    VM_CASE(LOADBOOL) { *RA = v_bool(GET_B(i) != 0); VM_NEXT(); }
    /* LOADSELF A: R[A] = the current record (null outside a record). */
    VM_CASE(LOADSELF) { *RA = vm->self; VM_NEXT(); }
    /* LOADEVENT A: R[A] = the payload of the event being handled. */
    VM_CASE(LOADEVENT) { *RA = vm->event; VM_NEXT(); }
    /* LOADNOW A: R[A] = the clock's current moment. */
    VM_CASE(LOADNOW) { *RA = v_datetime(vm->now); VM_NEXT(); }

    /* ADDI A B C: int addition; overflow is RE_OVERFLOW, null gives null.
    ** SUBI, MULI likewise; MODI takes the sign of the dividend (C's %) and
    ** fails on a zero divisor. */
    VM_CASE(ADDI) {
      if (RB->type == V_NULL || RC->type == V_NULL) { *RA = v_null(); VM_NEXT(); }
      int64_t x;
      if (__builtin_add_overflow(RB->u.i, RC->u.i, &x)) { SAVE(); vm_fail(vm, RE_OVERFLOW, "int overflow in +"); goto fail; }
      *RA = v_int(x);
      VM_NEXT();
    }
    VM_CASE(SUBI) {
      if (RB->type == V_NULL || RC->type == V_NULL) { *RA = v_null(); VM_NEXT(); }
      int64_t x;
      if (__builtin_sub_overflow(RB->u.i, RC->u.i, &x)) { SAVE(); vm_fail(vm, RE_OVERFLOW, "int overflow in -"); goto fail; }
      *RA = v_int(x);
      VM_NEXT();
    }
    VM_CASE(MULI) {
      if (RB->type == V_NULL || RC->type == V_NULL) { *RA = v_null(); VM_NEXT(); }
      int64_t x;
      if (__builtin_mul_overflow(RB->u.i, RC->u.i, &x)) { SAVE(); vm_fail(vm, RE_OVERFLOW, "int overflow in *"); goto fail; }
      *RA = v_int(x);
      VM_NEXT();
    }
    VM_CASE(MODI) {
      if (RB->type == V_NULL || RC->type == V_NULL) { *RA = v_null(); VM_NEXT(); }
      if (RC->u.i == 0) { SAVE(); vm_fail(vm, RE_DIVZERO, "remainder of a division by zero"); goto fail; }
      if (RB->u.i == INT64_MIN && RC->u.i == -1) { *RA = v_int(0); VM_NEXT(); }
      *RA = v_int(RB->u.i % RC->u.i);
      VM_NEXT();
    }
    /* ADD A B C: + on decimals, money (one currency), text, a date or a
    ** datetime and a duration, two durations; mixed int and decimal give
    ** a decimal. SUB, MUL and DIV likewise (vm_arith in vm_ops.c). */
    VM_CASE(ADD) VM_CASE(SUB) VM_CASE(MUL) VM_CASE(DIV) {
      /* fast path: money of one currency, added or subtracted */
      if (RB->type == V_MONEY && RC->type == V_MONEY && RB->aux == RC->aux && GET_OP(i) <= OP_SUB) {
        int64_t x;
        bool ovf = GET_OP(i) == OP_ADD ? __builtin_add_overflow(RB->u.i, RC->u.i, &x)
                                       : __builtin_sub_overflow(RB->u.i, RC->u.i, &x);
        if (!ovf) {
          *RA = v_money(x, RB->aux);
          VM_NEXT();
        }
      }
      SAVE();
      if (!vm_arith(vm, GET_OP(i), RB, RC, RA)) goto fail;
      VM_NEXT();
    }
    /* NEG A B: R[A] = -R[B] (numbers, money, durations). */
    VM_CASE(NEG) {
      SAVE();
      if (!vm_negate(vm, RB, RA)) goto fail;
      VM_NEXT();
    }
    /* NOT A B: R[A] = not R[B]; not null is true. */
    VM_CASE(NOT) { *RA = v_bool(!(RB->type == V_BOOL && RB->u.i)); VM_NEXT(); }

    /* EQ A B C, NE: equality on every type; money equals a number of the
    ** same amount; null equals only null. */
    VM_CASE(EQ) {
      if (RB->type == RC->type && RB->type != V_TEXT && RB->type <= V_ENUM && RB->type != V_MONEY &&
          RB->type != V_DURATION)
        *RA = v_bool(RB->u.i == RC->u.i && RB->aux == RC->aux);
      else if ((RB->type == V_DATE && RC->type == V_DATETIME) || (RB->type == V_DATETIME && RC->type == V_DATE)) {
        int c;
        SAVE();
        if (!vm_compare(vm, RB, RC, &c)) goto fail;
        *RA = v_bool(c == 0);
      } else
        *RA = v_bool(vm_equal(RB, RC));
      VM_NEXT();
    }
    VM_CASE(NE) {
      if ((RB->type == V_DATE && RC->type == V_DATETIME) || (RB->type == V_DATETIME && RC->type == V_DATE)) {
        int c;
        SAVE();
        if (!vm_compare(vm, RB, RC, &c)) goto fail;
        *RA = v_bool(c != 0);
      } else
        *RA = v_bool(!vm_equal(RB, RC));
      VM_NEXT();
    }
    /* LT A B C, LE: order on numbers, money of one currency, dates,
    ** datetimes, durations and text; false when either side is null. */
    VM_CASE(LT) VM_CASE(LE) {
      int c;
      /* fast paths: one scalar type; money of one currency; money and a
      ** small whole number (sum > 0) */
      if (RB->type == RC->type && (RB->type == V_INT || RB->type == V_DEC || RB->type == V_DATE ||
                                   RB->type == V_DATETIME || (RB->type == V_MONEY && RB->aux == RC->aux))) {
        c = RB->u.i < RC->u.i ? -1 : RB->u.i > RC->u.i;
        *RA = v_bool(GET_OP(i) == OP_LT ? c < 0 : c <= 0);
        VM_NEXT();
      }
      if (RB->type == V_MONEY && RC->type == V_INT && RC->u.i > -(INT64_MAX / 100) && RC->u.i < INT64_MAX / 100) {
        int64_t m = RC->u.i * 100;
        c = RB->u.i < m ? -1 : RB->u.i > m;
        *RA = v_bool(GET_OP(i) == OP_LT ? c < 0 : c <= 0);
        VM_NEXT();
      }
      if (RC->type == V_MONEY && RB->type == V_INT && RB->u.i > -(INT64_MAX / 100) && RB->u.i < INT64_MAX / 100) {
        int64_t m = RB->u.i * 100;
        c = m < RC->u.i ? -1 : m > RC->u.i;
        *RA = v_bool(GET_OP(i) == OP_LT ? c < 0 : c <= 0);
        VM_NEXT();
      }
      SAVE();
      if (RB->type == V_NULL || RC->type == V_NULL) { *RA = v_bool(false); VM_NEXT(); }
      if (!vm_compare(vm, RB, RC, &c)) goto fail;
      *RA = v_bool(GET_OP(i) == OP_LT ? c < 0 : c <= 0);
      VM_NEXT();
    }
    /* LTI A B C, LEI: the same on ints, the compiler's fast path. */
    VM_CASE(LTI) {
      *RA = v_bool(RB->type != V_NULL && RC->type != V_NULL && RB->u.i < RC->u.i);
      VM_NEXT();
    }
    VM_CASE(LEI) {
      *RA = v_bool(RB->type != V_NULL && RC->type != V_NULL && RB->u.i <= RC->u.i);
      VM_NEXT();
    }

    /* JMP sJ: pc += sJ; a backward jump spends the budget. */
    VM_CASE(JMP) {
      int off = GET_sJ(i);
      if (off < 0) SPEND();
      pc += off;
      VM_NEXT();
    }
    /* JMPIF A sBx: jump when R[A] is true; JMPIFNOT when it is not (null
    ** counts as not true). */
    VM_CASE(JMPIF) { if (RA->type == V_BOOL && RA->u.i) pc += GET_sBx(i); VM_NEXT(); }
    VM_CASE(JMPIFNOT) { if (!(RA->type == V_BOOL && RA->u.i)) pc += GET_sBx(i); VM_NEXT(); }
    /* JMPNULL A sBx / JMPNOTNULL: jump on R[A] being null or not. */
    VM_CASE(JMPNULL) { if (RA->type == V_NULL) pc += GET_sBx(i); VM_NEXT(); }
    VM_CASE(JMPNOTNULL) { if (RA->type != V_NULL) pc += GET_sBx(i); VM_NEXT(); }
    /* CALL A Bx: R[A] = F[Bx](R[A] .. R[A+n-1]), a function of the pack.
    ** The callee's registers start at R[A]. */
    VM_CASE(CALL) {
      SPEND();
      SAVE();
      if (!push_frame(vm, (uint32_t)GET_Bx(i), RA, GET_A(i))) goto fail;
      RELOAD();
      VM_NEXT();
    }
    /* CALLB A B C: R[A] = builtin B (builtins.def) of R[A] .. R[A+C-1]. */
    VM_CASE(CALLB) {
      SAVE();
      if (!vm_builtin(vm, GET_B(i), RA, GET_C(i), RA)) goto fail;
      VM_NEXT();
    }
    /* natives (issue 5) */
    /* CALLN A Bx: R[A] = T[Bx](R[A] .. R[A+n-1]), the pack's native
    ** (extern fn) Bx called through libffi (natives/ffi.c) with its n
    ** declared parameters; bound to its plugin when the pack was loaded.
    ** A native that is not pure is first handed to the host as an effect
    ** (op OP_CALLN, index Bx, a: the arguments as a list) and may run only
    ** under a handler or a test. A failing native stops the run (R0109). */
    VM_CASE(CALLN) {
      SPEND();
      SAVE();
      if (!natives_call(vm, i, base)) goto fail;
      VM_NEXT();
    }
    /* end natives */
    /* RET A: return R[A] to the caller's register (or to the run). */
    VM_CASE(RET) VM_CASE(RET0) {
      Value v = GET_OP(i) == OP_RET ? *RA : v_null();
      int ret = fr->ret;
      vm->nframes--;
      if (vm->nframes <= floor) {
        *result = v;
        return status;
      }
      RELOAD();
      if (ret >= 0) base[ret] = v;
      VM_NEXT();
    }

    /* CONCAT A B C: R[A] = the text of R[B] .. R[B+C-1] joined, as
    ** interpolation shows values (enum values and stages by title). */
    VM_CASE(CONCAT) {
      SAVE();
      if (!vm_concat(vm, RB, GET_C(i), RA)) goto fail;
      VM_NEXT();
    }
    /* NEWLIST A B C: R[A] = a list of R[B] .. R[B+C-1]. */
    VM_CASE(NEWLIST) {
      int n = GET_C(i);
      List *l = list_new(&vm->scratch, (uint32_t)(n ? n : 4));
      for (int k = 0; k < n; k++) list_push(&vm->scratch, l, RB[k]);
      *RA = v_list(l);
      if (vm->scratch.total > vm->limits.memory) { SAVE(); vm_check_memory(vm); goto fail; }
      VM_NEXT();
    }
    /* APPEND A B: appends R[B] to the list R[A]. */
    VM_CASE(APPEND) {
      list_push(&vm->scratch, RA->u.l, *RB);
      if (vm->scratch.total > vm->limits.memory) { SAVE(); vm_check_memory(vm); goto fail; }
      VM_NEXT();
    }
    /* LEN A B: R[A] = the number of items of the list R[B] (0 for null). */
    VM_CASE(LEN) { *RA = v_int(RB->type == V_LIST ? RB->u.l->len : 0); VM_NEXT(); }
    /* INDEX A B C: R[A] = R[B][R[C]], counting from 0. */
    VM_CASE(INDEX) {
      if (RB->type != V_LIST || RC->u.i < 0 || (uint64_t)RC->u.i >= RB->u.l->len) {
        SAVE();
        vm_fail(vm, RE_INDEX, "index %lld outside a list", (long long)RC->u.i);
        goto fail;
      }
      *RA = RB->u.l->items[RC->u.i];
      VM_NEXT();
    }
    /* FORLIST A sBx: R[A] is a list, R[A+1] the index: loads the next
    ** item into R[A+2] and advances, or jumps out when done. Each turn
    ** spends the budget. */
    VM_CASE(FORLIST) {
      SPEND();
      Value *it = RA;
      if (it[0].type != V_LIST || (uint64_t)it[1].u.i >= it[0].u.l->len) {
        pc += GET_sBx(i);
        VM_NEXT();
      }
      it[2] = it[0].u.l->items[it[1].u.i++];
      VM_NEXT();
    }
    /* NEWOBJ A Bx: R[A] = an object with the keys of K[Bx] (a list of
    ** texts) and the values R[A+1] ... */
    VM_CASE(NEWOBJ) {
      const List *keys = K[GET_Bx(i)].u.l;
      Obj *o = arena_alloc(&vm->scratch, sizeof *o);
      o->len = keys->len;
      o->keys = arena_alloc(&vm->scratch, (keys->len + 1) * sizeof *o->keys);
      o->vals = arena_alloc(&vm->scratch, (keys->len + 1) * sizeof *o->vals);
      for (uint32_t k = 0; k < keys->len; k++) {
        o->keys[k] = keys->items[k].u.t->s;
        o->vals[k] = RA[1 + k];
      }
      RA->type = V_OBJ;
      RA->u.o = o;
      VM_NEXT();
    }
    /* GETOBJ A Bx: R[A] = the member K[Bx] of the object R[A] (null if
    ** absent or if R[A] is null). */
    VM_CASE(GETOBJ) {
      Value v = v_null();
      if (RA->type == V_OBJ) {
        const char *key = K[GET_Bx(i)].u.t->s;
        for (uint32_t k = 0; k < RA->u.o->len; k++)
          if (!strcmp(RA->u.o->keys[k], key)) v = RA->u.o->vals[k];
      }
      *RA = v;
      VM_NEXT();
    }

    /* GETFIELD A Bx: R[A] = the field D[Bx] of the record R[A], from the
    ** host, or computed by the field's function. Null for no record. */
    VM_CASE(GETFIELD) {
      SAVE();
      Value v;
      /* a computed field runs a function, which may move the stack */
      if (!vm_get_field(vm, *RA, (uint32_t)GET_Bx(i), &v)) goto fail;
      RELOAD();
      *RA = v;
      if (vm->scratch.total > vm->limits.memory && !vm_check_memory(vm)) goto fail;
      VM_NEXT();
    }
    /* GETSELF A Bx: R[A] = the field D[Bx] of the current record. */
    VM_CASE(GETSELF) {
      SAVE();
      const FieldDef *fd = &ch->fields[GET_Bx(i)];
      /* fast path: a stored field of the current record */
      if (fd->computed < 0 && vm->self.type == V_REC && vm->self.aux == fd->entity &&
          vm->host.get_field(vm->host.ud, vm->self, (uint32_t)GET_Bx(i), RA, &vm->scratch) == HOST_OK)
        VM_NEXT();
      Value v;
      if (!vm_get_field(vm, vm->self, (uint32_t)GET_Bx(i), &v)) goto fail;
      RELOAD();
      *RA = v;
      if (vm->scratch.total > vm->limits.memory && !vm_check_memory(vm)) goto fail;
      VM_NEXT();
    }
    /* BACKREF A Bx: R[A] = the records whose field D[Bx] refers to the
    ** record R[A] (contact.deals), as a list. */
    VM_CASE(BACKREF) {
      SAVE();
      if (RA->type == V_NULL) { *RA = v_list(list_new(&vm->scratch, 1)); VM_NEXT(); }
      if (vm->host.backref(vm->host.ud, *RA, (uint32_t)GET_Bx(i), RA, &vm->scratch) != HOST_OK) {
        vm_fail(vm, RE_HOST, "the store could not list the records of %s",
                ch->fields[GET_Bx(i)].name);
        goto fail;
      }
      if (vm->scratch.total > vm->limits.memory && !vm_check_memory(vm)) goto fail;
      VM_NEXT();
    }
    /* SETFIELD A Bx: the field D[Bx] of the record R[A] = R[A+1]; an
    ** effect. A number stored into money becomes money of the record's
    ** currency. */
    VM_CASE(SETFIELD) {
      SAVE();
      if (!vm_set_field(vm, RA, (uint32_t)GET_Bx(i))) goto fail;
      VM_NEXT();
    }
    /* GETUSER A B: R[A] = the name (0), supervisor (1), e-mail (2) or
    ** phone (3) of the user R[A]. */
    VM_CASE(GETUSER) {
      SAVE();
      if (RA->type != V_USER) { *RA = v_null(); VM_NEXT(); }
      if (vm->host.user_member(vm->host.ud, *RA, GET_B(i), RA, &vm->scratch) != HOST_OK) {
        vm_fail(vm, RE_HOST, "the store does not know the user");
        goto fail;
      }
      VM_NEXT();
    }
    /* TITLE A B C: R[A] = the title (C=0) or name (C=1) of the enum
    ** value, stage or direction R[B]. */
    VM_CASE(TITLE) {
      const char *s = vm_title(vm, RB, GET_C(i));
      *RA = s ? v_text(text_new(&vm->scratch, s, strlen(s))) : v_null();
      VM_NEXT();
    }

    /* The effects. Each hands the host an effect with its operands; the
    ** host applies it (tests) or records it for the engine (handlers). A
    ** refusal stops the run as a runtime error, unless a test's TREFUSE
    ** block expects it. */
    VM_CASE(MOVETO) VM_CASE(DELETE) VM_CASE(NOTIFY) VM_CASE(TASK) VM_CASE(MESSAGE)
    VM_CASE(DOCUMENT) VM_CASE(WEBHOOK) VM_CASE(CONVERT) VM_CASE(CREATE) VM_CASE(CREATEIN)
    VM_CASE(TCLOCK) VM_CASE(TADVANCE) VM_CASE(TEMIT) VM_CASE(TANSWER) VM_CASE(TUSER) {
      SAVE();
      int st = vm_effect(vm, i, base);
      if (st == HOST_OK) VM_NEXT();
      if (st == HOST_REFUSED && vm_catch_refusal(vm)) {
        RELOAD();
        VM_NEXT();
      }
      goto fail;
    }
    /* ASK A B C: R[A] = the answer of the user R[A] to the question R[B]
    ** (C: 0 yes/no, else 1 + the enum id); R[A+1] the timeout, R[A+2] the
    ** default. Suspends the run when the answer is not there yet. */
    VM_CASE(ASK) {
      SAVE();
      int st = vm_effect(vm, i, base);
      if (st == HOST_OK) VM_NEXT();
      if (st == HOST_WAIT) {
        vm->nframes = floor;
        return VM_SUSPENDED;
      }
      goto fail;
    }
    /* TEXPECT A B: a test expectation: fails the test unless R[A] is
    ** true; with B=1, R[A+1] and R[A+2] are the two sides, shown. */
    VM_CASE(TEXPECT) {
      if (RA->type == V_BOOL && RA->u.i) VM_NEXT();
      SAVE();
      vm_expect_failed(vm, RA, GET_B(i));
      goto fail;
    }
    /* TREFUSE A sBx: runs the following block up to TREFUSED expecting
    ** the host to refuse an effect with a message containing R[A] (any
    ** message if null); on that refusal, execution goes on at pc + sBx. */
    VM_CASE(TREFUSE) {
      vm_push_refusal(vm, pc + GET_sBx(i), *RA);
      VM_NEXT();
    }
    /* TREFUSED: the block ran without a refusal: the test fails. */
    VM_CASE(TREFUSED) {
      SAVE();
      vm_fail(vm, RE_TEST, "expected a refusal, but everything was allowed");
      goto fail;
    }
  }
#ifndef HAVE_COMPUTED_GOTO
  goto next;
#endif

fail:
  vm->nframes = floor;
  return VM_ERROR;
}
