/*
** check_parser.c: the grammar, observed through the AST. Each declaration
** and statement kind is parsed and its ast_dump, folded onto one line by
** tu_sexpr, is compared with the expected tree. Then precedence, the
** places where one token means two things (`in`), error recovery and its
** messages, and the nesting limits. Test ids (par_N_M) are stable: N is 1
** for "core", 2 for "limits", 3 for "errors".
*/
#include "test_util.h"
#include "parse/parse_ctx.h"
#include "util/strbuf.h"

/* ---- core ------------------------------------------------------------- */

/* One source per declaration area, with its expected tree. `allow` is a
** code that may be reported (imports that are not there), or NULL. */
static const struct {
  const char *id;
  const char *src;
  const char *want;
  const char *allow;
} trees[] = {
    {"par_1_1.1 pack",
     "pack water_delivery \"Доставка воды\" version \"1.0.0\"\n"
     ,
     "(pack water_delivery \"Доставка воды\" '1.0.0' (string '1.0.0'))",
     NULL
    },
    {"par_1_1.2 import",
     "import std.escalation\n"
     "import \"water-common.pipe\"\n"
     "import shared.calendars version \"1.2\"\n"
     ,
     "(import std.escalation) (import 'water-common.pipe' flags=1024) (import shared.calendars "
     "(string '1.2'))",
     "E0213"
    },
    {"par_1_1.3 calendar",
     "calendar office \"Офис\" default {\n"
     "  timezone \"Europe/Moscow\"\n"
     "  hours mon..fri 09:00..18:00\n"
     "  hours sat 10:00..14:00\n"
     "  holiday 2026-01-01..2026-01-08\n"
     "  holiday 2026-03-09\n"
     "  workday 2026-11-01\n"
     "}\n"
     "calendar night {}\n"
     ,
     "(calendar office \"Офис\" flags=1 (timezone 'Europe/Moscow' (string 'Europe/Moscow')) "
     "(hours mon 'fri' 09:00..18:00) (hours sat 'sat' 10:00..14:00) (holiday "
     "(date '2026-01-01') (date '2026-01-08')) (holiday (date '2026-03-09')) (workday "
     "(date '2026-11-01'))) (calendar night)",
     NULL
    },
    {"par_1_1.4 people",
     "role manager \"Менеджер\"\n"
     "role head\n"
     "user petrov \"Пётр Петров\" { roles head }\n"
     "user ivanov \"Иван Иванов\" { roles manager, appraiser supervisor petrov }\n"
     "user bot\n"
     ,
     "(role manager \"Менеджер\") (role head) (user petrov \"Пётр Петров\" (name head)) "
     "(user ivanov \"Иван Иванов\" (name petrov) (name manager) (name appraiser)) (user bot)",
     NULL
    },
    {"par_1_1.5 entity",
     "entity deal {\n"
     "  tare: enum { own \"Собственная\", rented \"Арендованная\", } \"Тара\"\n"
     "  payments: list<money> \"Платежи\"\n"
     "  price: money \"Цена\" required\n"
     "  paid: money = total(payments)\n"
     "  who: user\n"
     "  on change payments, price { notify owner \"Оплачено ${paid}\" }\n"
     "  on create { task owner \"Связаться\" due 1 hour }\n"
     "}\n"
     ,
     "(entity deal (field tare \"Тара\" (enum (enum value own \"Собственная\") "
     "(enum value rented \"Арендованная\"))) (field payments \"Платежи\" (list (type money))) "
     "(field price \"Цена\" flags=2 (type money)) (field paid (type money) (call total "
     "(name payments))) (field who (type user)) (handler change (name payments) (name price) (block (notify "
     "(name owner) (string (text 'Оплачено ') (name paid))))) (handler create (block (task "
     "(name owner) (string 'Связаться') (duration '1 hour' 1 hour)))))",
     NULL
    },
    {"par_1_1.6 enum",
     "enum tare \"Тара\" { own \"Собственная\", rented, }\n"
     "enum kind { a }\n"
     "entity deal { t: tare }\n"
     ,
     "(enum decl tare \"Тара\" (enum (enum value own \"Собственная\") (enum value rented))) "
     "(enum decl kind (enum (enum value a))) (entity deal (field t (type tare)))",
     NULL
    },
    {"par_1_1.7 event",
     "event accounting.payment \"Статус оплаты\" { status: enum { paid \"Оплачен\", unpaid } amount: money }\n"
     "event ping\n"
     ,
     "(event accounting.payment \"Статус оплаты\" (field status (enum "
     "(enum value paid \"Оплачен\") (enum value unpaid))) (field amount (type money))) "
     "(event ping)",
     NULL
    },
    {"par_1_1.8 fn",
     "fn half(x: money): money = x / 2\n"
     "fn next_call(d: date, n: int): date {\n"
     "  if day(d) <= 15 { return start_of_month(d) + 1 month }\n"
     "  return\n"
     "}\n"
     "fn noop() {}\n"
     "extern fn send(addr: text) from \"libsend\"\n"
     "extern pure fn inn_valid(inn: text): bool from \"libfunnel_ru\"\n"
     ,
     "(fn half flags=4 (type money) (binary / (name x) (int '2')) (param x (type money))) "
     "(fn next_call (type date) (block (if (binary <= (call day (name d)) (int '15')) (block "
     "(return (binary + (call start_of_month (name d)) (duration '1 month' 1 month))))) "
     "(return)) (param d (type date)) (param n (type int))) (fn noop (block)) "
     "(extern send 'libsend' (param addr (type text))) "
     "(extern inn_valid 'libfunnel_ru' flags=8 (type bool) (param inn (type text)))",
     NULL
    },
    {"par_1_1.9 direction",
     "direction new_clients \"Новые клиенты\" {\n"
     "  after 1 day { notify owner \"Нет движения\" }\n"
     "  stage fresh \"Новая\"\n"
     "  stage contract \"Договор\" {\n"
     "    trigger email.read from offer\n"
     "    trigger when sum > 0 from offer, other.fresh\n"
     "    trigger invoice.paid when event.amount >= sum may move back\n"
     "    guard count(photos) > 0 else \"Добавьте фото\"\n"
     "    require delivery_date, slot else \"Заполните дату\"\n"
     "    require phone\n"
     "    access move senior\n"
     "    access view manager, head\n"
     "    access everyone\n"
     "  }\n"
     "  stage won \"Успех\" success\n"
     "  stage lost \"Провал\" failure { on leave {} }\n"
     "  stage bot \"Авто\" auto\n"
     "  stage both \"Оба\" failure auto\n"
     "}\n"
     "direction leads \"Лиды\" for lead {\n"
     "  stage a \"A\" success\n"
     "}\n"
     ,
     "(direction new_clients \"Новые клиенты\" (handler after (duration '1 day' 1 day) (block "
     "(notify (name owner) (string 'Нет движения')))) (stage fresh \"Новая\") "
     "(stage contract \"Договор\" (trigger (event name email.read) (name offer)) (trigger "
     "(binary > (name sum) (int '0')) (name offer) (member fresh (name other))) "
     "(trigger flags=64 (event name invoice.paid) (binary >= (member amount (event)) "
     "(name sum))) (guard (binary > (call count (name photos)) (int '0')) "
     "(string 'Добавьте фото')) (require (string 'Заполните дату') (name delivery_date) "
     "(name slot)) (require (name phone)) (access move (name senior)) (access view "
     "(name manager) (name head)) (access all (name everyone))) (stage won \"Успех\" success) "
     "(stage lost \"Провал\" failure (handler leave (block))) (stage bot \"Авто\" flags=16) "
     "(stage both \"Оба\" failure flags=16)) (direction leads \"Лиды\" (type lead) "
     "(stage a \"A\" success))",
     NULL
    },
    {"par_1_1.10 handlers",
     "direction d {\n"
     "  stage s {\n"
     "    on enter {}\n"
     "    on leave {}\n"
     "    on event form.submitted {}\n"
     "    after 3 workdays in office { delete }\n"
     "    after 3 days once {}\n"
     "    at delivery_date - 1 day in office once {}\n"
     "    every 1 month {}\n"
     "    every 2 weeks in office {}\n"
     "  }\n"
     "}\n"
     "on event form.submitted { create deal in repair.inspection { title = event.name, photos = event.photos } }\n"
     ,
     "(direction d (stage s (handler enter (block)) (handler leave (block)) (handler event "
     "(event name form.submitted) (block)) (handler after (duration '3 workdays' 3 workdays) "
     "(block (delete)) (name office)) (handler after flags=32 (duration '3 days' 3 days) "
     "(block)) (handler at flags=32 (binary - (name delivery_date) (duration '1 day' 1 day)) "
     "(block) (name office)) (handler every (duration '1 month' 1 month) (block)) "
     "(handler every (duration '2 weeks' 2 weeks) (block) (name office)))) (handler event "
     "(event name form.submitted) (block (expr (create deal (member inspection (name repair)) "
     "(init title (member name (event))) (init photos (member photos (event)))))))",
     NULL
    },
    {"par_1_1.11 stmts",
     "fn f() {\n"
     "  let a = 1\n"
     "  let b: int = 2\n"
     "  let c = create contact { name = \"ООО\" }\n"
     "  let d = create deal in new_clients { contact = c, owner = ivanov, }\n"
     "  let split = ask owner \"Разделить?\" : bool timeout 2 hours default false\n"
     "  let kind = ask role head \"Какой?\" : enum { a \"A\", b \"B\" }\n"
     "  set d.sum = 1000 RUB\n"
     "  d.title = \"x\"\n"
     "  x = 1\n"
     "  log(a, b)\n"
     "  if a { } else if b { } else { }\n"
     "  for p in payments { }\n"
     "  move to won\n"
     "  move to regular.fresh\n"
     "  move d to won\n"
     "  delete\n"
     "  create company {}\n"
     "  create task_list\n"
     "  notify owner \"a\"\n"
     "  notify role head \"b\"\n"
     "  notify supervisor \"c\"\n"
     "  notify owner.supervisor \"d\"\n"
     "  task owner \"t\"\n"
     "  task owner \"t\" due 2 hours\n"
     "  task petrov \"t\" due delivery_date in office\n"
     "  message email \"m\"\n"
     "  message sms to contact.phone \"m\"\n"
     "  document contract \"tpl.docx\" { sum = sum }\n"
     "  document act \"tpl\"\n"
     "  webhook \"https://x\" { id = id }\n"
     "  webhook url\n"
     "  convert into deals\n"
     "  convert into deals.fresh with contact, company\n"
     "}\n"
     ,
     "(fn f (block (let a (int '1')) (let b (int '2') (type int)) (let c (create contact "
     "(init name (string 'ООО')))) (let d (create deal (name new_clients) (init contact "
     "(name c)) (init owner (name ivanov)))) (let split (ask (name owner) "
     "(string 'Разделить?') (type bool) (duration '2 hours' 2 hours) (bool false))) (let kind "
     "(ask (role target head) (string 'Какой?') (enum (enum value a \"A\") (enum value b \"B\")))) "
     "(set (member sum (name d)) (money RUB '1000')) (set (member title (name d)) "
     "(string 'x')) (set (name x) (int '1')) (expr (call log (name a) (name b))) (if (name a) "
     "(block) (if (name b) (block) (block))) (for p (name payments) (block)) (move (name won)) "
     "(move (member fresh (name regular))) (move (name d) (name won)) (delete) (expr "
     "(create company)) (expr (create task_list)) (notify (name owner) (string 'a')) (notify "
     "(role target head) (string 'b')) (notify (supervisor) (string 'c')) (notify "
     "(member supervisor (name owner)) (string 'd')) (task (name owner) (string 't')) (task "
     "(name owner) (string 't') (duration '2 hours' 2 hours)) (task (name petrov) (string 't') "
     "(name delivery_date) (name office)) (message email (string 'm')) (message sms "
     "(member phone (name contact)) (string 'm')) (document contract (string 'tpl.docx') "
     "(init sum (name sum))) (document act (string 'tpl')) (webhook (string 'https://x') "
     "(init id (name id))) (webhook (name url)) (convert (name deals)) (convert flags=768 "
     "(member fresh (name deals)))))",
     NULL
    },
    {"par_1_1.12 test",
     "test \"повторный клиент\" {\n"
     "  user boss \"Босс\" { roles head }\n"
     "  at 2026-01-12 10:00\n"
     "  at 2026-01-12\n"
     "  advance 3 days\n"
     "  advance to 2026-02-01 09:00\n"
     "  emit email.read to d\n"
     "  emit form.submitted { name = \"Иван\" }\n"
     "  emit webhook to d { name = \"n\" }\n"
     "  answer d split = true\n"
     "  expect d.stage == regular.fresh\n"
     "  expect refused { move d to contract } with \"фото\"\n"
     "  expect refused { delete }\n"
     "}\n"
     ,
     "(test \"повторный клиент\" (block (user boss \"Босс\" (name head)) (at "
     "(datetime '2026-01-12 10:00')) (at (date '2026-01-12')) (advance "
     "(duration '3 days' 3 days)) (advance flags=128 (datetime '2026-02-01 09:00')) (emit "
     "(event name email.read) (name d)) (emit (event name form.submitted) (init name "
     "(string 'Иван'))) (emit (event name webhook) (name d) (init name (string 'n'))) "
     "(answer split (name d) (bool true)) (expect (binary == (member stage (name d)) "
     "(member fresh (name regular)))) (expect refused (block (move (name d) (name contract))) "
     "(string 'фото')) (expect refused (block (delete)))))",
     NULL
    },
    {"par_1_1.13 exprs",
     "fn f() = [d.sum for d in contact.deals where d.won]\n"
     "fn g() = [x for x in xs]\n"
     "fn h() = [] ?? [1, 2]\n"
     "fn i() = event.amount + supervisor.id\n"
     "fn j() = count(tasks(ivanov)) == -1\n"
     "fn k() = (a + b) * c\n"
     "fn l() = a - b - c\n"
     "fn m() = not not a\n"
     ,
     "(fn f flags=4 (comprehension d (member sum (name d)) (member deals (name contact)) "
     "(member won (name d)))) (fn g flags=4 (comprehension x (name x) (name xs))) "
     "(fn h flags=4 (binary ?? (list) (list (int '1') (int '2')))) (fn i flags=4 (binary + "
     "(member amount (event)) (member id (supervisor)))) (fn j flags=4 (binary == (call count "
     "(call tasks (name ivanov))) (unary - (int '1')))) (fn k flags=4 (binary * (binary + "
     "(name a) (name b)) (name c))) (fn l flags=4 (binary - (binary - (name a) (name b)) "
     "(name c))) (fn m flags=4 (unary not (unary not (name a))))",
     NULL
    },
};

