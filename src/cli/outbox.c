/*
** outbox.c: `funnel outbox`, `funnel deliver` and `funnel inbox` (see
** outbox.h and docs/delivery.md): option parsing, the listings (text or
** JSON lines), the clock (the wall clock, or --now for tests), and the
** --follow loop that stops cleanly on SIGINT or SIGTERM.
*/
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/outbox.h"
#include "deliver/channel.h"
#include "deliver/config.h"
#include "deliver/worker.h"
#include "store/store.h"
#include "util/arena.h"

#define EXIT_USAGE 2

static int usage(const char *cmd, const char *msg, const char *arg) {
  fprintf(stderr, "funnel %s: ", cmd);
  fprintf(stderr, msg, arg);
  fprintf(stderr, "\nTry 'funnel --help'.\n");
  return EXIT_USAGE;
}

/* ---- time --------------------------------------------------------------------------------- */

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM) -> UTC seconds */
static int parse_iso(const char *s, int64_t *out) {
  int Y, M, D, h, m, sec = 0, oh = 0, om = 0;
  if (strlen(s) < 17 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
      digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) ||
      s[13] != ':' || digits(s + 14, 2, &m))
    return -1;
  const char *p = s + 16;
  if (*p == ':') {
    if (digits(p + 1, 2, &sec)) return -1;
    p += 3;
  }
  int sign = 0;
  if (*p == 'Z' && !p[1]) {
    sign = 0;
  } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && !digits(p + 1, 2, &oh) && p[3] == ':' &&
             !digits(p + 4, 2, &om)) {
    sign = *p == '+' ? 1 : -1;
  } else {
    return -1;
  }
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return -1;
  struct tm tm = {0};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  *out = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
  return 0;
}

static void iso(int64_t t, char *buf, size_t n) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *iso_json(int64_t t) {
  if (!t) return json_null();
  char b[32];
  iso(t, b, sizeof b);
  return json_string(b);
}

/* The clock: the wall clock, or --now and then the time that passes. */
typedef struct Clock {
  bool set;
  int64_t base;
  struct timespec start;
} Clock;

static int64_t clock_now(const Clock *c) {
  if (!c->set) return (int64_t)time(NULL);
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return c->base + (int64_t)(t.tv_sec - c->start.tv_sec) - (t.tv_nsec < c->start.tv_nsec ? 1 : 0);
}

/* ---- options ------------------------------------------------------------------------------ */

typedef struct Opts {
  const char *db, *config, *status, *user, *now;
  bool json, once, follow, quiet;
  long long retry, done;   /* 0: not asked */
  int64_t interval;        /* 0: the configuration's */
} Opts;

static int need(const char *cmd, int argc, char **argv, int *i) {
  if (*i + 1 >= argc) return usage(cmd, "%s needs a value", argv[*i]);
  (*i)++;
  return 0;
}

static int positive(const char *cmd, const char *opt, const char *v, long long *out) {
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (end == v || *end || errno || n <= 0) return usage(cmd, "%s needs a positive number", opt);
  *out = n;
  return 0;
}

/* Is `name` one of the space-separated words of `allowed`? */
static bool takes(const char *allowed, const char *name) {
  size_t n = strlen(name);
  for (const char *p = allowed; *p;) {
    size_t w = strcspn(p, " ");
    if (w == n && !strncmp(p, name, n)) return true;
    p += w;
    while (*p == ' ') p++;
  }
  return false;
}

