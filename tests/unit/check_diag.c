/*
** check_diag.c: the diagnostics sink and its renderers. Diagnostics are
** emitted by hand over sources added from memory, then printed as text
** (compared byte for byte with the expected caret output) or as JSON
** (parsed back with jansson). Test ids (diag_N_M) are stable: N is 1 for
** "core", 2 for "limits", 3 for "errors".
*/
#include <jansson.h>

#include "test_util.h"

static SrcSet S;
static Diag D;

static void setup(void) {
  srcset_init(&S);
  diag_init(&D, &S);
}

static void teardown(void) {
  diag_free(&D);
  srcset_free(&S);
}

/* Adds a source "name" from a C string; returns its index. */
static uint32_t add(const char *name, const char *text) {
  return srcset_add(&S, name, name, text, strlen(text));
}

/* The span of the first occurrence of `what` in file f (whole match). */
static Span at(uint32_t f, const char *what) {
  const SrcFile *sf = srcset_get(&S, f);
  const char *hit = strstr(sf->text, what);
  ck_assert_msg(hit != NULL, "'%s' not in the source", what);
  uint32_t start = (uint32_t)(hit - sf->text);
  return (Span){f, start, start + (uint32_t)strlen(what)};
}

/* The text form of D (no color), kept in a static buffer. */
static const char *text(void) { return tu_keep(tu_diag_text(&D)); }

/* ---- core ------------------------------------------------------------- */

START_TEST(diag_1_1_caret_under_span) {
  uint32_t f = add("deals.pipe", "direction d {\n  move to qualifed when score > 50\n}\n");
  diag_error(&D, at(f, "qualifed"), D_UNKNOWN_STAGE, "unknown stage '%s'", "qualifed");
  TU_TEXT_EQ(text(), "deals.pipe:2:11: error[E0203]: unknown stage 'qualifed'\n"
                     "    2 |   move to qualifed when score > 50\n"
                     "      |           ^~~~~~~~\n");
  ck_assert_int_eq(D.nerrors, 1);
  ck_assert_int_eq(D.nwarnings, 0);
}
END_TEST

START_TEST(diag_1_2_columns_count_code_points) {
  /* "Новая" is 5 code points, 10 bytes: the caret after it moves by 5 */
  uint32_t f = add("t.pipe", "stage s \"Новая\" succes\n");
  diag_error(&D, at(f, "succes"), D_SYNTAX, "unexpected 'succes'");
  TU_TEXT_EQ(text(), "t.pipe:1:17: error[E0101]: unexpected 'succes'\n"
                     "    1 | stage s \"Новая\" succes\n"
                     "      |                 ^~~~~~\n");
  /* a span over Cyrillic text is as wide as its code points */
  diag_free(&D);
  diag_init(&D, &S);
  f = add("u.pipe", "  stage новая\n");
  diag_error(&D, at(f, "новая"), D_BAD_CHAR, "unexpected text");
  TU_TEXT_EQ(text(), "u.pipe:1:9: error[E0102]: unexpected text\n"
                     "    1 |   stage новая\n"
                     "      |         ^~~~~\n");
}
END_TEST

START_TEST(diag_1_3_tabs_echoed) {
  uint32_t f = add("t.pipe", "stage s {\n\t\tmove to\tqualifed\n}\n");
  diag_error(&D, at(f, "qualifed"), D_UNKNOWN_STAGE, "unknown stage");
  /* a tab counts as one column; the padding repeats the tabs */
  TU_TEXT_EQ(text(), "t.pipe:2:11: error[E0203]: unknown stage\n"
                     "    2 | \t\tmove to\tqualifed\n"
                     "      | \t\t       \t^~~~~~~~\n");
}
END_TEST

START_TEST(diag_1_4_notes) {
  uint32_t f = add("t.pipe", "stage qualified \"Q\"\nmove to qualifed\n");
  diag_error(&D, at(f, "qualifed"), D_UNKNOWN_STAGE, "unknown stage 'qualifed'");
  diag_note(&D, at(f, "qualified"), "did you mean 'qualified'? (declared at line %d)", 1);
  /* a note at its error's very spot prints no second snippet */
  diag_note(&D, at(f, "qualifed"), "stages are declared with 'stage NAME'");
  TU_TEXT_EQ(text(), "t.pipe:2:9: error[E0203]: unknown stage 'qualifed'\n"
                     "    2 | move to qualifed\n"
                     "      |         ^~~~~~~~\n"
                     "t.pipe:1:7: note: did you mean 'qualified'? (declared at line 1)\n"
                     "    1 | stage qualified \"Q\"\n"
                     "      |       ^~~~~~~~~\n"
                     "t.pipe:2:9: note: stages are declared with 'stage NAME'\n");
  ck_assert_int_eq(D.nerrors, 1);
  ck_assert_int_eq(D.items[1].parent, 0);
  ck_assert_int_eq(D.items[2].parent, 0);
}
END_TEST

