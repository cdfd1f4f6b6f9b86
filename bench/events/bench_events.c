/*
** bench_events.c: the funnel side of bench/events. Links libfunnel and
** drives the engine through its API (engine_create, engine_move,
** engine_update, engine_advance) on a file database (WAL,
** synchronous=FULL, as `funnel run` opens it), committing in groups with
** engine_group_begin_optimistic/engine_group_commit, as `funnel run --batch` does.
** No JSON is parsed and no line printed: what is timed is the engine and
** its store; sqlite_peer.c does the same SQLite writes by hand.
**
**   bench_events events PACK DB GROUP N
**     N events, GROUP events per transaction. An event: a deal is created
**     in sales.fresh, moved into sales.work (which plans the stage's `at`
**     timer), and its `callback` field set, which runs the stage's
**     `on change` robot (a notification: an outbox row) and plans the
**     timer anew. Prints
**     `funnel events=N group=G seconds=S rate=R` (R: events per second,
**     wall clock, commits included).
**
**   bench_events timers PACK DB NT SAMPLE SLICES
**     Fills the database with NT deals in the `timers` direction, each
**     with a pending `at wake` timer (NT pending timers), due one second
**     apart in an order unrelated to the order of creation; the deals
**     whose timers come first (SAMPLE of them) sit in stage `bare` (an
**     empty handler), the next SAMPLE in stage `act` (a notification),
**     the rest in `bare`. Then reopens the database and fires the first
**     SAMPLE timers (bare), then the next SAMPLE (act), in SLICES timed
**     slices each, 1,000 timers per transaction. Prints the fill rate,
**     the database size, the RSS, and per slice the firing rate.
*/
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "compile/compile.h"
#include "parse/loader.h"
#include "runtime/engine.h"
#include "store/store.h"

/* 2026-03-02T09:00:00+03:00: the virtual clock's start, as in the peer */
#define T0 1772431200LL
#define DAY 86400LL

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