/* allowed: the options this command takes, e.g. "db status json retry now" */
static int parse(int argc, char **argv, const char *allowed, Opts *o) {
  const char *cmd = argv[0];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *name = a[0] == '-' && a[1] == '-' ? a + 2 : NULL;
    if (!name || !takes(allowed, name))
      return usage(cmd, "unknown option '%s'", a);
    long long n;
    if (!strcmp(name, "db")) {
      if (need(cmd, argc, argv, &i)) return EXIT_USAGE;
      o->db = argv[i];
    } else if (!strcmp(name, "config")) {
      if (need(cmd, argc, argv, &i)) return EXIT_USAGE;
      o->config = argv[i];
    } else if (!strcmp(name, "status")) {
      if (need(cmd, argc, argv, &i)) return EXIT_USAGE;
      o->status = argv[i];
      if (strcmp(o->status, "pending") && strcmp(o->status, "delivered") && strcmp(o->status, "dead"))
        return usage(cmd, "--status is pending, delivered or dead, not '%s'", o->status);
    } else if (!strcmp(name, "user")) {
      if (need(cmd, argc, argv, &i)) return EXIT_USAGE;
      o->user = argv[i];
    } else if (!strcmp(name, "now")) {
      if (need(cmd, argc, argv, &i)) return EXIT_USAGE;
      o->now = argv[i];
    } else if (!strcmp(name, "retry") || !strcmp(name, "done")) {
      if (need(cmd, argc, argv, &i) || positive(cmd, a, argv[i], &n)) return EXIT_USAGE;
      *(!strcmp(name, "retry") ? &o->retry : &o->done) = n;
    } else if (!strcmp(name, "interval")) {
      if (need(cmd, argc, argv, &i) || positive(cmd, a, argv[i], &n)) return EXIT_USAGE;
      o->interval = n;
    } else if (!strcmp(name, "json")) {
      o->json = true;
    } else if (!strcmp(name, "once")) {
      o->once = true;
    } else if (!strcmp(name, "follow")) {
      o->follow = true;
    } else if (!strcmp(name, "quiet")) {
      o->quiet = true;
    }
  }
  if (!o->db) return usage(cmd, "%s", "say which database: --db FILE");
  return 0;
}

static int start_clock(const char *cmd, const Opts *o, Clock *c) {
  memset(c, 0, sizeof *c);
  if (!o->now) return 0;
  if (parse_iso(o->now, &c->base))
    return usage(cmd, "--now: '%s' is not a time like 2026-01-12T10:00:00+03:00", o->now);
  c->set = true;
  clock_gettime(CLOCK_MONOTONIC, &c->start);
  return 0;
}

static OutboxDb *open_db(const char *cmd, const char *path) {
  char err[600];
  OutboxDb *db = outbox_db_open(path, err, sizeof err);
  if (!db) fprintf(stderr, "funnel %s: %s\n", cmd, err);
  return db;
}

/* ---- funnel outbox ------------------------------------------------------------------------ */

static void print_item_json(const OutboxItem *r) {
  json_t *j = json_object();
  json_object_set_new(j, "id", json_integer(r->id));
  json_object_set_new(j, "key", json_string(r->key ? r->key : ""));
  json_object_set_new(j, "ref", r->ref ? json_string(r->ref) : json_null());
  json_object_set_new(j, "kind", json_string(r->kind ? r->kind : ""));
  json_object_set_new(j, "status", json_string(r->status ? r->status : ""));
  json_object_set_new(j, "attempts", json_integer(r->attempts));
  json_object_set_new(j, "created", iso_json(r->created));
  json_object_set_new(j, "next_try", strcmp(r->status, "pending") ? json_null() : iso_json(r->next_try));
  json_object_set_new(j, "delivered", iso_json(r->delivered));
  json_object_set_new(j, "last_error", r->last_error ? json_string(r->last_error) : json_null());
  json_t *e = json_loads(r->json ? r->json : "null", JSON_DECODE_ANY, NULL);
  json_object_set_new(j, "effect", e ? e : json_string(r->json ? r->json : ""));
  char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  puts(s);
  free(s);
  json_decref(j);
}

