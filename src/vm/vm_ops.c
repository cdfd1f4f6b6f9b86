/*
** vm_ops.c: what the instructions do to values: exact arithmetic on
** numbers, money, dates and durations; comparison; formatting for
** interpolation; record fields through the host; effects and the test
** steps' refusal handling.
*/
#include <stdlib.h>
#include <string.h>

#include "vm/vm_int.h"

static bool is_num(const Value *v) { return v->type == V_INT || v->type == V_DEC; }
static void convert_fields(Vm *vm, int entity, Value *obj);

/* A number as a decimal (scaled by 10^6). */
static bool as_dec(const Value *v, int64_t *out) {
  if (v->type == V_DEC) {
    *out = v->u.i;
    return true;
  }
  return !__builtin_mul_overflow(v->u.i, DEC_SCALE, out);
}

/* A number next to money: its amount in minor units, rounded half away
** from zero. */
static bool as_minor(const Value *v, int64_t *out) {
  if (v->type == V_INT) return !__builtin_mul_overflow(v->u.i, MONEY_SCALE, out);
  /* a decimal (10^6) in kopecks (10^2): divide by 10^4, half away from zero */
  const int64_t unit = DEC_SCALE / MONEY_SCALE;
  int64_t q = v->u.i / unit, r = v->u.i % unit;
  if (r * 2 >= unit) q++;
  else if (r * 2 <= -unit) q--;
  *out = q;
  return true;
}

static bool overflow(Vm *vm, const char *what) {
  return vm_fail(vm, RE_OVERFLOW, "%s overflows", what);
}

static const CalendarDef *default_cal(Vm *vm) {
  const Chunk *ch = vm->ch;
  return ch->default_calendar >= 0 ? &ch->calendars[ch->default_calendar] : NULL;
}

/* ---- dates and durations ------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The UTC moment of a local wall-clock time in the default zone. */
static int64_t local_to_utc(Vm *vm, int64_t local) {
  int32_t off = vm_zone_offset(vm, local);
  int64_t utc = local - off;
  int32_t off2 = vm_zone_offset(vm, utc);
  return off2 == off ? utc : local - off2;
}

static int64_t utc_to_local(Vm *vm, int64_t utc) { return utc + vm_zone_offset(vm, utc); }

int64_t vm_local_day(Vm *vm, int64_t utc);
int64_t vm_local_day(Vm *vm, int64_t utc) { return floor_div(utc_to_local(vm, utc), 86400); }

static bool dur_is_zero_time(const Value *d) { return d->u.i == 0; }

/* date or datetime plus sign * duration */
static bool add_duration(Vm *vm, const Value *t, const Value *d, int sign, Value *out) {
  int64_t months = (int16_t)d->aux, days = d->aux32, secs = d->u.i;
  if (d->flags & VF_WORK) {
    const CalendarDef *cal = default_cal(vm);
    if (!cal) return vm_fail(vm, RE_CALENDAR, "working days need a default calendar in the pack");
    int64_t day = t->type == V_DATE ? t->u.i : vm_local_day(vm, t->u.i);
    int64_t sod = t->type == V_DATE ? 0 : utc_to_local(vm, t->u.i) - day * 86400;
    if (days && !cal_add_workdays(cal, day, sign * days, &day))
      return vm_fail(vm, RE_CALENDAR, "the default calendar has no working days");
    if (t->type == V_DATE && secs == 0) {
      *out = v_date(day);
      return true;
    }
    int64_t utc = local_to_utc(vm, day * 86400 + sod);
    if (secs) {
      if (sign < 0) return vm_fail(vm, RE_TYPE, "working hours count forward only");
      if (!cal_add_workminutes(cal, utc, secs /* minutes, with VF_WORK */, &utc))
        return vm_fail(vm, RE_CALENDAR, "the default calendar has no working hours");
    }
    *out = v_datetime(utc);
    return true;
  }
  if (t->type == V_DATE) {
    int64_t day = date_add_months(t->u.i, sign * months) + sign * days;
    if (dur_is_zero_time(d)) {
      *out = v_date(day);
      return true;
    }
    *out = v_datetime(local_to_utc(vm, day * 86400) + sign * secs);
    return true;
  }
  /* datetime: months and days in local civil time, then seconds */
  int64_t local = utc_to_local(vm, t->u.i);
  int64_t day = floor_div(local, 86400), sod = local - day * 86400;
  day = date_add_months(day, sign * months) + sign * days;
  *out = v_datetime(local_to_utc(vm, day * 86400 + sod) + sign * secs);
  return true;
}

