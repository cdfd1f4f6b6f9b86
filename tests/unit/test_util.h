/*
** test_util.h: helpers shared by the front end's Check tests.
**
** Each test loads a source text from memory into the one Program `tu_p`
** (tu_load frees the previous one; the teardown fixture frees the last),
** then looks at the AST through ast_dump or at the diagnostics through
** tu_has / tu_loc. Everything here is static: each check_*.c program
** includes this header once.
*/
#ifndef FUNNEL_TEST_UTIL_H
#define FUNNEL_TEST_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag.h"
#include "parse/loader.h"

static Program tu_p;
static bool tu_live;

/* Frees the program of the last tu_load, if any (the teardown fixture). */
static inline void tu_teardown(void) {
  if (tu_live) program_free(&tu_p);
  tu_live = false;
}

/* Loads `len` bytes of text as the file "t.pipe" and sorts the
** diagnostics by position. Returns the program (valid until the next
** tu_load or the end of the test). */
static inline Program *tu_load_n(const char *text, size_t len) {
  tu_teardown();
  program_init(&tu_p);
  tu_live = true;
  program_load_text(&tu_p, "t.pipe", text, len, NULL);
  diag_sort(&tu_p.diag);
  return &tu_p;
}

static inline Program *tu_load(const char *text) { return tu_load_n(text, strlen(text)); }

/* Runs fn(out) on a memstream and returns what it wrote (heap). */
#define TU_CAPTURE(var, stmt)                          \
  do {                                                 \
    size_t tu_len_ = 0;                                \
    FILE *out = open_memstream(&(var), &tu_len_);      \
    ck_assert_ptr_nonnull(out);                        \
    stmt;                                              \
    fclose(out);                                       \
  } while (0)

/* The S-expression dump of the program's declarations (heap). */
static inline char *tu_dump(const Program *p) {
  /* the main file's declarations: imported files (the stdlib's) are not the test's */
  char *s = NULL;
  TU_CAPTURE(s, for (Node *d = p->ast.decls; d; d = d->next) {
    if (d->span.file != p->main_file) continue;
    Node *nx = d->next;
    d->next = NULL;
    ast_dump(out, d);
    d->next = nx;
  });
  return s;
}

/* The dump on one line: "(fn f flags=4 (int '1'))", each node's
** children after a space (heap). Text with newlines in it is folded too,
** so keep such strings out of comparisons. */
static inline char *tu_sexpr(const Program *p) {
  char *d = tu_dump(p);
  size_t k = 0;
  for (size_t i = 0; d[i];) {
    if (d[i] != '\n') {
      d[k++] = d[i++];
      continue;
    }
    i++;
    while (d[i] == ' ') i++;
    if (d[i] && d[i] != ')') d[k++] = ' ';
  }
  d[k] = '\0';
  return d;
}

/* The rendered diagnostics, without color (heap). */
static inline char *tu_diag_text(const Diag *d) {
  char *s = NULL;
  TU_CAPTURE(s, diag_print_text(d, out, false));
  return s;
}

/* Line and column of diagnostic i (1-based, columns in code points). */
static inline void tu_loc(const Program *p, size_t i, size_t *line, size_t *col) {
  const Diagnostic *x = &p->diag.items[i];
  src_line_col(srcset_get(&p->srcs, x->span.file), x->span.start, line, col);
}

/* Index of the first error or warning with `code` (such as "E0105"), or -1. */
static inline int tu_find(const Program *p, const char *code) {
  for (size_t i = 0; i < p->diag.len; i++) {
    const Diagnostic *x = &p->diag.items[i];
    if (x->sev != SEV_NOTE && !strcmp(diag_code_str(x->code), code)) return (int)i;
  }
  return -1;
}

/* Number of errors and warnings with `code`. */
static inline int tu_count(const Program *p, const char *code) {
  int n = 0;
  for (size_t i = 0; i < p->diag.len; i++) {
    const Diagnostic *x = &p->diag.items[i];
    if (x->sev != SEV_NOTE && !strcmp(diag_code_str(x->code), code)) n++;
  }
  return n;
}

/* True if some error or warning has `code` and starts at line:col. */
static inline bool tu_has(const Program *p, const char *code, size_t line, size_t col) {
  for (size_t i = 0; i < p->diag.len; i++) {
    const Diagnostic *x = &p->diag.items[i];
    if (x->sev == SEV_NOTE || strcmp(diag_code_str(x->code), code)) continue;
    size_t l, c;
    tu_loc(p, i, &l, &c);
    if (l == line && c == col) return true;
  }
  return false;
}

/* The rendered diagnostics in a static buffer (cut at 8 KB), for failure
** messages: a failed assertion does not return, so nothing may be left to
** free. */
static inline const char *tu_diag_msg(const Diag *d) {
  static char buf[8192];
  char *t = tu_diag_text(d);
  snprintf(buf, sizeof buf, "%s", t);
  free(t);
  return buf;
}

/* Fails with the rendered diagnostics when the program has any error. */
#define TU_NO_ERRORS(p)                                                     \
  do {                                                                      \
    if ((p)->diag.nerrors)                                                  \
      ck_abort_msg("unexpected errors:\n%s", tu_diag_msg(&(p)->diag));      \
  } while (0)

/* Asserts an error `code` at line:col, showing all diagnostics if not. */
#define TU_EXPECT_AT(p, code, line, col)                                    \
  do {                                                                      \
    if (!tu_has((p), (code), (line), (col)))                                \
      ck_abort_msg("no %s at %d:%d; got:\n%s", (code), (int)(line), (int)(col), \
                   tu_diag_msg(&(p)->diag));                                \
  } while (0)

/* Moves a heap string into one of two static buffers (cut at 64 KB) and
** frees it, so that a failing assertion leaks nothing. */
static inline const char *tu_keep(char *s) {
  static char buf[2][65536];
  static int k;
  k ^= 1;
  snprintf(buf[k], sizeof buf[k], "%s", s ? s : "");
  free(s);
  return buf[k];
}

/* Compares two texts, printing both in full when they differ. */
#define TU_TEXT_EQ(got, want)                                               \
  do {                                                                      \
    const char *tu_g_ = (got), *tu_w_ = (want);                             \
    ck_assert_msg(!strcmp(tu_g_, tu_w_), "text differs.\n--- want:\n%s--- got:\n%s", tu_w_, tu_g_); \
  } while (0)

/* The first declaration, and the expression of `fn f() = EXPR`. */
static inline const Node *tu_decl(const Program *p) {
  ck_assert_ptr_nonnull(p->ast.decls);
  return p->ast.decls;
}

static inline const Node *tu_fn_expr(const Program *p) {
  const Node *d = tu_decl(p);
  ck_assert_int_eq(d->kind, N_FUNC);
  ck_assert_ptr_nonnull(d->b);
  return d->b;
}

/* Runs one suite; exits with 0 only if every test passed. */
static inline int tu_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int nfailed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
