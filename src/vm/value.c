/*
** value.c: the VM's values: currencies, texts and lists in arenas, exact
** fixed-point arithmetic, civil dates, equality, order and formatting.
**
** Arithmetic. Decimals carry six places and money two (value.h). Every
** product or quotient that rescales goes through a 128-bit intermediate,
** so nothing overflows before the final scaling; the result is rounded
** once, half away from zero, and then checked against the int64 range.
** An operation that does not fit reports false; the caller raises the
** runtime error.
**
** Dates use Howard Hinnant's days_from_civil / civil_from_days (proleptic
** Gregorian, exact for any year an int64 of days can reach).
**
** Formatting is what interpolation shows ("1500.00 RUB", "2026-01-12
** 10:00", "1 month 2 days"); names of enum values, stages, directions and
** roles need the program, so value_format prints their ids as "#<id>".
*/
#include "vm/value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- currencies ---------------------------------------------------------- */

/* The codes the lexer accepts (parse/lex_util.c), RUB first: index 0 is
** the default currency. New codes go at the end, since compiled programs
** store the index. */
static const char *const currencies[] = {"RUB", "USD", "EUR", "CNY", "KZT", "BYN", "UAH",
                                         "GBP", "CHF", "JPY", "TRY", "AED", "KGS", "UZS"};
#define NCURRENCIES (sizeof currencies / sizeof currencies[0])

uint16_t currency_index(const char *code) {
  for (size_t i = 0; i < NCURRENCIES; i++)
    if (!strcmp(currencies[i], code)) return (uint16_t)i;
  return UINT16_MAX;
}

/* Returns "XXX" (ISO 4217: no currency) for an index out of range, so a
** formatter never prints a null pointer. */
const char *currency_code(uint16_t index) {
  return index < NCURRENCIES ? currencies[index] : "XXX";
}

/* ---- texts and lists ----------------------------------------------------- */

/* Copies n bytes of s into the arena as a Text (NUL-terminated). Texts
** longer than 4 GiB cannot be represented; the process aborts. */
Text *text_new(Arena *a, const char *s, size_t n) {
  if (n > UINT32_MAX) abort();
  Text *t = arena_alloc(a, sizeof(Text) + n + 1);
  t->len = (uint32_t)n;
  if (n) memcpy(t->s, s, n);
  t->s[n] = '\0';
  return t;
}

/* An empty list with room for cap items. */
List *list_new(Arena *a, uint32_t cap) {
  List *l = ARENA_NEW(a, List);
  l->cap = cap;
  l->items = cap ? arena_alloc(a, (size_t)cap * sizeof(Value)) : NULL;
  return l;
}

/* Appends v. When the list is full the items move to an array twice as
** big in the same arena (the old array stays behind until the arena dies,
** as everything in an arena does). */
void list_push(Arena *a, List *l, Value v) {
  if (l->len == l->cap) {
    if (l->cap >= UINT32_MAX / 2) abort();
    uint32_t cap = l->cap ? l->cap * 2 : 4;
    Value *items = arena_alloc(a, (size_t)cap * sizeof(Value));
    if (l->len) memcpy(items, l->items, (size_t)l->len * sizeof(Value));
    l->items = items;
    l->cap = cap;
  }
  l->items[l->len++] = v;
}

/* ---- exact arithmetic ---------------------------------------------------- */

typedef __int128 i128;

/* n / d rounded half away from zero, stored in *out if it fits an int64.
** d must not be zero. */
static bool div_round(i128 n, i128 d, int64_t *out) {
  if (d == 0) return false;
  i128 q = n / d, r = n % d;
  i128 ar = r < 0 ? -r : r, ad = d < 0 ? -d : d;
  if (ar * 2 >= ad) q += ((n < 0) == (d < 0)) ? 1 : -1;
  if (q > INT64_MAX || q < INT64_MIN) return false;
  *out = (int64_t)q;
  return true;
}

/* a * b for two decimals: the 128-bit product has twelve places; it is
** scaled back to six, rounding half away from zero. */
bool dec_mul(int64_t a, int64_t b, int64_t *out) {
  return div_round((i128)a * b, DEC_SCALE, out);
}

/* a / b for two decimals, rounded half away from zero at the sixth place.
** False when b is zero or the quotient does not fit. */
bool dec_div(int64_t a, int64_t b, int64_t *out) {
  return div_round((i128)a * DEC_SCALE, b, out);
}

