/*
** check_store.c: the SQLite deal store (src/store/store_sqlite.c and
** schema.c). The chunks come from the real front end and compiler
** (program_load_text -> check_program -> compile_program), so the tables
** are derived exactly as in production. "core" opens a fresh :memory:
** store per test (the fixture) and exercises every operation: every value
** type through set/get, records, stage history, referrers, users, timers,
** once flags, answers, the event log, the outbox, transactions. "file"
** reopens database files and checks the migration rules (docs/store.md).
** "errors" feeds the store what it must refuse. Run under ASan+UBSan.
** Test ids store_N_M: N is 1 core, 2 file, 3 errors.
*/
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "compile/compile.h"
#include "parse/loader.h"
#include "store/store.h"

/* ---- packs ------------------------------------------------------------------------------ */

static const char *PACK =
    "pack store_test \"Store test\" version \"1.0.0\"\n"
    "enum pay_form \"Форма оплаты\" { cash \"Наличные\", card \"Карта\" }\n"
    "role manager \"Менеджер\"\n"
    "entity deal {\n"
    "  kind: enum { truck \"Грузовик\", bus \"Автобус\" } \"Вид\"\n"
    "  qty: int \"Количество\"\n"
    "  rate: decimal \"Ставка\"\n"
    "  deadline: date \"Срок\"\n"
    "  visit: datetime \"Визит\"\n"
    "  wait: duration \"Ожидание\"\n"
    "  urgent: bool \"Срочно\"\n"
    "  payments: list<money> \"Платежи\"\n"
    "  forms: list<pay_form> \"Формы\"\n"
    "  notes: list<text> \"Заметки\"\n"
    "  visits: list<date> \"Визиты\"\n"
    "  form: pay_form \"Форма\"\n"
    "  paid: money \"Оплачено\" = total(payments)\n"
    "}\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n"
    "  stage offer \"КП\"\n"
    "  stage won \"Успех\" success\n"
    "  stage lost \"Провал\" failure\n"
    "}\n"
    "direction leads \"Лиды\" for lead {\n"
    "  stage fresh \"Новый\"\n"
    "  stage good \"Хороший\" success\n"
    "  stage bad \"Плохой\" failure\n"
    "}\n";

/* The migration family: a base and its successors. */
static const char *MIG_BASE =
    "pack mig \"Migration\" version \"1.0.0\"\n"
    "entity deal {\n"
    "  qty: int \"Количество\"\n"
    "  kind: enum { a \"A\", b \"B\" } \"Вид\"\n"
    "}\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n"
    "  stage extra \"Доп\"\n"
    "  stage spare \"Запас\"\n"
    "  stage won \"Успех\" success\n"
    "  stage lost \"Провал\" failure\n"
    "}\n";

/* 1.1.0 adds a field (text and money), a stage in the middle, a direction
** and an enum value. */
static const char *MIG_ADD =
    "pack mig \"Migration\" version \"1.1.0\"\n"
    "entity deal {\n"
    "  qty: int \"Количество\"\n"
    "  note: text \"Заметка\"\n"
    "  fee: money \"Сбор\"\n"
    "  kind: enum { c \"C\", a \"A\", b \"B\" } \"Вид\"\n"
    "}\n"
    "entity contact { rank: int \"Ранг\" }\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n"
    "  stage middle \"Середина\"\n"
    "  stage extra \"Доп\"\n"
    "  stage spare \"Запас\"\n"
    "  stage won \"Успех\" success\n"
    "  stage lost \"Провал\" failure\n"
    "}\n"
    "direction repeat \"Повторные\" {\n"
    "  stage fresh \"Новая\"\n"
    "  stage won \"Успех\" success\n"
    "  stage lost \"Провал\" failure\n"
    "}\n";

static const char *MIG_REMOVE_FIELD =
    "pack mig \"Migration\" version \"2.0.0\"\n"
    "entity deal { kind: enum { a \"A\", b \"B\" } \"Вид\" }\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n stage extra \"Доп\"\n stage spare \"Запас\"\n"
    "  stage won \"Успех\" success\n stage lost \"Провал\" failure\n"
    "}\n";

static const char *MIG_RETYPE =
    "pack mig \"Migration\" version \"2.0.0\"\n"
    "entity deal { qty: text \"Количество\"\n kind: enum { a \"A\", b \"B\" } \"Вид\" }\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n stage extra \"Доп\"\n stage spare \"Запас\"\n"
    "  stage won \"Успех\" success\n stage lost \"Провал\" failure\n"
    "}\n";

static const char *MIG_OTHER =
    "pack other \"Other\" version \"1.0.0\"\n"
    "entity deal { qty: int \"Количество\"\n kind: enum { a \"A\", b \"B\" } \"Вид\" }\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n stage extra \"Доп\"\n stage spare \"Запас\"\n"
    "  stage won \"Успех\" success\n stage lost \"Провал\" failure\n"
    "}\n";

/* `extra` is gone (a record is in it); `spare` is gone (empty). */
static const char *MIG_NO_EXTRA =
    "pack mig \"Migration\" version \"2.0.0\"\n"
    "entity deal { qty: int \"Количество\"\n kind: enum { a \"A\", b \"B\" } \"Вид\" }\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n stage spare \"Запас\"\n"
    "  stage won \"Успех\" success\n stage lost \"Провал\" failure\n"
    "}\n";

static const char *MIG_NO_SPARE =
    "pack mig \"Migration\" version \"2.0.0\"\n"
    "entity deal { qty: int \"Количество\"\n kind: enum { a \"A\", b \"B\" } \"Вид\" }\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n stage extra \"Доп\"\n"
    "  stage won \"Успех\" success\n stage lost \"Провал\" failure\n"
    "}\n";

static const char *MIG_NO_B =
    "pack mig \"Migration\" version \"2.0.0\"\n"
    "entity deal { qty: int \"Количество\"\n kind: enum { a \"A\" } \"Вид\" }\n"
    "direction sales \"Продажи\" {\n"
    "  stage fresh \"Новая\"\n stage extra \"Доп\"\n stage spare \"Запас\"\n"
    "  stage won \"Успех\" success\n stage lost \"Провал\" failure\n"
    "}\n";

static const char *RULE = "funnel migrates a database when a pack adds fields or stages; a removal "
                          "or a type change needs a new database or an explicit migration, which "
                          "funnel does not do yet";