static bool dur_combine(Vm *vm, const Value *a, const Value *b, int sign, Value *out) {
  if ((a->flags & VF_WORK) != (b->flags & VF_WORK))
    return vm_fail(vm, RE_TYPE, "working time and calendar time do not add up");
  Value r = *a;
  int64_t m = (int16_t)a->aux + sign * (int16_t)b->aux;
  int64_t dd = (int64_t)a->aux32 + sign * (int64_t)b->aux32;
  int64_t s;
  if (m < INT16_MIN || m > INT16_MAX || dd < INT32_MIN || dd > INT32_MAX ||
      __builtin_add_overflow(a->u.i, sign * b->u.i, &s))
    return overflow(vm, "a duration");
  r.aux = (uint16_t)(int16_t)m;
  r.aux32 = (int32_t)dd;
  r.u.i = s;
  *out = r;
  return true;
}

static bool dur_scale(Vm *vm, const Value *d, int64_t n, Value *out) {
  Value r = *d;
  int64_t m = (int16_t)d->aux * n, dd = (int64_t)d->aux32 * n, s;
  if (m < INT16_MIN || m > INT16_MAX || dd < INT32_MIN || dd > INT32_MAX ||
      __builtin_mul_overflow(d->u.i, n, &s))
    return overflow(vm, "a duration");
  r.aux = (uint16_t)(int16_t)m;
  r.aux32 = (int32_t)dd;
  r.u.i = s;
  *out = r;
  return true;
}

static int64_t as_utc(Vm *vm, const Value *t) {
  return t->type == V_DATE ? local_to_utc(vm, t->u.i * 86400) : t->u.i;
}

/* ---- arithmetic ---------------------------------------------------------------- */

static bool num_arith(Vm *vm, OpCode op, const Value *a, const Value *b, Value *out) {
  if (a->type == V_INT && b->type == V_INT && op != OP_DIV) {
    int64_t x;
    bool ovf = op == OP_ADD ? __builtin_add_overflow(a->u.i, b->u.i, &x)
               : op == OP_SUB ? __builtin_sub_overflow(a->u.i, b->u.i, &x)
                              : __builtin_mul_overflow(a->u.i, b->u.i, &x);
    if (ovf) return overflow(vm, "an int");
    *out = v_int(x);
    return true;
  }
  int64_t x, y, r;
  if (!as_dec(a, &x) || !as_dec(b, &y)) return overflow(vm, "a decimal");
  bool ok;
  switch (op) {
  case OP_ADD: ok = !__builtin_add_overflow(x, y, &r); break;
  case OP_SUB: ok = !__builtin_sub_overflow(x, y, &r); break;
  case OP_MUL: ok = dec_mul(x, y, &r); break;
  default:
    if (y == 0) return vm_fail(vm, RE_DIVZERO, "division by zero");
    ok = dec_div(x, y, &r);
    break;
  }
  if (!ok) return overflow(vm, "a decimal");
  *out = v_dec(r);
  return true;
}

