/*
** check_deliver.c: unit tests of the delivery worker's parts (src/deliver,
** the outbox_db_* operations): the back-off arithmetic, the messenger
** templates, the e-mail encodings (base64, RFC 2047 words that never split
** a character, the subject), the configuration parser's values and errors,
** and the migration of a database made before the outbox had last_error.
*/
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver/config.h"
#include "deliver/mime.h"
#include "deliver/template.h"
#include "deliver/worker.h"
#include "store/store.h"
#include "util/arena.h"

/* ---- back-off --------------------------------------------------------------------------- */

START_TEST(backoff_grows_and_caps) {
  DeliverConfig c = {0};
  c.base = 2;
  c.factor_milli = 3000;
  c.cap = 60;
  int64_t want[] = {2, 2, 6, 18, 54, 60, 60};
  for (int n = 1; n <= 6; n++) ck_assert_int_eq(backoff_delay(&c, n), want[n]);
  ck_assert_int_eq(backoff_delay(&c, 0), 2);
  ck_assert_int_eq(backoff_delay(&c, 1000), 60);
}
END_TEST

START_TEST(backoff_fractional_factor) {
  DeliverConfig c = {0};
  c.base = 10;
  c.factor_milli = 1500;
  c.cap = 3600;
  ck_assert_int_eq(backoff_delay(&c, 1), 10);
  ck_assert_int_eq(backoff_delay(&c, 2), 15);
  ck_assert_int_eq(backoff_delay(&c, 3), 22);   /* 22.5, in whole seconds */
  ck_assert_int_eq(backoff_delay(&c, 4), 33);
}
END_TEST

START_TEST(backoff_no_overflow) {
  DeliverConfig c = {0};
  c.base = 1;
  c.factor_milli = 999999;
  c.cap = INT64_MAX / 8;
  for (int n = 1; n < 200; n++) {
    int64_t d = backoff_delay(&c, n);
    ck_assert(d >= 1 && d <= c.cap);
  }
  ck_assert_int_eq(backoff_delay(&c, 199), c.cap);
}
END_TEST

/* ---- templates -------------------------------------------------------------------------- */

static json_t *vars(void) {
  json_t *v = json_object();
  json_object_set_new(v, "address", json_string("+7 900 123-45-67"));
  json_object_set_new(v, "text", json_string("Строка \"в кавычках\"\nи вторая"));
  json_object_set_new(v, "to", json_null());
  return v;
}

START_TEST(template_json_strings) {
  json_t *v = vars();
  char err[200];
  char *s = tmpl_expand("{\"p\": {{address}}, \"t\": {{text}}, \"x\": {{to}}}", v, TM_JSON, err, sizeof err);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, "{\"p\": \"+7 900 123-45-67\", \"t\": \"Строка \\\"в кавычках\\\"\\nи вторая\", \"x\": null}");
  json_t *back = json_loads(s, 0, NULL);
  ck_assert_ptr_nonnull(back);   /* still JSON */
  ck_assert_str_eq(json_string_value(json_object_get(back, "t")), "Строка \"в кавычках\"\nи вторая");
  json_decref(back);
  free(s);
  json_decref(v);
}
END_TEST

START_TEST(template_url_encoding) {
  json_t *v = vars();
  char err[200];
  char *s = tmpl_expand("http://h/send?to={{address}}&t={{text}}", v, TM_URL, err, sizeof err);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, "http://h/send?to=%2B7%20900%20123-45-67&t=%D0%A1%D1%82%D1%80%D0%BE%D0%BA%D0%B0%20"
                      "%22%D0%B2%20%D0%BA%D0%B0%D0%B2%D1%8B%D1%87%D0%BA%D0%B0%D1%85%22%0A%D0%B8%20"
                      "%D0%B2%D1%82%D0%BE%D1%80%D0%B0%D1%8F");
  free(s);
  json_decref(v);
}
END_TEST

START_TEST(template_errors) {
  json_t *v = vars();
  char err[200];
  ck_assert_ptr_null(tmpl_expand("{{phone}}", v, TM_JSON, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "unknown {{phone}}"));
  ck_assert_ptr_nonnull(strstr(err, "{{address}}"));
  ck_assert_ptr_null(tmpl_expand("x {{text", v, TM_JSON, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "without a name"));
  ck_assert_ptr_null(tmpl_expand("{{}}", v, TM_JSON, err, sizeof err));
  char *s = tmpl_expand("no holes", v, TM_JSON, err, sizeof err);
  ck_assert_str_eq(s, "no holes");
  free(s);
  s = tmpl_expand("", v, TM_JSON, err, sizeof err);
  ck_assert_str_eq(s, "");
  free(s);
  json_decref(v);
}
END_TEST

