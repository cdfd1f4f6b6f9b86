/*
** value.h: the VM's values. A Value is 16 bytes: a type tag, a little
** inline data, and a 64-bit payload or a pointer to an object.
**
** Ownership: objects (text, lists, payload records) live in an arena. The
** program's constants live in the program's arena for as long as the
** program; everything a run creates lives in the run's scratch arena and
** dies with the run. Nothing is reference-counted; a host that keeps a
** value past a run copies it (value_copy) into memory of its own.
**
** Exact numbers:
**   int       u.i, 64-bit, overflow is a runtime error
**   decimal   u.i = value * 10^6 (six places), overflow is an error
**   money     u.i = minor units (kopecks: two places), aux = currency
**   date      u.i = days since 1970-01-01
**   datetime  u.i = seconds since 1970-01-01 00:00 UTC
**   duration  months (aux, signed), days (aux32), seconds (u.i); or, with
**             VF_WORK, working days (aux32) and working minutes (u.i)
** Money rounding: to the kopeck, half away from zero (1.005 -> 1.01,
** -1.005 -> -1.01), the rule of Russian accounting practice.
*/
#ifndef FUNNEL_VALUE_H
#define FUNNEL_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/strbuf.h"

typedef enum ValueType {
  V_NULL, V_BOOL, V_INT, V_DEC, V_MONEY, V_DATE, V_DATETIME, V_DURATION,
  V_TEXT,      /* o: Text */
  V_ENUM,      /* aux: enum id, u.i: value index */
  V_LIST,      /* o: List */
  V_REC,       /* aux: entity kind, u.i: record id (0: none) */
  V_USER,      /* o: Text, the user's id */
  V_STAGE,     /* u.i: stage id */
  V_DIR,       /* u.i: direction id */
  V_ROLE,      /* u.i: role id */
  V_OBJ,       /* o: Obj, a record of named values (event payload, effect) */
  V__COUNT
} ValueType;

enum ValueFlags { VF_WORK = 1 };

typedef struct Text {
  uint32_t len;
  char s[];    /* NUL-terminated UTF-8 */
} Text;

typedef struct Value Value;

typedef struct List {
  uint32_t len, cap;
  Value *items;
} List;

/* A small record of named values: an event's payload, an effect in tests. */
typedef struct Obj {
  uint32_t len;
  const char **keys;
  Value *vals;
} Obj;

struct Value {
  uint8_t type;
  uint8_t flags;
  uint16_t aux;
  int32_t aux32;
  union {
    int64_t i;
    Text *t;
    List *l;
    Obj *o;
  } u;
};

_Static_assert(sizeof(Value) == 16, "a Value is 16 bytes");

#define DEC_SCALE 1000000LL   /* decimals: six places */
#define MONEY_SCALE 100LL     /* money: kopecks */

static inline Value v_null(void) { Value v = {0}; return v; }
static inline Value v_bool(bool b) { Value v = {0}; v.type = V_BOOL; v.u.i = b; return v; }
static inline Value v_int(int64_t i) { Value v = {0}; v.type = V_INT; v.u.i = i; return v; }
static inline Value v_dec(int64_t scaled) { Value v = {0}; v.type = V_DEC; v.u.i = scaled; return v; }
static inline Value v_money(int64_t minor, uint16_t cur) {
  Value v = {0}; v.type = V_MONEY; v.aux = cur; v.u.i = minor; return v;
}
static inline Value v_date(int64_t days) { Value v = {0}; v.type = V_DATE; v.u.i = days; return v; }
static inline Value v_datetime(int64_t secs) { Value v = {0}; v.type = V_DATETIME; v.u.i = secs; return v; }
static inline Value v_text(Text *t) { Value v = {0}; v.type = V_TEXT; v.u.t = t; return v; }
static inline Value v_list(List *l) { Value v = {0}; v.type = V_LIST; v.u.l = l; return v; }
static inline Value v_tagged(ValueType t, int64_t i) { Value v = {0}; v.type = (uint8_t)t; v.u.i = i; return v; }

/* Currencies: index <-> ISO code. Index 0 is RUB, the default. */
uint16_t currency_index(const char *code);  /* UINT16_MAX if unknown */
const char *currency_code(uint16_t index);

Text *text_new(Arena *a, const char *s, size_t n);
List *list_new(Arena *a, uint32_t cap);
void list_push(Arena *a, List *l, Value v);

/* Exact arithmetic; each returns false on overflow (the result is then
** unspecified). */
bool dec_mul(int64_t a, int64_t b, int64_t *out);      /* scaled * scaled */
bool dec_div(int64_t a, int64_t b, int64_t *out);      /* scaled / scaled, b != 0 */
/* minor units * a decimal (scaled), rounded half away from zero */
bool money_mul_dec(int64_t minor, int64_t dec, int64_t *out);
bool money_div_dec(int64_t minor, int64_t dec, int64_t *out);
/* money / money as a decimal */
bool money_ratio(int64_t a, int64_t b, int64_t *out);

/* Dates: civil <-> days. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* d plus n months, the day clamped to the month's end (Jan 31 + 1 month
** = Feb 28 or 29). */
int64_t date_add_months(int64_t days, int64_t months);

/* Equality and order as the language defines them (== on every type; <
** on numbers, money of one currency, dates, durations, text). */
bool value_eq(const Value *a, const Value *b);
/* -1, 0, 1; *ok false if the two are not ordered (different types or
** currencies). */
int value_cmp(const Value *a, const Value *b, bool *ok);

/* Appends the value as text, the way interpolation shows it:
** 1500.00 RUB, 2026-01-12, 2026-01-12 10:00, 3 days, true. Names of enum
** values and stages need the program; value_format prints their ids. */
void value_format(StrBuf *b, const Value *v);
/* Deep copy into another arena. */
Value value_copy(Arena *a, const Value *v);

#endif
