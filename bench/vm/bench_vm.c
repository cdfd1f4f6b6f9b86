/*
** bench_vm.c: the funnel side of bench/vm. Compiles handler.pipe once,
** then runs its `on enter` handler N times through the VM against a
** minimal in-memory host, and prints how long that took.
**
**   bench_vm [-q|-v] HANDLER.pipe N
**
** The host keeps records as arrays of Values (one row per record, one
** slot per field of its entity); it hands out stored values without
** copying them, and appends effects to a preallocated buffer that is
** emptied before every run. Each run takes the next of eight deals, which
** between them take every branch of the handler. handler.lua does the same
** in Lua 5.4 with the same data.
**
** Output, one line: `funnel seconds=S wall=W runs=N effects=E checksum=C`.
** The timed runs only count their effects; then the same N runs go again,
** untimed, folding every effect (what, which record, which field or
** stage, which value) into a checksum, so run.sh can tell that both sides
** did the same work. S is CPU time (CLOCK_PROCESS_CPUTIME_ID), as os.clock gives
** handler.lua; W the wall-clock time (CLOCK_MONOTONIC). -q: no output but
** errors, no checksum pass (for profiling); -v: also list the effects of
** the warm-up round, one line per deal.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "compile/compile.h"
#include "parse/loader.h"
#include "vm/vm.h"

/* ---- the pack ---------------------------------------------------------------- */

static Chunk *load(const char *path) {
  Program p;
  program_init(&p);
  LoadOpts lo = {NULL, 0};
  program_load(&p, path, &lo);
  Model *m = check_program(&p);
  Chunk *c = p.diag.nerrors ? NULL : compile_program(&p, m);
  if (p.diag.nerrors) {
    diag_sort(&p.diag);
    diag_print_text(&p.diag, stderr, false);
  }
  model_free(m);
  program_free(&p);
  return c;
}

static void die(const char *what, const char *name) {
  fprintf(stderr, "bench_vm: no %s '%s' in the pack\n", what, name);
  exit(1);
}

static uint32_t func_id(const Chunk *c, const char *name) {
  for (uint32_t k = 0; k < c->nfuncs; k++)
    if (!strcmp(c->funcs[k].name, name)) return k;
  die("function", name);
  return 0;
}

static uint32_t entity_id(const Chunk *c, const char *name) {
  for (uint32_t k = 0; k < c->nentities; k++)
    if (!strcmp(c->entities[k].name, name)) return k;
  die("entity", name);
  return 0;
}

/* The global id of field `name` of entity `ent`. */
static uint32_t field_id(const Chunk *c, uint32_t ent, const char *name) {
  const EntityDef *e = &c->entities[ent];
  for (uint32_t k = 0; k < e->nfields; k++)
    if (!strcmp(c->fields[e->first_field + k].name, name)) return e->first_field + k;
  die("field", name);
  return 0;
}

static Value enum_value(const Chunk *c, const char *enm, const char *value) {
  for (uint32_t k = 0; k < c->nenums; k++) {
    if (strcmp(c->enums[k].name, enm)) continue;
    for (uint32_t v = 0; v < c->enums[k].nvalues; v++) {
      if (strcmp(c->enums[k].values[v], value)) continue;
      Value r = v_tagged(V_ENUM, v);
      r.aux = (uint16_t)k;
      return r;
    }
  }
  die("enum value", value);
  return v_null();
}

/* ---- the host ------------------------------------------------------------------ */

#define MAX_ROWS 16
#define MAX_FIELDS 64
#define MAX_EFFECTS 16

typedef struct Store {
  const Chunk *ch;
  /* rows[entity][id][field - first_field]; ids count from 1 */
  Value rows[2][MAX_ROWS + 1][MAX_FIELDS];
  uint32_t nrows[2];
  VmEffect effects[MAX_EFFECTS];
  int neffects;
} Store;

static HostStatus get_field(void *ud, Value rec, uint32_t field, Value *out, Arena *a) {
  Store *s = ud;
  (void)a;
  if (rec.aux > 1 || rec.u.i < 1 || (uint64_t)rec.u.i > s->nrows[rec.aux]) return HOST_ERROR;
  *out = s->rows[rec.aux][rec.u.i][field - s->ch->entities[rec.aux].first_field];
  return HOST_OK;
}

static HostStatus effect(void *ud, const VmEffect *e, Value *result, const char **msg, Arena *a) {
  Store *s = ud;
  (void)result, (void)a;
  if (s->neffects == MAX_EFFECTS) {
    *msg = "too many effects";
    return HOST_ERROR;
  }
  s->effects[s->neffects++] = *e;
  return HOST_OK;
}

/* ---- the data ---------------------------------------------------------------------- */