/* Minor units times a decimal, rounded to the kopeck (half away from
** zero): 100.50 RUB * 0.01 = 1.01 RUB. */
bool money_mul_dec(int64_t minor, int64_t dec, int64_t *out) {
  return div_round((i128)minor * dec, DEC_SCALE, out);
}

/* Minor units divided by a decimal, rounded to the kopeck: 1001.01 / 2 =
** 500.51. False when dec is zero or the result does not fit. */
bool money_div_dec(int64_t minor, int64_t dec, int64_t *out) {
  return div_round((i128)minor * DEC_SCALE, dec, out);
}

/* a / b for two amounts of one currency, as a decimal (six places). */
bool money_ratio(int64_t a, int64_t b, int64_t *out) {
  return div_round((i128)a * DEC_SCALE, b, out);
}

/* ---- dates --------------------------------------------------------------- */

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12, d
** 1..31; a day past the month's end simply runs into the next month). */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  int64_t mm = m, dd = d;
  y -= mm <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                    /* [0, 399] */
  int64_t doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + dd - 1;  /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d) {
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;                                       /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  /* [0, 399] */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
  int64_t mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned month_days(int64_t y, unsigned m) {
  static const unsigned char n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* The date n months after (or, for negative n, before) the date `days`,
** with the day clamped to the end of the target month: Jan 31 + 1 month =
** Feb 28 (29 in a leap year). */
int64_t date_add_months(int64_t days, int64_t months) {
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  i128 t = (i128)y * 12 + (m - 1) + months;
  i128 ny = t >= 0 ? t / 12 : -((-t + 11) / 12);   /* floor division */
  unsigned nm = (unsigned)(t - ny * 12) + 1;
  unsigned md = month_days((int64_t)ny, nm);
  return days_from_civil((int64_t)ny, nm, d > md ? md : d);
}

/* ---- equality and order -------------------------------------------------- */

static int cmp_i128(i128 a, i128 b) { return a < b ? -1 : a > b; }

static bool text_eq(const Text *a, const Text *b) {
  if (a == b) return true;
  if (!a || !b) return false;
  return a->len == b->len && !memcmp(a->s, b->s, a->len);
}

/* Byte order, which for UTF-8 is the order of code points. */
static int text_cmp(const Text *a, const Text *b) {
  uint32_t la = a ? a->len : 0, lb = b ? b->len : 0;
  int c = memcmp(a ? a->s : "", b ? b->s : "", la < lb ? la : lb);
  if (c) return c < 0 ? -1 : 1;
  return la < lb ? -1 : la > lb;
}

static bool obj_eq(const Obj *a, const Obj *b) {
  if (a == b) return true;
  if (!a || !b || a->len != b->len) return false;
  for (uint32_t i = 0; i < a->len; i++) {
    uint32_t j = 0;
    while (j < b->len && strcmp(a->keys[i], b->keys[j])) j++;
    if (j == b->len || !value_eq(&a->vals[i], &b->vals[j])) return false;
  }
  return true;
}

/* True when the values are equal as == sees them: the same type and
** payload (texts by bytes, lists element by element, objects key by key
** in any order, money only in one currency), except that an int equals a
** decimal of the same value. */
bool value_eq(const Value *a, const Value *b) {
  if (a->type != b->type) {
    if (a->type == V_INT && b->type == V_DEC) return (i128)a->u.i * DEC_SCALE == b->u.i;
    if (a->type == V_DEC && b->type == V_INT) return (i128)b->u.i * DEC_SCALE == a->u.i;
    return false;
  }
  switch ((ValueType)a->type) {
  case V_NULL: return true;
  case V_BOOL: return !a->u.i == !b->u.i;
  case V_MONEY:
  case V_ENUM:
  case V_REC: return a->aux == b->aux && a->u.i == b->u.i;
  case V_DURATION:
    return a->flags == b->flags && a->aux == b->aux && a->aux32 == b->aux32 && a->u.i == b->u.i;
  case V_TEXT:
  case V_USER: return text_eq(a->u.t, b->u.t);
  case V_LIST: {
    const List *x = a->u.l, *y = b->u.l;
    if (x == y) return true;
    uint32_t nx = x ? x->len : 0, ny = y ? y->len : 0;
    if (nx != ny) return false;
    for (uint32_t i = 0; i < nx; i++)
      if (!value_eq(&x->items[i], &y->items[i])) return false;
    return true;
  }
  case V_OBJ: return obj_eq(a->u.o, b->u.o);
  case V_INT:
  case V_DEC:
  case V_DATE:
  case V_DATETIME:
  case V_STAGE:
  case V_DIR:
  case V_ROLE: return a->u.i == b->u.i;
  case V__COUNT: break;
  }
  return false;
}

/* -1, 0 or 1 for a < b, a == b, a > b. Ordered: numbers (int and decimal
** together), money of one currency, dates, datetimes, durations of one
** kind (calendar: months, then days, then seconds; working: days, then
** minutes), texts by bytes, bools (false < true). Anything else sets *ok
** to false and returns 0. */
int value_cmp(const Value *a, const Value *b, bool *ok) {
  bool dummy;
  if (!ok) ok = &dummy;
  *ok = true;
  ValueType ta = a->type, tb = b->type;
  if ((ta == V_INT || ta == V_DEC) && (tb == V_INT || tb == V_DEC)) {
    i128 x = ta == V_INT ? (i128)a->u.i * DEC_SCALE : a->u.i;
    i128 y = tb == V_INT ? (i128)b->u.i * DEC_SCALE : b->u.i;
    return cmp_i128(x, y);
  }
  if (ta == tb) {
    switch (ta) {
    case V_MONEY:
      if (a->aux != b->aux) break;
      return cmp_i128(a->u.i, b->u.i);
    case V_BOOL: return cmp_i128(!!a->u.i, !!b->u.i);
    case V_DATE:
    case V_DATETIME: return cmp_i128(a->u.i, b->u.i);
    case V_DURATION: {
      if ((a->flags & VF_WORK) != (b->flags & VF_WORK)) break;
      int c = 0;
      if (!(a->flags & VF_WORK)) c = cmp_i128((int16_t)a->aux, (int16_t)b->aux);
      if (!c) c = cmp_i128(a->aux32, b->aux32);
      if (!c) c = cmp_i128(a->u.i, b->u.i);
      return c;
    }
    case V_TEXT: return text_cmp(a->u.t, b->u.t);
    default: break;
    }
  }
  *ok = false;
  return 0;
}

/* ---- formatting ---------------------------------------------------------- */

/* The magnitude of an int64 without overflow at INT64_MIN. */
static uint64_t mag(int64_t v) { return v < 0 ? -(uint64_t)v : (uint64_t)v; }

static void fmt_dec(StrBuf *b, int64_t v) {
  uint64_t u = mag(v), ip = u / DEC_SCALE, fp = u % DEC_SCALE;
  sb_printf(b, "%s%llu", v < 0 ? "-" : "", (unsigned long long)ip);
  if (!fp) return;
  char frac[8];
  snprintf(frac, sizeof frac, "%06llu", (unsigned long long)fp);
  int n = 6;
  while (frac[n - 1] == '0') n--;
  sb_putc(b, '.');
  sb_add(b, frac, (size_t)n);
}

static void fmt_date(StrBuf *b, int64_t days) {
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  sb_printf(b, "%04lld-%02u-%02u", (long long)y, m, d);
}

static void fmt_datetime(StrBuf *b, int64_t secs) {
  int64_t days = secs / 86400, s = secs % 86400;
  if (s < 0) {
    s += 86400;
    days--;
  }
  fmt_date(b, days);
  sb_printf(b, " %02d:%02d", (int)(s / 3600), (int)(s % 3600 / 60));
  if (s % 60) sb_printf(b, ":%02d", (int)(s % 60));
}

/* One part of a duration, "2 hours", skipped when zero. */
static void fmt_part(StrBuf *b, bool *first, int64_t n, const char *unit) {
  if (!n) return;
  sb_printf(b, "%s%lld %s%s", *first ? "" : " ", (long long)n, unit,
            n == 1 || n == -1 ? "" : "s");
  *first = false;
}

/* A duration the way the language writes it: "1 year 2 months 3 days",
** "2 hours 30 minutes", "3 workdays 4 workhours"; each part carries its own
** sign ("-1 month -2 days"). Seconds, which no literal has, appear only
** when a datetime difference leaves some. A zero duration is "0 minutes"
** (working: "0 workhours"). */
static void fmt_duration(StrBuf *b, const Value *v) {
  bool first = true;
  if (v->flags & VF_WORK) {
    fmt_part(b, &first, v->aux32, "workday");
    fmt_part(b, &first, v->u.i / 60, "workhour");
    fmt_part(b, &first, v->u.i % 60, "minute");
    if (first) sb_puts(b, "0 workhours");
    return;
  }
  int64_t months = (int16_t)v->aux, s = v->u.i;
  fmt_part(b, &first, months / 12, "year");
  fmt_part(b, &first, months % 12, "month");
  fmt_part(b, &first, v->aux32, "day");
  fmt_part(b, &first, s / 3600, "hour");
  fmt_part(b, &first, s % 3600 / 60, "minute");
  fmt_part(b, &first, s % 60, "second");
  if (first) sb_puts(b, "0 minutes");
}

static void fmt_text(StrBuf *b, const Text *t) {
  if (t) sb_add(b, t->s, t->len);
}

/* Entity kinds in the order of EntityKind (check/check.h). */
static const char *const entity_names[] = {"deal", "contact", "company", "lead"};

/* Appends v as interpolation shows it (see value.h). Texts inside lists
** and objects are shown as is, without quotes. */
void value_format(StrBuf *b, const Value *v) {
  switch ((ValueType)v->type) {
  case V_NULL: return;
  case V_BOOL: sb_puts(b, v->u.i ? "true" : "false"); return;
  case V_INT: sb_printf(b, "%lld", (long long)v->u.i); return;
  case V_DEC: fmt_dec(b, v->u.i); return;
  case V_MONEY: {
    uint64_t u = mag(v->u.i);
    sb_printf(b, "%s%llu.%02llu %s", v->u.i < 0 ? "-" : "", (unsigned long long)(u / 100),
              (unsigned long long)(u % 100), currency_code(v->aux));
    return;
  }
  case V_DATE: fmt_date(b, v->u.i); return;
  case V_DATETIME: fmt_datetime(b, v->u.i); return;
  case V_DURATION: fmt_duration(b, v); return;
  case V_TEXT:
  case V_USER: fmt_text(b, v->u.t); return;
  case V_ENUM:
  case V_STAGE:
  case V_DIR:
  case V_ROLE: sb_printf(b, "#%lld", (long long)v->u.i); return;
  case V_REC:
    if (v->aux < sizeof entity_names / sizeof *entity_names)
      sb_printf(b, "%s#%lld", entity_names[v->aux], (long long)v->u.i);
    else
      sb_printf(b, "record%u#%lld", (unsigned)v->aux, (long long)v->u.i);
    return;
  case V_LIST: {
    sb_putc(b, '[');
    const List *l = v->u.l;
    for (uint32_t i = 0; l && i < l->len; i++) {
      if (i) sb_puts(b, ", ");
      value_format(b, &l->items[i]);
    }
    sb_putc(b, ']');
    return;
  }
  case V_OBJ: {
    sb_putc(b, '{');
    const Obj *o = v->u.o;
    for (uint32_t i = 0; o && i < o->len; i++) {
      sb_printf(b, "%s%s: ", i ? ", " : "", o->keys[i]);
      value_format(b, &o->vals[i]);
    }
    sb_putc(b, '}');
    return;
  }
  case V__COUNT: break;
  }
  sb_printf(b, "<type %u>", (unsigned)v->type);
}

/* A copy of v whose texts, lists and objects (keys included) live in a;
** inline values are returned as they are. */
Value value_copy(Arena *a, const Value *v) {
  Value c = *v;
  switch ((ValueType)v->type) {
  case V_TEXT:
  case V_USER:
    if (v->u.t) c.u.t = text_new(a, v->u.t->s, v->u.t->len);
    break;
  case V_LIST:
    if (v->u.l) {
      const List *l = v->u.l;
      List *n = list_new(a, l->len);
      for (uint32_t i = 0; i < l->len; i++) n->items[i] = value_copy(a, &l->items[i]);
      n->len = l->len;
      c.u.l = n;
    }
    break;
  case V_OBJ:
    if (v->u.o) {
      const Obj *o = v->u.o;
      Obj *n = ARENA_NEW(a, Obj);
      n->len = o->len;
      if (o->len) {
        n->keys = arena_alloc(a, (size_t)o->len * sizeof *n->keys);
        n->vals = arena_alloc(a, (size_t)o->len * sizeof *n->vals);
      }
      for (uint32_t i = 0; i < o->len; i++) {
        n->keys[i] = arena_strdup(a, o->keys[i]);
        n->vals[i] = value_copy(a, &o->vals[i]);
      }
      c.u.o = n;
    }
    break;
  default: break;
  }
  return c;
}