static void die(const char *fmt, const char *arg) {
  fprintf(stderr, "bench_events: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  exit(1);
}

static int entity_id(const Chunk *c, const char *name) {
  for (uint32_t k = 0; k < c->nentities; k++)
    if (!strcmp(c->entities[k].name, name)) return (int)k;
  die("no entity '%s'", name);
  return -1;
}

static uint32_t field_id(const Chunk *c, int ent, const char *name) {
  const EntityDef *e = &c->entities[ent];
  for (uint32_t k = 0; k < e->nfields; k++)
    if (!strcmp(c->fields[e->first_field + k].name, name)) return e->first_field + k;
  die("no field '%s'", name);
  return 0;
}

static int32_t stage_id(const Chunk *c, const char *dir, const char *name) {
  for (uint32_t s = 0; s < c->nstages; s++)
    if (!strcmp(c->stages[s].name, name) && !strcmp(c->directions[c->stages[s].direction].name, dir))
      return (int32_t)s;
  die("no stage '%s'", name);
  return -1;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static long long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

typedef struct Bench {
  Chunk *ch;
  Store *st;
  Engine *e;
  Arena a;
  int deal;
  uint32_t f_title, f_owner, f_callback, f_wake;
} Bench;

static void open_db(Bench *b, const char *db) {
  char err[512];
  b->st = store_open_sqlite(b->ch, db, err, sizeof err);
  if (!b->st) die("%s", err);
  b->e = engine_new(b->ch, b->st);
  engine_set_clock(b->e, T0);
}

static void close_db(Bench *b) {
  engine_free(b->e);
  b->st->ops->close(b->st);
  b->e = NULL;
  b->st = NULL;
}

static Value text(Bench *b, const char *s) { return v_text(text_new(&b->a, s, strlen(s))); }

static Value user(Bench *b, const char *s) {
  Value v = text(b, s);
  v.type = V_USER;
  return v;
}

static void add_user(Bench *b) {
  UserRow u = {0};
  u.id = "u1";
  u.name = "Иван";
  if (engine_user(b->e, &u) != 0) die("user: %s", engine_error(b->e));
}

/* As `funnel run --batch` does: a group without savepoints first (none of
** these commands fails, so it is never run again with savepoints).
** BENCH_SAVEPOINTS=1 measures the savepoint-per-command way instead. */
static void group_begin(Bench *b) {
  const char *sp = getenv("BENCH_SAVEPOINTS");
  int rc = sp && *sp == '1' ? engine_group_begin(b->e) : engine_group_begin_optimistic(b->e);
  if (rc != 0) die("group begin: %s", engine_error(b->e));
}

static void group_commit(Bench *b) {
  if (engine_group_spoiled(b->e)) die("a command failed: %s", engine_error(b->e));
  if (engine_group_commit(b->e) != 0) die("group commit: %s", engine_error(b->e));
}

/* ---- events ----------------------------------------------------------------------- */

static long count_rows(const char *db, const char *sql);

/* The rows the work left, table by table: "records:N,deal:N,..." */
static const char *table_rows(const char *db) {
  static const char *const tables[] = {"records", "deal", "stage_history", "events", "timers", "outbox"};
  static char buf[256];
  size_t len = 0;
  for (size_t k = 0; k < sizeof tables / sizeof *tables; k++) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", tables[k]);
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s:%ld", k ? "," : "", tables[k], count_rows(db, sql));
  }
  return buf;
}

static int run_events(Bench *b, const char *db, long group, long n) {
  int32_t fresh = stage_id(b->ch, "sales", "fresh"), work = stage_id(b->ch, "sales", "work");
  open_db(b, db);
  add_user(b);
  char ref[32], title[64];
  double t0 = now_s();
  for (long i = 0; i < n; i++) {
    if (i % group == 0) group_begin(b);
    arena_reset(&b->a);
    snprintf(ref, sizeof ref, "d%ld", i + 1);
    snprintf(title, sizeof title, "Сделка %ld", i + 1);
    FieldSet fs[2] = {{b->f_title, text(b, title)}, {b->f_owner, user(b, "u1")}};
    if (engine_create(b->e, b->deal, ref, fresh, fs, 2, NULL, NULL) != 0) die("create: %s", engine_error(b->e));
    if (engine_move(b->e, ref, work, NULL) != 0) die("move: %s", engine_error(b->e));
    FieldSet cb = {b->f_callback, v_datetime(T0 + 2 * DAY + i)};
    if (engine_update(b->e, ref, &cb, 1, NULL) != 0) die("update: %s", engine_error(b->e));
    if ((i + 1) % group == 0 || i + 1 == n) group_commit(b);
  }
  double secs = now_s() - t0;
  close_db(b);
  printf("funnel events=%ld group=%ld seconds=%.4f rate=%.0f rows=%s\n", n, group, secs, (double)n / secs,
         table_rows(db));
  return 0;
}

/* ---- timers ------------------------------------------------------------------------ */

/* The position of deal i's timer in due order: a permutation of 0..nt-1
** unrelated to the order of creation (as timers planned by real work are). */
static long perm(long i, long nt) { return (long)(((long long)i * 7919 + 12345) % nt); }

/* Fires the timers due at positions [from, to) of the due order, 1,000 per
** transaction; the rate in timers per second. */
static double fire(Bench *b, long from, long to) {
  double t0 = now_s();
  for (long k = from; k < to; k += 1000) {
    long end = k + 1000 < to ? k + 1000 : to;
    group_begin(b);
    if (engine_advance(b->e, T0 + DAY + end - 1) != 0) die("advance: %s", engine_error(b->e));
    group_commit(b);
  }
  return (double)(to - from) / (now_s() - t0);
}

static long count_rows(const char *db, const char *sql) {
  sqlite3 *d;
  sqlite3_stmt *st;
  long n = -1;
  if (sqlite3_open(db, &d) == SQLITE_OK && sqlite3_prepare_v2(d, sql, -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(d);
  return n;
}

static int run_timers(Bench *b, const char *db, long nt, long sample, long slices) {
  int32_t bare = stage_id(b->ch, "timers", "bare"), act = stage_id(b->ch, "timers", "act");
  if (2 * sample > nt || slices < 1 || sample % slices) die("%s", "bad SAMPLE or SLICES");
  open_db(b, db);
  add_user(b);
  char ref[32], title[64];
  double t0 = now_s();
  for (long i = 0; i < nt; i++) {
    if (i % 1000 == 0) group_begin(b);
    arena_reset(&b->a);
    long p = perm(i, nt);
    snprintf(ref, sizeof ref, "t%ld", i + 1);
    snprintf(title, sizeof title, "Таймер %ld", i + 1);
    FieldSet fs[3] = {{b->f_title, text(b, title)}, {b->f_owner, user(b, "u1")},
                      {b->f_wake, v_datetime(T0 + DAY + p)}};
    int32_t s = p >= sample && p < 2 * sample ? act : bare;
    if (engine_create(b->e, b->deal, ref, s, fs, 3, NULL, NULL) != 0) die("create: %s", engine_error(b->e));
    if ((i + 1) % 1000 == 0 || i + 1 == nt) group_commit(b);
  }
  double fill = now_s() - t0;
  close_db(b);
  long pending = count_rows(db, "SELECT count(*) FROM timers");
  printf("funnel timers fill: %ld deals with a pending timer in %.1f s (%.0f/s)\n", nt, fill, (double)nt / fill);
  printf("funnel timers pending=%ld dbsize=%lld (timers and their deals, records, history, event log)\n",
         pending, file_size(db));
  open_db(b, db);
  printf("funnel timers rss_open_kb=%ld\n", rss_kb());
  long slice = sample / slices;
  for (int pass = 0; pass < 2; pass++) {
    long base = pass * sample;
    for (long k = 0; k < slices; k++) {
      double r = fire(b, base + k * slice, base + (k + 1) * slice);
      printf("funnel timers fire=%s slice=%ld timers=%ld rate=%.0f\n", pass ? "act" : "bare", k, slice, r);
    }
  }
  printf("funnel timers rss_kb=%ld max_rss_kb=%ld\n", rss_kb(), max_rss_kb());
  close_db(b);
  printf("funnel timers left=%ld outbox=%ld\n", count_rows(db, "SELECT count(*) FROM timers"),
         count_rows(db, "SELECT count(*) FROM outbox"));
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: bench_events events PACK DB GROUP N\n"
                    "       bench_events timers PACK DB NT SAMPLE SLICES\n");
    return 2;
  }
  Bench b = {0};
  arena_init(&b.a);
  b.ch = load(argv[2]);
  if (!b.ch) return 1;
  b.deal = entity_id(b.ch, "deal");
  b.f_title = field_id(b.ch, b.deal, "title");
  b.f_owner = field_id(b.ch, b.deal, "owner");
  b.f_callback = field_id(b.ch, b.deal, "callback");
  b.f_wake = field_id(b.ch, b.deal, "wake");
  int rc;
  if (!strcmp(argv[1], "events"))
    rc = run_events(&b, argv[3], atol(argv[4]), atol(argv[5]));
  else if (!strcmp(argv[1], "timers") && argc >= 7)
    rc = run_timers(&b, argv[3], atol(argv[4]), atol(argv[5]), atol(argv[6]));
  else
    die("unknown mode '%s'", argv[1]), rc = 2;
  arena_free(&b.a);
  chunk_free(b.ch);
  return rc;
}
