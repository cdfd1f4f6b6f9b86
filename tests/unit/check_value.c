/*
** check_value.c: the VM's values (src/vm/value.c): currencies, exact
** fixed-point arithmetic and its rounding, civil dates and month
** arithmetic, equality and order, the text interpolation shows, and texts,
** lists and deep copies in arenas. Each test gets a fresh arena `ta`
** (and a second one, `tb`, for copies); run under ASan they must be clean.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/value.h"

static Arena ta, tb;

static void va_setup(void) {
  arena_init(&ta);
  arena_init(&tb);
}

static void va_teardown(void) {
  arena_free(&ta);
  arena_free(&tb);
}

/* ---- helpers ------------------------------------------------------------- */

/* Formats v and compares with the expected text. */
#define ck_fmt(v, want)                                   \
  do {                                                    \
    Value fv_ = (v);                                      \
    StrBuf fb_ = {0};                                     \
    value_format(&fb_, &fv_);                             \
    ck_assert_str_eq(sb_str(&fb_), (want));               \
    sb_free(&fb_);                                        \
  } while (0)

static Value dur(int months, int days, int64_t secs) {
  Value v = v_tagged(V_DURATION, secs);
  v.aux = (uint16_t)(int16_t)months;
  v.aux32 = days;
  return v;
}

static Value wdur(int days, int64_t minutes) {
  Value v = v_tagged(V_DURATION, minutes);
  v.flags = VF_WORK;
  v.aux32 = days;
  return v;
}

static Value txt(const char *s) { return v_text(text_new(&ta, s, strlen(s))); }

static int64_t ymd(int64_t y, unsigned m, unsigned d) { return days_from_civil(y, m, d); }

/* The date `days` as "YYYY-MM-DD" in a static buffer. */
static const char *date_str(int64_t days) {
  static char buf[32];
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  snprintf(buf, sizeof buf, "%04lld-%02u-%02u", (long long)y, m, d);
  return buf;
}

#define D(x) ((int64_t)((x) * 1000000.0 + ((x) < 0 ? -0.5 : 0.5))) /* decimal literal */

/* ---- core ---------------------------------------------------------------- */

START_TEST(val_1_1_currencies) {
  ck_assert_uint_eq(currency_index("RUB"), 0);
  ck_assert_str_eq(currency_code(0), "RUB");
  /* every code the lexer accepts (parse/lex_util.c) round-trips */
  const char *codes[] = {"AED", "BYN", "CHF", "CNY", "EUR", "GBP", "JPY",
                         "KGS", "KZT", "RUB", "TRY", "UAH", "USD", "UZS"};
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
    uint16_t k = currency_index(codes[i]);
    ck_assert_msg(k != UINT16_MAX, "%s unknown", codes[i]);
    ck_assert_str_eq(currency_code(k), codes[i]);
  }
  ck_assert_uint_eq(currency_index("XYZ"), UINT16_MAX);
  ck_assert_uint_eq(currency_index("rub"), UINT16_MAX);
  ck_assert_uint_eq(currency_index(""), UINT16_MAX);
}
END_TEST

/* money * decimal and money / decimal, to the kopeck, half away from zero */
static const struct {
  char op;              /* '*' money_mul_dec, '/' money_div_dec */
  int64_t minor, dec, want;
} money_cases[] = {
    {'*', 10050, D(0.01), 101},      /* 100.50 * 0.01 = 1.005 -> 1.01 */
    {'*', -10050, D(0.01), -101},    /* -1.005 -> -1.01 */
    {'*', 10050, D(-0.01), -101},
    {'*', -10050, D(-0.01), 101},
    {'*', 100, D(0.335), 34},        /* 0.335 -> 0.34 */
    {'*', -100, D(0.335), -34},
    {'*', 100, D(0.334999), 33},
    {'*', 100, D(0.333333), 33},
    {'*', 1, D(0.5), 1},
    {'*', -1, D(0.5), -1},
    {'*', 1, D(0.499999), 0},
    {'*', -1, D(0.499999), 0},
    {'*', 150000, D(1.2), 180000},   /* 1500.00 * 1.2 = 1800.00 */
    {'*', 12345, D(0.13), 1605},     /* 123.45 * 0.13 = 16.0485 -> 16.05 */
    {'*', 12345, 0, 0},
    {'*', 0, D(-3), 0},
    {'/', 100101, D(2), 50051},      /* 1001.01 / 2 = 500.505 -> 500.51 */
    {'/', -100101, D(2), -50051},
    {'/', 100101, D(-2), -50051},
    {'/', 100, D(3), 33},
    {'/', 200, D(3), 67},
    {'/', -200, D(3), -67},
    {'/', 100, D(0.3), 333},
    {'/', 1, D(2), 1},
    {'/', 1, D(-2), -1},
    {'/', 100, D(8), 13},            /* 12.5 -> 13 */
    {'/', -100, D(8), -13},
    {'/', 1, D(0.000001), 1000000},
    {'/', 150000, D(1.2), 125000},
};