/* The packs, compiled once in main() before the tests run. The Programs
** and Models stay alive until the end: the checker interns list types of
** its static basic types (type_list caches `list<file>` in the static
** basic type), so freeing the first program would leave the second
** compile reading freed memory (reported to the lead). */
enum { K_PACK, K_BASE, K_ADD, K_REMOVE_FIELD, K_RETYPE, K_OTHER, K_NO_EXTRA, K_NO_SPARE, K_NO_B,
       NPACKS };
static const char **const pack_text[NPACKS] = {&PACK, &MIG_BASE, &MIG_ADD, &MIG_REMOVE_FIELD,
                                               &MIG_RETYPE, &MIG_OTHER, &MIG_NO_EXTRA,
                                               &MIG_NO_SPARE, &MIG_NO_B};
static Chunk *chunks[NPACKS];
static Program progs[NPACKS];
static Model *models[NPACKS];

/* Loads, checks and compiles pack k; exits on errors. */
static void compile_pack(int k) {
  Program *p = &progs[k];
  program_init(p);
  program_load_text(p, "t.pipe", *pack_text[k], strlen(*pack_text[k]), NULL);
  models[k] = check_program(p);
  chunks[k] = p->diag.nerrors ? NULL : compile_program(p, models[k]);
  if (!chunks[k]) {
    diag_print_text(&p->diag, stderr, 0);
    fprintf(stderr, "check_store: test pack %d does not compile\n", k);
    exit(EXIT_FAILURE);
  }
}

static void free_packs(void) {
  for (int k = 0; k < NPACKS; k++) {
    chunk_free(chunks[k]);
    model_free(models[k]);
    program_free(&progs[k]);
  }
}

static uint32_t fld(const Chunk *c, const char *entity, const char *name) {
  for (uint32_t i = 0; i < c->nfields; i++)
    if (!strcmp(c->fields[i].name, name) && !strcmp(c->entities[c->fields[i].entity].name, entity))
      return i;
  ck_abort_msg("no field %s.%s", entity, name);
  return 0;
}

static int32_t stg(const Chunk *c, const char *dir, const char *name) {
  for (uint32_t i = 0; i < c->nstages; i++)
    if (!strcmp(c->stages[i].name, name) && !strcmp(c->directions[c->stages[i].direction].name, dir))
      return (int32_t)i;
  ck_abort_msg("no stage %s.%s", dir, name);
  return -1;
}

static uint16_t enum_id(const Chunk *c, const char *name) {
  for (uint32_t i = 0; i < c->nenums; i++)
    if (!strcmp(c->enums[i].name, name)) return (uint16_t)i;
  ck_abort_msg("no enum %s", name);
  return 0;
}

/* ---- fixture ---------------------------------------------------------------------------- */

enum { E_DEAL_ = 0, E_CONTACT_ = 1, E_COMPANY_ = 2, E_LEAD_ = 3 };
#define NOW 1768201200LL /* 2026-01-12 07:00 UTC */

static Chunk *ch;
static Store *st;
static Arena ta;
static char dir[64];

static void core_setup(void) {
  ch = chunks[K_PACK];
  char err[512];
  st = store_open_sqlite(ch, ":memory:", err, sizeof err);
  ck_assert_msg(st != NULL, "open: %s", err);
  arena_init(&ta);
}

static void core_teardown(void) {
  if (st) st->ops->close(st);
  st = NULL;
  ch = NULL;
  arena_free(&ta);
}

static void file_setup(void) {
  snprintf(dir, sizeof dir, "/tmp/check_store.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  arena_init(&ta);
}

static void file_teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  arena_free(&ta);
}

static const char *db_path(const char *name) {
  static char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return p;
}

#define OK(call) ck_assert_msg((call) == ST_OK, "%s: %s", #call, store_error(st))

static int64_t new_deal(const char *ref, int32_t stage) {
  int64_t id = 0;
  OK(st->ops->create(st, E_DEAL_, ref, stage, NOW, &id));
  ck_assert_int_gt(id, 0);
  return id;
}

/* set, then get, and the two must be equal */
static void round_trip(int64_t id, const char *field, Value v) {
  uint32_t f = fld(ch, "deal", field);
  OK(st->ops->set(st, id, f, &v));
  Value got;
  OK(st->ops->get(st, id, f, &got, &ta));
  ck_assert_msg(got.type == v.type, "%s: type %d, want %d", field, got.type, v.type);
  ck_assert_msg(value_eq(&got, &v), "%s: the value read back differs", field);
  if (v.type == V_MONEY) ck_assert_int_eq(got.aux, v.aux);
}

static Value txt(const char *s) { return v_text(text_new(&ta, s, strlen(s))); }

/* ---- 1: core ---------------------------------------------------------------------------- */