START_TEST(diag_1_5_warning_and_summary) {
  uint32_t f = add("t.pipe", "stage lost \"L\" auto\n");
  diag_warning(&D, at(f, "lost"), D_UNREACHABLE, "stage 'lost' is never reached");
  TU_TEXT_EQ(text(), "t.pipe:1:7: warning[W0502]: stage 'lost' is never reached\n"
                     "    1 | stage lost \"L\" auto\n"
                     "      |       ^~~~\n");
  char *s = NULL;
  TU_CAPTURE(s, diag_print_summary(&D, out));
  TU_TEXT_EQ(tu_keep(s), "funnel: 1 warning\n");
  diag_error(&D, at(f, "auto"), D_SYNTAX, "x");
  diag_error(&D, at(f, "auto"), D_SYNTAX, "y");
  diag_warning(&D, at(f, "stage"), D_MOVE_CYCLE, "z");
  TU_CAPTURE(s, diag_print_summary(&D, out));
  TU_TEXT_EQ(tu_keep(s), "funnel: 2 errors, 2 warnings\n");
  /* nothing to count, nothing printed */
  Diag empty;
  diag_init(&empty, &S);
  TU_CAPTURE(s, diag_print_summary(&empty, out); diag_print_text(&empty, out, false));
  TU_TEXT_EQ(tu_keep(s), "");
  diag_free(&empty);
}
END_TEST

START_TEST(diag_1_6_span_shapes) {
  uint32_t f = add("t.pipe", "abc def\nghi\n");
  /* an empty span still gets one caret */
  diag_error(&D, (Span){f, 4, 4}, D_SYNTAX, "empty");
  /* a span running onto the next line is underlined to the end of its first line */
  diag_error(&D, (Span){f, 4, 10}, D_SYNTAX, "two lines");
  /* a span at the very end of the file (after the last newline) */
  diag_error(&D, (Span){f, 12, 12}, D_SYNTAX, "at the end");
  TU_TEXT_EQ(text(), "t.pipe:1:5: error[E0101]: empty\n"
                     "    1 | abc def\n"
                     "      |     ^\n"
                     "t.pipe:1:5: error[E0101]: two lines\n"
                     "    1 | abc def\n"
                     "      |     ^~~\n"
                     "t.pipe:3:1: error[E0101]: at the end\n"
                     "    3 | \n"
                     "      | ^\n");
}
END_TEST

START_TEST(diag_1_7_no_span) {
  diag_error_nospan(&D, D_IO, "cannot read '%s': %s", "x.pipe", "No such file or directory");
  TU_TEXT_EQ(text(), "funnel: error[E0111]: cannot read 'x.pipe': No such file or directory\n");
}
END_TEST

START_TEST(diag_1_8_color) {
  uint32_t f = add("t.pipe", "move to x\n");
  diag_error(&D, at(f, "x"), D_UNKNOWN_STAGE, "unknown stage");
  char *s = NULL;
  TU_CAPTURE(s, diag_print_text(&D, out, true));
  const char *c = tu_keep(s);
  ck_assert_ptr_nonnull(strstr(c, "\033[1;31merror[E0203]"));
  ck_assert_ptr_nonnull(strstr(c, "\033[1;32m^\033[0m\n"));
}
END_TEST

