/*
** lex_util.c: literal conversion and checks for the lexer and the parser.
** Everything here reports through the context's Diag and returns a usable
** token or node even for bad input, so parsing goes on.
*/
#include "parse/lex_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "util/utf8.h"

/* ---- brackets ---------------------------------------------------------- */

int lex_open(ParseCtx *c, const Span *loc) {
  if (c->nesting >= PARSE_MAX_NESTING) {
    diag_error(c->diag, *loc, D_TOO_DEEP, "brackets nested more than %d deep", PARSE_MAX_NESTING);
    c->fatal = true;
    return 1;
  }
  c->open[c->nesting++] = *loc;
  return 0;
}

void lex_close(ParseCtx *c) {
  if (c->nesting > 0) c->nesting--;
}

/* ---- words ------------------------------------------------------------- */

typedef struct Keyword {
  const char *word;
  int tok;
} Keyword;

static const Keyword keywords[] = {
    /* sorted for bsearch */
    {"access", TOK_ACCESS},   {"advance", TOK_ADVANCE},   {"after", TOK_AFTER},
    {"and", TOK_AND},         {"answer", TOK_ANSWER},     {"ask", TOK_ASK},
    {"at", TOK_AT},           {"back", TOK_BACK},         {"behavior", TOK_BEHAVIOR},
    {"calendar", TOK_CALENDAR},
    {"change", TOK_CHANGE},   {"convert", TOK_CONVERT},   {"create", TOK_CREATE},
    {"default", TOK_DEFAULT}, {"delete", TOK_DELETE},     {"direction", TOK_DIRECTION},
    {"document", TOK_DOCUMENT}, {"due", TOK_DUE},         {"else", TOK_ELSE},
    {"emit", TOK_EMIT},       {"enter", TOK_ENTER},       {"entity", TOK_ENTITY},
    {"enum", TOK_ENUM},       {"event", TOK_EVENT},       {"every", TOK_EVERY},
    {"expect", TOK_EXPECT},   {"extern", TOK_EXTERN},     {"false", TOK_FALSE},
    {"fn", TOK_FN},           {"for", TOK_FOR},           {"from", TOK_FROM},
    {"guard", TOK_GUARD},     {"if", TOK_IF},             {"import", TOK_IMPORT},
    {"in", TOK_IN},           {"into", TOK_INTO},         {"leave", TOK_LEAVE},
    {"let", TOK_LET},         {"list", TOK_LIST},         {"may", TOK_MAY},
    {"message", TOK_MESSAGE}, {"move", TOK_MOVE},         {"not", TOK_NOT},
    {"notify", TOK_NOTIFY},   {"null", TOK_NUL},          {"on", TOK_ON},
    {"once", TOK_ONCE},       {"or", TOK_OR},             {"pack", TOK_PACK},
    {"pure", TOK_PURE},       {"refused", TOK_REFUSED},   {"require", TOK_REQUIRE},
    {"required", TOK_REQUIRED}, {"return", TOK_RETURN},   {"role", TOK_ROLE},
    {"roles", TOK_ROLES},     {"set", TOK_SET},           {"stage", TOK_STAGE},
    {"supervisor", TOK_SUPERVISOR}, {"task", TOK_TASK},   {"test", TOK_TEST},
    {"timeout", TOK_TIMEOUT}, {"to", TOK_TO},             {"trigger", TOK_TRIGGER},
    {"true", TOK_TRUE},       {"use", TOK_USE},           {"user", TOK_USER},
    {"version", TOK_VERSION},
    {"view", TOK_VIEW},       {"webhook", TOK_WEBHOOK},   {"when", TOK_WHEN},
    {"where", TOK_WHERE},     {"with", TOK_WITH},
};

static int cmp_kw(const void *key, const void *elem) {
  return strcmp(key, *(const char *const *)elem);
}

int lex_word(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc) {
  const void *k = bsearch(s, keywords, sizeof keywords / sizeof keywords[0], sizeof keywords[0],
                          cmp_kw);
  if (k) return ((const Keyword *)k)->tok;
  v->str = arena_strndup(c->arena, s, (size_t)n);
  return TOK_IDENT;
}

/* ---- numbers ----------------------------------------------------------- */

/* The numeric text without '_' separators. */
static char *digits_only(ParseCtx *c, const char *s, int n) {
  char *d = arena_alloc(c->arena, (size_t)n + 1);
  int k = 0;
  for (int i = 0; i < n; i++)
    if (s[i] != '_') d[k++] = s[i];
  d[k] = '\0';
  return d;
}