START_TEST(store_1_1_every_type) {
  int64_t d = new_deal("d1", stg(ch, "sales", "fresh"));
  int64_t c = 0;
  OK(st->ops->create(st, E_CONTACT_, "c1", -1, NOW, &c));

  Value kind = v_tagged(V_ENUM, 1);
  kind.aux = ch->fields[fld(ch, "deal", "kind")].type.ref;
  round_trip(d, "kind", kind);
  round_trip(d, "qty", v_int(-42));
  round_trip(d, "rate", v_dec(1234567)); /* 1.234567 */
  round_trip(d, "deadline", v_date(20465));
  round_trip(d, "visit", v_datetime(NOW + 3600));
  Value w = v_tagged(V_DURATION, 7200);
  w.aux = (uint16_t)(int16_t)-1;
  w.aux32 = 3;
  round_trip(d, "wait", w);
  Value wd = v_tagged(V_DURATION, 90); /* 3 workdays 90 working minutes */
  wd.aux32 = 3;
  wd.flags = VF_WORK;
  round_trip(d, "wait", wd);
  round_trip(d, "urgent", v_bool(true));
  round_trip(d, "urgent", v_bool(false));
  round_trip(d, "sum", v_money(150050, currency_index("USD")));
  round_trip(d, "title", txt("Поставка «Ромашка» \"quoted\""));
  round_trip(d, "title", txt(""));
  Value owner = txt("ivanov");
  owner.type = V_USER;
  round_trip(d, "owner", owner);
  Value cref = v_tagged(V_REC, c);
  cref.aux = E_CONTACT_;
  round_trip(d, "contact", cref);
  Value form = v_tagged(V_ENUM, 1);
  form.aux = enum_id(ch, "pay_form");
  round_trip(d, "form", form);

  List *pay = list_new(&ta, 0);
  list_push(&ta, pay, v_money(100000, 0));
  list_push(&ta, pay, v_money(-5, currency_index("EUR")));
  list_push(&ta, pay, v_null());
  round_trip(d, "payments", v_list(pay));
  Value got;
  OK(st->ops->get(st, d, fld(ch, "deal", "payments"), &got, &ta));
  ck_assert_int_eq(got.u.l->items[1].aux, currency_index("EUR"));
  ck_assert_int_eq(got.u.l->items[2].type, V_NULL);
  List *forms = list_new(&ta, 0);
  Value cash = v_tagged(V_ENUM, 0), card = v_tagged(V_ENUM, 1);
  cash.aux = card.aux = enum_id(ch, "pay_form");
  list_push(&ta, forms, card);
  list_push(&ta, forms, cash);
  round_trip(d, "forms", v_list(forms));
  List *notes = list_new(&ta, 0);
  list_push(&ta, notes, txt("первая"));
  list_push(&ta, notes, txt("a\"b\\c\n"));
  round_trip(d, "notes", v_list(notes));
  round_trip(d, "notes", v_list(list_new(&ta, 0)));
  List *visits = list_new(&ta, 0);
  list_push(&ta, visits, v_date(-1));
  list_push(&ta, visits, v_date(20465));
  round_trip(d, "visits", v_list(visits));

  /* null, and a field never set */
  round_trip(d, "qty", v_null());
  round_trip(d, "sum", v_null());
  round_trip(d, "payments", v_null());
  OK(st->ops->get(st, d, fld(ch, "deal", "comment"), &got, &ta));
  ck_assert_int_eq(got.type, V_NULL);
  /* an int given for a decimal is scaled */
  Value two = v_int(2);
  OK(st->ops->set(st, d, fld(ch, "deal", "rate"), &two));
  OK(st->ops->get(st, d, fld(ch, "deal", "rate"), &got, &ta));
  ck_assert_int_eq(got.type, V_DEC);
  ck_assert_int_eq(got.u.i, 2 * DEC_SCALE);
  /* the record's own properties */
  OK(st->ops->get(st, d, fld(ch, "deal", "stage"), &got, &ta));
  ck_assert_int_eq(got.type, V_STAGE);
  ck_assert_int_eq(got.u.i, stg(ch, "sales", "fresh"));
  OK(st->ops->get(st, d, fld(ch, "deal", "id"), &got, &ta));
  ck_assert_str_eq(got.u.t->s, "d1");
  OK(st->ops->get(st, d, fld(ch, "deal", "created"), &got, &ta));
  ck_assert_int_eq(got.u.i, NOW);
  OK(st->ops->get(st, d, fld(ch, "deal", "won"), &got, &ta));
  ck_assert(got.type == V_BOOL && !got.u.i);
}
END_TEST

START_TEST(store_1_2_records) {
  int32_t fresh = stg(ch, "sales", "fresh"), offer = stg(ch, "sales", "offer"),
          won = stg(ch, "sales", "won");
  int64_t d = new_deal("d1", fresh);
  RecordInfo ri;
  OK(st->ops->find(st, "d1", &ri, &ta));
  ck_assert_int_eq(ri.id, d);
  ck_assert_int_eq(ri.entity, E_DEAL_);
  ck_assert_str_eq(ri.ref, "d1");
  ck_assert_int_eq(ri.stage, fresh);
  ck_assert_int_eq(ri.entry, 1);
  ck_assert_int_eq(ri.entered, NOW);
  ck_assert_int_eq(ri.created, NOW);
  ck_assert(!ri.deleted);
  /* the store names a record created without a ref */
  int64_t d2 = new_deal(NULL, fresh);
  OK(st->ops->info(st, d2, &ri, &ta));
  char want[32];
  snprintf(want, sizeof want, "deal-%lld", (long long)d2);
  ck_assert_str_eq(ri.ref, want);
  /* a ref the caller took first gets a suffix */
  int64_t taken = 0;
  snprintf(want, sizeof want, "contact-%lld", (long long)d2 + 2);
  OK(st->ops->create(st, E_CONTACT_, want, -1, NOW, &taken));
  ck_assert_int_eq(taken, d2 + 1);
  int64_t c2 = 0;
  OK(st->ops->create(st, E_CONTACT_, NULL, -1, NOW, &c2));
  ck_assert_int_eq(c2, d2 + 2);
  OK(st->ops->info(st, c2, &ri, &ta));
  ck_assert_int_eq(ri.stage, -1);
  ck_assert_int_eq(ri.entry, 0);
  char want2[48];
  snprintf(want2, sizeof want2, "contact-%lld.2", (long long)c2);
  ck_assert_str_eq(ri.ref, want2);
  /* moves keep history */
  OK(st->ops->move(st, d, offer, 2, NOW + 60, "u1"));
  OK(st->ops->move(st, d, won, 3, NOW + 120, NULL));
  OK(st->ops->info(st, d, &ri, &ta));
  ck_assert_int_eq(ri.stage, won);
  ck_assert_int_eq(ri.entry, 3);
  ck_assert_int_eq(ri.entered, NOW + 120);
  Value got;
  OK(st->ops->get(st, d, fld(ch, "deal", "won"), &got, &ta));
  ck_assert(got.u.i);
  OK(st->ops->get(st, d, fld(ch, "deal", "closed"), &got, &ta));
  ck_assert(got.u.i);
  OK(st->ops->get(st, d, fld(ch, "deal", "entered"), &got, &ta));
  ck_assert_int_eq(got.u.i, NOW + 120);
  HistoryRow *h;
  size_t n;
  OK(st->ops->history(st, d, &h, &n, &ta));
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(h[0].stage, fresh);
  ck_assert_str_eq(h[0].stage_name, "sales.fresh");
  ck_assert_int_eq(h[0].entry, 1);
  ck_assert_int_eq(h[0].entered, NOW);
  ck_assert_int_eq(h[0].left, NOW + 60);
  ck_assert_ptr_null(h[0].by);
  ck_assert_int_eq(h[1].stage, offer);
  ck_assert_int_eq(h[1].entry, 2);
  ck_assert_str_eq(h[1].by, "u1");
  ck_assert_int_eq(h[1].left, NOW + 120);
  ck_assert_int_eq(h[2].left, 0);
  ck_assert_ptr_null(h[2].by);
  /* removal: the record stays readable, marked deleted */
  OK(st->ops->remove(st, d, NOW + 180));
  OK(st->ops->find(st, "d1", &ri, &ta));
  ck_assert(ri.deleted);
  OK(st->ops->history(st, d, &h, &n, &ta));
  ck_assert_int_eq(h[2].left, NOW + 180);
  ck_assert_int_eq(st->ops->remove(st, d, NOW + 200), ST_NOTFOUND);
  ck_assert_int_eq(st->ops->move(st, d, offer, 4, NOW + 200, NULL), ST_NOTFOUND);
  ck_assert_int_eq(st->ops->find(st, "nope", &ri, &ta), ST_NOTFOUND);
  ck_assert_int_eq(st->ops->info(st, 999, &ri, &ta), ST_NOTFOUND);
  /* leads live in their own direction */
  int64_t l = 0;
  OK(st->ops->create(st, E_LEAD_, "l1", stg(ch, "leads", "fresh"), NOW, &l));
  OK(st->ops->move(st, l, stg(ch, "leads", "good"), 2, NOW, NULL));
}
END_TEST