START_TEST(diag_1_9_sort) {
  uint32_t a = add("a.pipe", "one\ntwo\nthree\n");
  uint32_t b = add("b.pipe", "four\n");
  diag_error(&D, at(b, "four"), D_SYNTAX, "b1");
  diag_error(&D, at(a, "three"), D_SYNTAX, "a3");
  diag_note(&D, at(a, "one"), "note of a3");
  diag_note(&D, at(b, "four"), "second note of a3");
  diag_warning(&D, at(a, "two"), D_MOVE_CYCLE, "a2");
  diag_error_nospan(&D, D_IO, "nospan");
  diag_error(&D, at(a, "three"), D_TYPE, "a3 again");
  diag_error(&D, at(a, "one"), D_SYNTAX, "a1");
  diag_note(&D, at(a, "two"), "note of a1");
  diag_sort(&D);
  static const char *order[] = {"nospan", "a1", "note of a1", "a2", "a3", "note of a3",
                                "second note of a3", "a3 again", "b1"};
  ck_assert_uint_eq(D.len, 9);
  for (size_t i = 0; i < D.len; i++)
    ck_assert_msg(!strcmp(D.items[i].msg, order[i]), "item %zu: want %s, got %s", i, order[i],
                  D.items[i].msg);
  /* notes point at their error's new index */
  ck_assert_int_eq(D.items[2].parent, 1);
  ck_assert_int_eq(D.items[5].parent, 4);
  ck_assert_int_eq(D.items[6].parent, 4);
  ck_assert_int_eq(D.items[0].parent, -1);
  /* sorting is stable and idempotent */
  diag_sort(&D);
  for (size_t i = 0; i < D.len; i++) ck_assert_str_eq(D.items[i].msg, order[i]);
}
END_TEST

/* Parses diag_to_json(&D); the caller json_decref()s. */
static json_t *json_of(void) {
  char *s = diag_to_json(&D);
  json_error_t err;
  json_t *root = json_loads(s, 0, &err);
  ck_assert_msg(root != NULL, "bad JSON (%s) in:\n%s", err.text, tu_keep(s));
  free(s);
  return root;
}

START_TEST(diag_1_10_json) {
  uint32_t f = add("deals.pipe", "stage qualified\n  move to qualifed\n");
  diag_error(&D, at(f, "qualifed"), D_UNKNOWN_STAGE, "unknown stage 'qualifed'");
  diag_note(&D, at(f, "qualified"), "did you mean 'qualified'?");
  diag_warning(&D, at(f, "stage"), D_MOVE_CYCLE, "cycle");
  json_t *root = json_of();
  ck_assert_int_eq(json_integer_value(json_object_get(root, "errors")), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(root, "warnings")), 1);
  json_t *arr = json_object_get(root, "diagnostics");
  ck_assert_uint_eq(json_array_size(arr), 2);
  json_t *e = json_array_get(arr, 0);
  ck_assert_str_eq(json_string_value(json_object_get(e, "severity")), "error");
  ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "E0203");
  ck_assert_str_eq(json_string_value(json_object_get(e, "message")), "unknown stage 'qualifed'");
  ck_assert_str_eq(json_string_value(json_object_get(e, "file")), "deals.pipe");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "line")), 2);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "column")), 11);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "end_line")), 2);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "end_column")), 19);
  json_t *notes = json_object_get(e, "notes");
  ck_assert_uint_eq(json_array_size(notes), 1);
  json_t *n = json_array_get(notes, 0);
  ck_assert_str_eq(json_string_value(json_object_get(n, "severity")), "note");
  ck_assert_ptr_null(json_object_get(n, "code"));
  ck_assert_str_eq(json_string_value(json_object_get(n, "message")), "did you mean 'qualified'?");
  ck_assert_int_eq(json_integer_value(json_object_get(n, "line")), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(n, "column")), 7);
  ck_assert_int_eq(json_integer_value(json_object_get(n, "end_column")), 16);
  json_t *w = json_array_get(arr, 1);
  ck_assert_str_eq(json_string_value(json_object_get(w, "severity")), "warning");
  ck_assert_str_eq(json_string_value(json_object_get(w, "code")), "W0501");
  ck_assert_uint_eq(json_array_size(json_object_get(w, "notes")), 0);
  json_decref(root);
}
END_TEST

START_TEST(diag_1_11_json_columns_and_nospan) {
  uint32_t f = add("t.pipe", "title \"Новая\" x\n");
  diag_error(&D, at(f, "x"), D_SYNTAX, "Ошибка: \"кавычки\"\n");
  diag_error_nospan(&D, D_IO, "cannot read");
  json_t *root = json_of();
  json_t *arr = json_object_get(root, "diagnostics");
  json_t *e = json_array_get(arr, 0);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "column")), 15);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "end_column")), 16);
  /* text is kept as UTF-8; the control character is cleaned */
  ck_assert_str_eq(json_string_value(json_object_get(e, "message")), "Ошибка: \"кавычки\"?");
  json_t *x = json_array_get(arr, 1);
  ck_assert_str_eq(json_string_value(json_object_get(x, "code")), "E0111");
  ck_assert_ptr_null(json_object_get(x, "file"));
  ck_assert_ptr_null(json_object_get(x, "line"));
  json_decref(root);
  /* no diagnostics at all */
  diag_free(&D);
  diag_init(&D, &S);
  root = json_of();
  ck_assert_uint_eq(json_array_size(json_object_get(root, "diagnostics")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(root, "errors")), 0);
  json_decref(root);
}
END_TEST

