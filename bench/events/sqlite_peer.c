/*
** sqlite_peer.c: the plain-C side of bench/events. Does by hand, with
** prepared statements, the SQLite writes the engine makes for the same
** work, in the same tables (created from an empty funnel database, so the
** columns and indexes are the store's), with the same PRAGMAs
** (journal_mode=WAL, synchronous=FULL, foreign_keys=ON,
** temp_store=MEMORY), committing in the same groups. No reads but the
** timers': a program that knows what it does needs none. This is the
** physical limit the engine is measured against.
**
**   sqlite_peer events TEMPLATE.db DB GROUP N
**     N events, GROUP per transaction. An event, as bench_events does it:
**       create: a records row (in sales.fresh), the deal row (title,
**               owner), a stage-history row, an event-log row;
**       move:   the records row updated (sales.work), the history row
**               closed and a new one, the `at` timer planned (a timer
**               row), an event-log row (the timers of the stay left are
**               cancelled lazily, as the store does: nothing to write);
**       change: the deal's callback set, the robot's notification (an
**               outbox row), the timer planned anew (a timer row, and the
**               record's current `at` timer noted in records.timers, which
**               makes the older one stale), an event-log row.
**     and the timer sequence and the command number saved in meta at each
**     commit, as the store does. Prints `sqlite events=N group=G seconds=S rate=R`.
**
**   sqlite_peer timers TEMPLATE.db DB NT SAMPLE SLICES VARIANT
**     NT timer rows (timer rows only, due one second apart in an order
**     unrelated to the order of insertion, as bench_events plans them),
**     1,000 per transaction; then fires the first SAMPLE bare (the timer
**     row read and deleted) and the next SAMPLE with their action (plus
**     an outbox row and an event-log row), in SLICES timed slices each,
**     1,000 per transaction. VARIANT `clustered`: the store's table,
**     WITHOUT ROWID and keyed by (due, id); `rowid`: a rowid table with an
**     index on due. Both get an index on record, as the store had before
**     it cancelled timers lazily (to cancel a record's timers);
**     `clustered-norecord` (the store's table now) and `rowid-norecord` go
**     without it, to show what it costs.
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

#define T0 1772431200LL
#define DAY 86400LL

static sqlite3 *db;

static void die(const char *what) {
  fprintf(stderr, "sqlite_peer: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  exit(1);
}

static void exec(const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "sqlite_peer: %s: %s\n", sql, err ? err : "?");
    exit(1);
  }
}

static sqlite3_stmt *prep(const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) die(sql);
  return st;
}

static void step(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) die(sqlite3_sql(st));
  sqlite3_reset(st);
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

static long long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* A new database DB with the tables and indexes of TEMPLATE (an empty
** funnel database for the same pack); `rowid_timers`: the timers table as
** a rowid table with an index on due instead. */
static void open_db(const char *tmpl, const char *path, int rowid_timers, int no_record_index) {
  sqlite3 *t;
  sqlite3_stmt *st;
  char side[1024];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK)
    die(path);
  exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;"
       "PRAGMA journal_mode = WAL;");
  if (sqlite3_open_v2(tmpl, &t, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(t, "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid", -1,
                         &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "sqlite_peer: cannot read %s\n", tmpl);
    exit(1);
  }
  exec("BEGIN");
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0), *sql = (const char *)sqlite3_column_text(st, 1);
    if (!strcmp(name, "timers_record")) continue; /* an older store's: made below if asked */
    if (rowid_timers && !strcmp(name, "timers")) {
      exec("CREATE TABLE timers(id INTEGER PRIMARY KEY, due INTEGER NOT NULL, record INTEGER NOT NULL,"
           " handler INTEGER NOT NULL, entry INTEGER NOT NULL)");
      exec("CREATE INDEX timers_due ON timers(due)");
    } else {
      exec(sql);
    }
  }
  if (!no_record_index) exec("CREATE INDEX timers_record ON timers(record)");
  exec("COMMIT");
  sqlite3_finalize(st);
  sqlite3_close(t);
}

/* ---- events ----------------------------------------------------------------------- */