START_TEST(store_1_3_referrers) {
  int64_t c1 = 0, c2 = 0;
  OK(st->ops->create(st, E_CONTACT_, "c1", -1, NOW, &c1));
  OK(st->ops->create(st, E_CONTACT_, "c2", -1, NOW, &c2));
  uint32_t fc = fld(ch, "deal", "contact");
  int64_t d[4];
  for (int i = 0; i < 4; i++) {
    d[i] = new_deal(NULL, stg(ch, "sales", "fresh"));
    Value r = v_tagged(V_REC, i == 2 ? c2 : c1);
    r.aux = E_CONTACT_;
    OK(st->ops->set(st, d[i], fc, &r));
  }
  OK(st->ops->remove(st, d[3], NOW));
  int64_t *ids;
  size_t n;
  OK(st->ops->referrers(st, fc, c1, &ids, &n, &ta));
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(ids[0], d[0]);
  ck_assert_int_eq(ids[1], d[1]);
  OK(st->ops->referrers(st, fc, c2, &ids, &n, &ta));
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(ids[0], d[2]);
  OK(st->ops->referrers(st, fc, 12345, &ids, &n, &ta));
  ck_assert_int_eq(n, 0);
  /* a company's contacts */
  int64_t co = 0;
  OK(st->ops->create(st, E_COMPANY_, "co", -1, NOW, &co));
  Value r = v_tagged(V_REC, co);
  r.aux = E_COMPANY_;
  OK(st->ops->set(st, c2, fld(ch, "contact", "company"), &r));
  OK(st->ops->referrers(st, fld(ch, "contact", "company"), co, &ids, &n, &ta));
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(ids[0], c2);
  /* only record references */
  ck_assert_int_eq(st->ops->referrers(st, fld(ch, "deal", "qty"), 1, &ids, &n, &ta), ST_ERR);
}
END_TEST

START_TEST(store_1_4_users) {
  const char *roles[] = {"manager", "appraiser"};
  UserRow boss = {"petrov", "Пётр Петров", NULL, "p@example.com", NULL, 0, NULL};
  UserRow u = {"ivanov", "Иван Иванов", "petrov", NULL, "+7 900", 2, roles};
  OK(st->ops->put_user(st, &u)); /* the supervisor may come later */
  OK(st->ops->put_user(st, &boss));
  UserRow got;
  OK(st->ops->get_user(st, "ivanov", &got, &ta));
  ck_assert_str_eq(got.name, "Иван Иванов");
  ck_assert_str_eq(got.supervisor, "petrov");
  ck_assert_ptr_null(got.email);
  ck_assert_str_eq(got.phone, "+7 900");
  ck_assert_int_eq(got.nroles, 2);
  ck_assert_str_eq(got.roles[0], "manager");
  ck_assert_str_eq(got.roles[1], "appraiser");
  OK(st->ops->get_user(st, got.supervisor, &got, &ta));
  ck_assert_str_eq(got.email, "p@example.com");
  ck_assert_ptr_null(got.supervisor);
  ck_assert_int_eq(got.nroles, 0);
  /* put again replaces the row and the roles */
  u.nroles = 1;
  u.roles = roles + 1;
  u.supervisor = NULL;
  OK(st->ops->put_user(st, &u));
  OK(st->ops->get_user(st, "ivanov", &got, &ta));
  ck_assert_int_eq(got.nroles, 1);
  ck_assert_str_eq(got.roles[0], "appraiser");
  ck_assert_ptr_null(got.supervisor);
  ck_assert_int_eq(st->ops->get_user(st, "nobody", &got, &ta), ST_NOTFOUND);
}
END_TEST

START_TEST(store_1_5_timers) {
  TimerRow t[5] = {
      {0, NOW + 300, 1, 7, 1}, {0, NOW + 100, 1, 8, 1}, {0, NOW + 300, 2, 7, 1},
      {0, NOW + 100, 2, 9, 0}, {0, NOW + 200, 1, 8, 2},
  };
  for (int i = 0; i < 5; i++) {
    OK(st->ops->add_timer(st, &t[i]));
    ck_assert_int_eq(t[i].id, i + 1);
  }
  TimerRow got;
  ck_assert_int_eq(st->ops->next_timer(st, NOW + 99, &got), 0);
  /* by due time, ties by id */
  int order[5] = {1, 3, 4, 0, 2}, k = 0;
  while (st->ops->next_timer(st, NOW + 1000, &got) == 1) {
    ck_assert_int_lt(k, 5);
    TimerRow *w = &t[order[k++]];
    ck_assert_int_eq(got.id, w->id);
    ck_assert_int_eq(got.due, w->due);
    ck_assert_int_eq(got.record, w->record);
    ck_assert_int_eq(got.handler, w->handler);
    ck_assert_int_eq(got.entry, w->entry);
    OK(st->ops->delete_timer(st, got.id, got.due));
  }
  ck_assert_int_eq(k, 5);
  ck_assert_int_eq(st->ops->delete_timer(st, 1, NOW + 300), ST_NOTFOUND);

  /* cancellation: a stage entry, a handler, all of a record */
  for (int i = 0; i < 5; i++) {
    t[i].id = 0;
    OK(st->ops->add_timer(st, &t[i]));
  }
  ck_assert_int_eq(t[0].id, 6); /* ids are never reused */
  OK(st->ops->cancel_timers(st, 1, 1)); /* record 1, stage entry 1: t0, t1 */
  ck_assert_int_eq(st->ops->next_timer(st, INT64_MAX, &got), 1);
  ck_assert_int_eq(got.id, t[3].id);
  OK(st->ops->cancel_handler(st, 2, 9)); /* t3 */
  ck_assert_int_eq(st->ops->next_timer(st, INT64_MAX, &got), 1);
  ck_assert_int_eq(got.id, t[4].id);
  OK(st->ops->cancel_timers(st, 1, -1)); /* t4 */
  ck_assert_int_eq(st->ops->next_timer(st, INT64_MAX, &got), 1);
  ck_assert_int_eq(got.id, t[2].id);
  OK(st->ops->cancel_timers(st, 2, -1));
  ck_assert_int_eq(st->ops->next_timer(st, INT64_MAX, &got), 0);
}
END_TEST

