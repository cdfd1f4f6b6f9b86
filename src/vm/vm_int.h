/*
** vm_int.h: the VM's private helpers, shared by vm.c (the loop),
** vm_ops.c (operations on values, records and effects), builtins.c and
** calendar.c.
*/
#ifndef FUNNEL_VM_INT_H
#define FUNNEL_VM_INT_H

#include "util/tz.h"
#include "vm/vm.h"

/* A call's state: the function, where it is, its registers. */
struct Frame {
  uint32_t func;
  const Instr *pc;     /* the next instruction */
  Value *base;
  int ret;             /* the caller's register for the result, -1 for none */
};

/* vm.c */
bool vm_fail(Vm *vm, VmErrorCode code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool vm_check_memory(Vm *vm);
int32_t vm_zone_offset(Vm *vm, int64_t utc);
bool vm_call_nested(Vm *vm, uint32_t func, Value self, Value *out);

/* vm_ops.c */
bool vm_arith(Vm *vm, OpCode op, const Value *a, const Value *b, Value *out);
bool vm_negate(Vm *vm, const Value *a, Value *out);
bool vm_equal(const Value *a, const Value *b);
bool vm_compare(Vm *vm, const Value *a, const Value *b, int *out);
bool vm_concat(Vm *vm, const Value *parts, int n, Value *out);
void vm_format(Vm *vm, StrBuf *b, const Value *v);
const char *vm_title(Vm *vm, const Value *v, int name);
bool vm_get_field(Vm *vm, Value rec, uint32_t field, Value *out);
bool vm_set_field(Vm *vm, Value *ra, uint32_t field);
int vm_effect(Vm *vm, Instr i, Value *base);
void vm_push_refusal(Vm *vm, const Instr *target, Value text);
bool vm_catch_refusal(Vm *vm);
void vm_expect_failed(Vm *vm, const Value *ra, int with_sides);

/* builtins.c */
bool vm_builtin(Vm *vm, int id, const Value *args, int n, Value *out);

/* calendar.c: working time in a calendar of the chunk */
bool cal_is_workday(const CalendarDef *cal, int64_t day);
/* day + n working days (n may be negative); the result is a working day
** (adding 0 to a day off moves to the next working day). False if the
** calendar has no working day within ten years. */
bool cal_add_workdays(const CalendarDef *cal, int64_t day, int64_t n, int64_t *out);
/* The UTC moment `minutes` working minutes after `utc` (within the
** calendar's hours); false if the calendar has no hours at all. */
bool cal_add_workminutes(const CalendarDef *cal, int64_t utc, int64_t minutes, int64_t *out);

#endif