int lex_numeric_prefix(const char *s, int n) {
  int i = 0;
  while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '_')) i++;
  if (i + 1 < n && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
    i++;
    while (i < n && isdigit((unsigned char)s[i])) i++;
  }
  return i;
}

/* Decimal literals keep at most this many fraction digits: the VM's
** decimals are fixed point with 6 places. */
#define MAX_FRACTION_DIGITS 6

int lex_number(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc) {
  char *text = digits_only(c, s, n);
  const char *dot = strchr(text, '.');
  if (dot) {
    if (strlen(dot + 1) > MAX_FRACTION_DIGITS)
      diag_error(c->diag, *loc, D_BAD_NUMBER, "decimal '%s' has more than %d digits after the point",
                 text, MAX_FRACTION_DIGITS);
    v->node = ast_new(c->arena, N_DECIMAL, *loc);
    v->node->text = text;
    return TOK_DECIMAL;
  }
  errno = 0;
  char *end;
  long long x = strtoll(text, &end, 10);
  if (errno == ERANGE || *end) {
    diag_error(c->diag, *loc, D_BAD_NUMBER, "integer '%s' is too large (the largest is %lld)",
               text, (long long)INT64_MAX);
    x = 0;
  }
  v->node = ast_new(c->arena, N_INT, *loc);
  v->node->text = text;
  v->node->ival = x;
  return TOK_INT;
}

static const struct {
  const char *word;
  DurUnit unit;
} units[] = {
    {"minute", DU_MINUTE},   {"minutes", DU_MINUTE},   {"hour", DU_HOUR},
    {"hours", DU_HOUR},      {"day", DU_DAY},          {"days", DU_DAY},
    {"week", DU_WEEK},       {"weeks", DU_WEEK},       {"month", DU_MONTH},
    {"months", DU_MONTH},    {"year", DU_YEAR},        {"years", DU_YEAR},
    {"workday", DU_WORKDAY}, {"workdays", DU_WORKDAY}, {"workhour", DU_WORKHOUR},
    {"workhours", DU_WORKHOUR},
};

/* ISO 4217 codes accepted after an amount. */
static const char *const currencies[] = {"AED", "BYN", "CHF", "CNY", "EUR", "GBP", "JPY",
                                         "KGS", "KZT", "RUB", "TRY", "UAH", "USD", "UZS"};

/* "3 days", "1500.00 RUB": returns the token, or 0 when the word after the
** number is neither a unit nor a currency (the lexer then gives it back). */
int lex_suffixed(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc) {
  int k = lex_numeric_prefix(s, n);
  int w = k;
  while (w < n && (s[w] == ' ' || s[w] == '\t')) w++;
  const char *word = s + w;
  size_t wl = (size_t)(n - w);
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strlen(units[i].word) != wl || memcmp(units[i].word, word, wl)) continue;
    const char *num = digits_only(c, s, k);
    if (strchr(num, '.')) {
      diag_error(c->diag, *loc, D_BAD_NUMBER, "a duration counts whole %s; use a smaller unit",
                 units[i].word);
      num = "0";
    }
    errno = 0;
    long long x = strtoll(num, NULL, 10);
    if (errno == ERANGE || x > 1000000000LL) {
      diag_error(c->diag, *loc, D_BAD_NUMBER, "duration '%.*s' is too long", n, s);
      x = 0;
    }
    v->node = ast_new(c->arena, N_DURATION, *loc);
    v->node->ival = x;
    v->node->op = units[i].unit;
    v->node->text = arena_strndup(c->arena, s, (size_t)n);
    return TOK_DURATION;
  }
  bool code_like = wl == 3 && isupper((unsigned char)word[0]) && isupper((unsigned char)word[1]) &&
                   isupper((unsigned char)word[2]);
  bool known = false;
  for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++)
    known |= code_like && !memcmp(currencies[i], word, 3);
  if (code_like && !known) {
    Span at = *loc;
    diag_error(c->diag, at, D_BAD_NUMBER, "unknown currency '%.3s'", word);
    StrBuf b = {0};
    for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++)
      sb_printf(&b, "%s%s", i ? ", " : "", currencies[i]);
    diag_note(c->diag, at, "known currencies: %s", sb_str(&b));
    sb_free(&b);
    v->node = ast_new(c->arena, N_MONEY, *loc);
    v->node->text = digits_only(c, s, k);
    v->node->name = "RUB";
    return TOK_MONEY;
  }
  for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++) {
    if (wl != 3 || memcmp(currencies[i], word, 3)) continue;
    char *num = digits_only(c, s, k);
    const char *dot = strchr(num, '.');
    if (dot && strlen(dot + 1) > 2)
      diag_error(c->diag, *loc, D_BAD_NUMBER, "money '%s' has more than 2 digits after the point", num);
    if (strlen(num) > 16)
      diag_error(c->diag, *loc, D_BAD_NUMBER, "money '%s' is too large", num);
    v->node = ast_new(c->arena, N_MONEY, *loc);
    v->node->text = num;
    v->node->name = currencies[i];
    return TOK_MONEY;
  }
  return 0;
}

