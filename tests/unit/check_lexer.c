/*
** check_lexer.c: the tokens of the .pipe language, observed through the
** parser: a literal is put where an expression goes (`fn f() = LITERAL`)
** and the resulting AST node is inspected, or the diagnostic it produces is
** matched by code and line:col. Test ids (lex_N_M) are stable: N is 1 for
** "core", 2 for "limits", 3 for "errors".
*/
#include "test_util.h"

/* Parses `fn f() = <expr>` and returns the expression node. */
static const Node *expr_of(const char *expr) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "fn f() = %s\n", expr);
  Program *p = tu_load(buf);
  return tu_fn_expr(p);
}

/* ---- core ------------------------------------------------------------- */

START_TEST(lex_1_1_int_separators) {
  const Node *n = expr_of("1_000_000");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_INT);
  ck_assert_int_eq(n->ival, 1000000);
  ck_assert_str_eq(n->text, "1000000");
  n = expr_of("0");
  ck_assert_int_eq(n->kind, N_INT);
  ck_assert_int_eq(n->ival, 0);
}
END_TEST

START_TEST(lex_1_2_decimals) {
  const Node *n = expr_of("3.5");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_DECIMAL);
  ck_assert_str_eq(n->text, "3.5");
  n = expr_of("1_000.123456"); /* six fraction digits: the most allowed */
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_DECIMAL);
  ck_assert_str_eq(n->text, "1000.123456");
}
END_TEST

START_TEST(lex_1_3_money) {
  const Node *n = expr_of("1500.00 RUB");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_MONEY);
  ck_assert_str_eq(n->text, "1500.00");
  ck_assert_str_eq(n->name, "RUB");
  n = expr_of("1_500 USD");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_MONEY);
  ck_assert_str_eq(n->text, "1500");
  ck_assert_str_eq(n->name, "USD");
  n = expr_of("7EUR"); /* the space is optional */
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_MONEY);
  ck_assert_str_eq(n->name, "EUR");
}
END_TEST

static const struct {
  const char *src;
  int64_t count;
  DurUnit unit;
} durations[] = {
    {"3 days", 3, DU_DAY},         {"1 day", 1, DU_DAY},
    {"1 workday", 1, DU_WORKDAY},  {"3 workdays", 3, DU_WORKDAY},
    {"2 hours", 2, DU_HOUR},       {"1 hour", 1, DU_HOUR},
    {"30 minutes", 30, DU_MINUTE}, {"2 weeks", 2, DU_WEEK},
    {"1 month", 1, DU_MONTH},      {"12 months", 12, DU_MONTH},
    {"1 year", 1, DU_YEAR},        {"4 workhours", 4, DU_WORKHOUR},
    {"1_000 minutes", 1000, DU_MINUTE}, {"3days", 3, DU_DAY},
    {"3\tdays", 3, DU_DAY},
};

START_TEST(lex_1_4_durations) {
  const Node *n = expr_of(durations[_i].src);
  TU_NO_ERRORS(&tu_p);
  ck_assert_msg(n->kind == N_DURATION, "'%s' is not a duration", durations[_i].src);
  ck_assert_int_eq(n->ival, durations[_i].count);
  ck_assert_int_eq(n->op, durations[_i].unit);
}
END_TEST

/* A word after a number that is neither a unit nor a currency is given
** back: "3 fn" is the number 3, then the keyword fn. */
START_TEST(lex_1_5_word_given_back) {
  Program *p = tu_load("fn f() = 3 fn g() = 4 fn h() = 5 - x");
  TU_NO_ERRORS(p);
  const Node *d = p->ast.decls;
  ck_assert_uint_eq(ast_list_len(d), 3);
  ck_assert_int_eq(d->b->kind, N_INT);
  ck_assert_int_eq(d->b->ival, 3);
  ck_assert_str_eq(d->next->name, "g");
  ck_assert_int_eq(d->next->b->ival, 4);
}
END_TEST

START_TEST(lex_1_6_dates) {
  const Node *n = expr_of("2024-02-29");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_DATE);
  ck_assert_str_eq(n->text, "2024-02-29");
  ck_assert_int_eq(n->ival, 19782); /* days since 1970-01-01 */
  n = expr_of("2000-02-29"); /* divisible by 400: leap */
  TU_NO_ERRORS(&tu_p);
  n = expr_of("2026-01-12");
  ck_assert_int_eq(n->ival, 20465);
}
END_TEST