START_TEST(par_1_1_trees) {
  Program *p = tu_load(trees[_i].src);
  for (size_t i = 0; i < p->diag.len; i++) {
    const Diagnostic *x = &p->diag.items[i];
    if (x->sev == SEV_NOTE) continue;
    if (!trees[_i].allow || strcmp(diag_code_str(x->code), trees[_i].allow))
      ck_abort_msg("%s: unexpected errors:\n%s", trees[_i].id, tu_diag_msg(&p->diag));
  }
  const char *got = tu_keep(tu_sexpr(p));
  ck_assert_msg(!strcmp(got, trees[_i].want), "%s: tree differs.\n--- want:\n%s\n--- got:\n%s",
                trees[_i].id, trees[_i].want, got);
}
END_TEST

/* Parses `fn f() = EXPR` and returns the folded tree of EXPR's function. */
static const char *tree_of(const char *src) {
  Program *p = tu_load(src);
  TU_NO_ERRORS(p);
  return tu_keep(tu_sexpr(p));
}

START_TEST(par_1_2_precedence) {
  TU_TEXT_EQ(tree_of("fn f() = a or b and not c == d + e * f"),
             "(fn f flags=4 (binary or (name a) (binary and (name b) (unary not (binary == "
             "(name c) (binary + (name d) (binary * (name e) (name f))))))))");
  /* ?? binds tighter than comparison, looser than + */
  TU_TEXT_EQ(tree_of("fn f() = a ?? b + c < d"),
             "(fn f flags=4 (binary < (binary ?? (name a) (binary + (name b) (name c))) (name d)))");
  /* unary minus binds tighter than *, left associativity, parentheses */
  TU_TEXT_EQ(tree_of("fn f() = -a * b - c - (d - e) % 2"),
             "(fn f flags=4 (binary - (binary - (binary * (unary - (name a)) (name b)) (name c)) "
             "(binary % (binary - (name d) (name e)) (int '2'))))");
  /* not is lower than comparison: not (a == b) */
  TU_TEXT_EQ(tree_of("fn f() = not a == b or c"),
             "(fn f flags=4 (binary or (unary not (binary == (name a) (name b))) (name c)))");
  /* member access and calls bind tightest */
  TU_TEXT_EQ(tree_of("fn f() = -count(d.items).x"),
             "(fn f flags=4 (unary - (member x (call count (member items (name d))))))");
}
END_TEST