/* ---- dates and times --------------------------------------------------- */

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool lex_parse_date(const char *s, int64_t *days) {
  int y, m, d;
  if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3) return false;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1) return false;
  int max = mdays[m - 1] + (m == 2 && leap(y));
  if (d > max) return false;
  *days = days_from_civil(y, m, d);
  return true;
}

static bool parse_hhmm(const char *s, int *minutes) {
  int h, m, sec = 0;
  int k = sscanf(s, "%2d:%2d:%2d", &h, &m, &sec);
  if (k < 2 || h > 24 || m > 59 || sec > 59 || (h == 24 && (m || sec))) return false;
  *minutes = h * 60 + m;
  return true;
}

int lex_date(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc) {
  v->node = ast_new(c->arena, N_DATE, *loc);
  v->node->text = arena_strndup(c->arena, s, (size_t)n);
  if (!lex_parse_date(s, &v->node->ival))
    diag_error(c->diag, *loc, D_BAD_DATE, "'%.*s' is not a date", n, s);
  return TOK_DATE;
}

int lex_datetime(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc) {
  v->node = ast_new(c->arena, N_DATETIME, *loc);
  v->node->text = arena_strndup(c->arena, s, (size_t)n);
  int64_t days;
  int minutes;
  bool ok = lex_parse_date(s, &days) && parse_hhmm(s + 11, &minutes);
  const char *zone = s + 16;
  if (ok && *zone == ':') zone += 3;
  if (ok && (*zone == '+' || *zone == '-')) {
    int zm;
    ok = parse_hhmm(zone + 1, &zm) && zm <= 14 * 60;
  }
  if (!ok) diag_error(c->diag, *loc, D_BAD_DATE, "'%.*s' is not a date and time", n, s);
  else v->node->ival = days;
  return TOK_DATETIME;
}

int lex_time(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc) {
  v->node = ast_new(c->arena, N_INT, *loc);
  v->node->text = arena_strndup(c->arena, s, (size_t)n);
  int minutes = 0;
  if (!parse_hhmm(s, &minutes)) {
    diag_error(c->diag, *loc, D_BAD_DATE, "'%.*s' is not a time of day", n, s);
    minutes = -1;
  }
  v->node->ival = minutes;
  return TOK_TIME;
}

/* ---- strings ----------------------------------------------------------- */

void lex_string_begin(ParseCtx *c, const Span *loc, int kind) {
  sb_clear(&c->sb);
  c->str_start = loc->start;
  c->str_quote = loc->start;
}

/* Returns STRING (a whole plain string), STR_HEAD (text before the first
** ${), STR_MID (between } and ${) or STR_TAIL (after the last }). */
int lex_string_piece(ParseCtx *c, union YYSTYPE *v, Span *loc, int kind, int more) {
  const char *text = arena_strndup(c->arena, sb_str(&c->sb), c->sb.len);
  size_t bad = utf8_check(text, c->sb.len);
  if (bad < c->sb.len) {
    Span sp = {c->file, c->str_start, loc->end};
    diag_error(c->diag, sp, D_BAD_UTF8, "string holds bytes that are not valid UTF-8");
  }
  loc->start = c->str_start;
  sb_clear(&c->sb);
  /* A piece that starts at '}' continues an interpolated string. */
  bool continues = c->str_continues;
  c->str_continues = false;
  if (more) {
    v->str = text;
    c->str_start = loc->end;
    return continues ? TOK_STR_MID : TOK_STR_HEAD;
  }
  if (continues) {
    v->str = text;
    return TOK_STR_TAIL;
  }
  v->node = ast_new(c->arena, N_STRING, *loc);
  v->node->text = text;
  return TOK_STRING;
}

char lex_escape(char ch) {
  switch (ch) {
  case 'n': return '\n';
  case 't': return '\t';
  default: return ch;
  }
}