START_TEST(lex_1_7_datetimes) {
  static const char *ok[] = {"2026-01-12 10:00", "2026-01-12T10:00", "2026-01-12 10:00:30",
                             "2026-01-12T10:00+03:00", "2026-01-12T10:00Z",
                             "2026-01-12 23:59-05:30", "2026-01-12T10:00:00+14:00"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    const Node *n = expr_of(ok[i]);
    TU_NO_ERRORS(&tu_p);
    ck_assert_msg(n->kind == N_DATETIME, "'%s' is not a datetime", ok[i]);
    ck_assert_str_eq(n->text, ok[i]);
    ck_assert_int_eq(n->ival, 20465);
  }
}
END_TEST

START_TEST(lex_1_8_times_in_calendar) {
  Program *p = tu_load("calendar office {\n"
                       "  hours mon..fri 09:00..18:00\n"
                       "  hours sat 10:00..14:30\n"
                       "  hours sun 00:00..24:00\n"
                       "}\n");
  TU_NO_ERRORS(p);
  const Node *h = tu_decl(p)->list;
  ck_assert_int_eq(h->kind, N_CAL_HOURS);
  ck_assert_str_eq(h->name, "mon");
  ck_assert_str_eq(h->text, "fri");
  ck_assert_int_eq(h->ival, 9 * 60);
  ck_assert_int_eq(h->ival2, 18 * 60);
  h = h->next;
  ck_assert_str_eq(h->name, "sat");
  ck_assert_str_eq(h->text, "sat");
  ck_assert_int_eq(h->ival2, 14 * 60 + 30);
  ck_assert_int_eq(h->next->ival2, 24 * 60);
}
END_TEST

START_TEST(lex_1_9_string_escapes) {
  const Node *n = expr_of("\"a\\n\\t\\\"\\\\\\$ \\u{41}\\u{416}\\u{1F600}\"");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_STRING);
  ck_assert_ptr_null(n->list);
  ck_assert_str_eq(n->text, "a\n\t\"\\$ A\xD0\x96\xF0\x9F\x98\x80");
  n = expr_of("\"$x {y} 100%\""); /* a lone $ and braces are text */
  TU_NO_ERRORS(&tu_p);
  ck_assert_ptr_null(n->list);
  ck_assert_str_eq(n->text, "$x {y} 100%");
  n = expr_of("\"Привет, # не комментарий // и это\"");
  TU_NO_ERRORS(&tu_p);
  ck_assert_str_eq(n->text, "Привет, # не комментарий // и это");
  n = expr_of("\"\"");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_STRING);
  ck_assert_str_eq(n->text, "");
}
END_TEST

START_TEST(lex_1_10_multiline_string) {
  Program *p = tu_load("fn f() = \"\"\"first\n  second \"quoted\" \"\"\n\\tthird\"\"\"\n"
                       "fn g() = 1\n");
  TU_NO_ERRORS(p);
  const Node *n = tu_fn_expr(p);
  ck_assert_int_eq(n->kind, N_STRING);
  ck_assert_str_eq(n->text, "first\n  second \"quoted\" \"\"\n\tthird");
  /* the line count stays right after a multi-line token */
  ck_assert_int_eq(p->ast.decls->next->kind, N_FUNC);
  tu_load("fn f() = \"\"\"a\nb\"\"\" + \"x\nfn g() = 1\n");
  TU_EXPECT_AT(&tu_p, "E0103", 2, 8);
}
END_TEST