static bool money_arith(Vm *vm, OpCode op, const Value *a, const Value *b, Value *out) {
  bool ma = a->type == V_MONEY, mb = b->type == V_MONEY;
  uint16_t cur = ma ? a->aux : b->aux;
  int64_t r, x, y;
  if (ma && mb) {
    /* zero is zero in every currency: it takes the other side's */
    if (a->aux != b->aux && a->u.i == 0) cur = b->aux;
    else if (a->aux != b->aux && b->u.i != 0)
      return vm_fail(vm, RE_CURRENCY, "cannot combine %s and %s", currency_code(a->aux),
                     currency_code(b->aux));
    switch (op) {
    case OP_ADD:
      if (__builtin_add_overflow(a->u.i, b->u.i, &r)) return overflow(vm, "money");
      break;
    case OP_SUB:
      if (__builtin_sub_overflow(a->u.i, b->u.i, &r)) return overflow(vm, "money");
      break;
    case OP_DIV:
      if (b->u.i == 0) return vm_fail(vm, RE_DIVZERO, "division by zero money");
      if (!money_ratio(a->u.i, b->u.i, &r)) return overflow(vm, "a decimal");
      *out = v_dec(r);
      return true;
    default: return vm_fail(vm, RE_TYPE, "money times money has no meaning");
    }
    *out = v_money(r, cur);
    return true;
  }
  const Value *m = ma ? a : b, *n = ma ? b : a;
  switch (op) {
  case OP_ADD:
  case OP_SUB:
    if (!as_minor(n, &y)) return overflow(vm, "money");
    x = m->u.i;
    if (!ma) { int64_t t = x; x = y; y = t; }
    if (op == OP_ADD ? __builtin_add_overflow(x, y, &r) : __builtin_sub_overflow(x, y, &r))
      return overflow(vm, "money");
    break;
  case OP_MUL:
    if (!as_dec(n, &y) || !money_mul_dec(m->u.i, y, &r)) return overflow(vm, "money");
    break;
  default:
    if (!ma) return vm_fail(vm, RE_TYPE, "a number cannot be divided by money");
    if (!as_dec(n, &y)) return overflow(vm, "money");
    if (y == 0) return vm_fail(vm, RE_DIVZERO, "money divided by zero");
    if (!money_div_dec(m->u.i, y, &r)) return overflow(vm, "money");
    break;
  }
  *out = v_money(r, cur);
  return true;
}

/* a + b for lists, an empty field (null) counting as an empty list */
static bool list_concat(Vm *vm, const Value *a, const Value *b, Value *out) {
  uint32_t na = a->type == V_LIST ? a->u.l->len : 0, nb = b->type == V_LIST ? b->u.l->len : 0;
  List *l = list_new(&vm->scratch, na + nb ? na + nb : 1);
  for (uint32_t i = 0; i < na; i++) list_push(&vm->scratch, l, a->u.l->items[i]);
  for (uint32_t i = 0; i < nb; i++) list_push(&vm->scratch, l, b->u.l->items[i]);
  *out = v_list(l);
  return vm_check_memory(vm);
}

bool vm_arith(Vm *vm, OpCode op, const Value *a, const Value *b, Value *out) {
  if (op == OP_ADD && (a->type == V_LIST || b->type == V_LIST) &&
      (a->type == V_LIST || a->type == V_NULL) && (b->type == V_LIST || b->type == V_NULL))
    return list_concat(vm, a, b, out);
  if (a->type == V_NULL || b->type == V_NULL) {
    *out = v_null();
    return true;
  }
  if (is_num(a) && is_num(b)) return num_arith(vm, op, a, b, out);
  if ((a->type == V_MONEY && (is_num(b) || b->type == V_MONEY)) || (b->type == V_MONEY && is_num(a)))
    return money_arith(vm, op, a, b, out);
  bool ta = a->type == V_DATE || a->type == V_DATETIME, tb = b->type == V_DATE || b->type == V_DATETIME;
  if (op == OP_ADD || op == OP_SUB) {
    if (op == OP_ADD && a->type == V_TEXT && b->type == V_TEXT) {
      Text *t = arena_alloc(&vm->scratch, sizeof(Text) + a->u.t->len + b->u.t->len + 1);
      t->len = a->u.t->len + b->u.t->len;
      memcpy(t->s, a->u.t->s, a->u.t->len);
      memcpy(t->s + a->u.t->len, b->u.t->s, b->u.t->len + 1);
      *out = v_text(t);
      return vm_check_memory(vm);
    }
    if (ta && b->type == V_DURATION) return add_duration(vm, a, b, op == OP_ADD ? 1 : -1, out);
    if (op == OP_ADD && tb && a->type == V_DURATION) return add_duration(vm, b, a, 1, out);
    if (a->type == V_DURATION && b->type == V_DURATION) return dur_combine(vm, a, b, op == OP_ADD ? 1 : -1, out);
    if (op == OP_SUB && ta && tb) {
      Value d = {0};
      d.type = V_DURATION;
      if (a->type == V_DATE && b->type == V_DATE) d.aux32 = (int32_t)(a->u.i - b->u.i);
      else d.u.i = as_utc(vm, a) - as_utc(vm, b);
      *out = d;
      return true;
    }
  }
  if (op == OP_MUL && a->type == V_DURATION && b->type == V_INT) return dur_scale(vm, a, b->u.i, out);
  if (op == OP_MUL && b->type == V_DURATION && a->type == V_INT) return dur_scale(vm, b, a->u.i, out);
  if (op == OP_DIV && a->type == V_DURATION && b->type == V_INT) {
    if (b->u.i == 0) return vm_fail(vm, RE_DIVZERO, "a duration divided by zero");
    Value r = *a;
    r.aux = (uint16_t)(int16_t)((int16_t)a->aux / b->u.i);
    r.aux32 = (int32_t)(a->aux32 / b->u.i);
    r.u.i = a->u.i / b->u.i;
    *out = r;
    return true;
  }
  return vm_fail(vm, RE_TYPE, "values of these types cannot be combined");
}