START_TEST(diag_1_12_suggest) {
  static const char *const stages[] = {"fresh", "qualified", "offer", "contract", "won"};
  ck_assert_str_eq(diag_suggest("qualifed", stages, 5), "qualified");
  ck_assert_str_eq(diag_suggest("contrakt", stages, 5), "contract");
  ck_assert_str_eq(diag_suggest("ofer", stages, 5), "offer");
  ck_assert_str_eq(diag_suggest("wonn", stages, 5), "won");
  /* far names get nothing */
  ck_assert_ptr_null(diag_suggest("delivery", stages, 5));
  ck_assert_ptr_null(diag_suggest("x", stages, 5));
  ck_assert_ptr_null(diag_suggest("payment_received", stages, 5));
  /* the name itself is not a suggestion; NULL entries are skipped */
  static const char *const one[] = {NULL, "fresh"};
  ck_assert_ptr_null(diag_suggest("fresh", one, 2));
  ck_assert_ptr_null(diag_suggest("fresh", NULL, 0));
  /* the closest wins; ties go to the first */
  static const char *const close[] = {"stage_b", "stage_a", "stag"};
  ck_assert_str_eq(diag_suggest("stage_c", close, 3), "stage_b");
  ck_assert_str_eq(diag_suggest("stage", close, 3), "stag");
}
END_TEST

START_TEST(diag_1_13_codes) {
  ck_assert_str_eq(diag_code_str(D_SYNTAX), "E0101");
  ck_assert_str_eq(diag_code_str(D_TOO_MANY), "E0112");
  ck_assert_str_eq(diag_code_str(D_MOVE_CYCLE), "W0501");
  ck_assert_str_eq(diag_code_desc(D_UNTERM_STRING), "unterminated string");
  /* every code is distinct and well formed */
  for (int i = 0; i < D__COUNT; i++) {
    const char *c = diag_code_str((DiagCode)i);
    ck_assert_uint_eq(strlen(c), 5);
    ck_assert_msg(c[0] == 'E' || c[0] == 'W', "bad code %s", c);
    for (int j = 0; j < i; j++) ck_assert_str_ne(c, diag_code_str((DiagCode)j));
  }
  ck_assert_str_eq(diag_code_str(D__COUNT), "E0000");
}
END_TEST

/* ---- limits ----------------------------------------------------------- */

/* A 5000-character line: 'a' * (col - 1), "X", then 'b' up to 5000. */
static uint32_t long_line(size_t col) {
  char *s = malloc(5002);
  memset(s, 'a', col - 1);
  s[col - 1] = 'X';
  memset(s + col, 'b', 5000 - col);
  strcpy(s + 5000, "\n");
  uint32_t f = add("t.pipe", s);
  free(s);
  return f;
}

/* What the renderer should print for long_line(col): a 100-column window
** starting 50 columns before the caret. */
static char *expected_window(size_t col, bool cut_left, bool cut_right, size_t from, size_t to) {
  char *want = NULL;
  TU_CAPTURE(want, {
    fprintf(out, "t.pipe:1:%zu: error[E0101]: here\n    1 | %s", col, cut_left ? "..." : "");
    for (size_t c = from + 1; c <= to; c++) fputc(c < col ? 'a' : c == col ? 'X' : 'b', out);
    fprintf(out, "%s\n      | %s", cut_right ? "..." : "", cut_left ? "   " : "");
    for (size_t c = from + 1; c < col; c++) fputc(' ', out);
    fputs("^\n", out);
  });
  return want;
}

START_TEST(diag_2_1_long_line_window) {
  uint32_t f = long_line(2500);
  diag_error(&D, (Span){f, 2499, 2500}, D_SYNTAX, "here");
  const char *got = text();
  TU_TEXT_EQ(got, tu_keep(expected_window(2500, true, true, 2450, 2550)));
  /* the printed lines stay short */
  ck_assert_uint_lt(strlen(got), 300);
}
END_TEST