void lex_unicode_escape(ParseCtx *c, const char *s, int n, const Span *loc) {
  unsigned long cp = strtoul(s + 3, NULL, 16);
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    diag_error(c->diag, *loc, D_BAD_ESCAPE, "'%.*s' is not a Unicode character", n, s);
    return;
  }
  char buf[4];
  int k;
  if (cp < 0x80) buf[0] = (char)cp, k = 1;
  else if (cp < 0x800) buf[0] = (char)(0xC0 | cp >> 6), buf[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
  else if (cp < 0x10000)
    buf[0] = (char)(0xE0 | cp >> 12), buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
    buf[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
  else
    buf[0] = (char)(0xF0 | cp >> 18), buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), buf[3] = (char)(0x80 | (cp & 0x3F)), k = 4;
  sb_add(&c->sb, buf, (size_t)k);
}

/* ---- bad input --------------------------------------------------------- */

int lex_wrong_quotes(ParseCtx *c, const char *s, int n, union YYSTYPE *v, Span *loc) {
  int open = s[0] == '\'' ? 1 : 2;  /* “ and « are two bytes in UTF-8; ” is three */
  if (!strncmp(s, "“", 3)) open = 3;
  int close = s[0] == '\'' ? 1 : !strncmp(s, "“", 3) ? 3 : 2;
  Span at = {loc->file, loc->start, loc->start + (uint32_t)open};
  diag_error(c->diag, at, D_BAD_CHAR, "strings are written in straight double quotes: \"%.*s\"",
             n - open - close, s + open);
  v->node = ast_new(c->arena, N_STRING, *loc);
  v->node->text = arena_strndup(c->arena, s + open, (size_t)(n - open - close));
  return TOK_STRING;
}

void lex_comment(ParseCtx *c, const char *s, int n, const Span *loc) {
  size_t bad = utf8_check(s, (size_t)n);
  if (bad < (size_t)n) {
    Span sp = {c->file, loc->start + (uint32_t)bad, loc->start + (uint32_t)bad + 1};
    diag_error(c->diag, sp, D_BAD_UTF8, "comment holds bytes that are not valid UTF-8");
  }
  if (memchr(s, '\0', (size_t)n)) diag_error(c->diag, *loc, D_NUL_BYTE, "NUL byte in a comment");
}

bool lex_bad_text(ParseCtx *c, const char *s, int n, const Span *loc) {
  size_t bad = utf8_check(s, (size_t)n);
  if (bad < (size_t)n) {
    Span sp = {loc->file, loc->start + (uint32_t)bad, loc->start + (uint32_t)bad + 1};
    diag_error(c->diag, sp, D_BAD_UTF8, "bytes that are not valid UTF-8");
    return false;
  }
  diag_error(c->diag, *loc, D_BAD_CHAR, "'%.*s' is not a valid name", n, s);
  diag_note(c->diag, *loc,
            "names are ASCII (letters, digits, '_'); put text in other languages in a \"title\"");
  return true;
}

void lex_bad_char(ParseCtx *c, const char *s, const Span *loc) {
  unsigned char ch = (unsigned char)s[0];
  if (ch >= 0x80) diag_error(c->diag, *loc, D_BAD_UTF8, "byte 0x%02X is not valid UTF-8", ch);
  else if (ch < 0x20 || ch == 0x7F)
    diag_error(c->diag, *loc, D_BAD_CHAR, "unexpected control character 0x%02X", ch);
  else diag_error(c->diag, *loc, D_BAD_CHAR, "unexpected character '%c'", ch);
}

/* ---- parser helpers ---------------------------------------------------- */

Node *lex_last(Node *list) {
  while (list && list->next) list = list->next;
  return list;
}

int lex_stage_mod(ParseCtx *c, int mods, const char *word, Span loc) {
  if (!strcmp(word, "success") || !strcmp(word, "failure")) {
    if (mods & 3) diag_error(c->diag, loc, D_SYNTAX, "a stage has one kind: success or failure");
    return (mods & ~3) | (word[0] == 's' ? SK_SUCCESS : SK_FAILURE);
  }
  if (!strcmp(word, "auto")) return mods | F_AUTO;
  diag_error(c->diag, loc, D_SYNTAX,
             "unexpected '%s' after a stage's title; expected success, failure, auto or '{'", word);
  return mods;
}

int lex_convert_with(ParseCtx *c, Node *name) {
  if (!strcmp(name->name, "contact")) return F_WITH_CONTACT;
  if (!strcmp(name->name, "company")) return F_WITH_COMPANY;
  diag_error(c->diag, name->span, D_SYNTAX, "convert creates a contact or a company, not '%s'",
             name->name);
  return 0;
}