bool vm_negate(Vm *vm, const Value *a, Value *out) {
  Value r = *a;
  switch (a->type) {
  case V_NULL: break;
  case V_INT: case V_DEC: case V_MONEY:
    if (a->u.i == INT64_MIN) return overflow(vm, "a negation");
    r.u.i = -a->u.i;
    break;
  case V_DURATION: return dur_scale(vm, a, -1, out);
  default: return vm_fail(vm, RE_TYPE, "only numbers, money and durations have a minus");
  }
  *out = r;
  return true;
}

/* ---- comparison ---------------------------------------------------------------- */

bool vm_equal(const Value *a, const Value *b) {
  if (a->type == V_MONEY && is_num(b)) {
    int64_t m;
    return as_minor(b, &m) && m == a->u.i;
  }
  if (b->type == V_MONEY && is_num(a)) return vm_equal(b, a);
  return value_eq(a, b);
}

bool vm_compare(Vm *vm, const Value *a, const Value *b, int *out) {
  Value x = *a, y = *b;
  if (x.type == V_MONEY && is_num(&y)) {
    int64_t m;
    if (!as_minor(&y, &m)) return overflow(vm, "money");
    y = v_money(m, x.aux);
  } else if (y.type == V_MONEY && is_num(&x)) {
    int64_t m;
    if (!as_minor(&x, &m)) return overflow(vm, "money");
    x = v_money(m, y.aux);
  } else if (x.type == V_MONEY && y.type == V_MONEY && x.aux != y.aux && (x.u.i == 0 || y.u.i == 0)) {
    x.aux = y.aux = x.u.i == 0 ? y.aux : x.aux; /* zero is zero in every currency */
  } else if (x.type == V_DATE && y.type == V_DATETIME) {
    x = v_datetime(as_utc(vm, &x));
  } else if (y.type == V_DATE && x.type == V_DATETIME) {
    y = v_datetime(as_utc(vm, &y));
  }
  bool ok;
  *out = value_cmp(&x, &y, &ok);
  if (ok) return true;
  if (x.type == V_MONEY && y.type == V_MONEY)
    return vm_fail(vm, RE_CURRENCY, "cannot compare %s with %s", currency_code(x.aux), currency_code(y.aux));
  return vm_fail(vm, RE_TYPE, "these values have no order");
}

/* ---- text ---------------------------------------------------------------------------- */

const char *vm_title(Vm *vm, const Value *v, int name) {
  const Chunk *ch = vm->ch;
  switch (v->type) {
  case V_ENUM:
    if (v->aux < ch->nenums && (uint64_t)v->u.i < ch->enums[v->aux].nvalues)
      return name ? ch->enums[v->aux].values[v->u.i] : ch->enums[v->aux].titles[v->u.i];
    return NULL;
  case V_STAGE:
    if ((uint64_t)v->u.i < ch->nstages) return name ? ch->stages[v->u.i].name : ch->stages[v->u.i].title;
    return NULL;
  case V_DIR:
    if ((uint64_t)v->u.i < ch->ndirections)
      return name ? ch->directions[v->u.i].name : ch->directions[v->u.i].title;
    return NULL;
  case V_ROLE:
    if ((uint64_t)v->u.i < ch->nroles) return name ? ch->roles[v->u.i].name : ch->roles[v->u.i].title;
    return NULL;
  default: return NULL;
  }
}