START_TEST(val_1_2_money_rounding) {
  int64_t out = 12345;
  bool ok = money_cases[_i].op == '*'
                ? money_mul_dec(money_cases[_i].minor, money_cases[_i].dec, &out)
                : money_div_dec(money_cases[_i].minor, money_cases[_i].dec, &out);
  ck_assert_msg(ok, "case %d overflowed", _i);
  ck_assert_msg(out == money_cases[_i].want, "case %d: %lld %c %lld = %lld, want %lld", _i,
                (long long)money_cases[_i].minor, money_cases[_i].op,
                (long long)money_cases[_i].dec, (long long)out, (long long)money_cases[_i].want);
}
END_TEST

START_TEST(val_1_3_decimal_arithmetic) {
  int64_t r;
  ck_assert(dec_mul(D(1.5), D(1.5), &r) && r == D(2.25));
  ck_assert(dec_mul(D(-1.5), D(1.5), &r) && r == D(-2.25));
  ck_assert(dec_mul(D(0.001), D(0.001), &r) && r == 1);
  ck_assert(dec_mul(D(0.0005), D(0.001), &r) && r == 1);   /* 0.0000005 -> 0.000001 */
  ck_assert(dec_mul(D(-0.0005), D(0.001), &r) && r == -1);
  ck_assert(dec_mul(D(0.0004), D(0.001), &r) && r == 0);
  ck_assert(dec_mul(D(1000000), D(1000000), &r) && r == D(1000000000000.0));
  ck_assert(dec_div(D(1), D(3), &r) && r == 333333);
  ck_assert(dec_div(D(2), D(3), &r) && r == 666667);
  ck_assert(dec_div(D(-2), D(3), &r) && r == -666667);
  ck_assert(dec_div(D(10), D(4), &r) && r == D(2.5));
  ck_assert(dec_div(1, D(2), &r) && r == 1);               /* 0.0000005 -> 0.000001 */
  ck_assert(dec_div(-1, D(2), &r) && r == -1);
  ck_assert(dec_div(D(7), D(-7), &r) && r == D(-1));
  ck_assert(dec_div(0, D(5), &r) && r == 0);
  /* money / money gives a decimal */
  ck_assert(money_ratio(100, 300, &r) && r == 333333);
  ck_assert(money_ratio(200, 300, &r) && r == 666667);
  ck_assert(money_ratio(-200, 300, &r) && r == -666667);
  ck_assert(money_ratio(1, 8, &r) && r == 125000);
  ck_assert(money_ratio(150000, 100000, &r) && r == D(1.5));
  ck_assert(money_ratio(1, 2000000, &r) && r == 1);        /* 0.0000005 -> 0.000001 */
  ck_assert(money_ratio(1, 2000001, &r) && r == 0);
}
END_TEST

START_TEST(val_1_4_date_round_trip) {
  ck_assert_int_eq(ymd(1970, 1, 1), 0);
  ck_assert_int_eq(ymd(2026, 1, 12), 20465);
  ck_assert_int_eq(ymd(2000, 3, 1), 11017);
  ck_assert_int_eq(ymd(1900, 1, 1), -25567);
  ck_assert_int_eq(ymd(2100, 12, 31), 47846);
  ck_assert_int_eq(ymd(2024, 2, 29), 19782);
  /* every day from 1900 to 2100: consecutive numbers, both directions agree */
  int64_t n = ymd(1900, 1, 1), y = 1900;
  unsigned m = 1, d = 1;
  for (; y <= 2100; n++) {
    int64_t cy;
    unsigned cm, cd;
    civil_from_days(n, &cy, &cm, &cd);
    ck_assert_msg(cy == y && cm == m && cd == d, "day %lld: %lld-%u-%u, want %lld-%u-%u",
                  (long long)n, (long long)cy, cm, cd, (long long)y, m, d);
    ck_assert_int_eq(days_from_civil(y, m, d), n);
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
    if (++d > last) {
      d = 1;
      if (++m > 12) {
        m = 1;
        y++;
      }
    }
  }
  ck_assert_int_eq(n, ymd(2101, 1, 1));
}
END_TEST