START_TEST(store_1_6_once_answers_meta) {
  bool done = true;
  OK(st->ops->once_get(st, 5, 3, &done));
  ck_assert(!done);
  OK(st->ops->once_set(st, 5, 3));
  OK(st->ops->once_set(st, 5, 3));
  OK(st->ops->once_get(st, 5, 3, &done));
  ck_assert(done);
  OK(st->ops->once_get(st, 5, 4, &done));
  ck_assert(!done);

  Value got;
  ck_assert_int_eq(st->ops->answer_get(st, 5, "split", &got, &ta), ST_NOTFOUND);
  Value yes = v_bool(true);
  OK(st->ops->answer_put(st, 5, "split", &yes));
  OK(st->ops->answer_get(st, 5, "split", &got, &ta));
  ck_assert(got.type == V_BOOL && got.u.i);
  Value e = v_tagged(V_ENUM, 1);
  e.aux = enum_id(ch, "pay_form");
  OK(st->ops->answer_put(st, 5, "form", &e));
  OK(st->ops->answer_get(st, 5, "form", &got, &ta));
  ck_assert(value_eq(&got, &e));
  Value m = v_money(99, currency_index("KZT"));
  OK(st->ops->answer_put(st, 6, "form", &m));
  OK(st->ops->answer_get(st, 6, "form", &got, &ta));
  ck_assert(value_eq(&got, &m) && got.aux == m.aux);
  List *l = list_new(&ta, 0);
  list_push(&ta, l, txt("x"));
  list_push(&ta, l, v_date(3));
  Value lv = v_list(l);
  OK(st->ops->answer_put(st, 6, "list", &lv));
  OK(st->ops->answer_get(st, 6, "list", &got, &ta));
  ck_assert(value_eq(&got, &lv));
  OK(st->ops->answer_put(st, 5, "split", &m)); /* replaced */
  OK(st->ops->answer_get(st, 5, "split", &got, &ta));
  ck_assert_int_eq(got.type, V_MONEY);

  const char *v;
  ck_assert_int_eq(st->ops->meta_get(st, "clock", &v, &ta), ST_NOTFOUND);
  OK(st->ops->meta_put(st, "clock", "1768201200"));
  OK(st->ops->meta_put(st, "clock", "1768201300"));
  OK(st->ops->meta_get(st, "clock", &v, &ta));
  ck_assert_str_eq(v, "1768201300");
  OK(st->ops->meta_get(st, "pack_version", &v, &ta));
  ck_assert_str_eq(v, "1.0.0");
}
END_TEST

START_TEST(store_1_7_events_outbox) {
  int64_t s1 = 0, s2 = 0;
  OK(st->ops->log_event(st, NOW, "{\"op\":\"create\"}", &s1));
  OK(st->ops->log_event(st, NOW, "{\"op\":\"move\"}", &s2));
  ck_assert_int_eq(s2, s1 + 1);
  int64_t d = new_deal("d1", stg(ch, "sales", "fresh"));
  OutboxRow a = {0, "d1/1/3/0", d, "notify", "{\"text\":\"hi\"}", NOW, NULL};
  OutboxRow b = {0, "d1/1/3/1", d, "task", "{\"text\":\"call\"}", NOW, NULL};
  OutboxRow c = {0, "top/1", 0, "webhook", "{}", NOW, NULL};
  OK(st->ops->outbox_put(st, &a));
  OK(st->ops->outbox_put(st, &b));
  OK(st->ops->outbox_put(st, &c));
  ck_assert_int_gt(a.id, 0);
  ck_assert_int_eq(b.id, a.id + 1);
  ck_assert_str_eq(a.status, "pending");
  /* the same key again: refused, nothing written */
  OutboxRow dup = {0, "d1/1/3/0", d, "notify", "{\"text\":\"again\"}", NOW, NULL};
  ck_assert_int_eq(st->ops->outbox_put(st, &dup), ST_CONFLICT);
  ck_assert_ptr_nonnull(strstr(store_error(st), "d1/1/3/0"));
  OutboxRow *rows;
  size_t n;
  OK(st->ops->outbox_list(st, 0, NULL, &rows, &n, &ta));
  ck_assert_int_eq(n, 3);
  ck_assert_str_eq(rows[0].json, "{\"text\":\"hi\"}");
  ck_assert_str_eq(rows[0].key, "d1/1/3/0");
  ck_assert_str_eq(rows[2].kind, "webhook");
  ck_assert_int_eq(rows[2].record, 0);
  OK(st->ops->outbox_list(st, d, NULL, &rows, &n, &ta));
  ck_assert_int_eq(n, 2);
  OK(st->ops->outbox_list(st, d, "task", &rows, &n, &ta));
  ck_assert_int_eq(n, 1);
  ck_assert_str_eq(rows[0].key, "d1/1/3/1");
  OK(st->ops->outbox_list(st, 0, "webhook", &rows, &n, &ta));
  ck_assert_int_eq(n, 1);
  OK(st->ops->outbox_mark(st, a.id, "delivered", 0, NOW + 5));
  OK(st->ops->outbox_mark(st, b.id, "pending", NOW + 60, NOW + 5));
  ck_assert_int_eq(st->ops->outbox_mark(st, b.id, "lost", 0, NOW), ST_ERR);
  ck_assert_int_eq(st->ops->outbox_mark(st, 999, "dead", 0, NOW), ST_NOTFOUND);
  OK(st->ops->outbox_list(st, d, NULL, &rows, &n, &ta));
  ck_assert_str_eq(rows[0].status, "delivered");
  ck_assert_str_eq(rows[1].status, "pending");
}
END_TEST