void vm_format(Vm *vm, StrBuf *b, const Value *v) {
  const char *t = vm_title(vm, v, 0);
  if (t) {
    sb_puts(b, t);
    return;
  }
  if (v->type == V_DATETIME) {
    int64_t local = utc_to_local(vm, v->u.i);
    int64_t day = floor_div(local, 86400), sod = local - day * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    sb_printf(b, "%04lld-%02u-%02u %02d:%02d", (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60));
    if (sod % 60) sb_printf(b, ":%02d", (int)(sod % 60));
    return;
  }
  if (v->type == V_LIST) {
    sb_putc(b, '[');
    for (uint32_t i = 0; i < v->u.l->len; i++) {
      if (i) sb_puts(b, ", ");
      vm_format(vm, b, &v->u.l->items[i]);
    }
    sb_putc(b, ']');
    return;
  }
  value_format(b, v);
}

bool vm_concat(Vm *vm, const Value *parts, int n, Value *out) {
  StrBuf b = {0};
  for (int k = 0; k < n; k++) vm_format(vm, &b, &parts[k]);
  *out = v_text(text_new(&vm->scratch, sb_str(&b), b.len));
  sb_free(&b);
  return vm_check_memory(vm);
}

/* ---- records --------------------------------------------------------------------------- */

bool vm_get_field(Vm *vm, Value rec, uint32_t field, Value *out) {
  if (rec.type == V_NULL) {
    *out = v_null();
    return true;
  }
  const FieldDef *fd = &vm->ch->fields[field];
  if (rec.type != V_REC || rec.aux != fd->entity)
    return vm_fail(vm, RE_TYPE, "'%s' is read from something that is not a %s", fd->name,
                   vm->ch->entities[fd->entity].name);
  if (fd->computed >= 0) return vm_call_nested(vm, (uint32_t)fd->computed, rec, out);
  if (vm->host.get_field(vm->host.ud, rec, field, out, &vm->scratch) != HOST_OK)
    return vm_fail(vm, RE_HOST, "the store could not read %s.%s", vm->ch->entities[fd->entity].name,
                   fd->name);
  return true;
}

/* The currency of a record: its `currency` field if it has a known code,
** else RUB. */
static uint16_t record_currency(Vm *vm, Value rec) {
  const Chunk *ch = vm->ch;
  if (rec.type != V_REC || rec.aux >= ch->nentities) return 0;
  const EntityDef *e = &ch->entities[rec.aux];
  for (uint32_t k = 0; k < e->nfields; k++) {
    if (strcmp(ch->fields[e->first_field + k].name, "currency")) continue;
    Value v;
    if (vm->host.get_field(vm->host.ud, rec, e->first_field + k, &v, &vm->scratch) == HOST_OK &&
        v.type == V_TEXT) {
      uint16_t c = currency_index(v.u.t->s);
      if (c != UINT16_MAX) return c;
    }
  }
  return 0;
}

/* A value as field fd stores it: a number into money becomes money of
** `currency`, an int into a decimal a decimal, a date into a datetime the
** start of that day. */
static bool to_field(Vm *vm, const FieldDef *fd, uint16_t currency, Value *v) {
  if (fd->type.kind == V_MONEY && is_num(v)) {
    int64_t m;
    if (!as_minor(v, &m)) return overflow(vm, "money");
    *v = v_money(m, currency);
  } else if (fd->type.kind == V_DEC && v->type == V_INT) {
    int64_t d;
    if (!as_dec(v, &d)) return overflow(vm, "a decimal");
    *v = v_dec(d);
  } else if (fd->type.kind == V_DATETIME && v->type == V_DATE) {
    *v = v_datetime(as_utc(vm, v));
  }
  return true;
}