START_TEST(par_1_3_in_list_vs_calendar) {
  /* `in [..]` is membership */
  TU_TEXT_EQ(tree_of("fn f() = x in [a, b] and y in []"),
             "(fn f flags=4 (binary and (binary in (name x) (list (name a) (name b))) "
             "(binary in (name y) (list))))");
  /* `in NAME` after a timer's expression is its calendar */
  Program *p = tu_load("direction d { stage s {\n"
                       "  after 3 days in office { delete }\n"
                       "  at deadline in office once { delete }\n"
                       "  every 1 week in office { delete }\n"
                       "} }\n");
  TU_NO_ERRORS(p);
  const Node *h = p->ast.decls->list->list;
  for (int i = 0; i < 3; i++, h = h->next) {
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->kind, N_HANDLER);
    ck_assert_ptr_nonnull(h->c);
    ck_assert_str_eq(h->c->name, "office");
    ck_assert_int_ne(h->a->kind, N_BINARY);
  }
  /* ... and both at once: membership inside the timer's expression */
  TU_TEXT_EQ(tree_of("direction d { stage s { after x in [a] in office {} } }"),
             "(direction d (stage s (handler after (binary in (name x) (list (name a))) (block) "
             "(name office))))");
  /* `for x in` and comprehensions */
  TU_TEXT_EQ(tree_of("fn f() { for x in [y for y in ys where y in [1]] {} }"),
             "(fn f (block (for x (comprehension y (name y) (name ys) (binary in (name y) "
             "(list (int '1')))) (block))))");
  /* task ... due X in CAL */
  TU_TEXT_EQ(tree_of("fn f() { task owner \"t\" due d + 1 day in office }"),
             "(fn f (block (task (name owner) (string 't') (binary + (name d) "
             "(duration '1 day' 1 day)) (name office))))");
}
END_TEST

