/*
** funnel_test_plugin.c: the plugin the test suite builds (a shared object,
** tests/plugin/funnel_test_plugin.so) and the packs of tests/natives call: one
** native per type that can cross, each way, a failing one, an effectful
** one, and a declared signature that does not match its pack. The ABI is
** src/natives/funnel_plugin.h (docs/plugins.md).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natives/funnel_plugin.h"

#define SIG(name, s) const char funnel_sig_##name[] = s

/* everything handed to the VM is freed through here */
void funnel_free(void *p);
void funnel_free(void *p) { free(p); }

static char *dup(const char *s) {
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d) memcpy(d, s, n + 1);
  return d;
}

/* Every native is declared before use, for -Wmissing-prototypes. */
#define NATIVE(ret, name, ...) ret funnel_##name(__VA_ARGS__); ret funnel_##name(__VA_ARGS__)

SIG(nt_add, "(int,int)->int");
NATIVE(int64_t, nt_add, int64_t a, int64_t b, char **err) { return a + b; }

SIG(nt_half, "(decimal)->decimal");
NATIVE(int64_t, nt_half, int64_t x, char **err) { return x / 2; }

/* doubles the amount; with a non-empty `to`, converts at 1:1 into it */
SIG(nt_double, "(money,text)->money");
NATIVE(funnel_money, nt_double, funnel_money m, const char *to, char **err) {
  funnel_money r = m;
  r.minor = m.minor * 2;
  if (to && *to) snprintf(r.currency, sizeof r.currency, "%s", to);
  return r;
}

SIG(nt_currency, "(money)->text");
NATIVE(char *, nt_currency, funnel_money m, char **err) { return dup(m.currency); }

SIG(nt_not, "(bool)->bool");
NATIVE(int, nt_not, int b, char **err) { return !b; }

SIG(nt_greet, "(text)->text");
NATIVE(char *, nt_greet, const char *name, char **err) {
  size_t n = strlen(name);
  char *s = malloc(n + 32);
  if (s) sprintf(s, "Привет, %s!", name);
  return s;
}

SIG(nt_bytes, "(text)->int");
NATIVE(int64_t, nt_bytes, const char *s, char **err) { return (int64_t)strlen(s); }

SIG(nt_next_day, "(date)->date");
NATIVE(int32_t, nt_next_day, int32_t d, char **err) { return d + 1; }

SIG(nt_day_number, "(date)->int");
NATIVE(int64_t, nt_day_number, int32_t d, char **err) { return d; }

SIG(nt_later, "(datetime)->datetime");
NATIVE(int64_t, nt_later, int64_t t, char **err) { return t + 3600; }

SIG(nt_seconds, "(datetime)->int");
NATIVE(int64_t, nt_seconds, int64_t t, char **err) { return t; }

/* one more month, twice the days, one more minute */
SIG(nt_stretch, "(duration)->duration");
NATIVE(funnel_duration, nt_stretch, funnel_duration d, char **err) {
  funnel_duration r = d;
  r.months += 1;
  r.days *= 2;
  r.seconds += d.work ? 1 : 60;
  return r;
}

/* "months/days/seconds/work" */
SIG(nt_show_duration, "(duration)->text");
NATIVE(char *, nt_show_duration, funnel_duration d, char **err) {
  char buf[96];
  snprintf(buf, sizeof buf, "%d/%d/%lld/%d", d.months, d.days, (long long)d.seconds, d.work);
  return dup(buf);
}

/* truck -> bus -> car -> truck; anything else is returned as "plane" */
SIG(nt_next_kind, "(enum)->enum");
NATIVE(char *, nt_next_kind, const char *k, char **err) {
  if (!strcmp(k, "truck")) return dup("bus");
  if (!strcmp(k, "bus")) return dup("car");
  if (!strcmp(k, "car")) return dup("truck");
  return dup("plane");
}

SIG(nt_kind_name, "(enum)->text");
NATIVE(char *, nt_kind_name, const char *k, char **err) { return dup(k); }

SIG(nt_sum, "(list<int>)->int");
NATIVE(int64_t, nt_sum, funnel_list l, char **err) {
  const int64_t *x = l.items;
  int64_t s = 0;
  for (size_t i = 0; i < l.n; i++) s += x[i];
  return s;
}

/* [1, 2, ..., n] */
SIG(nt_range, "(int)->list<int>");
NATIVE(funnel_list, nt_range, int64_t n, char **err) {
  funnel_list l = {0, NULL};
  if (n <= 0) return l;
  int64_t *x = malloc((size_t)n * sizeof *x);
  for (int64_t i = 0; i < n; i++) x[i] = i + 1;
  l.n = (size_t)n;
  l.items = x;
  return l;
}

SIG(nt_join, "(list<text>,text)->text");
NATIVE(char *, nt_join, funnel_list l, const char *sep, char **err) {
  const char *const *x = l.items;
  size_t n = 1;
  for (size_t i = 0; i < l.n; i++) n += strlen(x[i]) + strlen(sep);
  char *s = malloc(n);
  s[0] = '\0';
  for (size_t i = 0; i < l.n; i++) {
    if (i) strcat(s, sep);
    strcat(s, x[i]);
  }
  return s;
}

/* the parts of s between commas */
SIG(nt_split, "(text)->list<text>");
NATIVE(funnel_list, nt_split, const char *s, char **err) {
  size_t n = 1;
  for (const char *p = s; *p; p++) n += *p == ',';
  char **x = malloc(n * sizeof *x);
  size_t k = 0;
  for (const char *p = s;; p++) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    x[k] = malloc(len + 1);
    memcpy(x[k], p, len);
    x[k][len] = '\0';
    k++;
    if (!e) break;
    p = e;
  }
  funnel_list l = {k, x};
  return l;
}

SIG(nt_amounts, "(list<money>)->list<money>");
NATIVE(funnel_list, nt_amounts, funnel_list in, char **err) {
  funnel_money *x = malloc((in.n ? in.n : 1) * sizeof *x);
  memcpy(x, in.items, in.n * sizeof *x);
  for (size_t i = 0; i < in.n; i++) x[i].minor += 1;
  funnel_list l = {in.n, x};
  return l;
}

/* fails with its argument as the message (a result handed over anyway is
** freed by the VM) */
SIG(nt_fail, "(text)->text");
NATIVE(char *, nt_fail, const char *msg, char **err) {
  *err = dup(msg);
  return dup("ignored");
}

/* an effectful native: counts its calls */
static int64_t calls;
SIG(nt_record, "(text)->int");
NATIVE(int64_t, nt_record, const char *what, char **err) { return ++calls; }

SIG(nt_touch, "(text)->void");
NATIVE(void, nt_touch, const char *what, char **err) { calls++; }

/* effectful: appends `line` to the file `path`, so that a test can count
** the calls the engine makes after its commits; a path starting with
** "fail:" fails instead */
SIG(nt_append, "(text,text)->void");
NATIVE(void, nt_append, const char *path, const char *line, char **err) {
  if (!strncmp(path, "fail:", 5)) {
    *err = dup(path + 5);
    return;
  }
  FILE *f = fopen(path, "a");
  if (!f) {
    *err = dup("cannot open the file");
    return;
  }
  fprintf(f, "%s\n", line);
  fclose(f);
}

/* declares a signature its pack does not (tests/natives/mismatch.pipe) */
SIG(nt_mismatch, "(int)->text");
NATIVE(int64_t, nt_mismatch, int64_t x, char **err) { return x; }