/* The handler's fields, by their global ids. */
typedef struct Ids {
  uint32_t sum, contact, kind, urgent, prepaid_only, payments, discount, due_date, rest, risk;
  uint32_t vip, credit_limit, debt;
} Ids;

static Value rub(int64_t kopecks) { return v_money(kopecks, 0); }

static Value money_list(const int64_t *k, int n) {
  static List lists[MAX_ROWS];
  static Value items[MAX_ROWS][8];
  static int used;
  List *l = &lists[used];
  l->items = items[used++];
  l->len = l->cap = (uint32_t)n;
  for (int i = 0; i < n; i++) l->items[i] = rub(k[i]);
  return v_list(l);
}

/* 2026-03-10 12:00 Moscow (UTC+3): the clock of every run. */
#define NOW (INT64_C(1773133200))
#define TODAY (INT64_C(20522))   /* 2026-03-10 in days since the epoch */

/* The same eight deals and four contacts as handler.lua. */
static int fill(Store *s, const Ids *f) {
  const Chunk *c = s->ch;
  uint32_t deal_first = c->entities[0].first_field, contact_first = c->entities[1].first_field;
#define C(id, field) s->rows[1][id][f->field - contact_first]
  C(1, vip) = v_bool(false), C(1, credit_limit) = rub(30000000), C(1, debt) = rub(28000000);
  C(2, vip) = v_bool(true), C(2, credit_limit) = rub(10000000), C(2, debt) = rub(50000000);
  C(3, vip) = v_null(), C(3, credit_limit) = rub(100000000), C(3, debt) = v_null();
  C(4, vip) = v_bool(false), C(4, credit_limit) = rub(5000000), C(4, debt) = rub(0);
  s->nrows[1] = 4;
#undef C
  Value retail = enum_value(c, "deal.kind", "retail"), wholesale = enum_value(c, "deal.kind", "wholesale"),
        service = enum_value(c, "deal.kind", "service");
  struct {
    int64_t sum;
    int contact;
    Value kind;
    int urgent, prepaid_only;
    int64_t pay[8];
    int npay;
    int64_t discount;   /* -1: empty */
    int64_t due;        /* days from today, INT64_MIN: empty */
  } d[] = {
      /* paid in full: won */
      {10000000, 1, retail, 0, 0, {6000000, 4000000}, 2, -1, -5},
      /* overpaid and refunded: refund_check */
      {10000000, 2, wholesale, 0, 0, {5000000, 6000000, -1000000}, 3, -1, INT64_MIN},
      /* prepayment required, nothing paid: waiting */
      {4500000, 3, service, 1, 1, {0}, 0, 150000, 10},
      /* late, over the credit limit: collection (risk 3) */
      {12000000, 1, retail, 0, 0, {1500000, 1500000, 1000000}, 3, -1, -40},
      /* wholesale, half paid in two payments: shipping */
      {10000000, 3, wholesale, 0, 0, {3000000, 2500000}, 2, -1, 14},
      /* urgent retail: priority */
      {5000000, 4, retail, 1, 0, {1000000}, 1, 50000, 3},
      /* service, paid in parts, nothing special: waiting */
      {9000000, 3, service, 0, 0, {1000000, 1200000, 800000, 950000, 1050000, -200000}, 6, 500000, 5},
      /* late, within the limit, wholesale: shipping */
      {8000000, 4, wholesale, 1, 0, {2000000, 1000000, 1500000, -500000, 800000}, 5, -1, -3},
  };
  int n = (int)(sizeof d / sizeof d[0]);
  for (int k = 0; k < n; k++) {
    Value *r = s->rows[0][k + 1];
#define D(field) r[f->field - deal_first]
    D(sum) = rub(d[k].sum);
    Value ct = v_tagged(V_REC, d[k].contact);
    ct.aux = 1;
    D(contact) = ct;
    D(kind) = d[k].kind;
    D(urgent) = v_bool(d[k].urgent);
    D(prepaid_only) = v_bool(d[k].prepaid_only);
    D(payments) = money_list(d[k].pay, d[k].npay);
    D(discount) = d[k].discount < 0 ? v_null() : rub(d[k].discount);
    D(due_date) = d[k].due == INT64_MIN ? v_null() : v_date(TODAY + d[k].due);
#undef D
  }
  s->nrows[0] = (uint32_t)n;
  return n;
}