START_TEST(diag_2_2_long_line_edges) {
  /* near the start: cut on the right only */
  uint32_t f = long_line(10);
  diag_error(&D, (Span){f, 9, 10}, D_SYNTAX, "here");
  TU_TEXT_EQ(text(), tu_keep(expected_window(10, false, true, 0, 100)));
  diag_free(&D);
  diag_init(&D, &S);
  /* near the end: cut on the left only */
  f = long_line(4990);
  diag_error(&D, (Span){f, 4989, 4990}, D_SYNTAX, "here");
  TU_TEXT_EQ(text(), tu_keep(expected_window(4990, true, false, 4940, 5000)));
  diag_free(&D);
  diag_init(&D, &S);
  /* a span wider than the window is clipped to it */
  f = long_line(2500);
  diag_error(&D, (Span){f, 2499, 4999}, D_SYNTAX, "wide");
  const char *got = text();
  const char *caret = strchr(got, '^');
  ck_assert_ptr_nonnull(caret);
  size_t tildes = strspn(caret + 1, "~");
  ck_assert_uint_eq(tildes, 50);
}
END_TEST

START_TEST(diag_2_3_error_cap) {
  uint32_t f = add("t.pipe", "x\n");
  for (int i = 0; i < DIAG_MAX_ERRORS + 50; i++) {
    diag_error(&D, (Span){f, 0, 1}, D_SYNTAX, "error %d", i);
    diag_note(&D, (Span){f, 0, 1}, "note %d", i);
  }
  /* every error is counted; only the first DIAG_MAX_ERRORS are kept */
  ck_assert_int_eq(D.nerrors, DIAG_MAX_ERRORS + 50);
  ck_assert(D.capped);
  size_t nerr = 0, nnote = 0, ntoo = 0;
  for (size_t i = 0; i < D.len; i++) {
    if (D.items[i].sev == SEV_NOTE) nnote++;
    else if (D.items[i].code == D_TOO_MANY) ntoo++;
    else nerr++;
  }
  ck_assert_uint_eq(nerr, DIAG_MAX_ERRORS);
  ck_assert_uint_eq(nnote, DIAG_MAX_ERRORS);
  ck_assert_uint_eq(ntoo, 1);
  ck_assert_int_eq(D.items[D.len - 1].code, D_TOO_MANY);
  /* warnings count towards the cap too */
  Diag w;
  diag_init(&w, &S);
  for (int i = 0; i < DIAG_MAX_ERRORS; i++) diag_warning(&w, (Span){f, 0, 1}, D_MOVE_CYCLE, "w");
  ck_assert(!w.capped);
  diag_error(&w, (Span){f, 0, 1}, D_SYNTAX, "one too many");
  ck_assert(w.capped);
  ck_assert_int_eq(w.nerrors, 1);
  diag_free(&w);
}
END_TEST

START_TEST(diag_2_4_parser_cap) {
  /* a file of 500 bad lines stops at the cap with E0112 */
  size_t n = 500;
  char *s = malloc(n * 11 + 1);
  for (size_t i = 0; i < n; i++) memcpy(s + i * 11, "fn f() = @\n", 11);
  s[n * 11] = '\0';
  Program *p = tu_load(s);
  free(s);
  ck_assert(p->diag.capped);
  ck_assert_int_ge(tu_find(p, "E0112"), 0);
  ck_assert_uint_le(p->diag.len, DIAG_MAX_ERRORS + 1 + DIAG_MAX_ERRORS);
}
END_TEST