START_TEST(par_1_4_trigger_clause_order) {
  static const char *forms[] = {
      "direction d { stage s { trigger email.read when sum > 0 from a, r.b may move back } }",
      "direction d { stage s { trigger email.read from a, r.b when sum > 0 may move back } }",
  };
  const char *want =
      "(direction d (stage s (trigger flags=64 (event name email.read) (binary > (name sum) "
      "(int '0')) (name a) (member b (name r)))))";
  for (int i = 0; i < 2; i++) TU_TEXT_EQ(tree_of(forms[i]), want);
  /* each clause is optional */
  TU_TEXT_EQ(tree_of("direction d { stage s { trigger from a trigger when x trigger e.v } }"),
             "(direction d (stage s (trigger (name a)) (trigger (name x)) (trigger "
             "(event name e.v))))");
}
END_TEST

START_TEST(par_1_5_empty_file) {
  static const char *empties[] = {"", "\n\n", "   \t\r\n", "# only a comment", "// one\n# two\n",
                                  ";;"};
  for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
    Program *p = tu_load(empties[i]);
    ck_assert_int_eq(p->diag.nerrors, 0);
    ck_assert_uint_eq(p->diag.len, 0);
    ck_assert_ptr_null(p->ast.decls);
    ck_assert_ptr_null(p->ast.pack);
  }
}
END_TEST