/* The fields of a new record ({name: value}) as their fields store them;
** money in the object's `currency`, or RUB. */
static void convert_fields(Vm *vm, int entity, Value *obj) {
  const Chunk *ch = vm->ch;
  if (obj->type != V_OBJ || entity < 0 || (uint32_t)entity >= ch->nentities) return;
  uint16_t cur = 0;
  for (uint32_t k = 0; k < obj->u.o->len; k++)
    if (!strcmp(obj->u.o->keys[k], "currency") && obj->u.o->vals[k].type == V_TEXT) {
      uint16_t c = currency_index(obj->u.o->vals[k].u.t->s);
      if (c != UINT16_MAX) cur = c;
    }
  const EntityDef *e = &ch->entities[entity];
  for (uint32_t k = 0; k < obj->u.o->len; k++)
    for (uint32_t f = 0; f < e->nfields; f++)
      if (!strcmp(ch->fields[e->first_field + f].name, obj->u.o->keys[k]))
        to_field(vm, &ch->fields[e->first_field + f], cur, &obj->u.o->vals[k]);
}

bool vm_set_field(Vm *vm, Value *ra, uint32_t field) {
  const FieldDef *fd = &vm->ch->fields[field];
  if (ra[0].type != V_REC) return vm_fail(vm, RE_TYPE, "'%s' is set on no record", fd->name);
  if (!to_field(vm, fd, fd->type.kind == V_MONEY ? record_currency(vm, ra[0]) : 0, &ra[1])) return false;
  return vm_effect(vm, MK_ABx(OP_SETFIELD, 0, field), ra) == HOST_OK;
}

/* ---- effects ------------------------------------------------------------------------------ */

int vm_effect(Vm *vm, Instr i, Value *base) {
  const Chunk *ch = vm->ch;
  OpCode op = GET_OP(i);
  Value *a = base + GET_A(i);
  VmEffect e = {0};
  e.op = op;
  switch (op) {
  case OP_SETFIELD: e.rec = a[0]; e.index = (uint32_t)GET_Bx(i); e.a = a[1]; break;
  case OP_MOVETO: e.rec = a[0]; e.index = (uint32_t)GET_Bx(i); break;
  case OP_DELETE: e.rec = a[0]; break;
  case OP_NOTIFY: e.rec = vm->self; e.a = a[0]; e.b = base[GET_B(i)]; break;
  case OP_TASK:
    e.rec = vm->self; e.a = a[0]; e.b = base[GET_B(i)]; e.c = base[GET_C(i)]; e.d = base[GET_C(i) + 1];
    break;
  case OP_MESSAGE: e.rec = vm->self; e.a = a[0]; e.b = base[GET_B(i)]; e.c = base[GET_C(i)]; break;
  case OP_DOCUMENT: e.rec = vm->self; e.a = a[0]; e.b = base[GET_B(i)]; e.c = base[GET_C(i)]; break;
  case OP_WEBHOOK: e.rec = vm->self; e.a = a[0]; e.b = base[GET_B(i)]; break;
  case OP_CONVERT: e.rec = a[0]; e.a = a[1]; e.index = (uint32_t)GET_Bx(i); break;
  case OP_CREATE: case OP_CREATEIN:
    e.rec = vm->self;
    e.a = a[1];
    e.index = (uint32_t)GET_Bx(i);
    convert_fields(vm, op == OP_CREATE ? (int)e.index : ch->directions[ch->stages[e.index].direction].entity, &e.a);
    break;
  case OP_ASK:
    /* the record is implied (the current one); rec carries the question's name */
    e.rec = a[3]; e.a = a[0]; e.b = base[GET_B(i)]; e.c = a[1]; e.d = a[2]; e.index = (uint32_t)GET_C(i);
    break;
  case OP_TCLOCK: e.a = a[0]; break;
  case OP_TADVANCE: e.a = a[0]; e.index = (uint32_t)GET_B(i); break;
  case OP_TEMIT: e.rec = a[0]; e.a = a[1]; e.index = (uint32_t)GET_Bx(i); break;
  case OP_TANSWER: e.rec = a[0]; e.a = a[1]; e.b = ch->consts[GET_Bx(i)]; break;
  case OP_TUSER: e.a = a[0]; e.b = a[1]; e.c = ch->consts[GET_Bx(i)]; break;
  case OP_CALLN: {   /* natives (issue 5): the arguments as a list */
    const NativeDef *nd = &ch->natives[GET_Bx(i)];
    List *l = list_new(&vm->scratch, nd->nparams ? nd->nparams : 1);
    for (uint32_t k = 0; k < nd->nparams; k++) list_push(&vm->scratch, l, a[k]);
    e.rec = vm->self; e.a = v_list(l); e.index = (uint32_t)GET_Bx(i);
    break;
  }
  default: break;
  }
  if (vm->nframes > 0) {
    const Frame *f = &vm->frames[vm->nframes - 1];
    const Func *fn = &ch->funcs[f->func];
    uint32_t pc = (uint32_t)(f->pc - fn->code);
    e.func = fn->name;
    e.line = fn->lines && pc > 0 ? fn->lines[pc - 1] : 0;
  }
  Value result = v_null();
  const char *msg = NULL;
  HostStatus st = vm->host.effect(vm->host.ud, &e, &result, &msg, &vm->scratch);
  switch (st) {
  case HOST_OK:
    if (op == OP_CREATE || op == OP_CREATEIN || op == OP_ASK) a[0] = result;
    /* a test's clock steps: the host says what time it is now */
    if ((op == OP_TCLOCK || op == OP_TADVANCE) && result.type == V_DATETIME) vm->now = result.u.i;
    break;
  case HOST_REFUSED: vm->refusal = msg ? msg : "refused"; break;
  case HOST_WAIT: case HOST_DEFERRED: break;
  case HOST_ERROR: vm_fail(vm, RE_HOST, "%s", msg ? msg : "the store failed"); break;
  }
  return st;
}

