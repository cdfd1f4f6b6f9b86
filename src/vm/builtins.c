/*
** builtins.c: the builtin functions of builtins.def, as CALLB runs them.
** Dates are read in the default calendar's zone: today() is the date on
** the office's wall calendar, not in Greenwich.
*/
#include <string.h>

#include "util/utf8.h"
#include "vm/vm_int.h"

enum {
#define BUILTIN(id, name, nargs, test) B_##id,
#include "bytecode/builtins.def"
#undef BUILTIN
  B__COUNT
};

int64_t vm_local_day(Vm *vm, int64_t utc);

/* The calendar day of a date or datetime; false for anything else. */
static bool day_of(Vm *vm, const Value *v, int64_t *day) {
  if (v->type == V_DATE) *day = v->u.i;
  else if (v->type == V_DATETIME) *day = vm_local_day(vm, v->u.i);
  else return false;
  return true;
}

static bool sum_list(Vm *vm, const List *l, Value *out) {
  Value acc = v_int(0);
  for (uint32_t k = 0; k < l->len; k++) {
    if (l->items[k].type == V_NULL) continue;
    if (!vm_arith(vm, OP_ADD, &acc, &l->items[k], &acc)) return false;
  }
  *out = acc;
  return true;
}

static bool extreme(Vm *vm, const List *l, int sign, Value *out) {
  Value best = v_null();
  for (uint32_t k = 0; k < l->len; k++) {
    const Value *x = &l->items[k];
    if (x->type == V_NULL) continue;
    int c = 0;
    if (best.type != V_NULL && !vm_compare(vm, x, &best, &c)) return false;
    if (best.type == V_NULL || c * sign > 0) best = *x;
  }
  *out = best;
  return true;
}

/* Does some effect of the list have a "text" containing `needle`? */
static bool any_text(const Value *list, const char *needle) {
  if (list->type != V_LIST) return false;
  for (uint32_t k = 0; k < list->u.l->len; k++) {
    const Value *e = &list->u.l->items[k];
    if (e->type != V_OBJ) continue;
    for (uint32_t j = 0; j < e->u.o->len; j++)
      if (!strcmp(e->u.o->keys[j], "text") && e->u.o->vals[j].type == V_TEXT &&
          strstr(e->u.o->vals[j].u.t->s, needle))
        return true;
  }
  return false;
}

static bool effects(Vm *vm, int id, Value arg, Value *out) {
  if (!vm->host.effects_of || vm->host.effects_of(vm->host.ud, id, arg, out, &vm->scratch) != HOST_OK)
    return vm_fail(vm, RE_HOST, "the test host cannot list its effects");
  return true;
}

bool vm_builtin(Vm *vm, int id, const Value *a, int n, Value *out) {
  int64_t day;
  Value r = v_null();
  switch (id) {
  case B_COUNT: r = v_int(a[0].type == V_LIST ? a[0].u.l->len : 0); break;
  case B_TOTAL:
    if (a[0].type == V_LIST && !sum_list(vm, a[0].u.l, &r)) return false;
    if (a[0].type != V_LIST) r = v_int(0);
    break;
  case B_MIN:
  case B_MAX:
    if (a[0].type == V_LIST && !extreme(vm, a[0].u.l, id == B_MAX ? 1 : -1, &r)) return false;
    break;
  case B_CONTAINS:
    if (a[0].type == V_TEXT) {
      r = v_bool(a[1].type == V_TEXT && strstr(a[0].u.t->s, a[1].u.t->s) != NULL);
    } else if (a[0].type == V_LIST) {
      bool found = false;
      for (uint32_t k = 0; k < a[0].u.l->len && !found; k++) found = vm_equal(&a[0].u.l->items[k], &a[1]);
      r = v_bool(found);
    } else {
      r = v_bool(false);
    }
    break;
  case B_LEN: r = v_int(a[0].type == V_TEXT ? (int64_t)utf8_count(a[0].u.t->s, a[0].u.t->len) : 0); break;
  case B_TEXT: {
    StrBuf b = {0};
    vm_format(vm, &b, &a[0]);
    r = v_text(text_new(&vm->scratch, sb_str(&b), b.len));
    sb_free(&b);
    break;
  }
  case B_TODAY: r = v_date(vm_local_day(vm, vm->now)); break;
  case B_NOW: r = v_datetime(vm->now); break;
  case B_DATE:
    if (day_of(vm, &a[0], &day)) r = v_date(day);
    break;
  case B_DAY:
  case B_MONTH:
  case B_YEAR:
    if (day_of(vm, &a[0], &day)) {
      int64_t y;
      unsigned m, d;
      civil_from_days(day, &y, &m, &d);
      r = v_int(id == B_DAY ? d : id == B_MONTH ? m : y);
    }
    break;
  case B_WEEKDAY:
    if (day_of(vm, &a[0], &day)) r = v_int(((day % 7) + 7 + 3) % 7 + 1);
    break;
  case B_START_OF_MONTH:
  case B_END_OF_MONTH:
    if (day_of(vm, &a[0], &day)) {
      int64_t y;
      unsigned m, d;
      civil_from_days(day, &y, &m, &d);
      int64_t first = days_from_civil(y, m, 1);
      r = v_date(id == B_START_OF_MONTH ? first : date_add_months(first, 1) - 1);
    }
    break;
  case B_DAYS_BETWEEN: {
    int64_t d2;
    if (day_of(vm, &a[0], &day) && day_of(vm, &a[1], &d2)) r = v_int(d2 - day);
    break;
  }
  case B_ABS:
    r = a[0];
    if ((r.type == V_INT || r.type == V_DEC || r.type == V_MONEY) && r.u.i < 0) {
      if (r.u.i == INT64_MIN) return vm_fail(vm, RE_OVERFLOW, "abs() overflows");
      r.u.i = -r.u.i;
    }
    break;
  case B_ROUND: {
    r = a[0];
    int64_t unit = r.type == V_DEC ? DEC_SCALE : r.type == V_MONEY ? MONEY_SCALE : 1;
    if (unit > 1) {
      int64_t q = r.u.i / unit, rem = r.u.i % unit;
      if (rem * 2 >= unit) q++;
      else if (rem * 2 <= -unit) q--;
      r.u.i = q * unit; /* |q * unit| <= |x| + unit/2: no overflow within range */
    }
    break;
  }
  case B_HAS_ROLE:
    r = v_bool(a[0].type == V_USER && a[1].type == V_ROLE && vm->host.has_role &&
               vm->host.has_role(vm->host.ud, a[0], (uint32_t)a[1].u.i));
    break;
  case B_NOTIFICATIONS: case B_TASKS: case B_QUESTIONS: case B_MESSAGES: case B_DOCUMENTS:
    if (!effects(vm, id, a[0], &r)) return false;
    break;
  case B_WEBHOOKS:
    if (!effects(vm, id, v_null(), &r)) return false;
    break;
  case B_NOTIFIED:
  case B_TASKED:
  case B_MESSAGED: {
    int list = id == B_NOTIFIED ? B_NOTIFICATIONS : id == B_TASKED ? B_TASKS : B_MESSAGES;
    Value l;
    if (!effects(vm, list, a[0], &l)) return false;
    r = v_bool(a[1].type == V_TEXT && any_text(&l, a[1].u.t->s));
    break;
  }
  default: return vm_fail(vm, RE_TYPE, "no builtin %d", id);
  }
  (void)n;
  *out = r;
  return vm_check_memory(vm);
}
