/*
** parse_ctx.h: the state the lexer and the parser share for one file.
** Private to grammar/ and src/parse/.
*/
#ifndef FUNNEL_PARSE_CTX_H
#define FUNNEL_PARSE_CTX_H

#include <stdbool.h>

#include "ast/ast.h"
#include "diag/diag.h"
#include "util/strbuf.h"

/* Deepest nesting of (), [] and {} accepted. Deeper input is almost surely
** generated or damaged; the limit keeps the parser's stack and the checker's
** recursion bounded. */
#define PARSE_MAX_NESTING 256
/* The tallest expression tree accepted: `1 + 1 + ... + 1` with no brackets
** at all still nests, and the checker and compiler recurse over trees. */
#define PARSE_MAX_EXPR_DEPTH 500
/* Deepest nesting of ${...} inside strings. */
#define PARSE_MAX_INTERP 16

typedef struct ParseCtx {
  Arena *arena;
  Diag *diag;
  uint32_t file;
  uint32_t offset;       /* the lexer's byte position */
  /* strings: text gathered across rules, and where the token began */
  StrBuf sb;
  uint32_t str_start;      /* where the current string piece starts */
  uint32_t str_quote;      /* the opening quote of the innermost open string */
  uint32_t quote_of[PARSE_MAX_INTERP];  /* str_quote of each string left by ${ */
  bool str_continues;    /* the next piece follows a ${...} */
  int str_kind[PARSE_MAX_INTERP];  /* 1: "..." 3: """...""" per open string */
  int brace[PARSE_MAX_INTERP];     /* open { inside each ${ } */
  int ninterp;
  int nesting;
  Span open[PARSE_MAX_NESTING];    /* where each open bracket is */
  bool fatal;            /* a limit was hit: stop without more messages */
  NodeList decls;        /* the result */
} ParseCtx;

#endif