void vm_push_refusal(Vm *vm, const Instr *target, Value text) {
  if (vm->nrefusals >= (int)(sizeof vm->refusals / sizeof vm->refusals[0])) return;
  vm->refusals[vm->nrefusals].frame = vm->nframes - 1;
  vm->refusals[vm->nrefusals].target = target;
  vm->refusals[vm->nrefusals].text = text;
  vm->nrefusals++;
}

/* A refusal inside an `expect refused` block, in this frame or in a
** function it called: the calls in between end, and the block's frame
** goes on after the block. */
bool vm_catch_refusal(Vm *vm) {
  const char *msg = vm->refusal ? vm->refusal : "";
  if (vm->nrefusals == 0 || vm->refusals[vm->nrefusals - 1].frame > vm->nframes - 1)
    return vm_fail(vm, RE_HOST, "refused: %s", msg);
  Value want = vm->refusals[--vm->nrefusals].text;
  if (want.type == V_TEXT && !strstr(msg, want.u.t->s))
    return vm_fail(vm, RE_TEST, "refused with \"%s\", but the test expected \"%s\"", msg, want.u.t->s);
  vm->nframes = vm->refusals[vm->nrefusals].frame + 1;
  vm->frames[vm->nframes - 1].pc = vm->refusals[vm->nrefusals].target;
  return true;
}

void vm_expect_failed(Vm *vm, const Value *ra, int with_sides) {
  if (!with_sides) {
    vm_fail(vm, RE_TEST, "expectation failed: the condition is %s", ra->type == V_NULL ? "empty" : "false");
    return;
  }
  StrBuf l = {0}, r = {0};
  vm_format(vm, &l, &ra[1]);
  vm_format(vm, &r, &ra[2]);
  vm_fail(vm, RE_TEST, "expectation failed: left side is %s%s%s, right side is %s%s%s",
          ra[1].type == V_TEXT ? "\"" : "", ra[1].type == V_NULL ? "empty" : sb_str(&l),
          ra[1].type == V_TEXT ? "\"" : "", ra[2].type == V_TEXT ? "\"" : "",
          ra[2].type == V_NULL ? "empty" : sb_str(&r), ra[2].type == V_TEXT ? "\"" : "");
  sb_free(&l);
  sb_free(&r);
}