/* ---- e-mail encodings ------------------------------------------------------------------- */

static char *b64(const char *s, int wrap) {
  StrBuf b = {0};
  mime_base64(&b, (const unsigned char *)s, strlen(s), wrap);
  if (!b.s) sb_puts(&b, "");
  return b.s;
}

START_TEST(base64_vectors) {
  /* RFC 4648, section 10 */
  const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; i++) {
    char *s = b64(in[i], 0);
    ck_assert_str_eq(s, out[i]);
    free(s);
  }
  char long_text[200];
  memset(long_text, 'a', 120);
  long_text[120] = 0;
  char *s = b64(long_text, 1);   /* 160 characters: 76, 76, 8, each line ended by CRLF */
  ck_assert_int_eq(strlen(s), 160 + 6);
  ck_assert(s[76] == '\r' && s[77] == '\n');
  ck_assert(s[strlen(s) - 2] == '\r');
  free(s);
}
END_TEST

/* Decodes base64 (no line breaks) for the checks below. */
static size_t unb64(const char *s, size_t n, unsigned char *out) {
  static const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t k = 0;
  unsigned v = 0;
  int bits = 0;
  for (size_t i = 0; i < n && s[i] != '='; i++) {
    const char *p = strchr(alpha, s[i]);
    ck_assert_ptr_nonnull(p);
    v = (v << 6) | (unsigned)(p - alpha);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (unsigned char)(v >> bits);
    }
  }
  return k;
}

START_TEST(header_words) {
  StrBuf b = {0};
  mime_header_text(&b, "Plain ASCII subject");
  ck_assert_str_eq(sb_str(&b), "Plain ASCII subject");
  sb_clear(&b);
  /* 2-byte letters and a 4-byte emoji in a long subject: each word decodes
  ** to whole UTF-8 characters, the words add up to the text, none is
  ** longer than 75 characters */
  const char *subj = "Счёт по сделке «Кулер» за поставку оборудования 🚚 и монтаж в срок";
  mime_header_text(&b, subj);
  char joined[512] = "";
  int words = 0;
  for (const char *p = sb_str(&b); (p = strstr(p, "=?UTF-8?B?")) != NULL;) {
    const char *end = strstr(p, "?=");
    ck_assert_ptr_nonnull(end);
    ck_assert_int_le(end + 2 - p, 75);
    unsigned char raw[128];
    size_t n = unb64(p + 10, (size_t)(end - p - 10), raw);
    ck_assert((raw[0] & 0xc0) != 0x80);                     /* starts a character */
    ck_assert(n < 1 || (raw[n - 1] & 0x80) == 0 || (raw[n - 1] & 0xc0) == 0x80);
    strncat(joined, (const char *)raw, n);
    words++;
    p = end + 2;
  }
  ck_assert_int_ge(words, 2);
  ck_assert_str_eq(joined, subj);
  sb_free(&b);
}
END_TEST

START_TEST(subject_first_line) {
  char *s = mime_subject("Первая строка\nвторая", 150);
  ck_assert_str_eq(s, "Первая строка");
  free(s);
  s = mime_subject("Абвгд", 5);   /* 5 bytes: two letters and a half; cut before the half */
  ck_assert_str_eq(s, "Аб...");
  free(s);
  s = mime_subject("", 150);
  ck_assert_str_eq(s, "");
  free(s);
  s = mime_subject("tab\there", 150);
  ck_assert_str_eq(s, "tab here");
  free(s);
}
END_TEST