START_TEST(store_1_8_transactions) {
  int32_t fresh = stg(ch, "sales", "fresh");
  int64_t keep = new_deal("keep", fresh);
  uint32_t qty = fld(ch, "deal", "qty");
  Value one = v_int(1), two = v_int(2), got;
  OK(st->ops->set(st, keep, qty, &one));

  /* everything inside a rolled-back transaction is gone */
  OK(st->ops->begin(st));
  ck_assert_int_eq(st->ops->begin(st), ST_ERR); /* no nesting */
  int64_t d = new_deal("gone", fresh);
  OK(st->ops->set(st, keep, qty, &two));
  OK(st->ops->move(st, keep, stg(ch, "sales", "offer"), 2, NOW, NULL));
  TimerRow t = {0, NOW, d, 1, 1};
  OK(st->ops->add_timer(st, &t));
  OK(st->ops->once_set(st, d, 1));
  OK(st->ops->answer_put(st, d, "k", &one));
  int64_t seq;
  OK(st->ops->log_event(st, NOW, "{}", &seq));
  OutboxRow o = {0, "gone/1", d, "notify", "{}", NOW, NULL};
  OK(st->ops->outbox_put(st, &o));
  UserRow u = {"u9", "U", NULL, NULL, NULL, 0, NULL};
  OK(st->ops->put_user(st, &u));
  OK(st->ops->meta_put(st, "clock", "1"));
  OK(st->ops->rollback(st));

  RecordInfo ri;
  ck_assert_int_eq(st->ops->find(st, "gone", &ri, &ta), ST_NOTFOUND);
  OK(st->ops->get(st, keep, qty, &got, &ta));
  ck_assert_int_eq(got.u.i, 1);
  OK(st->ops->info(st, keep, &ri, &ta));
  ck_assert_int_eq(ri.stage, fresh);
  HistoryRow *h;
  size_t n;
  OK(st->ops->history(st, keep, &h, &n, &ta));
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(h[0].left, 0);
  TimerRow tr;
  ck_assert_int_eq(st->ops->next_timer(st, INT64_MAX, &tr), 0);
  bool done;
  OK(st->ops->once_get(st, d, 1, &done));
  ck_assert(!done);
  ck_assert_int_eq(st->ops->answer_get(st, d, "k", &got, &ta), ST_NOTFOUND);
  OutboxRow *rows;
  OK(st->ops->outbox_list(st, 0, NULL, &rows, &n, &ta));
  ck_assert_int_eq(n, 0);
  UserRow ur;
  ck_assert_int_eq(st->ops->get_user(st, "u9", &ur, &ta), ST_NOTFOUND);
  const char *v;
  ck_assert_int_eq(st->ops->meta_get(st, "clock", &v, &ta), ST_NOTFOUND);

  /* and a committed one stays */
  OK(st->ops->begin(st));
  d = new_deal("kept", fresh);
  OK(st->ops->add_timer(st, &(TimerRow){0, NOW, d, 1, 1}));
  OK(st->ops->commit(st));
  OK(st->ops->find(st, "kept", &ri, &ta));
  ck_assert_int_eq(st->ops->next_timer(st, INT64_MAX, &tr), 1);
  ck_assert_int_eq(st->ops->commit(st), ST_ERR); /* nothing open */
  OK(st->ops->rollback(st));                      /* harmless */
}
END_TEST

/* ---- 2: files and migration ------------------------------------------------------------- */

static Store *open_file(const Chunk *c, const char *name, char *err, size_t n) {
  return store_open_sqlite(c, db_path(name), err, n);
}

START_TEST(store_2_1_reopen) {
  ch = chunks[K_PACK];
  char err[512];
  st = open_file(ch, "a.db", err, sizeof err);
  ck_assert_msg(st != NULL, "%s", err);
  int32_t fresh = stg(ch, "sales", "fresh"), offer = stg(ch, "sales", "offer");
  OK(st->ops->begin(st));
  int64_t d = new_deal("d1", fresh);
  OK(st->ops->move(st, d, offer, 2, NOW + 10, "u1"));
  Value sum = v_money(4200, currency_index("USD"));
  OK(st->ops->set(st, d, fld(ch, "deal", "sum"), &sum));
  Value kind = v_tagged(V_ENUM, 1);
  kind.aux = ch->fields[fld(ch, "deal", "kind")].type.ref;
  OK(st->ops->set(st, d, fld(ch, "deal", "kind"), &kind));
  const char *roles[] = {"manager"};
  OK(st->ops->put_user(st, &(UserRow){"u1", "U1", "u2", NULL, NULL, 1, roles}));
  OK(st->ops->add_timer(st, &(TimerRow){0, NOW + 500, d, 3, 2}));
  OK(st->ops->add_timer(st, &(TimerRow){0, NOW + 400, d, 4, 0}));
  OK(st->ops->once_set(st, d, 3));
  OK(st->ops->outbox_put(st, &(OutboxRow){0, "d1/2/3/0", d, "notify", "{}", NOW, NULL}));
  int64_t seq;
  OK(st->ops->log_event(st, NOW, "{\"op\":\"move\"}", &seq));
  OK(st->ops->meta_put(st, "clock", "1768201210"));
  OK(st->ops->commit(st));
  st->ops->close(st);

  /* what is on disk: WAL, typed columns, enum and stage by name */
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open(db_path("a.db"), &db), SQLITE_OK);
  sqlite3_stmt *q;
  ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
  ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
  sqlite3_finalize(q);
  ck_assert_int_eq(sqlite3_prepare_v2(db,
                                      "SELECT d.f_kind, d.f_sum, d.f_sum__cur, r.stage, r.ref "
                                      "FROM deal d JOIN records r USING(id)",
                                      -1, &q, NULL),
                   SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
  ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "bus");
  ck_assert_int_eq(sqlite3_column_int64(q, 1), 4200);
  ck_assert_str_eq((const char *)sqlite3_column_text(q, 2), "USD");
  ck_assert_str_eq((const char *)sqlite3_column_text(q, 3), "sales.offer");
  sqlite3_finalize(q);
  sqlite3_close(db);

  st = open_file(ch, "a.db", err, sizeof err);
  ck_assert_msg(st != NULL, "%s", err);
  RecordInfo ri;
  OK(st->ops->find(st, "d1", &ri, &ta));
  ck_assert_int_eq(ri.stage, offer);
  ck_assert_int_eq(ri.entry, 2);
  Value got;
  OK(st->ops->get(st, d, fld(ch, "deal", "sum"), &got, &ta));
  ck_assert(value_eq(&got, &sum) && got.aux == sum.aux);
  OK(st->ops->get(st, d, fld(ch, "deal", "kind"), &got, &ta));
  ck_assert(value_eq(&got, &kind));
  HistoryRow *h;
  size_t n;
  OK(st->ops->history(st, d, &h, &n, &ta));
  ck_assert_int_eq(n, 2);
  ck_assert_str_eq(h[1].by, "u1");
  UserRow u;
  OK(st->ops->get_user(st, "u1", &u, &ta));
  ck_assert_str_eq(u.supervisor, "u2");
  ck_assert_int_eq(u.nroles, 1);
  TimerRow t;
  ck_assert_int_eq(st->ops->next_timer(st, INT64_MAX, &t), 1);
  ck_assert_int_eq(t.id, 2);
  ck_assert_int_eq(t.due, NOW + 400);
  TimerRow t3 = {0, NOW, d, 1, 0};
  OK(st->ops->add_timer(st, &t3));
  ck_assert_int_eq(t3.id, 3); /* the sequence survived */
  bool done;
  OK(st->ops->once_get(st, d, 3, &done));
  ck_assert(done);
  OutboxRow *rows;
  OK(st->ops->outbox_list(st, 0, NULL, &rows, &n, &ta));
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(st->ops->outbox_put(st, &(OutboxRow){0, "d1/2/3/0", d, "notify", "{}", NOW, NULL}),
                   ST_CONFLICT);
  int64_t seq2;
  OK(st->ops->log_event(st, NOW, "{}", &seq2));
  ck_assert_int_eq(seq2, seq + 1);
  const char *v;
  OK(st->ops->meta_get(st, "clock", &v, &ta));
  ck_assert_str_eq(v, "1768201210");
}
END_TEST

