/*
** check_checker.c: the checker's model and types, seen from the API the
** compiler and `funnel graph` use: what check_program builds (entities,
** standard fields, back references, directions, stages and their ids,
** resolved annotations) and the types it gives expressions. The negative
** cases (every error code at its position) live in tests/errors/.
*/
#include "check/check.h"
#include "test_util.h"

static Model *tm;

static void tm_teardown(void) {
  model_free(tm);
  tm = NULL;
  tu_teardown();
}

/* Loads and checks text; returns the model. */
static Model *checked(const char *text) {
  model_free(tm);
  Program *p = tu_load(text);
  tm = check_program(p);
  diag_sort(&p->diag);
  return tm;
}

static int nerrors(void) { return tu_p.diag.nerrors; }

/* The first error's code string, or "". */
static const char *first_code(void) {
  for (size_t i = 0; i < tu_p.diag.len; i++)
    if (tu_p.diag.items[i].sev != SEV_NOTE) return diag_code_str(tu_p.diag.items[i].code);
  return "";
}

#define DIR3(name, title, body)                                                    \
  "direction " name " \"" title "\" {\n" body "  stage won \"Успешно\" success\n" \
  "  stage lost \"Провал\" failure\n}\n"

/* ---- core --------------------------------------------------------------- */

START_TEST(chk_1_1_standard_fields) {
  Model *m = checked("");
  ck_assert_int_eq(nerrors(), 0);
  Entity *deal = model_entity(m, "deal");
  ck_assert_ptr_nonnull(deal);
  const char *std[] = {"title", "sum", "currency", "owner", "contact", "company", "source", "comment",
                       "stage", "direction", "entered", "won", "lost", "closed", "id", "created"};
  for (size_t i = 0; i < sizeof std / sizeof *std; i++)
    ck_assert_msg(entity_field(deal, std[i]) != NULL, "deal.%s missing", std[i]);
  ck_assert_int_eq(entity_field(deal, "sum")->type->kind, T_MONEY);
  ck_assert_ptr_eq(entity_field(deal, "contact")->type->entity, model_entity(m, "contact"));
  ck_assert(entity_field(deal, "stage")->readonly);
  Entity *lead = model_entity(m, "lead");
  ck_assert_ptr_nonnull(entity_field(lead, "source"));
  ck_assert_ptr_null(entity_field(model_entity(m, "contact"), "stage"));
}
END_TEST

START_TEST(chk_1_2_back_references) {
  Model *m = checked("");
  Field *deals = entity_field(model_entity(m, "contact"), "deals");
  ck_assert_ptr_nonnull(deals);
  ck_assert_int_eq(deals->type->kind, T_LIST);
  ck_assert_ptr_eq(deals->type->elem->entity, model_entity(m, "deal"));
  ck_assert_ptr_nonnull(entity_field(model_entity(m, "company"), "contacts"));
  ck_assert_ptr_nonnull(entity_field(model_entity(m, "company"), "deals"));
}
END_TEST

START_TEST(chk_1_3_directions_and_stages) {
  Model *m = checked(DIR3("a", "А", "  stage one \"Один\"\n")
                         DIR3("b", "Б", "  stage two \"Два\" auto { trigger email.read }\n")
                             "direction l \"Лиды\" for lead { stage n \"Н\" stage c \"К\" success "
                             "stage j \"Брак\" failure }\n");
  ck_assert_int_eq(nerrors(), 0);
  ck_assert_int_eq(m->directions.len, 3);
  ck_assert_int_eq(m->stages.len, 9);
  Direction *b = model_direction(m, "b");
  Stage *two = direction_stage(b, "two");
  ck_assert_int_eq(two->index, 0);
  ck_assert_int_eq(two->id, 3);
  ck_assert(two->is_auto);
  ck_assert_str_eq(two->title, "Два");
  ck_assert_int_eq(direction_stage(b, "won")->kind, SK_SUCCESS);
  ck_assert_int_eq(two->triggers.len, 1);
  ck_assert_ptr_eq(model_direction(m, "l")->entity, model_entity(m, "lead"));
  ck_assert_ptr_eq(m->stages.items[two->id], two);
}
END_TEST

START_TEST(chk_1_4_annotations) {
  Model *m = checked("entity deal { n: int \"Н\" }\n" DIR3(
      "a", "А",
      "  stage one \"Один\" { on enter { if n > 1 { move to b.two } } }\n"
      "  stage three \"Три\" { trigger email.read from one when event.subject == \"КП\" }\n")
                         DIR3("b", "Б", "  stage two \"Два\"\n"));
  ck_assert_int_eq(nerrors(), 0);
  Stage *one = direction_stage(model_direction(m, "a"), "one");
  Node *h = one->handlers.items[0];
  Node *iff = h->b->list;
  Node *mv = iff->b->list;
  ck_assert_int_eq(mv->kind, N_MOVE);
  ck_assert_ptr_eq(mv->sym, direction_stage(model_direction(m, "b"), "two"));
  ck_assert_int_eq(iff->a->type->kind, T_BOOL);
  Stage *three = direction_stage(model_direction(m, "a"), "three");
  Node *tr = three->triggers.items[0];
  ck_assert_ptr_eq(tr->sym, three);
  ck_assert_ptr_eq(tr->list->sym, one);
  ck_assert_ptr_eq(tr->a->sym, model_event(m, "email.read"));
  ck_assert_int_eq(tr->b->a->type->kind, T_TEXT);
}
END_TEST