/* Folds a run's effects into the checksum, in the terms handler.lua uses:
** 1 set / 2 move, the deal's id, the field (1 rest, 2 risk) or the stage's
** position in its direction, and the value set. */
static uint64_t fold(uint64_t h, const Store *s, const Ids *f) {
  for (int k = 0; k < s->neffects; k++) {
    const VmEffect *e = &s->effects[k];
    uint64_t what = e->op == OP_SETFIELD ? 1 : 2;
    uint64_t index = e->op == OP_SETFIELD ? (e->index == f->rest ? 1 : e->index == f->risk ? 2 : 99)
                                          : e->index - s->ch->directions[0].first_stage;
    uint64_t value = e->op == OP_SETFIELD ? (uint64_t)e->a.u.i : 0;
    h = h * 1000003u + what;
    h = h * 1000003u + (uint64_t)e->rec.u.i;
    h = h * 1000003u + index;
    h = h * 1000003u + value;
  }
  return h;
}

/* The process's CPU time, what Lua's os.clock measures on the other side
** (a wall clock would also count the time the machine gave to others). */
static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double wall_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int quiet = argc > 1 && !strcmp(argv[1], "-q"), verbose = argc > 1 && !strcmp(argv[1], "-v");
  int opt = quiet || verbose;
  if (argc - opt != 3) {
    fprintf(stderr, "usage: bench_vm [-q|-v] HANDLER.pipe N\n");
    return 2;
  }
  long n = strtol(argv[2 + opt], NULL, 10);
  Chunk *c = load(argv[1 + opt]);
  if (!c) return 1;
  uint32_t handler = func_id(c, "stage sales.check, on enter");
  uint32_t deal = entity_id(c, "deal"), contact = entity_id(c, "contact");
  if (deal != 0 || contact != 1) {
    fprintf(stderr, "bench_vm: expected deal and contact as entities 0 and 1\n");
    return 1;
  }
  Ids f = {
      field_id(c, deal, "sum"), field_id(c, deal, "contact"), field_id(c, deal, "kind"),
      field_id(c, deal, "urgent"), field_id(c, deal, "prepaid_only"), field_id(c, deal, "payments"),
      field_id(c, deal, "discount"), field_id(c, deal, "due_date"), field_id(c, deal, "rest"),
      field_id(c, deal, "risk"), field_id(c, contact, "vip"), field_id(c, contact, "credit_limit"),
      field_id(c, contact, "debt"),
  };
  if (c->entities[deal].nfields > MAX_FIELDS || c->entities[contact].nfields > MAX_FIELDS) {
    fprintf(stderr, "bench_vm: too many fields\n");
    return 1;
  }
  static Store s;
  s.ch = c;
  int ndeals = fill(&s, &f);

  VmHost host = {0};
  host.ud = &s;
  host.get_field = get_field;
  host.effect = effect;
  Vm vm;
  vm_init(&vm, c, &host);

  Value deals[MAX_ROWS];
  for (int k = 0; k < ndeals; k++) {
    deals[k] = v_tagged(V_REC, k + 1);
    deals[k].aux = (uint16_t)deal;
  }
  Value result;
  /* a warm-up round: caches, the time zone, the scratch arena */
  for (int k = 0; k < ndeals; k++) {
    s.neffects = 0;
    if (vm_run(&vm, handler, NULL, 0, deals[k], v_null(), NOW, &result) != VM_OK) {
      vm_print_error(&vm, stderr);
      return 1;
    }
    if (verbose) {
      printf("deal %d:", k + 1);
      for (int e = 0; e < s.neffects; e++) {
        const VmEffect *x = &s.effects[e];
        if (x->op == OP_SETFIELD)
          printf(" set %s=%lld", c->fields[x->index].name, (long long)x->a.u.i);
        else
          printf(" move %s", c->stages[x->index].name);
      }
      printf("\n");
    }
  }
  /* the timed runs: the host only counts the effects */
  long count = 0;
  double t0 = cpu_seconds(), w0 = wall_seconds();
  for (long it = 0; it < n; it++) {
    s.neffects = 0;
    if (vm_run(&vm, handler, NULL, 0, deals[it % ndeals], v_null(), NOW, &result) != VM_OK) {
      vm_print_error(&vm, stderr);
      return 1;
    }
    count += s.neffects;
  }
  double t = cpu_seconds() - t0, w = wall_seconds() - w0;
  /* the same runs again, untimed, folding every effect into the checksum */
  uint64_t h = 0;
  for (long it = 0; it < n && !quiet; it++) {
    s.neffects = 0;
    if (vm_run(&vm, handler, NULL, 0, deals[it % ndeals], v_null(), NOW, &result) != VM_OK) {
      vm_print_error(&vm, stderr);
      return 1;
    }
    h = fold(h, &s, &f);
  }
  if (!quiet)
    printf("funnel seconds=%.6f wall=%.6f runs=%ld effects=%ld checksum=%lld\n", t, w, n, count,
           (long long)h);
  vm_free(&vm);
  chunk_free(c);
  return 0;
}