/* Opens the base database of the migration family with one deal in
** `extra` holding kind b, and one in fresh. */
static void make_base(const char *name) {
  Chunk *c = chunks[K_BASE];
  char err[512];
  Store *s = open_file(c, name, err, sizeof err);
  ck_assert_msg(s != NULL, "%s", err);
  int64_t d1 = 0, d2 = 0;
  ck_assert_int_eq(s->ops->create(s, E_DEAL_, "d1", stg(c, "sales", "extra"), NOW, &d1), ST_OK);
  ck_assert_int_eq(s->ops->create(s, E_DEAL_, "d2", stg(c, "sales", "fresh"), NOW, &d2), ST_OK);
  Value q = v_int(7);
  ck_assert_int_eq(s->ops->set(s, d1, fld(c, "deal", "qty"), &q), ST_OK);
  Value b = v_tagged(V_ENUM, 1);
  b.aux = c->fields[fld(c, "deal", "kind")].type.ref;
  ck_assert_int_eq(s->ops->set(s, d1, fld(c, "deal", "kind"), &b), ST_OK);
  s->ops->close(s);
}

START_TEST(store_2_2_migrate_added) {
  make_base("m.db");
  ch = chunks[K_ADD];
  char err[512];
  st = open_file(ch, "m.db", err, sizeof err);
  ck_assert_msg(st != NULL, "%s", err);
  RecordInfo ri;
  OK(st->ops->find(st, "d1", &ri, &ta));
  /* the stage is found by name though its index moved */
  ck_assert_int_eq(ri.stage, stg(ch, "sales", "extra"));
  Value got;
  OK(st->ops->get(st, ri.id, fld(ch, "deal", "qty"), &got, &ta));
  ck_assert_int_eq(got.u.i, 7);
  OK(st->ops->get(st, ri.id, fld(ch, "deal", "kind"), &got, &ta));
  ck_assert_str_eq(ch->enums[got.aux].values[got.u.i], "b"); /* by name, though b moved */
  OK(st->ops->get(st, ri.id, fld(ch, "deal", "note"), &got, &ta));
  ck_assert_int_eq(got.type, V_NULL); /* old rows read null */
  OK(st->ops->get(st, ri.id, fld(ch, "deal", "fee"), &got, &ta));
  ck_assert_int_eq(got.type, V_NULL);
  round_trip(ri.id, "note", txt("новое"));
  round_trip(ri.id, "fee", v_money(100, 0));
  OK(st->ops->move(st, ri.id, stg(ch, "sales", "middle"), 2, NOW, NULL));
  int64_t r = 0;
  OK(st->ops->create(st, E_DEAL_, "r1", stg(ch, "repeat", "fresh"), NOW, &r));
  int64_t c = 0;
  OK(st->ops->create(st, E_CONTACT_, "c1", -1, NOW, &c));
  Value rank = v_int(3);
  OK(st->ops->set(st, c, fld(ch, "contact", "rank"), &rank));
  const char *v;
  OK(st->ops->meta_get(st, "pack_version", &v, &ta));
  ck_assert_str_eq(v, "1.1.0");
  st->ops->close(st);
  /* and again: nothing left to migrate */
  st = open_file(ch, "m.db", err, sizeof err);
  ck_assert_msg(st != NULL, "%s", err);
  OK(st->ops->find(st, "d1", &ri, &ta));
  ck_assert_int_eq(ri.stage, stg(ch, "sales", "middle"));
  OK(st->ops->get(st, ri.id, fld(ch, "deal", "note"), &got, &ta));
  ck_assert_str_eq(got.u.t->s, "новое");
}
END_TEST

/* Opening `name` with pack `text` must fail with a message containing
** each of the strings in `want` (NULL-terminated); the database is left
** as it was. */
static void refused(const char *name, int k, const char *const *want) {
  ch = chunks[k];
  char err[512] = "";
  st = open_file(ch, name, err, sizeof err);
  ck_assert_msg(st == NULL, "opened a database it should refuse");
  for (int i = 0; want[i]; i++)
    ck_assert_msg(strstr(err, want[i]) != NULL, "'%s' not in: %s", want[i], err);
  /* untouched: the base pack still opens it */
  ch = chunks[K_BASE];
  st = open_file(ch, name, err, sizeof err);
  ck_assert_msg(st != NULL, "%s", err);
}

START_TEST(store_2_3_migrate_removed_field) {
  make_base("m.db");
  refused("m.db", K_REMOVE_FIELD,
          (const char *const[]){"field deal.qty (int) was removed", "'mig' 1.0.0", "'mig' 2.0.0",
                                RULE, NULL});
}
END_TEST

START_TEST(store_2_4_migrate_type_change) {
  make_base("m.db");
  refused("m.db", K_RETYPE,
          (const char *const[]){"field deal.qty changed type from int to text", RULE, NULL});
}
END_TEST

START_TEST(store_2_5_migrate_other_pack) {
  make_base("m.db");
  refused("m.db", K_OTHER, (const char *const[]){"belongs to pack 'mig', not 'other'", NULL});
}
END_TEST

START_TEST(store_2_6_migrate_stages_and_enums) {
  make_base("m.db");
  refused("m.db", K_NO_EXTRA,
          (const char *const[]){"stage sales.extra was removed, but 1 deal is in it", RULE, NULL});
  st->ops->close(st);
  st = NULL;
  refused("m.db", K_NO_B,
          (const char *const[]){"value b of deal.kind was removed, but 1 deal holds it in kind", NULL});
  st->ops->close(st);
  st = NULL;
  /* an empty stage may go */
  ch = chunks[K_NO_SPARE];
  char err[512];
  st = open_file(ch, "m.db", err, sizeof err);
  ck_assert_msg(st != NULL, "%s", err);
}
END_TEST