/* The type of the computed field `x` of deal, declared with `decl`. */
static TypeKind computed_type(const char *decl) {
  char buf[512];
  snprintf(buf, sizeof buf,
           "entity deal { i: int \"И\"  d: decimal \"Д\"  m: money \"М\"  dt: date \"Дата\"\n"
           " t: datetime \"Время\"  u: duration \"Длит\"  x: %s }\n",
           decl);
  Model *m = checked(buf);
  Field *f = entity_field(model_entity(m, "deal"), "x");
  return f && f->computed ? f->computed->type->kind : T__COUNT;
}

START_TEST(chk_1_5_arithmetic) {
  ck_assert_int_eq(computed_type("money = m + 100"), T_MONEY);
  ck_assert_int_eq(nerrors(), 0);
  ck_assert_int_eq(computed_type("money = m * 2"), T_MONEY);
  ck_assert_int_eq(computed_type("money = m / 2"), T_MONEY);
  ck_assert_int_eq(computed_type("money = m * d"), T_MONEY);
  ck_assert_int_eq(computed_type("decimal = m / m"), T_DECIMAL);
  ck_assert_int_eq(computed_type("decimal = i / 2"), T_DECIMAL);
  ck_assert_int_eq(computed_type("int = i % 7"), T_INT);
  ck_assert_int_eq(computed_type("date = dt + 3 days"), T_DATE);
  ck_assert_int_eq(computed_type("datetime = dt + 3 hours"), T_DATETIME);
  ck_assert_int_eq(computed_type("date = start_of_month(dt) + 1 month + 14 days"), T_DATE);
  ck_assert_int_eq(computed_type("duration = t - t"), T_DURATION);
  ck_assert_int_eq(computed_type("duration = u * 2"), T_DURATION);
  ck_assert_int_eq(computed_type("money = m + i"), T_ERROR);
  ck_assert_int_eq(nerrors(), 1);
  ck_assert_int_eq(computed_type("int = count(contact.deals)"), T_INT);
  ck_assert_int_eq(nerrors(), 0);
  ck_assert_int_eq(computed_type("money = total([x.sum for x in contact.deals where x.won])"),
                   T_MONEY);
  ck_assert_int_eq(nerrors(), 0);
}
END_TEST

START_TEST(chk_1_6_enums) {
  checked("enum pay \"Оплата\" { cash \"Наличные\", card \"Карта\" }\n"
          "entity contact { p: pay \"Оплата\" }\n"
          "entity deal { p: pay \"Оплата\"  k: enum { a \"А\", b \"Б\" } \"Вид\" }\n" DIR3(
              "x", "Х",
              "  stage s \"С\" { on enter { set p = contact.p  if k in [a, b] and p != cash {"
              " set k = b } } }\n"));
  ck_assert_int_eq(nerrors(), 0);
  ck_assert_int_eq(tm->enums.len, 1);
  ck_assert_str_eq(tm->enums.items[0]->title, "Оплата");
  checked("entity deal { k: enum { a \"А\" } \"Вид\"  q: enum { a \"А\" } \"Q\" }\n" DIR3(
      "x", "Х", "  stage s \"С\" { on enter { set k = q } }\n"));
  ck_assert_str_eq(first_code(), "E0301");
}
END_TEST

/* ---- errors --------------------------------------------------------------- */

START_TEST(chk_2_1_money_and_int) {
  checked("entity deal { n: int \"Н\"  x: money \"Х\" = sum + n }\n");
  ck_assert_int_eq(nerrors(), 1);
  ck_assert_str_eq(first_code(), "E0303");
}
END_TEST

START_TEST(chk_2_2_error_types_do_not_cascade) {
  /* one unknown field used three times in one expression: three errors, no
  ** follow-on type errors about the sums built from them */
  checked("entity deal { x: money \"Х\" = nope + nope * 2 - nope }\n");
  ck_assert_int_eq(nerrors(), 3);
  for (size_t i = 0; i < tu_p.diag.len; i++)
    if (tu_p.diag.items[i].sev == SEV_ERROR)
      ck_assert_str_eq(diag_code_str(tu_p.diag.items[i].code), "E0201");
}
END_TEST

START_TEST(chk_2_3_model_survives_errors) {
  Model *m = checked("direction a \"А\" { stage s \"С\" { on enter { move to nowhere } } }\n"
                     "direction a \"Дубль\" { stage t \"Т\" }\n");
  ck_assert_int_ge(nerrors(), 3); /* unknown stage, duplicate, no finals */
  ck_assert_int_eq(m->directions.len, 1);
  Node *mv = direction_stage(model_direction(m, "a"), "s")->handlers.items[0];
  ck_assert_ptr_null(mv->b->list->sym);
}
END_TEST

static Suite *checker_suite(void) {
  Suite *s = suite_create("checker");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, NULL, tm_teardown);
  tcase_add_test(tc, chk_1_1_standard_fields);
  tcase_add_test(tc, chk_1_2_back_references);
  tcase_add_test(tc, chk_1_3_directions_and_stages);
  tcase_add_test(tc, chk_1_4_annotations);
  tcase_add_test(tc, chk_1_5_arithmetic);
  tcase_add_test(tc, chk_1_6_enums);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_checked_fixture(tc, NULL, tm_teardown);
  tcase_add_test(tc, chk_2_1_money_and_int);
  tcase_add_test(tc, chk_2_2_error_types_do_not_cascade);
  tcase_add_test(tc, chk_2_3_model_survives_errors);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(checker_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
