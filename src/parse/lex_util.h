/*
** lex_util.h: the helpers behind the lexer's and the parser's actions:
** literal conversion, keyword lookup, string pieces, and the checks that
** turn bad literals into diagnostics. Private to grammar/ and src/parse/.
*/
#ifndef FUNNEL_LEX_UTIL_H
#define FUNNEL_LEX_UTIL_H

#include "parse/parse_ctx.h"

union YYSTYPE;

/* lexer side: each returns a token number (0 at a fatal limit) */
int lex_open(ParseCtx *c, const Span *loc);
void lex_close(ParseCtx *c);
int lex_word(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc);
int lex_number(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc);
int lex_numeric_prefix(const char *s, int n);
int lex_suffixed(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc);
int lex_date(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc);
int lex_datetime(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc);
int lex_time(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc);
void lex_string_begin(ParseCtx *c, const Span *loc, int kind);
int lex_string_piece(ParseCtx *c, union YYSTYPE *v, Span *loc, int kind, int more);
char lex_escape(char c);
void lex_unicode_escape(ParseCtx *c, const char *s, int n, const Span *loc);
int lex_wrong_quotes(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc);
void lex_comment(ParseCtx *c, const char *s, int n, const Span *loc);
/* Reports a word with non-ASCII letters; true if it was valid UTF-8 (then
** the caller treats it as a name). */
bool lex_bad_text(ParseCtx *c, const char *s, int n, const Span *loc);
void lex_bad_char(ParseCtx *c, const char *s, const Span *loc);

/* parser side */
Node *lex_last(Node *list);
int lex_stage_mod(ParseCtx *c, int mods, const char *word, Span loc);
int lex_convert_with(ParseCtx *c, Node *name);
Node *lex_cal_setting(ParseCtx *c, Span loc, const char *what, Span what_loc, Node *str, Node *d1,
                      Node *d2);
Node *lex_cal_hours(ParseCtx *c, Span loc, const char *what, Span what_loc, const char *d1,
                    Span d1_loc, const char *d2, Span d2_loc, Node *t1, Node *t2);
Node *lex_interp(ParseCtx *c, Span loc, const char *head, Span head_loc, Node *rest);
Node *lex_interp_part(ParseCtx *c, Node *expr, const char *text, Span text_loc, Node *rest);
/* How a token reads in "unexpected ..." messages: 'when', identifier 'foo'. */
/* A token class reads as itself (identifier), a keyword quoted ('stage'). */
const char *lex_quote_symbol(ParseCtx *c, const char *symbol_name);
const char *lex_describe_token(ParseCtx *c, const char *symbol_name, Span loc);

/* Parses "YYYY-MM-DD" into days since 1970-01-01; false if not a real date. */
bool lex_parse_date(const char *s, int64_t *days);

#endif