START_TEST(message_headers) {
  char *m = mime_message("Отдел <a@b.ru>", "c@d.ru", "Тема", "Строка 1\nСтрока 2", "9.1/2/3/1/message",
                         "x.test", 1768204800);
  ck_assert_ptr_nonnull(strstr(m, "Date: Mon, 12 Jan 2026 08:00:00 +0000\r\n"));
  ck_assert_ptr_nonnull(strstr(m, "From: =?UTF-8?B?"));
  ck_assert_ptr_nonnull(strstr(m, "?= <a@b.ru>\r\n"));
  ck_assert_ptr_nonnull(strstr(m, "To: <c@d.ru>\r\n"));
  ck_assert_ptr_nonnull(strstr(m, "Message-ID: <9.1/2/3/1/message@x.test>\r\n"));
  ck_assert_ptr_nonnull(strstr(m, "X-Funnel-Key: 9.1/2/3/1/message\r\n"));
  const char *body = strstr(m, "\r\n\r\n");
  ck_assert_ptr_nonnull(body);
  unsigned char raw[256];
  size_t n = unb64(body + 4, strcspn(body + 4, "\r"), raw);
  raw[n] = 0;
  ck_assert_str_eq((char *)raw, "Строка 1\r\nСтрока 2");   /* LF became CRLF */
  free(m);
  char *a = mime_addr("Name <x@y.z>");
  ck_assert_str_eq(a, "x@y.z");
  free(a);
  a = mime_addr("x@y.z");
  ck_assert_str_eq(a, "x@y.z");
  free(a);
}
END_TEST

/* ---- the configuration ------------------------------------------------------------------ */

static char conf_path[64];