START_TEST(lex_1_11_interpolation) {
  const Node *n = expr_of("\"a ${x} b ${y.z}\"");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_STRING);
  const Node *q = n->list;
  ck_assert_uint_eq(ast_list_len(q), 4);
  ck_assert_int_eq(q->kind, N_STR_PART);
  ck_assert_str_eq(q->text, "a ");
  q = q->next;
  ck_assert_int_eq(q->kind, N_NAME);
  ck_assert_str_eq(q->name, "x");
  q = q->next;
  ck_assert_int_eq(q->kind, N_STR_PART);
  ck_assert_str_eq(q->text, " b ");
  q = q->next;
  ck_assert_int_eq(q->kind, N_MEMBER);
  ck_assert_str_eq(q->name, "z");
  ck_assert_str_eq(q->a->name, "y");
  /* no empty text parts: "${x}${y}" is two expressions */
  n = expr_of("\"${x}${y}\"");
  TU_NO_ERRORS(&tu_p);
  ck_assert_uint_eq(ast_list_len(n->list), 2);
  ck_assert_int_eq(n->list->kind, N_NAME);
  ck_assert_int_eq(n->list->next->kind, N_NAME);
  /* an expression with operators, and a """ string with ${} */
  n = expr_of("\"\"\"sum: ${a + 1}\n\"\"\"");
  TU_NO_ERRORS(&tu_p);
  ck_assert_uint_eq(ast_list_len(n->list), 3);
  ck_assert_int_eq(n->list->next->kind, N_BINARY);
  ck_assert_str_eq(n->list->next->next->text, "\n");
}
END_TEST

START_TEST(lex_1_12_string_in_interpolation) {
  const Node *n = expr_of("\"a ${f(\"in ${x} ner\", \"}\")} b\"");
  TU_NO_ERRORS(&tu_p);
  ck_assert_uint_eq(ast_list_len(n->list), 3);
  const Node *call = n->list->next;
  ck_assert_int_eq(call->kind, N_CALL);
  ck_assert_uint_eq(ast_list_len(call->list), 2);
  const Node *inner = call->list;
  ck_assert_int_eq(inner->kind, N_STRING);
  ck_assert_uint_eq(ast_list_len(inner->list), 3);
  ck_assert_str_eq(inner->list->text, "in ");
  ck_assert_str_eq(inner->list->next->name, "x");
  ck_assert_str_eq(inner->list->next->next->text, " ner");
  ck_assert_str_eq(call->list->next->text, "}");
  ck_assert_str_eq(n->list->next->next->text, " b");
}
END_TEST

/* Braces inside ${...} are counted: the } that closes an inner { does not
** end the interpolation. No expression holds braces, so this is a syntax
** error, but the lexer must stay in step: the string ends where it should
** and the next declaration parses. */
START_TEST(lex_1_13_nested_braces_in_interpolation) {
  Program *p = tu_load("fn f() = \"a ${ {x} } b\"\nfn g() = \"c}\"\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0101", 1, 16);
  const Node *g = p->ast.decls;
  while (g && (!g->name || strcmp(g->name, "g"))) g = g->next;
  ck_assert_ptr_nonnull(g);
  ck_assert_str_eq(g->b->text, "c}");
}
END_TEST

START_TEST(lex_1_14_keywords_and_names) {
  /* keywords are lower case and whole words */
  const Node *n = expr_of("if_x + iff + Stage + stage_1 + _x9");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_BINARY);
  ck_assert_str_eq(n->b->name, "_x9");
  ck_assert_str_eq(n->a->b->name, "stage_1");
  ck_assert_str_eq(n->a->a->b->name, "Stage");
  ck_assert_str_eq(n->a->a->a->b->name, "iff");
  ck_assert_str_eq(n->a->a->a->a->name, "if_x");
  /* `stage` alone is a keyword that reads as a name in expressions */
  n = expr_of("stage");
  ck_assert_int_eq(n->kind, N_NAME);
  ck_assert_str_eq(n->name, "stage");
  /* keywords may be member names */
  n = expr_of("x.message.task.user");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->kind, N_MEMBER);
  ck_assert_str_eq(n->name, "user");
  n = expr_of("t.due.at.from.to.default.role.version.enter.leave.view.supervisor.roles");
  TU_NO_ERRORS(&tu_p);
  ck_assert_str_eq(n->name, "roles");
  ck_assert_str_eq(n->a->a->a->a->a->a->a->a->a->a->a->name, "due");
  /* true, false, null */
  n = expr_of("true");
  ck_assert_int_eq(n->kind, N_BOOL);
  ck_assert_int_eq(n->ival, 1);
  n = expr_of("false");
  ck_assert_int_eq(n->ival, 0);
  n = expr_of("null");
  ck_assert_int_eq(n->kind, N_NUL);
  /* a keyword where a name must go is an error */
  tu_load("fn if() = 1\n");
  TU_EXPECT_AT(&tu_p, "E0101", 1, 4);
}
END_TEST