START_TEST(par_1_6_handler_field_list) {
  /* `on change a, b` keeps every field, chained through next */
  Program *p = tu_load("entity deal { on change payments, price, sum {} }");
  TU_NO_ERRORS(p);
  const Node *h = p->ast.decls->list;
  ck_assert_int_eq(h->kind, N_HANDLER);
  ck_assert_int_eq(h->op, HK_CHANGE);
  ck_assert_uint_eq(ast_list_len(h->a), 3);
  ck_assert_str_eq(h->a->next->name, "price");
  ck_assert_str_eq(h->a->next->next->name, "sum");
}
END_TEST

START_TEST(par_1_7_spans) {
  /* a declaration's name_span is its name; its span covers it all */
  Program *p = tu_load("direction d {\n  stage fresh \"Новая\" {\n  }\n}\n");
  TU_NO_ERRORS(p);
  const Node *st = p->ast.decls->list;
  const SrcFile *f = srcset_get(&p->srcs, 0);
  size_t line, col;
  src_line_col(f, st->name_span.start, &line, &col);
  ck_assert_uint_eq(line, 2);
  ck_assert_uint_eq(col, 9);
  ck_assert_uint_eq(st->name_span.end - st->name_span.start, 5);
  src_line_col(f, st->span.end, &line, &col);
  ck_assert_uint_eq(line, 3);
  ck_assert_uint_eq(col, 4);
  /* the pack header is remembered */
  p = tu_load("role r\npack p \"P\" version \"2.0.0\"\n");
  TU_NO_ERRORS(p);
  ck_assert_ptr_nonnull(p->ast.pack);
  ck_assert_str_eq(p->ast.pack->name, "p");
  ck_assert_str_eq(p->ast.pack->text, "2.0.0");
}
END_TEST

/* ---- limits ----------------------------------------------------------- */

/* "fn f() = " + n '(' + "1" + n ')' (heap). */
static char *nested_parens(int n) {
  char *s = malloc((size_t)n * 2 + 32);
  int k = sprintf(s, "fn f() = ");
  memset(s + k, '(', (size_t)n);
  k += n;
  s[k++] = '1';
  memset(s + k, ')', (size_t)n);
  k += n;
  strcpy(s + k, "\n");
  return s;
}

START_TEST(par_2_1_nesting_at_the_limit) {
  char *s = nested_parens(256);
  Program *p = tu_load(s);
  free(s);
  TU_NO_ERRORS(p);
  const Node *e = tu_fn_expr(p);
  ck_assert_int_eq(e->kind, N_INT);
  s = nested_parens(257);
  p = tu_load(s);
  free(s);
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0108", 1, 10 + 256);
}
END_TEST