Node *lex_cal_setting(ParseCtx *c, Span loc, const char *what, Span what_loc, Node *str, Node *d1,
                      Node *d2) {
  Node *n;
  if (str && !strcmp(what, "timezone")) {
    n = ast_new(c->arena, N_CAL_TZ, loc);
    n->text = str->list ? "" : str->text;
    n->a = str;
    return n;
  }
  if (d1 && !strcmp(what, "holiday")) {
    n = ast_new(c->arena, N_CAL_HOLIDAY, loc);
    n->a = d1;
    n->b = d2;
    return n;
  }
  if (d1 && !d2 && !strcmp(what, "workday")) {
    n = ast_new(c->arena, N_CAL_WORKDAY, loc);
    n->a = d1;
    return n;
  }
  diag_error(c->diag, what_loc, D_BAD_CALENDAR,
             "unknown calendar setting '%s'; expected timezone \"Zone\", hours DAYS HH:MM..HH:MM, "
             "holiday DATE[..DATE] or workday DATE",
             what);
  n = ast_new(c->arena, N_CAL_WORKDAY, loc);
  n->flags = F_INVALID;
  return n;
}

static int weekday(const char *s) {
  static const char *days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (int i = 0; i < 7; i++)
    if (!strcmp(s, days[i])) return i;
  return -1;
}

Node *lex_cal_hours(ParseCtx *c, Span loc, const char *what, Span what_loc, const char *d1,
                    Span d1_loc, const char *d2, Span d2_loc, Node *t1, Node *t2) {
  Node *n = ast_new(c->arena, N_CAL_HOURS, loc);
  if (strcmp(what, "hours")) {
    diag_error(c->diag, what_loc, D_BAD_CALENDAR, "unknown calendar setting '%s'; expected hours",
               what);
    n->flags = F_INVALID;
    return n;
  }
  bool ok = true;
  if (weekday(d1) < 0) {
    diag_error(c->diag, d1_loc, D_BAD_CALENDAR, "'%s' is not a weekday (mon, tue, ..., sun)", d1);
    ok = false;
  }
  if (d2 != d1 && weekday(d2) < 0) {
    diag_error(c->diag, d2_loc, D_BAD_CALENDAR, "'%s' is not a weekday (mon, tue, ..., sun)", d2);
    ok = false;
  }
  if (t1->ival < 0 || t2->ival < 0) {
    ok = false; /* reported by the lexer */
  } else if (t1->ival >= t2->ival) {
    diag_error(c->diag, span_join(t1->span, t2->span), D_BAD_CALENDAR,
               "working hours must end after they start");
    ok = false;
  }
  if (!ok) {
    n->flags = F_INVALID;
    return n;
  }
  n->name = d1;
  n->text = d2;
  n->ival = t1->ival;
  n->ival2 = t2->ival;
  return n;
}

Node *lex_interp(ParseCtx *c, Span loc, const char *head, Span head_loc, Node *rest) {
  Node *s = ast_new(c->arena, N_STRING, loc);
  NodeList l = {0};
  if (*head) {
    Node *p = ast_new(c->arena, N_STR_PART, head_loc);
    p->text = head;
    l = ast_list1(p);
  }
  /* rest is a chain built by lex_interp_part: expr, part, expr, part... */
  while (rest) {
    Node *nx = rest->next;
    rest->next = NULL;
    l = ast_append(l, rest);
    rest = nx;
  }
  s->list = l.head;
  return s;
}

Node *lex_interp_part(ParseCtx *c, Node *expr, const char *text, Span text_loc, Node *rest) {
  Node *head = expr;
  Node *tail = expr;
  if (*text) {
    Node *p = ast_new(c->arena, N_STR_PART, text_loc);
    p->text = text;
    tail->next = p;
    tail = p;
  }
  tail->next = rest;
  return head;
}

/* Token classes: tokens whose text varies. */
static bool is_token_class(const char *name) {
  return strchr(name, ' ') || !strcmp(name, "identifier") || !strcmp(name, "integer") ||
         !strcmp(name, "string") || !strcmp(name, "date") || !strcmp(name, "duration");
}

const char *lex_quote_symbol(ParseCtx *c, const char *name) {
  if (name[0] == '\'' || name[0] == '"' || is_token_class(name)) return name;
  return arena_printf(c->arena, "'%s'", name);
}

const char *lex_describe_token(ParseCtx *c, const char *name, Span loc) {
  if (!is_token_class(name)) return lex_quote_symbol(c, name);
  const SrcFile *f = srcset_get(c->diag->srcs, loc.file);
  size_t n = loc.end > loc.start ? loc.end - loc.start : 0;
  if (!f || n == 0) return name;
  if (n > 40) n = 40;
  /* show the text only when it is printable on one line */
  const char *text = f->text + loc.start;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)text[i] < 0x20) return name;
  return arena_printf(c->arena, "%s '%.*s'", name, (int)n, text);
}