START_TEST(store_2_7_not_ours) {
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open(db_path("x.db"), &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  ch = chunks[K_PACK];
  char err[512];
  st = open_file(ch, "x.db", err, sizeof err);
  ck_assert_ptr_null(st);
  ck_assert_ptr_nonnull(strstr(err, "not a funnel database"));
  FILE *f = fopen(db_path("junk.db"), "w");
  fputs("this is not a database at all, not even close; just some text to fill a page", f);
  fclose(f);
  st = open_file(ch, "junk.db", err, sizeof err);
  ck_assert_ptr_null(st);
  ck_assert_ptr_nonnull(strstr(err, "junk.db"));
  st = open_file(ch, "no/such/dir.db", err, sizeof err);
  ck_assert_ptr_null(st);
}
END_TEST

static void file_teardown_all(void) {
  if (st) st->ops->close(st);
  st = NULL;
  ch = NULL;
  file_teardown();
}

/* ---- 3: errors -------------------------------------------------------------------------- */

START_TEST(store_3_1_refusals) {
  int32_t fresh = stg(ch, "sales", "fresh");
  int64_t d = new_deal("d1", fresh);
  int64_t x = 0;
  ck_assert_int_eq(st->ops->create(st, E_DEAL_, "d1", fresh, NOW, &x), ST_CONFLICT);
  ck_assert_ptr_nonnull(strstr(store_error(st), "'d1'"));
  /* a stage of another entity's direction */
  ck_assert_int_eq(st->ops->create(st, E_DEAL_, "d2", stg(ch, "leads", "fresh"), NOW, &x), ST_ERR);
  ck_assert_int_eq(st->ops->create(st, 17, "d3", -1, NOW, &x), ST_ERR);
  RecordInfo ri;
  ck_assert_int_eq(st->ops->find(st, "d2", &ri, &ta), ST_NOTFOUND);
  ck_assert_int_eq(st->ops->move(st, d, stg(ch, "leads", "good"), 2, NOW, NULL), ST_NOTFOUND);
  ck_assert_int_eq(st->ops->move(st, d, 999, 2, NOW, NULL), ST_ERR);
  /* wrong types */
  Value t = txt("x");
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "qty"), &t), ST_ERR);
  ck_assert_ptr_nonnull(strstr(store_error(st), "deal.qty holds int, not text"));
  Value e = v_tagged(V_ENUM, 0);
  e.aux = enum_id(ch, "pay_form");
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "kind"), &e), ST_ERR);
  Value big = v_tagged(V_ENUM, 9);
  big.aux = enum_id(ch, "pay_form");
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "form"), &big), ST_ERR);
  Value rec = v_tagged(V_REC, d);
  rec.aux = E_DEAL_;
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "contact"), &rec), ST_ERR);
  List *l = list_new(&ta, 0);
  list_push(&ta, l, v_int(3));
  Value lv = v_list(l);
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "payments"), &lv), ST_ERR);
  List *bad = list_new(&ta, 0);
  list_push(&ta, bad, txt("\xff\xfe"));
  Value badv = v_list(bad);
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "notes"), &badv), ST_ERR);
  ck_assert_ptr_nonnull(strstr(store_error(st), "deal.notes: item 1"));
  /* a reference to a record that does not exist */
  Value ghost = v_tagged(V_REC, 4242);
  ghost.aux = E_CONTACT_;
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "contact"), &ghost), ST_ERR);
  /* computed and read-only fields */
  Value m = v_money(1, 0);
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "paid"), &m), ST_ERR);
  ck_assert_ptr_nonnull(strstr(store_error(st), "computed"));
  Value got;
  ck_assert_int_eq(st->ops->get(st, d, fld(ch, "deal", "paid"), &got, &ta), ST_ERR);
  ck_assert_int_eq(st->ops->set(st, d, fld(ch, "deal", "stage"), &m), ST_ERR);
  ck_assert_int_eq(st->ops->get(st, d, fld(ch, "contact", "deals"), &got, &ta), ST_ERR);
  /* a field of another entity, a record that is not there */
  ck_assert_int_eq(st->ops->get(st, d, fld(ch, "contact", "name"), &got, &ta), ST_NOTFOUND);
  ck_assert_int_eq(st->ops->get(st, 999, fld(ch, "deal", "qty"), &got, &ta), ST_NOTFOUND);
  Value one = v_int(1);
  ck_assert_int_eq(st->ops->set(st, 999, fld(ch, "deal", "qty"), &one), ST_NOTFOUND);
  ck_assert_int_eq(st->ops->get(st, d, ch->nfields, &got, &ta), ST_ERR);
  /* the deal is as it was */
  OK(st->ops->get(st, d, fld(ch, "deal", "qty"), &got, &ta));
  ck_assert_int_eq(got.type, V_NULL);
  /* timers with one (due, id) twice */
  OK(st->ops->add_timer(st, &(TimerRow){50, NOW, d, 1, 1}));
  ck_assert_int_eq(st->ops->add_timer(st, &(TimerRow){50, NOW, d, 2, 1}), ST_CONFLICT);
}
END_TEST

static Suite *store_suite(void) {
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, core_setup, core_teardown);
  tcase_add_test(tc, store_1_1_every_type);
  tcase_add_test(tc, store_1_2_records);
  tcase_add_test(tc, store_1_3_referrers);
  tcase_add_test(tc, store_1_4_users);
  tcase_add_test(tc, store_1_5_timers);
  tcase_add_test(tc, store_1_6_once_answers_meta);
  tcase_add_test(tc, store_1_7_events_outbox);
  tcase_add_test(tc, store_1_8_transactions);
  suite_add_tcase(s, tc);
  tc = tcase_create("file");
  tcase_add_checked_fixture(tc, file_setup, file_teardown_all);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, store_2_1_reopen);
  tcase_add_test(tc, store_2_2_migrate_added);
  tcase_add_test(tc, store_2_3_migrate_removed_field);
  tcase_add_test(tc, store_2_4_migrate_type_change);
  tcase_add_test(tc, store_2_5_migrate_other_pack);
  tcase_add_test(tc, store_2_6_migrate_stages_and_enums);
  tcase_add_test(tc, store_2_7_not_ours);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_checked_fixture(tc, core_setup, core_teardown);
  tcase_add_test(tc, store_3_1_refusals);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  for (int k = 0; k < NPACKS; k++) compile_pack(k);
  SRunner *sr = srunner_create(store_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  free_packs();
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