START_TEST(par_2_2_nesting_300) {
  char *s = nested_parens(300);
  Program *p = tu_load(s);
  free(s);
  ck_assert_int_eq(p->diag.nerrors, 1);
  ck_assert_int_ge(tu_find(p, "E0108"), 0);
  /* rendering the message over the long line works too */
  const char *text = tu_keep(tu_diag_text(&p->diag));
  ck_assert_ptr_nonnull(strstr(text, "error[E0108]"));
}
END_TEST

START_TEST(par_2_3_nesting_10000) {
  char *s = nested_parens(10000);
  Program *p = tu_load(s);
  free(s);
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0108", 1, 10 + 256);
  /* brackets of other kinds, and a mix */
  size_t n = 10000;
  char *b = malloc(n * 3 + 64);
  int k = sprintf(b, "fn f() ");
  for (size_t i = 0; i < n; i++) b[k++] = "{[("[i % 3];
  b[k] = '\0';
  p = tu_load(b);
  free(b);
  ck_assert_int_eq(tu_count(p, "E0108"), 1);
}
END_TEST

START_TEST(par_2_4_deep_without_brackets) {
  /* `not not ... x` needs no brackets; the parser's own stack limit turns
  ** it into E0108 instead of a crash */
  size_t n = 10000;
  char *s = malloc(n * 4 + 64);
  int k = sprintf(s, "fn f() = ");
  for (size_t i = 0; i < n; i++) k += sprintf(s + k, "not ");
  strcpy(s + k, "x\nfn g() = 1\n");
  Program *p = tu_load(s);
  ck_assert_int_ge(tu_find(p, "E0108"), 0);
  ck_assert_int_eq(p->diag.nerrors, 1);
  /* unary minus the same way */
  k = sprintf(s, "fn f() = ");
  for (size_t i = 0; i < n; i++) k += sprintf(s + k, "- ");
  strcpy(s + k, "x\n");
  p = tu_load(s);
  free(s);
  ck_assert_int_ge(tu_find(p, "E0108"), 0);
}
END_TEST