int cmd_outbox(int argc, char **argv) {
  Opts o = {0};
  Clock clk;
  int rc = parse(argc, argv, "db status json retry now", &o);
  if (rc || (rc = start_clock("outbox", &o, &clk))) return rc;
  if (o.retry && (o.status || o.json)) return usage("outbox", "%s", "--retry takes no --status or --json");
  OutboxDb *db = open_db("outbox", o.db);
  if (!db) return 1;
  if (o.retry) {
    rc = outbox_db_revive(db, o.retry, clock_now(&clk));
    if (rc) {
      fprintf(stderr, "funnel outbox: %s\n", outbox_db_error(db));
    } else {
      printf("outbox row %lld is pending again\n", o.retry);
    }
    outbox_db_close(db);
    return rc ? 1 : 0;
  }
  Arena a;
  arena_init(&a);
  OutboxItem *rows;
  size_t n;
  rc = outbox_db_list(db, o.status, &rows, &n, &a);
  if (rc) {
    fprintf(stderr, "funnel outbox: %s\n", outbox_db_error(db));
  } else if (o.json) {
    for (size_t i = 0; i < n; i++) print_item_json(&rows[i]);
  } else {
    printf("%-5s %-9s %-8s %-8s %-20s %-28s %s\n", "ID", "STATUS", "KIND", "ATTEMPTS", "NEXT TRY",
           "KEY", "LAST ERROR");
    for (size_t i = 0; i < n; i++) {
      const OutboxItem *r = &rows[i];
      char next[32] = "-";
      if (!strcmp(r->status, "pending")) iso(r->next_try, next, sizeof next);
      if (r->last_error && *r->last_error)
        printf("%-5lld %-9s %-8s %-8d %-20s %-28s %s\n", (long long)r->id, r->status, r->kind,
               r->attempts, next, r->key, r->last_error);
      else
        printf("%-5lld %-9s %-8s %-8d %-20s %s\n", (long long)r->id, r->status, r->kind,
               r->attempts, next, r->key);
    }
    long counts[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
      counts[!strcmp(rows[i].status, "pending") ? 0 : !strcmp(rows[i].status, "delivered") ? 1 : 2]++;
    printf("%zu effects: %ld pending, %ld delivered, %ld dead\n", n, counts[0], counts[1], counts[2]);
  }
  arena_free(&a);
  outbox_db_close(db);
  return rc ? 1 : 0;
}

/* ---- funnel deliver ----------------------------------------------------------------------- */

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

/* Sleeps up to `seconds`, waking early when a signal asks to stop. */
static void nap(int64_t seconds) {
  for (int64_t i = 0; i < seconds * 10 && !stopping; i++) {
    struct timespec t = {0, 100 * 1000 * 1000};
    nanosleep(&t, NULL);
  }
}

static long pending_count(OutboxDb *db) {
  Arena a;
  arena_init(&a);
  OutboxItem *rows;
  size_t n = 0;
  if (outbox_db_list(db, "pending", &rows, &n, &a) != ST_OK) n = 0;
  arena_free(&a);
  return (long)n;
}

int cmd_deliver(int argc, char **argv) {
  Opts o = {0};
  Clock clk;
  int rc = parse(argc, argv, "db config once follow interval now quiet", &o);
  if (rc || (rc = start_clock("deliver", &o, &clk))) return rc;
  if (!o.config) return usage("deliver", "%s", "say which configuration: --config FILE");
  if (o.once && o.follow) return usage("deliver", "%s", "--once or --follow, not both");
  if (!o.follow) o.once = true;   /* the default: one pass */
  if (o.interval && !o.follow) return usage("deliver", "%s", "--interval goes with --follow");
  DeliverConfig cfg;
  char err[600];
  if (dconf_load(o.config, &cfg, err, sizeof err)) {
    fprintf(stderr, "funnel deliver: %s\n", err);
    return 1;
  }
  OutboxDb *db = open_db("deliver", o.db);
  if (!db) {
    dconf_free(&cfg);
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Worker w = {0};
  w.db = db;
  w.cfg = &cfg;
  w.log = o.quiet ? NULL : stdout;
  w.stop = &stopping;
  const char *crash = getenv("FUNNEL_DELIVER_CRASH_AFTER");
  if (crash && *crash) w.crash_after = strtol(crash, NULL, 10);
  DeliverStats st = {0};
  if (o.once) {
    /* --once: what is due when it starts, all at that one moment */
    rc = worker_pass(&w, clock_now(&clk), &st);
  } else {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int64_t interval = o.interval ? o.interval : cfg.interval;
    while (!stopping) {
      rc = worker_pass(&w, clock_now(&clk), &st);
      if (rc) break;
      fflush(stdout);
      nap(interval > 0 ? interval : 1);
    }
  }
  if (rc) fprintf(stderr, "funnel deliver: %s\n", outbox_db_error(db));
  printf("funnel deliver: %ld delivered, %ld to retry, %ld dead, %ld pending%s\n", st.delivered,
         st.retried, st.dead, rc ? -1L : pending_count(db), stopping ? " (stopped by a signal)" : "");
  fflush(stdout);
  outbox_db_close(db);
  dconf_free(&cfg);
  chan_document_shutdown();
  chan_native_shutdown();
  curl_global_cleanup();
  return rc || st.errors ? 1 : 0;
}

/* ---- funnel inbox ------------------------------------------------------------------------- */

int cmd_inbox(int argc, char **argv) {
  Opts o = {0};
  Clock clk;
  int rc = parse(argc, argv, "db user json done now", &o);
  if (rc || (rc = start_clock("inbox", &o, &clk))) return rc;
  OutboxDb *db = open_db("inbox", o.db);
  if (!db) return 1;
  if (o.done) {
    rc = outbox_db_inbox_done(db, o.done, clock_now(&clk));
    if (rc)
      fprintf(stderr, "funnel inbox: %s\n", outbox_db_error(db));
    else
      printf("inbox item %lld is done\n", o.done);
    outbox_db_close(db);
    return rc ? 1 : 0;
  }
  Arena a;
  arena_init(&a);
  InboxItem *rows;
  size_t n;
  rc = outbox_db_inbox_list(db, o.user, &rows, &n, &a);
  if (rc) fprintf(stderr, "funnel inbox: %s\n", outbox_db_error(db));
  for (size_t i = 0; !rc && i < n; i++) {
    const InboxItem *it = &rows[i];
    if (o.json) {
      json_t *j = json_object();
      json_object_set_new(j, "id", json_integer(it->id));
      json_object_set_new(j, "user", json_string(it->user));
      json_object_set_new(j, "kind", json_string(it->kind));
      json_object_set_new(j, "ref", it->ref ? json_string(it->ref) : json_null());
      json_object_set_new(j, "text", json_string(it->text ? it->text : ""));
      if (!strcmp(it->kind, "task")) {
        json_object_set_new(j, "due", iso_json(it->due));
        json_object_set_new(j, "done", iso_json(it->done));
      }
      if (it->open >= 0) {
        json_t *e = json_loads(it->json ? it->json : "{}", 0, NULL);
        json_t *q = json_object_get(e, "question");
        json_object_set_new(j, "question", q ? json_incref(q) : json_null());
        json_object_set_new(j, "open", json_boolean(it->open));
        json_decref(e);
      }
      json_object_set_new(j, "created", iso_json(it->created));
      json_object_set_new(j, "key", json_string(it->key));
      char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
      puts(s);
      free(s);
      json_decref(j);
    } else {
      char due[32] = "", when[48] = "";
      if (it->due) {
        iso(it->due, due, sizeof due);
        snprintf(when, sizeof when, " (due %s)", due);
      }
      const char *state = !strcmp(it->kind, "task") ? (it->done ? "[x] " : "[ ] ")
                          : it->open == 1 ? "[?] " : "";
      printf("%-5lld %-10s %-6s %s%s%s%s%s\n", (long long)it->id, it->user, it->kind, state,
             it->text ? it->text : "", when, it->ref ? "  -- " : "", it->ref ? it->ref : "");
    }
  }
  if (!rc && !o.json) printf("%zu items\n", n);
  arena_free(&a);
  outbox_db_close(db);
  return rc ? 1 : 0;
}