START_TEST(val_1_5_leap_years) {
  const struct {
    int64_t y;
    int feb;
  } cases[] = {{1900, 28}, {2000, 29}, {2024, 29}, {2025, 28}, {2100, 28}, {2400, 29}, {1600, 29}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int64_t feb = ymd(cases[i].y, 3, 1) - ymd(cases[i].y, 2, 1);
    ck_assert_msg(feb == cases[i].feb, "%lld: February has %lld days", (long long)cases[i].y,
                  (long long)feb);
    ck_assert_int_eq(ymd(cases[i].y + 1, 1, 1) - ymd(cases[i].y, 1, 1), 337 + cases[i].feb);
  }
}
END_TEST

START_TEST(val_1_6_month_end_clamping) {
  const struct {
    int64_t y;
    unsigned m, d;
    int64_t months;
    const char *want;
  } cases[] = {
      {2025, 1, 31, 1, "2025-02-28"},   {2024, 1, 31, 1, "2024-02-29"},
      {2024, 2, 29, 12, "2025-02-28"},  {2024, 2, 29, 48, "2028-02-29"},
      {2025, 3, 31, -1, "2025-02-28"},  {2025, 3, 31, -13, "2024-02-29"},
      {2024, 12, 31, 2, "2025-02-28"},  {2025, 1, 15, -1, "2024-12-15"},
      {2025, 8, 31, 6, "2026-02-28"},   {2025, 10, 31, 1, "2025-11-30"},
      {2025, 5, 17, 0, "2025-05-17"},   {2025, 5, 17, -24, "2023-05-17"},
      {2025, 12, 1, 1, "2026-01-01"},   {2025, 1, 1, -1, "2024-12-01"},
      {2025, 1, 31, -12, "2024-01-31"}, {2000, 2, 29, -100, "1991-10-29"},
      {1970, 1, 31, -1, "1969-12-31"},  {1969, 3, 31, -1, "1969-02-28"},
      {2026, 1, 12, 1200, "2126-01-12"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int64_t r = date_add_months(ymd(cases[i].y, cases[i].m, cases[i].d), cases[i].months);
    ck_assert_msg(!strcmp(date_str(r), cases[i].want), "case %zu: %s, want %s", i, date_str(r),
                  cases[i].want);
  }
}
END_TEST

START_TEST(val_1_7_format_scalars) {
  ck_fmt(v_int(42), "42");
  ck_fmt(v_int(-7), "-7");
  ck_fmt(v_int(0), "0");
  ck_fmt(v_dec(D(3.5)), "3.5");
  ck_fmt(v_dec(D(2)), "2");
  ck_fmt(v_dec(-1), "-0.000001");
  ck_fmt(v_dec(1), "0.000001");
  ck_fmt(v_dec(D(-2.25)), "-2.25");
  ck_fmt(v_dec(D(0.1)), "0.1");
  ck_fmt(v_dec(0), "0");
  ck_fmt(v_dec(D(1234567.000120)), "1234567.00012");
  ck_fmt(v_money(150000, 0), "1500.00 RUB");
  ck_fmt(v_money(150000, currency_index("USD")), "1500.00 USD");
  ck_fmt(v_money(5, 0), "0.05 RUB");
  ck_fmt(v_money(-50, currency_index("EUR")), "-0.50 EUR");
  ck_fmt(v_money(-150001, 0), "-1500.01 RUB");
  ck_fmt(v_money(0, 0), "0.00 RUB");
  ck_fmt(v_date(20465), "2026-01-12");
  ck_fmt(v_date(0), "1970-01-01");
  ck_fmt(v_date(-1), "1969-12-31");
  ck_fmt(v_datetime(20465 * 86400LL + 10 * 3600), "2026-01-12 10:00");
  ck_fmt(v_datetime(20465 * 86400LL + 10 * 3600 + 5 * 60 + 7), "2026-01-12 10:05:07");
  ck_fmt(v_datetime(0), "1970-01-01 00:00");
  ck_fmt(v_datetime(-1), "1969-12-31 23:59:59");
  ck_fmt(v_datetime(-86400), "1969-12-31 00:00");
  ck_fmt(v_bool(true), "true");
  ck_fmt(v_bool(false), "false");
  ck_fmt(v_null(), "");
  ck_fmt(txt("Привет, мир"), "Привет, мир");
  ck_fmt(txt(""), "");
}
END_TEST

START_TEST(val_1_8_format_durations) {
  ck_fmt(dur(0, 3, 0), "3 days");
  ck_fmt(dur(0, 1, 0), "1 day");
  ck_fmt(dur(1, 2, 0), "1 month 2 days");
  ck_fmt(dur(0, 0, 2 * 3600 + 30 * 60), "2 hours 30 minutes");
  ck_fmt(dur(0, 0, 3600), "1 hour");
  ck_fmt(dur(0, 0, 60), "1 minute");
  ck_fmt(dur(12, 0, 0), "1 year");
  ck_fmt(dur(26, 0, 0), "2 years 2 months");
  ck_fmt(dur(0, 0, 0), "0 minutes");
  ck_fmt(dur(0, -3, 0), "-3 days");
  ck_fmt(dur(-1, -2, 0), "-1 month -2 days");
  ck_fmt(dur(0, 0, 90), "1 minute 30 seconds");
  ck_fmt(dur(1, 1, 3661), "1 month 1 day 1 hour 1 minute 1 second");
  ck_fmt(wdur(3, 0), "3 workdays");
  ck_fmt(wdur(1, 0), "1 workday");
  ck_fmt(wdur(0, 4 * 60), "4 workhours");
  ck_fmt(wdur(2, 90), "2 workdays 1 workhour 30 minutes");
  ck_fmt(wdur(0, 0), "0 workhours");
}
END_TEST

START_TEST(val_1_9_format_compound) {
  List *l = list_new(&ta, 0);
  list_push(&ta, l, txt("a"));
  list_push(&ta, l, txt("b"));
  ck_fmt(v_list(l), "[a, b]");
  ck_fmt(v_list(list_new(&ta, 2)), "[]");
  List *m = list_new(&ta, 1);
  list_push(&ta, m, v_int(1));
  list_push(&ta, m, v_money(100, 0));
  list_push(&ta, m, v_list(l));
  list_push(&ta, m, v_null());
  ck_fmt(v_list(m), "[1, 1.00 RUB, [a, b], ]");
  Value u = txt("ivanov");
  u.type = V_USER;
  ck_fmt(u, "ivanov");
  ck_fmt(v_tagged(V_STAGE, 3), "#3");
  ck_fmt(v_tagged(V_DIR, 0), "#0");
  ck_fmt(v_tagged(V_ROLE, 12), "#12");
  Value e = v_tagged(V_ENUM, 2);
  e.aux = 5;
  ck_fmt(e, "#2");
  Value r = v_tagged(V_REC, 12);
  ck_fmt(r, "deal#12");
  r.aux = 3;
  ck_fmt(r, "lead#12");
  r.aux = 1;
  ck_fmt(r, "contact#12");
  r.aux = 2;
  ck_fmt(r, "company#12");
  const char *keys[] = {"sum", "who", "tags"};
  Value vals[] = {v_money(150000, 0), txt("Анна"), v_list(l)};
  Obj o = {3, keys, vals};
  Value ov = {.type = V_OBJ, .u.o = &o};
  ck_fmt(ov, "{sum: 1500.00 RUB, who: Анна, tags: [a, b]}");
  Obj empty = {0, NULL, NULL};
  ov.u.o = &empty;
  ck_fmt(ov, "{}");
}
END_TEST

/* value_eq: one table, checked in both directions */
START_TEST(val_1_10_equality) {
  List *l1 = list_new(&ta, 0), *l2 = list_new(&ta, 0), *l3 = list_new(&ta, 0);
  list_push(&ta, l1, v_int(1));
  list_push(&ta, l1, txt("x"));
  list_push(&ta, l2, v_dec(D(1)));
  list_push(&ta, l2, txt("x"));
  list_push(&ta, l3, v_int(1));
  Value user = txt("ivanov"), user2 = txt("ivanov");
  user.type = user2.type = V_USER;
  Value e1 = v_tagged(V_ENUM, 1), e2 = v_tagged(V_ENUM, 1);
  e2.aux = 1;
  Value r1 = v_tagged(V_REC, 7), r2 = v_tagged(V_REC, 7);
  r2.aux = 3;
  const char *k1[] = {"a", "b"}, *k2[] = {"b", "a"};
  Value v1[] = {v_int(1), txt("s")}, v2[] = {txt("s"), v_int(1)}, v3[] = {txt("s"), v_int(2)};
  Obj o1 = {2, k1, v1}, o2 = {2, k2, v2}, o3 = {2, k2, v3};
  Value ov1 = {.type = V_OBJ, .u.o = &o1}, ov2 = {.type = V_OBJ, .u.o = &o2},
        ov3 = {.type = V_OBJ, .u.o = &o3};
  const struct {
    Value a, b;
    bool eq;
  } cases[] = {
      {v_null(), v_null(), true},
      {v_null(), v_int(0), false},
      {v_null(), txt(""), false},
      {v_bool(true), v_bool(true), true},
      {v_bool(true), v_bool(false), false},
      {v_bool(false), v_int(0), false},
      {v_int(42), v_int(42), true},
      {v_int(42), v_int(43), false},
      {v_int(2), v_dec(D(2)), true},
      {v_int(2), v_dec(D(2.5)), false},
      {v_int(-3), v_dec(D(-3)), true},
      {v_int(INT64_MAX), v_dec(INT64_MAX), false},  /* no overflow in the comparison */
      {v_dec(D(0.5)), v_dec(D(0.5)), true},
      {v_money(100, 0), v_money(100, 0), true},
      {v_money(100, 0), v_money(100, 1), false},
      {v_money(100, 0), v_money(101, 0), false},
      {v_money(100, 0), v_int(1), false},
      {v_date(5), v_date(5), true},
      {v_date(0), v_datetime(0), false},
      {v_datetime(60), v_datetime(60), true},
      {dur(1, 2, 3), dur(1, 2, 3), true},
      {dur(0, 1, 0), dur(0, 0, 86400), false},
      {wdur(1, 0), dur(0, 1, 0), false},
      {wdur(1, 30), wdur(1, 30), true},
      {txt("abc"), txt("abc"), true},
      {txt("abc"), txt("abd"), false},
      {txt("ab"), txt("abc"), false},
      {txt("ё"), txt("ё"), true},
      {user, user2, true},
      {user, txt("ivanov"), false},
      {e1, e1, true},
      {e1, e2, false},
      {r1, r1, true},
      {r1, r2, false},
      {v_tagged(V_STAGE, 1), v_tagged(V_STAGE, 1), true},
      {v_tagged(V_STAGE, 1), v_tagged(V_DIR, 1), false},
      {v_tagged(V_ROLE, 1), v_tagged(V_ROLE, 2), false},
      {v_list(l1), v_list(l2), true},   /* element-wise: 1 == 1.0 */
      {v_list(l1), v_list(l3), false},
      {v_list(l3), v_list(list_new(&ta, 0)), false},
      {v_list(list_new(&ta, 4)), v_list(list_new(&ta, 0)), true},
      {ov1, ov2, true},                 /* keys in any order */
      {ov1, ov3, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    ck_assert_msg(value_eq(&cases[i].a, &cases[i].b) == cases[i].eq, "case %zu", i);
    ck_assert_msg(value_eq(&cases[i].b, &cases[i].a) == cases[i].eq, "case %zu reversed", i);
  }
}
END_TEST

/* value_cmp: a table of ordered pairs, each checked both ways */
START_TEST(val_1_11_order) {
  const struct {
    Value a, b;
    int cmp;
  } cases[] = {
      {v_int(1), v_int(2), -1},
      {v_int(2), v_int(2), 0},
      {v_int(-5), v_int(-6), 1},
      {v_int(2), v_dec(D(2.5)), -1},
      {v_int(3), v_dec(D(2.5)), 1},
      {v_int(2), v_dec(D(2)), 0},
      {v_int(INT64_MAX), v_dec(INT64_MAX), 1},
      {v_int(INT64_MIN), v_dec(INT64_MIN), -1},
      {v_dec(D(0.1)), v_dec(D(0.2)), -1},
      {v_money(100, 0), v_money(200, 0), -1},
      {v_money(-100, 2), v_money(-100, 2), 0},
      {v_date(1), v_date(0), 1},
      {v_datetime(-5), v_datetime(5), -1},
      {dur(1, 0, 0), dur(0, 40, 0), 1},       /* months first */
      {dur(0, 1, 0), dur(0, 0, 90000), 1},    /* then days */
      {dur(0, 1, 60), dur(0, 1, 120), -1},    /* then seconds */
      {dur(-1, 5, 0), dur(0, 0, 0), -1},
      {dur(2, 3, 4), dur(2, 3, 4), 0},
      {wdur(1, 0), wdur(0, 600), 1},
      {wdur(1, 10), wdur(1, 20), -1},
      {txt("abc"), txt("abd"), -1},
      {txt("ab"), txt("abc"), -1},
      {txt(""), txt("a"), -1},
      {txt("b"), txt("a"), 1},
      {txt("z"), txt("а"), -1},               /* Latin before Cyrillic (UTF-8 order) */
      {txt("е"), txt("ё"), -1},               /* U+0435 < U+0451 */
      {txt("я"), txt("ё"), -1},               /* U+044F < U+0451: code points, not the alphabet */
      {txt("same"), txt("same"), 0},
      {v_bool(false), v_bool(true), -1},
      {v_bool(true), v_bool(true), 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    bool ok = false;
    int c = value_cmp(&cases[i].a, &cases[i].b, &ok);
    ck_assert_msg(ok && c == cases[i].cmp, "case %zu: ok %d cmp %d", i, ok, c);
    ok = false;
    c = value_cmp(&cases[i].b, &cases[i].a, &ok);
    ck_assert_msg(ok && c == -cases[i].cmp, "case %zu reversed: ok %d cmp %d", i, ok, c);
  }
  /* ok may be NULL */
  Value a = v_int(1), b = v_int(2);
  ck_assert_int_eq(value_cmp(&a, &b, NULL), -1);
}
END_TEST

START_TEST(val_1_12_text_list_copy) {
  Text *t = text_new(&ta, "hello world", 5);
  ck_assert_uint_eq(t->len, 5);
  ck_assert_str_eq(t->s, "hello");
  Text *e = text_new(&ta, NULL, 0);
  ck_assert_uint_eq(e->len, 0);
  ck_assert_str_eq(e->s, "");
  /* embedded NUL: the length, not the terminator, is the text */
  Text *z = text_new(&ta, "a\0b", 3);
  ck_assert_uint_eq(z->len, 3);
  ck_assert_int_eq(memcmp(z->s, "a\0b", 4), 0);
  Value za = v_text(z), zb = v_text(text_new(&ta, "a\0c", 3));
  ck_assert(!value_eq(&za, &zb));

  List *l = list_new(&ta, 0);
  ck_assert_uint_eq(l->len, 0);
  for (int i = 0; i < 100; i++) list_push(&ta, l, v_int(i));
  ck_assert_uint_eq(l->len, 100);
  ck_assert_uint_ge(l->cap, 100);
  for (int i = 0; i < 100; i++) ck_assert_int_eq(l->items[i].u.i, i);

  /* a nested value copied into another arena stays equal and shares nothing */
  List *inner = list_new(&ta, 1);
  list_push(&ta, inner, txt("вложенный"));
  const char **keys = arena_alloc(&ta, 2 * sizeof *keys);
  Value *vals = arena_alloc(&ta, 2 * sizeof *vals);
  keys[0] = arena_strdup(&ta, "list");
  keys[1] = arena_strdup(&ta, "who");
  vals[0] = v_list(inner);
  vals[1] = txt("ivanov");
  vals[1].type = V_USER;
  Obj *o = ARENA_NEW(&ta, Obj);
  *o = (Obj){2, keys, vals};
  List *outer = list_new(&ta, 0);
  list_push(&ta, outer, v_money(150000, 1));
  list_push(&ta, outer, txt("текст"));
  list_push(&ta, outer, (Value){.type = V_OBJ, .u.o = o});
  Value orig = v_list(outer);
  Value c = value_copy(&tb, &orig);
  ck_assert(value_eq(&orig, &c));
  ck_assert_ptr_ne(c.u.l, outer);
  ck_assert_ptr_ne(c.u.l->items[1].u.t, outer->items[1].u.t);
  Obj *co = c.u.l->items[2].u.o;
  ck_assert_ptr_ne(co, o);
  ck_assert_ptr_ne(co->keys[0], keys[0]);
  ck_assert_ptr_ne(co->vals[0].u.l, inner);
  ck_assert_ptr_ne(co->vals[1].u.t, vals[1].u.t);
  ck_assert_int_eq(co->vals[1].type, V_USER);
  StrBuf want = {0};
  value_format(&want, &orig);
  /* the original's arena dies; the copy must still read (ASan watches) */
  arena_free(&ta);
  arena_init(&ta);
  ck_fmt(c, sb_str(&want));
  ck_assert_str_eq(sb_str(&want), "[1500.00 USD, текст, {list: [вложенный], who: ivanov}]");
  sb_free(&want);
  /* inline values copy as they are */
  Value d = dur(1, 2, 3), dc = value_copy(&tb, &d);
  ck_assert(value_eq(&d, &dc));
}
END_TEST

/* ---- limits -------------------------------------------------------------- */

START_TEST(val_2_1_overflow) {
  int64_t r;
  /* decimal * decimal: exact up to the int64 range, false past it */
  ck_assert(dec_mul(INT64_MAX, D(1), &r) && r == INT64_MAX);
  ck_assert(dec_mul(INT64_MIN, D(1), &r) && r == INT64_MIN);
  ck_assert(!dec_mul(INT64_MAX, D(2), &r));
  ck_assert(!dec_mul(INT64_MIN, D(-1), &r));
  ck_assert(!dec_mul(D(5000000000000.0), D(2), &r));   /* 5e12 * 2 > 9.2e12 */
  ck_assert(dec_mul(D(4000000000000.0), D(2), &r) && r == D(8000000000000.0));
  /* int64 products that overflow before scaling still come out exact */
  ck_assert(dec_mul(D(3000000), D(3000000), &r) && r == 9000000000000000000LL);
  ck_assert(dec_mul(D(-3000000), D(3000000.5), &r) && r == -9000001500000000000LL);
  ck_assert(!dec_mul(D(3037001), D(3037001), &r));
  /* money * decimal */
  ck_assert(money_mul_dec(INT64_MAX, D(1), &r) && r == INT64_MAX);
  ck_assert(!money_mul_dec(INT64_MAX, D(2), &r));
  ck_assert(!money_mul_dec(INT64_MIN, D(-1), &r));
  ck_assert(!money_mul_dec(INT64_MAX / 2 + 1, D(2), &r));
  ck_assert(money_mul_dec(INT64_MAX / 2, D(2), &r) && r == INT64_MAX - 1);
  ck_assert(money_mul_dec(INT64_MAX, D(0.5), &r) && r == INT64_MAX / 2 + 1);  /* .5 rounds up */
  ck_assert(money_mul_dec(INT64_MAX, INT64_MAX, &r) == false);
  /* quotients that grow */
  ck_assert(!dec_div(INT64_MAX, 1, &r));
  ck_assert(!dec_div(INT64_MIN, D(-1), &r));
  ck_assert(dec_div(INT64_MAX, D(1), &r) && r == INT64_MAX);
  ck_assert(!money_div_dec(INT64_MAX, D(0.5), &r));
  ck_assert(money_div_dec(INT64_MAX, D(2), &r) && r == INT64_MAX / 2 + 1);
  ck_assert(!money_div_dec(INT64_MIN, D(-1), &r));
  ck_assert(!money_ratio(INT64_MAX, 1, &r));
  ck_assert(money_ratio(INT64_MAX, INT64_MAX, &r) && r == D(1));
  ck_assert(money_ratio(INT64_MIN, INT64_MIN, &r) && r == D(1));
}
END_TEST

START_TEST(val_2_2_format_extremes) {
  ck_fmt(v_int(INT64_MIN), "-9223372036854775808");
  ck_fmt(v_int(INT64_MAX), "9223372036854775807");
  ck_fmt(v_dec(INT64_MIN), "-9223372036854.775808");
  ck_fmt(v_dec(INT64_MAX), "9223372036854.775807");
  ck_fmt(v_money(INT64_MIN, 0), "-92233720368547758.08 RUB");
  ck_fmt(v_money(INT64_MAX, 0), "92233720368547758.07 RUB");
  ck_fmt(v_money(-1, 0), "-0.01 RUB");
  ck_fmt(v_dec(-999999), "-0.999999");
  ck_fmt(v_dec(D(-1)), "-1");
  ck_fmt(dur(32767, INT32_MAX, 0), "2730 years 7 months 2147483647 days");
  ck_fmt(dur(-32768, 0, 0), "-2730 years -8 months");
}
END_TEST

START_TEST(val_2_3_dates_far) {
  ck_assert_int_eq(ymd(1, 1, 1), -719162);
  ck_assert_int_eq(ymd(9999, 12, 31), 2932896);
  ck_assert_str_eq(date_str(-719162), "0001-01-01");
  ck_assert_str_eq(date_str(2932896), "9999-12-31");
  /* year 0 and before: proleptic, year 0 is a leap year */
  ck_assert_int_eq(ymd(0, 3, 1) - ymd(0, 2, 1), 29);
  ck_assert_str_eq(date_str(ymd(-1, 12, 31) + 1), "0000-01-01");
  for (int64_t n = -1000000; n <= 3000000; n += 997) {
    int64_t y;
    unsigned m, d;
    civil_from_days(n, &y, &m, &d);
    ck_assert_int_eq(days_from_civil(y, m, d), n);
  }
  /* a day past the month's end runs on: how callers can normalise */
  ck_assert_int_eq(ymd(2025, 2, 29), ymd(2025, 3, 1));
  ck_assert_int_eq(ymd(2025, 3, 0), ymd(2025, 2, 28));
  ck_assert_str_eq(date_str(date_add_months(ymd(1, 1, 31), -1)), "0000-12-31");
  ck_assert_str_eq(date_str(date_add_months(ymd(9999, 1, 31), 1)), "9999-02-28");
  ck_assert_str_eq(date_str(date_add_months(ymd(2026, 1, 12), -12 * 2026)), "0000-01-12");
  ck_assert_str_eq(date_str(date_add_months(ymd(2026, 1, 12), -12 * 2027 + 11)),
                   "-001-12-12");
}
END_TEST

START_TEST(val_2_4_list_growth) {
  List *l = list_new(&ta, 1);
  for (int i = 0; i < 20000; i++) list_push(&ta, l, v_int(i));
  ck_assert_uint_eq(l->len, 20000);
  int64_t sum = 0;
  for (uint32_t i = 0; i < l->len; i++) sum += l->items[i].u.i;
  ck_assert_int_eq(sum, 20000LL * 19999 / 2);
  size_t n = 1 << 20;
  char *big = malloc(n);
  memset(big, 'x', n);
  Text *t = text_new(&ta, big, n);
  free(big);
  ck_assert_uint_eq(t->len, n);
  ck_assert_int_eq(t->s[n - 1], 'x');
  ck_assert_int_eq(t->s[n], '\0');
  Value v = v_text(t), c = value_copy(&tb, &v);
  ck_assert(value_eq(&v, &c));
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

START_TEST(val_3_1_division_by_zero) {
  int64_t r = 77;
  ck_assert(!dec_div(D(1), 0, &r));
  ck_assert(!dec_div(0, 0, &r));
  ck_assert(!money_div_dec(100, 0, &r));
  ck_assert(!money_ratio(100, 0, &r));
}
END_TEST

START_TEST(val_3_2_unordered) {
  Value e = v_tagged(V_ENUM, 1);
  List *l = list_new(&ta, 0);
  const struct {
    Value a, b;
  } cases[] = {
      {v_money(100, 0), v_money(100, 1)},   /* different currencies */
      {v_money(100, 0), v_int(100)},
      {v_money(100, 0), v_dec(D(1))},
      {v_date(0), v_datetime(0)},
      {wdur(1, 0), dur(0, 1, 0)},
      {txt("1"), v_int(1)},
      {v_null(), v_null()},
      {v_null(), v_int(0)},
      {v_bool(false), v_int(0)},
      {e, e},
      {v_tagged(V_STAGE, 1), v_tagged(V_STAGE, 2)},
      {v_tagged(V_REC, 1), v_tagged(V_REC, 2)},
      {v_list(l), v_list(l)},
      {v_date(0), dur(0, 1, 0)},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    bool ok = true;
    ck_assert_int_eq(value_cmp(&cases[i].a, &cases[i].b, &ok), 0);
    ck_assert_msg(!ok, "case %zu ordered", i);
    ok = true;
    value_cmp(&cases[i].b, &cases[i].a, &ok);
    ck_assert_msg(!ok, "case %zu reversed ordered", i);
  }
}
END_TEST

START_TEST(val_3_3_odd_values) {
  /* an unknown currency index formats as ISO "XXX" rather than crashing */
  ck_assert_str_eq(currency_code(UINT16_MAX), "XXX");
  ck_fmt(v_money(100, 999), "1.00 XXX");
  Value r = v_tagged(V_REC, 4);
  r.aux = 9;
  ck_fmt(r, "record9#4");
  Value bad = v_tagged(V__COUNT, 0);
  ck_fmt(bad, "<type 17>");
  Value t = {.type = V_TEXT};   /* a null Text pointer reads as "" */
  ck_fmt(t, "");
  Value c = value_copy(&tb, &t);
  ck_assert_ptr_null(c.u.t);
}
END_TEST

static Suite *value_suite(void) {
  Suite *s = suite_create("value");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, va_setup, va_teardown);
  tcase_add_test(tc, val_1_1_currencies);
  tcase_add_loop_test(tc, val_1_2_money_rounding, 0,
                      (int)(sizeof money_cases / sizeof money_cases[0]));
  tcase_add_test(tc, val_1_3_decimal_arithmetic);
  tcase_add_test(tc, val_1_4_date_round_trip);
  tcase_add_test(tc, val_1_5_leap_years);
  tcase_add_test(tc, val_1_6_month_end_clamping);
  tcase_add_test(tc, val_1_7_format_scalars);
  tcase_add_test(tc, val_1_8_format_durations);
  tcase_add_test(tc, val_1_9_format_compound);
  tcase_add_test(tc, val_1_10_equality);
  tcase_add_test(tc, val_1_11_order);
  tcase_add_test(tc, val_1_12_text_list_copy);
  suite_add_tcase(s, tc);
  tc = tcase_create("limits");
  tcase_add_checked_fixture(tc, va_setup, va_teardown);
  tcase_add_test(tc, val_2_1_overflow);
  tcase_add_test(tc, val_2_2_format_extremes);
  tcase_add_test(tc, val_2_3_dates_far);
  tcase_add_test(tc, val_2_4_list_growth);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_checked_fixture(tc, va_setup, va_teardown);
  tcase_add_test(tc, val_3_1_division_by_zero);
  tcase_add_test(tc, val_3_2_unordered);
  tcase_add_test(tc, val_3_3_odd_values);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(value_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