static void write_conf(const char *text) {
  FILE *f = fopen(conf_path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static void conf_setup(void) {
  snprintf(conf_path, sizeof conf_path, "/tmp/check_deliver.%d.conf", (int)getpid());
}

static void conf_teardown(void) { unlink(conf_path); }

START_TEST(config_defaults_and_values) {
  DeliverConfig c;
  char err[300];
  write_conf("; comment\n# comment\n\n[retry]\nfactor = 1.25\ncap = 2h\n[sms]\n"
             "url = http://h/{{address}}#frag\nbody = \"  {\\\"t\\\": {{text}} }  \"\n"
             "header = A: 1\nheader = B: 2\n[smtp]\nserver = s\nfrom = x@y\ntls = smtps\n");
  ck_assert_int_eq(dconf_load(conf_path, &c, err, sizeof err), 0);
  ck_assert_int_eq(c.batch, 10);
  ck_assert_int_eq(c.lease, 600);
  ck_assert_int_eq(c.base, 30);
  ck_assert_int_eq(c.factor_milli, 1250);
  ck_assert_int_eq(c.cap, 7200);
  ck_assert_int_eq(c.max_attempts, 8);
  ck_assert(c.sms.set && !c.whatsapp.set && !c.documents);
  ck_assert_str_eq(c.sms.url, "http://h/{{address}}#frag");
  ck_assert_str_eq(c.sms.body, "  {\"t\": {{text}} }  ");
  ck_assert_int_eq(c.sms.nheaders, 2);
  ck_assert_str_eq(c.sms.headers[1], "B: 2");
  ck_assert_int_eq(c.smtp.port, 465);
  ck_assert(c.smtp.verify);
  ck_assert_ptr_eq(dconf_messenger(&c, "sms"), &c.sms);
  ck_assert_ptr_null(dconf_messenger(&c, "email"));
  dconf_free(&c);
}
END_TEST

START_TEST(config_errors) {
  static const struct {
    const char *text, *msg;
  } cases[] = {
      {"[retry]\nfactor = 0.5\n", ":2: factor: 0.5 would make the delays shrink"},
      {"[retry]\nbase = 0\n", "base must be at least 1s"},
      {"[retry]\nbase = 1h\ncap = 1m\n", "cap (60s) is below base (3600s)"},
      {"key = 1\n", ":1: key 'key' before any [section]"},
      {"[worker]\nbatch = many\n", ":2: batch: 'many' is not a whole number"},
      {"[worker]\nbatch\n", ":2: expected 'key = value' or [section]"},
      {"[worker\n", ":1: a section header is [name]"},
      {"[worker]\n[worker]\n", ":2: section [worker] is given twice"},
      {"[sms]\nurl = a\nurl = b\n", ":3: url is given twice"},
      {"[sms]\nbody = x\n", ":1: [sms] needs url"},
      {"[sms]\nurl = \"a\n", ":2: a quoted value has no closing \""},
      {"[sms]\nurl = \"a\\q\"\n", ":2: unknown escape \\q"},
      {"[webhook]\nurl = x\n", ":2: unknown key 'url' (method, header, content_type, timeout)"},
      {"[webhook]\nheader = nocolon\n", ":2: header: 'nocolon' is not 'Name: value'"},
      {"[smtp]\nserver = s\nfrom = nobody\n", ":3: from: 'nobody' is not an e-mail address"},
      {"[smtp]\nserver = s\nfrom = a@b\nuser = u\n", ":1: [smtp] needs both user and password"},
      {"[documents]\ntemplates = t\n", ":1: [documents] needs output"},
      {"[smtp]\ntls = maybe\n", ":2: tls: 'maybe' is not none, starttls or smtps"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    DeliverConfig c;
    char err[300] = "";
    write_conf(cases[i].text);
    ck_assert_msg(dconf_load(conf_path, &c, err, sizeof err) == -1, "case %zu loaded", i);
    ck_assert_msg(strstr(err, cases[i].msg) != NULL, "case %zu: '%s' has no '%s'", i, err, cases[i].msg);
    ck_assert_msg(!strncmp(err, conf_path, strlen(conf_path)), "case %zu: '%s' does not name the file", i, err);
  }
  DeliverConfig c;
  char err[300];
  ck_assert_int_eq(dconf_load("/nonexistent/x.conf", &c, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.conf: cannot read"));
}
END_TEST

/* ---- the database: migration and operations ----------------------------------------------- */

static char db_path[64];

static void db_setup(void) {
  snprintf(db_path, sizeof db_path, "/tmp/check_deliver.%d.db", (int)getpid());
  unlink(db_path);
}

static void db_teardown(void) {
  char p[80];
  unlink(db_path);
  snprintf(p, sizeof p, "%s-wal", db_path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db_path);
  unlink(p);
}

static void exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
  sqlite3_free(msg);
}

/* A database as funnel made it before the outbox had last_error. */
static void old_database(void) {
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
  exec(db, "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
           "CREATE TABLE records(id INTEGER PRIMARY KEY, entity INTEGER NOT NULL, ref TEXT UNIQUE,"
           "  stage TEXT, entry INTEGER NOT NULL DEFAULT 0, entered INTEGER, created INTEGER NOT NULL,"
           "  deleted INTEGER);"
           "CREATE TABLE user_roles(user TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY(user, role));"
           "CREATE TABLE answers(record INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,"
           "  PRIMARY KEY(record, key)) WITHOUT ROWID;"
           "CREATE TABLE outbox(id INTEGER PRIMARY KEY, key TEXT UNIQUE, record INTEGER,"
           "  kind TEXT NOT NULL, json TEXT NOT NULL, created INTEGER NOT NULL,"
           "  status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
           "  next_try INTEGER, delivered INTEGER);"
           "INSERT INTO records(id, entity, ref, created) VALUES (1, 0, 'd1', 100);"
           "INSERT INTO outbox(key, record, kind, json, created, next_try) VALUES"
           "  ('1.1/1/0/1/notify', 1, 'notify', '{\"user\":\"u1\",\"text\":\"a\"}', 100, 100),"
           "  ('1.1/1/0/2/webhook', 1, 'webhook', '{\"url\":\"http://x\",\"body\":{}}', 100, NULL),"
           "  ('1.1/1/0/3/task', 1, 'task', '{\"user\":\"u1\",\"text\":\"b\"}', 100, 500);");
  sqlite3_close(db);
}

START_TEST(db_migrates_an_old_database) {
  old_database();
  char err[300];
  OutboxDb *d = outbox_db_open(db_path, err, sizeof err);
  ck_assert_msg(d != NULL, "%s", err);
  outbox_db_close(d);
  d = outbox_db_open(db_path, err, sizeof err);   /* again: nothing left to do, no error */
  ck_assert_msg(d != NULL, "%s", err);
  Arena a;
  arena_init(&a);
  OutboxItem *rows;
  size_t n;
  ck_assert_int_eq(outbox_db_list(d, NULL, &rows, &n, &a), ST_OK);
  ck_assert_int_eq(n, 3);
  ck_assert_ptr_null(rows[0].last_error);
  ck_assert_str_eq(rows[0].ref, "d1");
  ck_assert_int_eq(rows[1].next_try, 100);   /* a NULL next_try became the creation time */
  /* due at 200: the first two (the third is due at 500), claimed with a lease */
  ck_assert_int_eq(outbox_db_claim(d, 200, 60, 10, &rows, &n, &a), ST_OK);
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(rows[0].attempts, 1);
  ck_assert_int_eq(rows[0].next_try, 260);
  ck_assert_int_eq(outbox_db_claim(d, 200, 60, 10, &rows, &n, &a), ST_OK);
  ck_assert_int_eq(n, 0);   /* held by the lease */
  ck_assert_int_eq(outbox_db_retry_at(d, 2, 300, "HTTP 500"), ST_OK);
  ck_assert_int_eq(outbox_db_release(d, 1, 200), ST_OK);
  ck_assert_int_eq(outbox_db_list(d, "pending", &rows, &n, &a), ST_OK);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(rows[0].attempts, 0);      /* released: the attempt uncounted */
  ck_assert_int_eq(rows[0].next_try, 200);
  ck_assert_str_eq(rows[1].last_error, "HTTP 500");
  ck_assert_int_eq(outbox_db_dead(d, 2, "gave up"), ST_OK);
  ck_assert_int_eq(outbox_db_revive(d, 1, 200), ST_CONFLICT);   /* pending, not dead */
  ck_assert_int_eq(outbox_db_revive(d, 99, 200), ST_NOTFOUND);
  ck_assert_int_eq(outbox_db_revive(d, 2, 400), ST_OK);
  ck_assert_int_eq(outbox_db_list(d, "dead", &rows, &n, &a), ST_OK);
  ck_assert_int_eq(n, 0);
  /* the inbox: one item per key and user */
  InboxItem it = {0};
  it.key = "1.1/1/0/1/notify";
  it.user = "u1";
  it.kind = "notify";
  it.text = "a";
  it.record = 1;
  it.created = 100;
  it.delivered = 200;
  ck_assert_int_eq(outbox_db_inbox_put(d, &it), ST_OK);
  ck_assert_int_eq(outbox_db_inbox_put(d, &it), ST_OK);
  InboxItem *items;
  ck_assert_int_eq(outbox_db_inbox_list(d, "u1", &items, &n, &a), ST_OK);
  ck_assert_int_eq(n, 1);
  ck_assert_str_eq(items[0].ref, "d1");
  ck_assert_int_eq(items[0].open, -1);
  ck_assert_int_eq(outbox_db_inbox_done(d, items[0].id, 300), ST_OK);
  ck_assert_int_eq(outbox_db_inbox_done(d, 99, 300), ST_NOTFOUND);
  ck_assert_int_eq(outbox_db_inbox_list(d, NULL, &items, &n, &a), ST_OK);
  ck_assert_int_eq(items[0].done, 300);
  arena_free(&a);
  outbox_db_close(d);
}
END_TEST

START_TEST(db_refuses_what_is_not_funnel) {
  char err[300];
  ck_assert_ptr_null(outbox_db_open(db_path, err, sizeof err));   /* missing: not created */
  ck_assert(access(db_path, F_OK) != 0);
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
  exec(db, "CREATE TABLE t(x);");
  sqlite3_close(db);
  ck_assert_ptr_null(outbox_db_open(db_path, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "is not a funnel database"));
}
END_TEST

static Suite *deliver_suite(void) {
  Suite *s = suite_create("deliver");
  TCase *tc = tcase_create("backoff");
  tcase_add_test(tc, backoff_grows_and_caps);
  tcase_add_test(tc, backoff_fractional_factor);
  tcase_add_test(tc, backoff_no_overflow);
  suite_add_tcase(s, tc);
  tc = tcase_create("template");
  tcase_add_test(tc, template_json_strings);
  tcase_add_test(tc, template_url_encoding);
  tcase_add_test(tc, template_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("mime");
  tcase_add_test(tc, base64_vectors);
  tcase_add_test(tc, header_words);
  tcase_add_test(tc, subject_first_line);
  tcase_add_test(tc, message_headers);
  suite_add_tcase(s, tc);
  tc = tcase_create("config");
  tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
  tcase_add_test(tc, config_defaults_and_values);
  tcase_add_test(tc, config_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("db");
  tcase_add_checked_fixture(tc, db_setup, db_teardown);
  tcase_add_test(tc, db_migrates_an_old_database);
  tcase_add_test(tc, db_refuses_what_is_not_funnel);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(deliver_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