START_TEST(lex_1_15_comments) {
  Program *p = tu_load("# a comment with \"quotes\" and ${x}\n"
                       "fn f() = 1 // after code: fn g() = 2\n"
                       "// Комментарий по-русски\n"
                       "fn h() = 3 # last line, no newline");
  TU_NO_ERRORS(p);
  ck_assert_uint_eq(ast_list_len(p->ast.decls), 2);
  ck_assert_str_eq(p->ast.decls->name, "f");
  ck_assert_str_eq(p->ast.decls->next->name, "h");
  /* a / alone is division, not a comment */
  const Node *n = expr_of("a / b");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->op, AOP_DIV);
}
END_TEST

START_TEST(lex_1_16_punctuation) {
  const Node *n = expr_of("a ?? b != c");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->op, AOP_NE);
  ck_assert_int_eq(n->a->op, AOP_COALESCE);
  n = expr_of("a <= b");
  ck_assert_int_eq(n->op, AOP_LE);
  n = expr_of("a >= b");
  ck_assert_int_eq(n->op, AOP_GE);
  n = expr_of("a % b");
  ck_assert_int_eq(n->op, AOP_MOD);
  /* ';' separates items but is never needed */
  Program *p = tu_load("role a; role b;; role c");
  TU_NO_ERRORS(p);
  ck_assert_uint_eq(ast_list_len(p->ast.decls), 3);
}
END_TEST

START_TEST(lex_1_17_spans) {
  /* token spans are byte ranges: check one token after multi-byte text */
  Program *p = tu_load("role r \"Роль\"\nfn f() = 12 + 345\n");
  TU_NO_ERRORS(p);
  const Node *e = p->ast.decls->next->b;
  const SrcFile *f = srcset_get(&p->srcs, e->b->span.file);
  ck_assert_uint_eq(e->b->span.end - e->b->span.start, 3);
  ck_assert_int_eq(memcmp(f->text + e->b->span.start, "345", 3), 0);
  size_t line, col;
  src_line_col(f, e->b->span.start, &line, &col);
  ck_assert_uint_eq(line, 2);
  ck_assert_uint_eq(col, 15);
}
END_TEST

/* ---- limits ----------------------------------------------------------- */

START_TEST(lex_2_1_largest_int) {
  const Node *n = expr_of("9223372036854775807");
  TU_NO_ERRORS(&tu_p);
  ck_assert_int_eq(n->ival, INT64_MAX);
  expr_of("9223372036854775808");
  TU_EXPECT_AT(&tu_p, "E0105", 1, 10);
  expr_of("99999999999999999999999999999999999999999");
  TU_EXPECT_AT(&tu_p, "E0105", 1, 10);
}
END_TEST

START_TEST(lex_2_2_money_and_duration_limits) {
  expr_of("1234567890123456 RUB"); /* 16 digits */
  TU_NO_ERRORS(&tu_p);
  expr_of("12345678901234567 RUB");
  TU_EXPECT_AT(&tu_p, "E0105", 1, 10);
  expr_of("1000000000 days");
  TU_NO_ERRORS(&tu_p);
  expr_of("1000000001 days");
  TU_EXPECT_AT(&tu_p, "E0105", 1, 10);
  expr_of("99999999999999999999999 minutes");
  TU_EXPECT_AT(&tu_p, "E0105", 1, 10);
}
END_TEST

START_TEST(lex_2_3_date_range) {
  expr_of("1900-01-01");
  TU_NO_ERRORS(&tu_p);
  expr_of("2999-12-31");
  TU_NO_ERRORS(&tu_p);
  expr_of("1899-12-31");
  TU_EXPECT_AT(&tu_p, "E0106", 1, 10);
  expr_of("2100-02-29"); /* divisible by 100, not by 400: not leap */
  TU_EXPECT_AT(&tu_p, "E0106", 1, 10);
}
END_TEST