START_TEST(par_2_5_long_but_shallow) {
  /* a sum of PARSE_MAX_EXPR_DEPTH + 1 terms is as tall as a tree may be */
  size_t n = PARSE_MAX_EXPR_DEPTH;
  char *s = malloc(100000 * 2 + 64);
  int k = sprintf(s, "fn f() = 1");
  for (size_t i = 0; i < n; i++) k += sprintf(s + k, "+1");
  strcpy(s + k, "\n");
  Program *p = tu_load(s);
  TU_NO_ERRORS(p);
  ck_assert_int_eq(tu_fn_expr(p)->kind, N_BINARY);
  /* one more term, or 100,000 (no brackets: the lexer's limit does not
  ** apply), is one E0108 at the expression, not a crash later */
  static const size_t longer[] = {PARSE_MAX_EXPR_DEPTH + 1, 100000};
  for (int j = 0; j < 2; j++) {
    k = sprintf(s, "fn f() = 1");
    for (size_t i = 0; i < longer[j]; i++) k += sprintf(s + k, "+1");
    strcpy(s + k, "\nfn g() = 2\n");
    p = tu_load(s);
    ck_assert_int_eq(p->diag.nerrors, 1);
    TU_EXPECT_AT(p, "E0108", 1, 10);
  }
  free(s);
  /* member chains count too */
  StrBuf m = {0};
  sb_puts(&m, "fn f() = x");
  for (int i = 0; i < 1000; i++) sb_puts(&m, ".y");
  p = tu_load(sb_str(&m));
  sb_free(&m);
  ck_assert_int_eq(tu_count(p, "E0108"), 1);
  /* 500 `else if` arms */
  StrBuf b = {0};
  sb_puts(&b, "fn f() { if a { x = 0 }");
  for (int i = 1; i <= 500; i++) sb_printf(&b, " else if a == %d { x = %d }", i, i);
  sb_puts(&b, " else { x = -1 } }\n");
  p = tu_load(sb_str(&b));
  sb_free(&b);
  TU_NO_ERRORS(p);
  int arms = 0;
  for (const Node *i = p->ast.decls->b->list; i && i->kind == N_IF; i = i->c) arms++;
  ck_assert_int_eq(arms, 501);
  /* 10,000 declarations and a 10,000-element list */
  sb_puts(&b, "fn f() = [0");
  for (int i = 1; i < 10000; i++) sb_printf(&b, ", %d", i);
  sb_puts(&b, "]\n");
  for (int i = 0; i < 10000; i++) sb_printf(&b, "role r%d\n", i);
  p = tu_load(sb_str(&b));
  sb_free(&b);
  TU_NO_ERRORS(p);
  ck_assert_uint_eq(ast_list_len(p->ast.decls), 10001);
  ck_assert_uint_eq(ast_list_len(tu_fn_expr(p)->list), 10000);
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

START_TEST(par_3_1_three_mistakes) {
  /* three independent mistakes in three stages: three errors, each at
  ** its place, and every stage is still in the tree */
  Program *p = tu_load("direction d \"D\" {\n"
                       "  stage a \"A\" {\n"
                       "    on enter { move to }\n"
                       "  }\n"
                       "  stage b \"B\" {\n"
                       "    guard x > else \"msg\"\n"
                       "  }\n"
                       "  stage c \"C\" success {\n"
                       "    on leave { let = 5 }\n"
                       "  }\n"
                       "  stage e \"E\" failure\n"
                       "}\n");
  ck_assert_int_eq(p->diag.nerrors, 3);
  TU_EXPECT_AT(p, "E0101", 3, 24);
  TU_EXPECT_AT(p, "E0101", 6, 15);
  TU_EXPECT_AT(p, "E0101", 9, 20);
  ck_assert_uint_eq(ast_list_len(p->ast.decls->list), 4);
  /* mistakes at three different levels: top, entity, statement */
  p = tu_load("role\n"
              "entity deal {\n"
              "  x int\n"
              "  y: int\n"
              "}\n"
              "fn f() {\n"
              "  let a = (1 + )\n"
              "  let b = 2\n"
              "}\n");
  ck_assert_int_eq(p->diag.nerrors, 3);
  TU_EXPECT_AT(p, "E0101", 2, 1);
  TU_EXPECT_AT(p, "E0101", 3, 5);
  TU_EXPECT_AT(p, "E0101", 7, 16);
}
END_TEST

/* The file ends inside a block: E0109 at the bracket never closed (the
** innermost), with a note where the file ends. */
START_TEST(par_3_2_eof_in_block) {
  Program *p = tu_load("direction d {\n"
                       "  stage s {\n"
                       "    on enter {\n"
                       "      move to x\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0109", 3, 14);
  ck_assert_uint_eq(p->diag.len, 2);
  ck_assert_int_eq(p->diag.items[1].sev, SEV_NOTE);
  ck_assert_ptr_nonnull(strstr(p->diag.items[1].msg, "file ends"));
  TU_TEXT_EQ(tu_keep(tu_diag_text(&p->diag)), "t.pipe:3:14: error[E0109]: this '{' is never closed\n"
                                              "    3 |     on enter {\n"
                                              "      |              ^\n"
                                              "t.pipe:4:16: note: the file ends here\n"
                                              "    4 |       move to x\n"
                                              "      |                ^\n");
  /* inside ( and inside the ${ of a string */
  p = tu_load("fn f() = (1 +");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0109", 1, 10);
  ck_assert_ptr_nonnull(strstr(p->diag.items[0].msg, "'('"));
  p = tu_load("fn f() = \"${x");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0109", 1, 10);
  /* no bracket open: a plain syntax error at the end */
  p = tu_load("fn f() = 1 +");
  ck_assert_int_eq(p->diag.nerrors, 1);
  ck_assert_ptr_nonnull(strstr(p->diag.items[0].msg, "unexpected end of file"));
  ck_assert_int_ge(tu_find(p, "E0101"), 0);
}
END_TEST

/* "unexpected X, expected Y": keywords and punctuation quoted, token
** classes by name with their text. */
static const struct {
  const char *src, *msg;
  int line, col;
} wording[] = {
    {"direction d {\n  stage a {\n    on enter { move to }\n  }\n}\n",
     "unexpected '}', expected identifier", 3, 24},
    {"role 42\n", "unexpected integer '42', expected identifier", 1, 6},
    {"calendar c \"t\" x {}\n", "unexpected identifier 'x', expected 'default' or '{'", 1, 16},
    {"extern fn send(to: text) from \"lib\"\n", "unexpected 'to', expected identifier or ')'", 1,
     16},
    {"entity deal { x int }\n", "unexpected identifier 'int', expected ':'", 1, 17},
    {"test \"t\" { expect refused { } with x }\n",
     "unexpected identifier 'x', expected string or string with ${...}", 1, 36},
    {"fn f() = 3 dayz\n", "unexpected identifier 'dayz'", 1, 12},
    {"fn f() = a < b == c\n", "unexpected '=='", 1, 16},
    {"direction d { stage s \"S\" succes }\n",
     "unexpected 'succes' after a stage's title; expected success, failure, auto or '{'", 1, 27},
};

START_TEST(par_3_3_wording) {
  Program *p = tu_load(wording[_i].src);
  ck_assert_int_ge(p->diag.nerrors, 1);
  ck_assert_msg(!strcmp(p->diag.items[0].msg, wording[_i].msg), "want \"%s\", got \"%s\"",
                wording[_i].msg, p->diag.items[0].msg);
  size_t line, col;
  tu_loc(p, 0, &line, &col);
  ck_assert_uint_eq(line, (size_t)wording[_i].line);
  ck_assert_uint_eq(col, (size_t)wording[_i].col);
  ck_assert_str_eq(diag_code_str(p->diag.items[0].code), "E0101");
}
END_TEST

START_TEST(par_3_4_trigger_clause_twice) {
  Program *p = tu_load("direction d { stage s {\n"
                       "  trigger from a from b when x when y\n"
                       "} }\n");
  ck_assert_int_eq(p->diag.nerrors, 2);
  TU_EXPECT_AT(p, "E0101", 2, 18);
  TU_EXPECT_AT(p, "E0101", 2, 32);
  ck_assert_ptr_nonnull(strstr(p->diag.items[0].msg, "one 'from'"));
  ck_assert_ptr_nonnull(strstr(p->diag.items[1].msg, "one 'when'"));
}
END_TEST

START_TEST(par_3_5_stage_modifiers) {
  Program *p = tu_load("direction d {\n  stage s success failure\n  stage t auto success\n}\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0101", 2, 19);
  const Node *t = p->ast.decls->list->next;
  ck_assert_int_eq(t->op, SK_SUCCESS);
  ck_assert_int_eq(t->flags, F_AUTO);
}
END_TEST

START_TEST(par_3_6_titles_and_settings) {
  Program *p = tu_load("direction d \"T ${x}\" {}\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0307", 1, 13);
  p = tu_load("calendar c {\n  hours mon..xyz 09:00..10:00\n  lunch 2026-01-01\n"
              "  hours mon 18:00..09:00\n}\n");
  ck_assert_int_eq(p->diag.nerrors, 3);
  TU_EXPECT_AT(p, "E0405", 2, 14);
  TU_EXPECT_AT(p, "E0405", 3, 3);
  TU_EXPECT_AT(p, "E0405", 4, 13);
  p = tu_load("fn f() { convert into x with contact, lead }\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0101", 1, 39);
}
END_TEST

START_TEST(par_3_7_recovery_at_top_level) {
  /* stray tokens between declarations are skipped */
  Program *p = tu_load("}\nrole r \"R\"\n) ] 42 \"s\"\nrole q\n");
  ck_assert_int_eq(p->diag.nerrors, 2);
  TU_EXPECT_AT(p, "E0101", 1, 1);
  TU_EXPECT_AT(p, "E0101", 3, 1);
  TU_TEXT_EQ(tu_keep(tu_sexpr(p)), "(role r \"R\") (role q)");
  /* a bad if condition: the body is still read, the next stmt kept */
  p = tu_load("fn f() {\n  if (a { x = 1 }\n  y = 2\n}\n");
  ck_assert_int_ge(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0101", 2, 9);
  ck_assert_ptr_nonnull(strstr(tu_keep(tu_sexpr(p)), "(set (name y) (int '2'))"));
}
END_TEST

static Suite *parser_suite(void) {
  Suite *s = suite_create("parser");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, NULL, tu_teardown);
  tcase_add_loop_test(tc, par_1_1_trees, 0, sizeof trees / sizeof trees[0]);
  tcase_add_test(tc, par_1_2_precedence);
  tcase_add_test(tc, par_1_3_in_list_vs_calendar);
  tcase_add_test(tc, par_1_4_trigger_clause_order);
  tcase_add_test(tc, par_1_5_empty_file);
  tcase_add_test(tc, par_1_6_handler_field_list);
  tcase_add_test(tc, par_1_7_spans);
  suite_add_tcase(s, tc);

  tc = tcase_create("limits");
  tcase_add_checked_fixture(tc, NULL, tu_teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, par_2_1_nesting_at_the_limit);
  tcase_add_test(tc, par_2_2_nesting_300);
  tcase_add_test(tc, par_2_3_nesting_10000);
  tcase_add_test(tc, par_2_4_deep_without_brackets);
  tcase_add_test(tc, par_2_5_long_but_shallow);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_checked_fixture(tc, NULL, tu_teardown);
  tcase_add_test(tc, par_3_1_three_mistakes);
  tcase_add_test(tc, par_3_2_eof_in_block);
  tcase_add_loop_test(tc, par_3_3_wording, 0, sizeof wording / sizeof wording[0]);
  tcase_add_test(tc, par_3_4_trigger_clause_twice);
  tcase_add_test(tc, par_3_5_stage_modifiers);
  tcase_add_test(tc, par_3_6_titles_and_settings);
  tcase_add_test(tc, par_3_7_recovery_at_top_level);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(parser_suite()); }