static int run_events(const char *tmpl, const char *path, long group, long n) {
  open_db(tmpl, path, 0, 0);
  exec("INSERT INTO users(id, name) VALUES ('u1', 'Иван')");
  sqlite3_stmt *rec_ins = prep("INSERT INTO records(entity, ref, stage, entry, entered, created) "
                               "VALUES (0, ?1, 'sales.fresh', 1, ?2, ?2)"),
               *deal_ins = prep("INSERT INTO deal(id, f_title, f_owner) VALUES (?1, ?2, 'u1')"),
               *hist_open = prep("INSERT INTO stage_history(record, stage, entry, entered, by_user) "
                                 "VALUES (?1, ?2, ?3, ?4, NULL)"),
               *hist_close = prep("UPDATE stage_history SET \"left\" = ?2 WHERE record = ?1 AND \"left\" IS NULL"),
               *rec_move = prep("UPDATE records SET stage = 'sales.work', entry = 2, entered = ?2 WHERE id = ?1"),
               *log = prep("INSERT INTO events(at, json) VALUES (?1, ?2)"),
               *timer_current = prep("UPDATE records SET timers = json_set(coalesce(timers, '{}'), "
                                     "'$.\"1\"', json_array(2, ?2)) WHERE id = ?1"),
               *timer_add = prep("INSERT INTO timers(due, id, record, handler, entry) VALUES (?1, ?2, ?3, ?4, 2)"),
               *deal_set = prep("UPDATE deal SET f_callback = ?2 WHERE id = ?1"),
               *outbox = prep("INSERT INTO outbox(key, record, kind, json, created, next_try) "
                              "VALUES (?1, ?2, 'notify', ?3, ?4, ?4)"),
               *cmd_put = prep("INSERT INTO meta(key, value) VALUES ('command', ?1) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
               *seq_put = prep("INSERT INTO meta(key, value) VALUES ('timer_seq', ?1) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
               *begin = prep("BEGIN IMMEDIATE"), *commit = prep("COMMIT");
  char ref[32], title[64], json[256], key[64];
  int64_t timer_seq = 0, now = T0;
  const int handler = 1;
  double t0 = now_s();
  for (long i = 0; i < n; i++) {
    if (i % group == 0) step(begin);
    snprintf(ref, sizeof ref, "d%ld", i + 1);
    snprintf(title, sizeof title, "Сделка %ld", i + 1);
    /* create */
    sqlite3_bind_text(rec_ins, 1, ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(rec_ins, 2, now);
    step(rec_ins);
    int64_t id = sqlite3_last_insert_rowid(db);
    sqlite3_bind_int64(deal_ins, 1, id);
    sqlite3_bind_text(deal_ins, 2, title, -1, SQLITE_STATIC);
    step(deal_ins);
    sqlite3_bind_int64(hist_open, 1, id);
    sqlite3_bind_text(hist_open, 2, "sales.fresh", -1, SQLITE_STATIC);
    sqlite3_bind_int(hist_open, 3, 1);
    sqlite3_bind_int64(hist_open, 4, now);
    step(hist_open);
    snprintf(json, sizeof json, "{\"command\":\"create\",\"ref\":\"%s\",\"effects\":4}", ref);
    sqlite3_bind_int64(log, 1, now);
    sqlite3_bind_text(log, 2, json, -1, SQLITE_STATIC);
    step(log);
    /* move */
    sqlite3_bind_int64(rec_move, 1, id);
    sqlite3_bind_int64(rec_move, 2, now);
    step(rec_move);
    sqlite3_bind_int64(hist_close, 1, id);
    sqlite3_bind_int64(hist_close, 2, now);
    step(hist_close);
    sqlite3_bind_int64(hist_open, 1, id);
    sqlite3_bind_text(hist_open, 2, "sales.work", -1, SQLITE_STATIC);
    sqlite3_bind_int(hist_open, 3, 2);
    sqlite3_bind_int64(hist_open, 4, now);
    step(hist_open);
    sqlite3_bind_int64(timer_add, 1, now + DAY);
    sqlite3_bind_int64(timer_add, 2, ++timer_seq);
    sqlite3_bind_int64(timer_add, 3, id);
    sqlite3_bind_int(timer_add, 4, handler);
    step(timer_add);
    snprintf(json, sizeof json, "{\"command\":\"move\",\"ref\":\"%s\",\"effects\":1}", ref);
    sqlite3_bind_int64(log, 1, now);
    sqlite3_bind_text(log, 2, json, -1, SQLITE_STATIC);
    step(log);
    /* change */
    int64_t cb = T0 + 2 * DAY + i;
    sqlite3_bind_int64(deal_set, 1, id);
    sqlite3_bind_int64(deal_set, 2, cb);
    step(deal_set);
    snprintf(key, sizeof key, "%ld.1/%lld/0/1/notify", 3 * i + 3, (long long)id);
    snprintf(json, sizeof json, "{\"user\":\"u1\",\"text\":\"Перезвонить: %s\",\"key\":\"%s\",\"at_ts\":%lld}",
             title, key, (long long)now);
    sqlite3_bind_text(outbox, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(outbox, 2, id);
    sqlite3_bind_text(outbox, 3, json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(outbox, 4, now);
    step(outbox);
    sqlite3_bind_int64(timer_add, 1, cb);
    sqlite3_bind_int64(timer_add, 2, ++timer_seq);
    sqlite3_bind_int64(timer_add, 3, id);
    sqlite3_bind_int(timer_add, 4, handler);
    step(timer_add);
    sqlite3_bind_int64(timer_current, 1, id);
    sqlite3_bind_int64(timer_current, 2, timer_seq);
    step(timer_current);
    snprintf(json, sizeof json, "{\"command\":\"update\",\"ref\":\"%s\",\"effects\":2}", ref);
    sqlite3_bind_int64(log, 1, now);
    sqlite3_bind_text(log, 2, json, -1, SQLITE_STATIC);
    step(log);
    if ((i + 1) % group == 0 || i + 1 == n) {
      char seq[32];
      snprintf(seq, sizeof seq, "%lld", (long long)timer_seq);
      sqlite3_bind_text(seq_put, 1, seq, -1, SQLITE_TRANSIENT);
      step(seq_put);
      snprintf(seq, sizeof seq, "%ld", 3 * (i + 1) + 1); /* the user command was the first */
      sqlite3_bind_text(cmd_put, 1, seq, -1, SQLITE_TRANSIENT);
      step(cmd_put);
      step(commit);
    }
  }
  double secs = now_s() - t0;
  sqlite3_stmt *all[] = {rec_ins, deal_ins, hist_open, hist_close, rec_move, log, timer_current,
                         timer_add, deal_set, outbox, seq_put, cmd_put, begin, commit};
  for (size_t k = 0; k < sizeof all / sizeof *all; k++) sqlite3_finalize(all[k]);
  /* the rows the work left, table by table, as bench_events counts them */
  static const char *const tables[] = {"records", "deal", "stage_history", "events", "timers", "outbox"};
  char rows[256];
  size_t len = 0;
  for (size_t k = 0; k < sizeof tables / sizeof *tables; k++) {
    char sql[64];
    sqlite3_stmt *st;
    long c = -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", tables[k]);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      c = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    len += (size_t)snprintf(rows + len, sizeof rows - len, "%s%s:%ld", k ? "," : "", tables[k], c);
  }
  if (sqlite3_close(db) != SQLITE_OK) die("close");
  printf("sqlite events=%ld group=%ld seconds=%.4f rate=%.0f rows=%s\n", n, group, secs, (double)n / secs, rows);
  return 0;
}

/* ---- timers ------------------------------------------------------------------------ */

static long perm(long i, long nt) { return (long)(((long long)i * 7919 + 12345) % nt); }

static int run_timers(const char *tmpl, const char *path, long nt, long sample, long slices, const char *variant) {
  int rowid = !strncmp(variant, "rowid", 5), norecord = strstr(variant, "-norecord") != NULL;
  if (2 * sample > nt || slices < 1 || sample % slices) {
    fprintf(stderr, "sqlite_peer: bad SAMPLE or SLICES\n");
    return 2;
  }
  open_db(tmpl, path, rowid, norecord);
  sqlite3_stmt *add = prep(rowid ? "INSERT INTO timers(id, due, record, handler, entry) VALUES (?2, ?1, ?3, 1, 1)"
                                 : "INSERT INTO timers(due, id, record, handler, entry) VALUES (?1, ?2, ?3, 1, 1)"),
               *next = prep(rowid ? "SELECT due, id, record, handler, entry FROM timers WHERE due <= ?1 "
                                    "ORDER BY due, id LIMIT 1"
                                  : "SELECT due, id, record, handler, entry FROM timers WHERE due <= ?1 "
                                    "ORDER BY due, id LIMIT 1"),
               *del = prep(rowid ? "DELETE FROM timers WHERE id = ?2" : "DELETE FROM timers WHERE due = ?1 AND id = ?2"),
               *outbox = prep("INSERT INTO outbox(key, record, kind, json, created, next_try) "
                              "VALUES (?1, ?2, 'notify', ?3, ?4, ?4)"),
               *log = prep("INSERT INTO events(at, json) VALUES (?1, ?2)"),
               *begin = prep("BEGIN IMMEDIATE"), *commit = prep("COMMIT");
  double t0 = now_s();
  for (long i = 0; i < nt; i++) {
    if (i % 1000 == 0) step(begin);
    sqlite3_bind_int64(add, 1, T0 + DAY + perm(i, nt));
    sqlite3_bind_int64(add, 2, i + 1);
    sqlite3_bind_int64(add, 3, i + 2);
    step(add);
    if ((i + 1) % 1000 == 0 || i + 1 == nt) step(commit);
  }
  double fill = now_s() - t0;
  /* closed (the WAL checkpointed into the file) and opened again, cold,
  ** as bench_events does */
  sqlite3_finalize(add);
  sqlite3_finalize(next);
  sqlite3_finalize(del);
  sqlite3_finalize(outbox);
  sqlite3_finalize(log);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  if (sqlite3_close(db) != SQLITE_OK) die("close");
  printf("sqlite timers %s fill: %ld timer rows in %.1f s (%.0f/s)\n", variant, nt, fill, (double)nt / fill);
  printf("sqlite timers %s pending=%ld dbsize=%lld (timer rows only)\n", variant, nt, file_size(path));
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK)
    die(path);
  exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;");
  next = prep("SELECT due, id, record, handler, entry FROM timers WHERE due <= ?1 ORDER BY due, id LIMIT 1");
  del = prep(rowid ? "DELETE FROM timers WHERE id = ?2" : "DELETE FROM timers WHERE due = ?1 AND id = ?2");
  outbox = prep("INSERT INTO outbox(key, record, kind, json, created, next_try) VALUES (?1, ?2, 'notify', ?3, ?4, ?4)");
  log = prep("INSERT INTO events(at, json) VALUES (?1, ?2)");
  begin = prep("BEGIN IMMEDIATE");
  commit = prep("COMMIT");
  long slice = sample / slices, fired = 0;
  char key[64], json[256];
  for (int pass = 0; pass < 2; pass++) {
    for (long k = 0; k < slices; k++) {
      long from = pass * sample + k * slice, to = from + slice;
      double s0 = now_s();
      for (long g = from; g < to; g += 1000) {
        int64_t until = T0 + DAY + (g + 1000 < to ? g + 1000 : to) - 1;
        step(begin);
        for (;;) {
          sqlite3_bind_int64(next, 1, until);
          if (sqlite3_step(next) != SQLITE_ROW) {
            sqlite3_reset(next);
            break;
          }
          int64_t due = sqlite3_column_int64(next, 0), id = sqlite3_column_int64(next, 1),
                  rec = sqlite3_column_int64(next, 2);
          sqlite3_reset(next);
          sqlite3_bind_int64(del, 1, due);
          sqlite3_bind_int64(del, 2, id);
          step(del);
          fired++;
          if (pass == 1) {
            snprintf(key, sizeof key, "%ld.1/%lld/2/1/notify", fired, (long long)rec);
            snprintf(json, sizeof json, "{\"user\":\"u1\",\"text\":\"Проснулся: Таймер %lld\",\"key\":\"%s\","
                     "\"at_ts\":%lld}", (long long)rec, key, (long long)due);
            sqlite3_bind_text(outbox, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(outbox, 2, rec);
            sqlite3_bind_text(outbox, 3, json, -1, SQLITE_STATIC);
            sqlite3_bind_int64(outbox, 4, due);
            step(outbox);
            snprintf(json, sizeof json, "{\"log\":\"timer\",\"ref\":\"t%lld\",\"detail\":\"wake\"}", (long long)rec);
            sqlite3_bind_int64(log, 1, due);
            sqlite3_bind_text(log, 2, json, -1, SQLITE_STATIC);
            step(log);
          }
        }
        step(commit);
      }
      printf("sqlite timers %s fire=%s slice=%ld timers=%ld rate=%.0f\n", variant, pass ? "act" : "bare", k, slice,
             (double)slice / (now_s() - s0));
    }
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("sqlite timers %s fired=%ld rss_kb=%ld max_rss_kb=%ld\n", variant, fired, rss_kb(), ru.ru_maxrss);
  sqlite3_finalize(next);
  sqlite3_finalize(del);
  sqlite3_finalize(outbox);
  sqlite3_finalize(log);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  if (sqlite3_close(db) != SQLITE_OK) die("close");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 6 && !strcmp(argv[1], "events")) return run_events(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
  if (argc >= 8 && !strcmp(argv[1], "timers"))
    return run_timers(argv[2], argv[3], atol(argv[4]), atol(argv[5]), atol(argv[6]), argv[7]);
  fprintf(stderr, "usage: sqlite_peer events TEMPLATE.db DB GROUP N\n"
                  "       sqlite_peer timers TEMPLATE.db DB NT SAMPLE SLICES VARIANT\n"
                  "         VARIANT: clustered, rowid, clustered-norecord, rowid-norecord\n");
  return 2;
}