START_TEST(diag_2_5_line_col_edges) {
  uint32_t f = add("t.pipe", "ab\nцв\n");
  const SrcFile *sf = srcset_get(&S, f);
  size_t line, col;
  src_line_col(sf, 0, &line, &col);
  ck_assert_uint_eq(line, 1);
  ck_assert_uint_eq(col, 1);
  src_line_col(sf, 2, &line, &col); /* the newline itself */
  ck_assert_uint_eq(line, 1);
  ck_assert_uint_eq(col, 3);
  src_line_col(sf, 5, &line, &col); /* after "ц" */
  ck_assert_uint_eq(line, 2);
  ck_assert_uint_eq(col, 2);
  src_line_col(sf, 8, &line, &col); /* end of file */
  ck_assert_uint_eq(line, 3);
  ck_assert_uint_eq(col, 1);
  src_line_col(sf, 1000, &line, &col); /* clamped */
  ck_assert_uint_eq(line, 3);
  ck_assert_uint_eq(col, 1);
  size_t len;
  ck_assert_str_eq(src_line_text(sf, 99, &len), "");
  ck_assert_uint_eq(len, 0);
  /* an empty file has one empty line */
  f = add("e.pipe", "");
  src_line_col(srcset_get(&S, f), 0, &line, &col);
  ck_assert_uint_eq(line, 1);
  ck_assert_uint_eq(col, 1);
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

START_TEST(diag_3_1_invalid_utf8_line) {
  /* each bad byte prints as '?' and counts as one column */
  uint32_t f = add("t.pipe", "x = \"a\xFF\xFE" "b\" + \xC3 y\n");
  diag_error(&D, at(f, "y"), D_UNKNOWN_NAME, "unknown name 'y'");
  TU_TEXT_EQ(text(), "t.pipe:1:16: error[E0201]: unknown name 'y'\n"
                     "    1 | x = \"a??b\" + ? y\n"
                     "      |                ^\n");
}
END_TEST

START_TEST(diag_3_2_control_bytes) {
  /* NUL and other control bytes in the line or the message print as '?' */
  static const char src[] = "a\0b\x1b[31m c\r\n";
  uint32_t f = srcset_add(&S, "t.pipe", "t.pipe", src, sizeof src - 1);
  diag_error(&D, (Span){f, 9, 10}, D_SYNTAX, "bad \x01 byte \xFF");
  /* the \r of a CRLF line end is not shown */
  TU_TEXT_EQ(text(), "t.pipe:1:10: error[E0101]: bad ? byte ?\n"
                     "    1 | a?b?[31m c\n"
                     "      |          ^\n");
  /* the JSON form stays valid */
  json_t *root = json_of();
  json_t *e = json_array_get(json_object_get(root, "diagnostics"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(e, "message")), "bad ? byte ?");
  json_decref(root);
}
END_TEST

START_TEST(diag_3_3_bad_file_name) {
  /* a file name that is not UTF-8 still gives valid JSON */
  uint32_t f = add("b\xFF" "d.pipe", "x\n");
  diag_error(&D, (Span){f, 0, 1}, D_SYNTAX, "x");
  json_t *root = json_of();
  json_t *e = json_array_get(json_object_get(root, "diagnostics"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(e, "file")), "b?d.pipe");
  json_decref(root);
}
END_TEST

START_TEST(diag_3_4_note_without_error) {
  /* a note with nothing to attach to is dropped */
  uint32_t f = add("t.pipe", "x\n");
  diag_note(&D, (Span){f, 0, 1}, "orphan");
  ck_assert_uint_eq(D.len, 0);
  /* and so is a note after diag_sort has moved the errors around */
  diag_error(&D, (Span){f, 1, 2}, D_SYNTAX, "e1");
  diag_error(&D, (Span){f, 0, 1}, D_SYNTAX, "e0");
  diag_sort(&D);
  diag_note(&D, (Span){f, 0, 1}, "late");
  ck_assert_uint_eq(D.len, 2);
  ck_assert_int_eq(D.nerrors, 2);
}
END_TEST

static Suite *diag_suite(void) {
  Suite *s = suite_create("diag");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, diag_1_1_caret_under_span);
  tcase_add_test(tc, diag_1_2_columns_count_code_points);
  tcase_add_test(tc, diag_1_3_tabs_echoed);
  tcase_add_test(tc, diag_1_4_notes);
  tcase_add_test(tc, diag_1_5_warning_and_summary);
  tcase_add_test(tc, diag_1_6_span_shapes);
  tcase_add_test(tc, diag_1_7_no_span);
  tcase_add_test(tc, diag_1_8_color);
  tcase_add_test(tc, diag_1_9_sort);
  tcase_add_test(tc, diag_1_10_json);
  tcase_add_test(tc, diag_1_11_json_columns_and_nospan);
  tcase_add_test(tc, diag_1_12_suggest);
  tcase_add_test(tc, diag_1_13_codes);
  suite_add_tcase(s, tc);

  tc = tcase_create("limits");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_checked_fixture(tc, NULL, tu_teardown);
  tcase_add_test(tc, diag_2_1_long_line_window);
  tcase_add_test(tc, diag_2_2_long_line_edges);
  tcase_add_test(tc, diag_2_3_error_cap);
  tcase_add_test(tc, diag_2_4_parser_cap);
  tcase_add_test(tc, diag_2_5_line_col_edges);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, diag_3_1_invalid_utf8_line);
  tcase_add_test(tc, diag_3_2_control_bytes);
  tcase_add_test(tc, diag_3_3_bad_file_name);
  tcase_add_test(tc, diag_3_4_note_without_error);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(diag_suite()); }