START_TEST(lex_2_4_long_tokens) {
  /* a 100 KB string, a 10 KB name */
  size_t n = 100000;
  char *src = malloc(n + 10064);
  int k = sprintf(src, "fn f() = \"");
  memset(src + k, 'x', n);
  strcpy(src + k + n, "\" + ");
  size_t m = strlen(src);
  memset(src + m, 'a', 10000);
  src[m + 10000] = '\0';
  Program *p = tu_load(src);
  free(src);
  TU_NO_ERRORS(p);
  const Node *e = tu_fn_expr(p);
  ck_assert_uint_eq(strlen(e->a->text), n);
  ck_assert_uint_eq(strlen(e->b->name), 10000);
}
END_TEST

START_TEST(lex_2_5_interpolation_depth) {
  /* 16 nested ${"...${...}"} are fine; the 17th is E0108, not a crash */
  char src[512];
  for (int depth = 16; depth <= 17; depth++) {
    int k = sprintf(src, "fn f() = ");
    for (int i = 0; i < depth; i++) k += sprintf(src + k, "\"${");
    k += sprintf(src + k, "1");
    for (int i = 0; i < depth; i++) k += sprintf(src + k, "}\"");
    Program *p = tu_load(src);
    if (depth == 16) TU_NO_ERRORS(p);
    else {
      ck_assert_int_eq(p->diag.nerrors, 1);
      TU_EXPECT_AT(p, "E0108", 1, 10 + 3 * 16 + 1);
    }
  }
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

START_TEST(lex_3_1_too_many_fraction_digits) {
  Program *p = tu_load("fn f() =\n  1 + 3.1234567\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0105", 2, 7);
  ck_assert_ptr_nonnull(strstr(p->diag.items[0].msg, "3.1234567"));
  /* the AST is still built */
  ck_assert_int_eq(tu_fn_expr(p)->b->kind, N_DECIMAL);
  expr_of("10.001 RUB"); /* money has 2 places */
  TU_EXPECT_AT(&tu_p, "E0105", 1, 10);
}
END_TEST

START_TEST(lex_3_2_bad_dates) {
  static const char *bad[] = {"2026-02-29", "2026-13-01", "2026-04-31", "2026-00-10",
                              "2026-01-00", "2026-01-12 24:01", "2026-01-12 10:60",
                              "2026-01-12T10:00+15:00", "2026-02-30 10:00"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    expr_of(bad[i]);
    if (!tu_has(&tu_p, "E0106", 1, 10)) ck_abort_msg("'%s' was accepted", bad[i]);
    ck_assert_int_eq(tu_p.diag.nerrors, 1);
  }
}
END_TEST

START_TEST(lex_3_3_bad_time_of_day) {
  Program *p = tu_load("calendar office {\n  hours sat 10:00..25:00\n  hours sun 09:61..10:00\n}\n");
  TU_EXPECT_AT(p, "E0106", 2, 20);
  TU_EXPECT_AT(p, "E0106", 3, 13);
}
END_TEST

START_TEST(lex_3_4_bad_escape) {
  Program *p = tu_load("fn f() = \"bad \\q esc\"\nfn g() = \"\\u{D800}\" + \"\\u{110000}\"\n");
  ck_assert_int_eq(p->diag.nerrors, 3);
  TU_EXPECT_AT(p, "E0107", 1, 15);
  TU_EXPECT_AT(p, "E0107", 2, 11);
  TU_EXPECT_AT(p, "E0107", 2, 24);
  /* the rest of the string survives */
  ck_assert_str_eq(p->ast.decls->b->text, "bad  esc");
}
END_TEST

START_TEST(lex_3_5_unterminated_string) {
  Program *p = tu_load("fn f() = 1\nfn g() =   \"abc + 1\nfn h() = 2\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  /* at the opening quote, with a note about """ */
  TU_EXPECT_AT(p, "E0103", 2, 12);
  ck_assert_uint_eq(p->diag.len, 2);
  ck_assert_int_eq(p->diag.items[1].sev, SEV_NOTE);
  ck_assert_ptr_nonnull(strstr(p->diag.items[1].msg, "\"\"\""));
  /* the next line still parses */
  ck_assert_uint_eq(ast_list_len(p->ast.decls), 3);
  /* at the end of the file, and in a """ string */
  p = tu_load("fn f() = 1\nfn g() = \"abc");
  TU_EXPECT_AT(p, "E0103", 2, 10);
  p = tu_load("fn f() = \"\"\"abc\n\ndef\"\"\n");
  TU_EXPECT_AT(p, "E0103", 1, 10);
}
END_TEST

START_TEST(lex_3_6_invalid_utf8) {
  /* in a string: the whole string; in a comment: the bad byte */
  static const char src[] = "fn f() = \"a\xFF" "b\"\n# note \xC3\x28 here\nfn g() = 1\n";
  Program *p = tu_load_n(src, sizeof src - 1);
  ck_assert_int_eq(p->diag.nerrors, 2);
  TU_EXPECT_AT(p, "E0104", 1, 10);
  TU_EXPECT_AT(p, "E0104", 2, 8);
  ck_assert_uint_eq(ast_list_len(p->ast.decls), 2);
  /* overlong and surrogate encodings are invalid too */
  static const char over[] = "fn f() = \"\xC0\xAF\" + \"\xED\xA0\x80\"\n";
  p = tu_load_n(over, sizeof over - 1);
  ck_assert_int_eq(tu_count(p, "E0104"), 2);
}
END_TEST

START_TEST(lex_3_7_nul_byte) {
  static const char src[] = "fn f() = 2\0 + 1\nfn g() = \"a\0b\"\n#c\0\n";
  Program *p = tu_load_n(src, sizeof src - 1);
  ck_assert_int_eq(p->diag.nerrors, 3);
  TU_EXPECT_AT(p, "E0110", 1, 11);
  TU_EXPECT_AT(p, "E0110", 2, 12);
  TU_EXPECT_AT(p, "E0110", 3, 1);
  /* the text after the NUL is still read */
  ck_assert_int_eq(tu_fn_expr(p)->kind, N_BINARY);
}
END_TEST

START_TEST(lex_3_8_cyrillic_name) {
  Program *p = tu_load("direction d {\n  stage новая \"Новая\"\n}\n");
  int i = tu_find(p, "E0102");
  ck_assert_int_ge(i, 0);
  TU_EXPECT_AT(p, "E0102", 2, 9);
  ck_assert_ptr_nonnull(strstr(p->diag.items[i].msg, "новая"));
  /* followed by a note that says where such text goes */
  ck_assert_uint_lt((size_t)i + 1, p->diag.len);
  ck_assert_int_eq(p->diag.items[i + 1].sev, SEV_NOTE);
  ck_assert_ptr_nonnull(strstr(p->diag.items[i + 1].msg, "title"));
  /* its span covers the word: five code points, ten bytes */
  ck_assert_uint_eq(p->diag.items[i].span.end - p->diag.items[i].span.start, 10);
}
END_TEST

START_TEST(lex_3_9_lone_bytes) {
  static const char src[] = "fn f() = 1\n\xFF\nfn g() = 2 \x80\n";
  Program *p = tu_load_n(src, sizeof src - 1);
  ck_assert_int_eq(p->diag.nerrors, 2);
  TU_EXPECT_AT(p, "E0104", 2, 1);
  TU_EXPECT_AT(p, "E0104", 3, 12);
  ck_assert_ptr_nonnull(strstr(p->diag.items[0].msg, "0xFF"));
  ck_assert_uint_eq(ast_list_len(p->ast.decls), 2);
  /* control characters and stray ASCII */
  p = tu_load("fn f() = 1 \x01 @ `\n");
  ck_assert_int_eq(tu_count(p, "E0102"), 3);
}
END_TEST

/* "3 VIP": three capitals read as a currency code, and VIP is not one: an
** E0105 with the list of known codes. Any other word after a number is a
** name of its own, which in a field's initializer reads as the start of
** the next field: a syntax error. */
START_TEST(lex_3_10_number_then_name) {
  Program *p = tu_load("entity deal {\n  x: int = 3 VIP\n}\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0105", 2, 12);
  ck_assert_ptr_nonnull(strstr(p->diag.items[0].msg, "'VIP'"));
  ck_assert_uint_eq(p->diag.len, 2);
  ck_assert_ptr_nonnull(strstr(p->diag.items[1].msg, "RUB"));
  p = tu_load("entity deal {\n  x: int = 3 Vip\n}\n");
  ck_assert_int_eq(p->diag.nerrors, 1);
  TU_EXPECT_AT(p, "E0101", 3, 1);
  p = tu_load("fn f() = 3 dayz\n");
  TU_EXPECT_AT(p, "E0101", 1, 12);
  ck_assert_ptr_nonnull(strstr(p->diag.items[0].msg, "'dayz'"));
  p = tu_load("fn f() = 3 rub\n"); /* currency codes are upper case */
  TU_EXPECT_AT(p, "E0101", 1, 12);
}
END_TEST

/* Durations count whole units: "1.5 days" should say so (lex_suffixed has
** the message), not fall apart into a number and a stray word. */
START_TEST(lex_3_11_fractional_duration) {
  Program *p = tu_load("fn f() = 1.5 days\n");
  TU_EXPECT_AT(p, "E0105", 1, 10);
  ck_assert_int_eq(p->diag.nerrors, 1);
}
END_TEST

/* An interpolated string that never ends is reported at its opening quote
** too, not at the } of its last ${...}. */
START_TEST(lex_3_12_unterminated_interpolated_string) {
  Program *p = tu_load("fn f() = \"a ${x} b\nfn g() = 1\n");
  TU_EXPECT_AT(p, "E0103", 1, 10);
  p = tu_load("fn f() = \"a ${x} b");
  TU_EXPECT_AT(p, "E0103", 1, 10);
}
END_TEST

static Suite *lexer_suite(void) {
  Suite *s = suite_create("lexer");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, NULL, tu_teardown);
  tcase_add_test(tc, lex_1_1_int_separators);
  tcase_add_test(tc, lex_1_2_decimals);
  tcase_add_test(tc, lex_1_3_money);
  tcase_add_loop_test(tc, lex_1_4_durations, 0, sizeof durations / sizeof durations[0]);
  tcase_add_test(tc, lex_1_5_word_given_back);
  tcase_add_test(tc, lex_1_6_dates);
  tcase_add_test(tc, lex_1_7_datetimes);
  tcase_add_test(tc, lex_1_8_times_in_calendar);
  tcase_add_test(tc, lex_1_9_string_escapes);
  tcase_add_test(tc, lex_1_10_multiline_string);
  tcase_add_test(tc, lex_1_11_interpolation);
  tcase_add_test(tc, lex_1_12_string_in_interpolation);
  tcase_add_test(tc, lex_1_13_nested_braces_in_interpolation);
  tcase_add_test(tc, lex_1_14_keywords_and_names);
  tcase_add_test(tc, lex_1_15_comments);
  tcase_add_test(tc, lex_1_16_punctuation);
  tcase_add_test(tc, lex_1_17_spans);
  suite_add_tcase(s, tc);

  tc = tcase_create("limits");
  tcase_add_checked_fixture(tc, NULL, tu_teardown);
  tcase_add_test(tc, lex_2_1_largest_int);
  tcase_add_test(tc, lex_2_2_money_and_duration_limits);
  tcase_add_test(tc, lex_2_3_date_range);
  tcase_add_test(tc, lex_2_4_long_tokens);
  tcase_add_test(tc, lex_2_5_interpolation_depth);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_checked_fixture(tc, NULL, tu_teardown);
  tcase_add_test(tc, lex_3_1_too_many_fraction_digits);
  tcase_add_test(tc, lex_3_2_bad_dates);
  tcase_add_test(tc, lex_3_3_bad_time_of_day);
  tcase_add_test(tc, lex_3_4_bad_escape);
  tcase_add_test(tc, lex_3_5_unterminated_string);
  tcase_add_test(tc, lex_3_6_invalid_utf8);
  tcase_add_test(tc, lex_3_7_nul_byte);
  tcase_add_test(tc, lex_3_8_cyrillic_name);
  tcase_add_test(tc, lex_3_9_lone_bytes);
  tcase_add_test(tc, lex_3_10_number_then_name);
  tcase_add_test(tc, lex_3_11_fractional_duration);
  tcase_add_test(tc, lex_3_12_unterminated_interpolated_string);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(lexer_suite()); }
