/*
** doc_template.c: the document template language (doc_template.h,
** docs/documents.md).
**
** Two steps, so that a broken template produces no output at all: parse()
** turns the template and every partial it names into a tree of TNodes
** (text, value, if, each, partial), checking every tag; render() walks the
** tree with a stack of scopes (the params, then the item of each enclosing
** {{#each}}). Text nodes point into the template sources, which the Tpl
** keeps until the end.
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/doc_template.h"
#include "util/arena.h"

typedef enum { N_TEXT, N_VALUE, N_IF, N_EACH, N_PARTIAL } NodeKind;
typedef enum { F_NONE, F_MONEY, F_WORDS, F_DATE, F_LONGDATE } Filter;
static const char *const filter_names[] = {"", "|money", "|words", "|date", "|longdate"};

typedef struct TNode {
  NodeKind kind;
  int line;
  const char *path;           /* the file the node is in */
  const char *text;           /* N_TEXT */
  size_t len;
  char *name;                 /* N_VALUE, N_IF, N_EACH: the name; N_PARTIAL: the partial */
  Filter filter;
  struct TNode *body, *alt;   /* if: then/else; each: body; partial: its tree */
  json_t *args;               /* N_PARTIAL: its arguments {name: "text"}, NULL for none */
  struct TNode *next;
} TNode;

typedef struct Tpl {
  const char *dir;
  char **owned;               /* sources and paths of partials, freed at the end */
  size_t nowned, capowned;
  char *err;
  size_t errlen;
  int failed;
} Tpl;

/* The parser's position in one source. */
typedef struct Src {
  Tpl *t;
  const char *path, *s, *p;
  int line, depth;
} Src;

static void own(Tpl *t, char *s) {
  if (t->nowned == t->capowned) {
    t->capowned = t->capowned ? t->capowned * 2 : 8;
    t->owned = xrealloc(t->owned, t->capowned * sizeof *t->owned);
  }
  t->owned[t->nowned++] = s;
}

static void fail(Tpl *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(Tpl *t, const char *fmt, ...) {
  if (t->failed) return;
  t->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->err, t->errlen, fmt, ap);
  va_end(ap);
}

static void free_nodes(TNode *n) {
  while (n) {
    TNode *next = n->next;
    free_nodes(n->body);
    free_nodes(n->alt);
    free(n->name);
    json_decref(n->args);
    free(n);
    n = next;
  }
}

int dtpl_name_ok(const char *name) {
  size_t n = name ? strlen(name) : 0;
  return n > 0 && n <= DTPL_MAX_NAME && name[0] != '.' && !strchr(name, '/') && !strchr(name, '\\');
}

/* Reads a whole file; NULL with errno set. */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  StrBuf b = {0};
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&b, buf, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    sb_free(&b);
    errno = EIO;
    return NULL;
  }
  if (!b.s) sb_puts(&b, "");
  return b.s;
}

/* ---- parsing ------------------------------------------------------------------------------ */

static TNode *node(Src *s, NodeKind k) {
  TNode *n = xcalloc(1, sizeof *n);
  n->kind = k;
  n->line = s->line;
  n->path = s->path;
  return n;
}

static int is_name_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c >= 0x80;
}

/* A name: `.`, `@number`, or segments of name bytes joined by dots. */
static int valid_name(const char *s) {
  if (!strcmp(s, ".") || !strcmp(s, "@number")) return 1;
  if (!*s) return 0;
  for (const char *p = s; *p; p++) {
    if (*p == '.') {
      if (p == s || !p[1] || p[1] == '.') return 0;
    } else if (!is_name_byte((unsigned char)*p)) {
      return 0;
    }
  }
  return 1;
}

static char *trimmed(const char *a, const char *b) {
  while (a < b && (*a == ' ' || *a == '\t' || *a == '\n' || *a == '\r')) a++;
  while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\n' || b[-1] == '\r')) b--;
  char *r = xmalloc((size_t)(b - a) + 1);
  memcpy(r, a, (size_t)(b - a));
  r[b - a] = 0;
  return r;
}

static void count_lines(Src *s, const char *a, const char *b) {
  for (; a < b; a++)
    if (*a == '\n') s->line++;
}

/* The arguments of a partial, NAME="text" pairs separated by spaces, as
** an object (NULL for none); the text cannot contain '"'. */
static json_t *parse_args(Src *s, const char *p, int line, const char *partial) {
  json_t *args = NULL;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) return args;
    const char *n0 = p;
    while (is_name_byte((unsigned char)*p)) p++;
    const char *n1 = p;
    if (n1 == n0 || p[0] != '=' || p[1] != '"' || !strchr(p + 2, '"')) {
      fail(s->t, "%s:%d: {{> %s}}: arguments are NAME=\"text\" (at '%.20s')", s->path, line,
           partial, n0);
      return args;
    }
    const char *v0 = p + 2, *v1 = strchr(v0, '"');
    char *key = trimmed(n0, n1);
    json_t *val = json_stringn(v0, (size_t)(v1 - v0));
    if (!args) args = json_object();
    if (!val) fail(s->t, "%s:%d: {{> %s}}: %s is not UTF-8 text", s->path, line, partial, key);
    else json_object_set_new(args, key, val);
    free(key);
    if (!val) return args;
    p = v1 + 1;
  }
}

static TNode *parse_file(Tpl *t, const char *path, const char *text, int depth);

/* How a list of nodes ended. */
typedef enum { END_EOF, END_ELSE, END_IF, END_EACH } End;

/* Parses nodes up to the end of the source or a closing tag, which it
** reports in *end; `opened` is the block being parsed (for messages). */
static TNode *parse_list(Src *s, End *end, int nest, const TNode *opened) {
  TNode *head = NULL, **tail = &head;
  *end = END_EOF;
  if (nest > DTPL_MAX_NEST) {
    fail(s->t, "%s:%d: blocks nested deeper than %d", s->path, s->line, DTPL_MAX_NEST);
    return NULL;
  }
  while (*s->p && !s->t->failed) {
    const char *open = strstr(s->p, "{{");
    const char *stop = open ? open : s->p + strlen(s->p);
    if (stop > s->p) {
      TNode *n = node(s, N_TEXT);
      n->text = s->p;
      n->len = (size_t)(stop - s->p);
      *tail = n;
      tail = &n->next;
      count_lines(s, s->p, stop);
      s->p = stop;
    }
    if (!open) break;
    int line = s->line;
    const char *close;
    if (open[2] == '!') {
      close = strstr(open + 3, "}}");
      if (!close) {
        fail(s->t, "%s:%d: unterminated {{! comment (no }})", s->path, line);
        break;
      }
      count_lines(s, open, close);
      s->p = close + 2;
      continue;
    }
    close = strstr(open + 2, "}}");
    const char *nl = memchr(open + 2, '\n', close ? (size_t)(close - open - 2) : strlen(open + 2));
    if (!close || nl) {
      fail(s->t, "%s:%d: unterminated {{ (no }} on the same line)", s->path, line);
      break;
    }
    s->p = close + 2;
    char *tag = trimmed(open + 2, close);
    if (tag[0] == '#') {
      const char *sp = tag + 1;
      while (*sp && *sp != ' ' && *sp != '\t') sp++;
      size_t kw = (size_t)(sp - tag - 1);
      char *name = trimmed(sp, sp + strlen(sp));
      NodeKind k = kw == 2 && !strncmp(tag + 1, "if", 2)     ? N_IF
                   : kw == 4 && !strncmp(tag + 1, "each", 4) ? N_EACH
                                                              : N_TEXT;
      if (k == N_TEXT) {
        fail(s->t, "%s:%d: unknown block {{%s}} (blocks are {{#if NAME}} and {{#each NAME}})",
             s->path, line, tag);
      } else if (!valid_name(name) || !strcmp(name, "@number")) {
        fail(s->t, "%s:%d: {{%s}} needs a name", s->path, line, tag);
      } else {
        TNode *n = node(s, k);
        n->line = line;
        n->name = name;
        name = NULL;
        *tail = n;
        tail = &n->next;
        End e;
        n->body = parse_list(s, &e, nest + 1, n);
        if (e == END_ELSE && k == N_IF) n->alt = parse_list(s, &e, nest + 1, n);
        if (s->t->failed) {
        } else if (e == END_EOF) {
          fail(s->t, "%s:%d: {{#%s %s}} is not closed (no {{/%s}})", s->path, line,
               k == N_IF ? "if" : "each", n->name, k == N_IF ? "if" : "each");
        } else if (e == END_ELSE) {
          fail(s->t, "%s:%d: a second {{else}} in {{#if %s}}", s->path, s->line, n->name);
        } else if ((e == END_IF) != (k == N_IF)) {
          fail(s->t, "%s:%d: {{/%s}} closes {{#%s %s}} opened at line %d", s->path, s->line,
               e == END_IF ? "if" : "each", k == N_IF ? "if" : "each", n->name, line);
        }
      }
      free(name);
    } else if (tag[0] == '/') {
      char *kw = trimmed(tag + 1, tag + strlen(tag));
      End e = !strcmp(kw, "if") ? END_IF : !strcmp(kw, "each") ? END_EACH : END_EOF;
      if (e == END_EOF)
        fail(s->t, "%s:%d: unknown closing tag {{%s}} ({{/if}} or {{/each}})", s->path, line, tag);
      else if (!opened)
        fail(s->t, "%s:%d: {{%s}} without an open {{#%s}}", s->path, line, tag, kw);
      free(kw);
      free(tag);
      *end = e;
      return head;
    } else if (!strcmp(tag, "else")) {
      if (!opened || opened->kind != N_IF) {
        fail(s->t, "%s:%d: {{else}} outside {{#if}}", s->path, line);
      } else {
        free(tag);
        *end = END_ELSE;
        return head;
      }
    } else if (tag[0] == '>') {
      const char *a = tag + 1;
      while (*a == ' ' || *a == '\t') a++;
      const char *b = a;
      while (*b && *b != ' ' && *b != '\t') b++;
      char *name = trimmed(a, b);
      json_t *args = parse_args(s, b, line, name);
      if (s->t->failed) {
      } else if (!dtpl_name_ok(name)) {
        fail(s->t, "%s:%d: {{> NAME}}: '%s' is not a template name", s->path, line, name);
      } else if (!s->t->dir) {
        fail(s->t, "%s:%d: {{> %s}}: no template directory for partials", s->path, line, name);
      } else if (s->depth >= DTPL_MAX_DEPTH) {
        fail(s->t, "%s:%d: {{> %s}}: partials nested deeper than %d (does one include itself?)",
             s->path, line, name, DTPL_MAX_DEPTH);
      } else {
        StrBuf pb = {0};
        sb_printf(&pb, "%s/%s.html", s->t->dir, name);
        char *text = read_file(pb.s);
        if (!text) {
          fail(s->t, "%s:%d: {{> %s}}: cannot read %s: %s", s->path, line, name, pb.s,
               strerror(errno));
          sb_free(&pb);
        } else {
          own(s->t, pb.s);
          own(s->t, text);
          size_t tl = strlen(text); /* a partial's last line break is the file's, not its text */
          if (tl && text[tl - 1] == '\n') text[--tl] = 0;
          if (tl && text[tl - 1] == '\r') text[--tl] = 0;
          TNode *n = node(s, N_PARTIAL);
          n->line = line;
          n->name = name;
          n->args = args;
          name = NULL;
          args = NULL;
          *tail = n;
          tail = &n->next;
          n->body = parse_file(s->t, pb.s, text, s->depth + 1);
        }
      }
      json_decref(args);
      free(name);
    } else {
      char *bar = strchr(tag, '|');
      Filter f = F_NONE;
      if (bar) {
        char *fname = trimmed(bar + 1, bar + strlen(bar));
        f = !strcmp(fname, "money")      ? F_MONEY
            : !strcmp(fname, "words")    ? F_WORDS
            : !strcmp(fname, "date")     ? F_DATE
            : !strcmp(fname, "longdate") ? F_LONGDATE
                                         : F_NONE;
        if (f == F_NONE)
          fail(s->t, "%s:%d: unknown filter '%s' in {{%s}} (money, words, date, longdate)",
               s->path, line, fname, tag);
        free(fname);
        char *nm = trimmed(tag, bar);
        free(tag);
        tag = nm;
      }
      if (!s->t->failed && !valid_name(tag)) {
        fail(s->t, "%s:%d: '{{%s}}' is not a name (letters, digits, _ and -, joined by dots)",
             s->path, line, tag);
      } else if (!s->t->failed) {
        TNode *n = node(s, N_VALUE);
        n->line = line;
        n->name = tag;
        n->filter = f;
        tag = NULL;
        *tail = n;
        tail = &n->next;
      }
    }
    free(tag);
  }
  return head;
}

static TNode *parse_file(Tpl *t, const char *path, const char *text, int depth) {
  Src s = {t, path, text, text, 1, depth};
  End e;
  return parse_list(&s, &e, 0, NULL);
}

/* ---- values and filters ------------------------------------------------------------------- */

typedef struct Scope {
  json_t *v;
  long number;                /* the item's number in its {{#each}}, from 1; 0 for the params */
} Scope;

typedef struct Render {
  Tpl *t;
  Scope *scopes;
  size_t n, cap;
  StrBuf *out;
} Render;

/* Looks `name` up: its first segment in the innermost scope that has it,
** the rest inside that value. NULL if it is not there. */
static json_t *lookup(Render *r, const char *name) {
  if (!strcmp(name, ".")) return r->scopes[r->n - 1].v;
  const char *dot = strchr(name, '.');
  size_t n = dot ? (size_t)(dot - name) : strlen(name);
  json_t *v = NULL;
  for (size_t i = r->n; i-- > 0 && !v;) {
    json_t *sc = r->scopes[i].v;
    if (!json_is_object(sc)) continue;
    const char *key;
    json_t *val;
    json_object_foreach(sc, key, val) {
      if (strlen(key) == n && !memcmp(key, name, n)) {
        v = val;
        break;
      }
    }
  }
  while (v && dot) {
    const char *seg = dot + 1;
    dot = strchr(seg, '.');
    n = dot ? (size_t)(dot - seg) : strlen(seg);
    char buf[DTPL_MAX_NAME + 1];
    if (n > DTPL_MAX_NAME || !json_is_object(v)) return NULL;
    memcpy(buf, seg, n);
    buf[n] = 0;
    v = json_object_get(v, buf);
  }
  return v;
}

/* The names the params have, for a message about a missing one. */
static void known_names(Render *r, StrBuf *b) {
  const char *key;
  json_t *val;
  json_object_foreach(r->scopes[0].v, key, val) {
    if (b->len > 160) {
      sb_puts(b, ", ...");
      break;
    }
    sb_printf(b, "%s%s", b->len ? ", " : "", key);
  }
  if (!b->len) sb_puts(b, "none");
}

static void escape_html(StrBuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '&': sb_puts(b, "&amp;"); break;
    case '<': sb_puts(b, "&lt;"); break;
    case '>': sb_puts(b, "&gt;"); break;
    case '"': sb_puts(b, "&quot;"); break;
    case '\'': sb_puts(b, "&#39;"); break;
    default: sb_putc(b, s[i]);
    }
  }
}

/* Money as the engine writes it: "-150000.00 RUB". */
typedef struct Money {
  int neg;
  unsigned long long units;
  int cents;
  char cur[4];
} Money;

static int parse_money(const char *s, Money *m) {
  memset(m, 0, sizeof *m);
  if (*s == '-') {
    m->neg = 1;
    s++;
  }
  if (*s < '0' || *s > '9') return 0;
  int digits = 0;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (++digits > 15) return 0;
    m->units = m->units * 10 + (unsigned)(*s - '0');
  }
  if (s[0] != '.' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' || s[3] != ' ') return 0;
  m->cents = (s[1] - '0') * 10 + (s[2] - '0');
  s += 4;
  for (int i = 0; i < 3; i++) {
    if (s[i] < 'A' || s[i] > 'Z') return 0;
    m->cur[i] = s[i];
  }
  return s[3] == 0;
}

#define NBSP "\xc2\xa0"

/* 150000.00 RUB -> "150 000,00 руб." (no-break spaces between groups of three). */
static void fmt_money(StrBuf *b, const Money *m) {
  char digits[32];
  int n = snprintf(digits, sizeof digits, "%llu", m->units);
  if (m->neg) sb_putc(b, '-');
  for (int i = 0; i < n; i++) {
    if (i && (n - i) % 3 == 0) sb_puts(b, NBSP);
    sb_putc(b, digits[i]);
  }
  sb_printf(b, ",%02d" NBSP "%s", m->cents, !strcmp(m->cur, "RUB") ? "руб." : m->cur);
}

/* Russian numerals: the form for 1, for 2-4 and for 5-20 of a noun. */
static const char *plural(unsigned long long n, const char *one, const char *few, const char *many) {
  unsigned long long d = n % 100;
  if (d >= 11 && d <= 14) return many;
  d %= 10;
  return d == 1 ? one : d >= 2 && d <= 4 ? few : many;
}

/* Appends a number below 1000 in words; `fem` for feminine nouns (тысяча,
** копейка): одна, две. */
static void words999(StrBuf *b, unsigned n, int fem) {
  static const char *const hundreds[] = {"", "сто", "двести", "триста", "четыреста", "пятьсот",
                                         "шестьсот", "семьсот", "восемьсот", "девятьсот"};
  static const char *const tens[] = {"", "", "двадцать", "тридцать", "сорок", "пятьдесят",
                                     "шестьдесят", "семьдесят", "восемьдесят", "девяносто"};
  static const char *const teens[] = {"десять", "одиннадцать", "двенадцать", "тринадцать",
                                      "четырнадцать", "пятнадцать", "шестнадцать", "семнадцать",
                                      "восемнадцать", "девятнадцать"};
  static const char *const ones[] = {"", "один", "два", "три", "четыре", "пять", "шесть",
                                     "семь", "восемь", "девять"};
  const char *w[3];
  int k = 0;
  if (n / 100) w[k++] = hundreds[n / 100];
  unsigned t = n % 100;
  if (t >= 10 && t < 20) {
    w[k++] = teens[t - 10];
  } else {
    if (t / 10) w[k++] = tens[t / 10];
    if (t % 10) w[k++] = fem && t % 10 == 1 ? "одна" : fem && t % 10 == 2 ? "две" : ones[t % 10];
  }
  for (int i = 0; i < k; i++) sb_printf(b, "%s%s", b->len && b->s[b->len - 1] != ' ' ? " " : "", w[i]);
}

/* Money in words, as invoices write the total: "Сто пятьдесят тысяч
** рублей 00 копеек". Other currencies: the number in words, the code and
** the cents as "NN/100". */
static void fmt_words(StrBuf *out, const Money *m) {
  static const struct { const char *one, *few, *many; int fem; } scales[] = {
    {"триллион", "триллиона", "триллионов", 0}, {"миллиард", "миллиарда", "миллиардов", 0},
    {"миллион", "миллиона", "миллионов", 0},    {"тысяча", "тысячи", "тысяч", 1},
  };
  int rub = !strcmp(m->cur, "RUB");
  StrBuf b = {0};
  if (m->neg) sb_puts(&b, "минус");
  unsigned long long u = m->units, div = 1000000000000ULL;
  if (u == 0) sb_printf(&b, "%sноль", b.len ? " " : "");
  for (int i = 0; i < 4; i++, div /= 1000) {
    unsigned g = (unsigned)(u / div % 1000);
    if (i == 0) g = (unsigned)(u / div); /* at most 15 digits: below 1000 */
    if (!g) continue;
    words999(&b, g, scales[i].fem);
    sb_printf(&b, " %s", plural(g, scales[i].one, scales[i].few, scales[i].many));
  }
  words999(&b, (unsigned)(u % 1000), 0);
  if (rub)
    sb_printf(&b, " %s %02d %s", plural(u, "рубль", "рубля", "рублей"), m->cents,
              plural((unsigned)m->cents, "копейка", "копейки", "копеек"));
  else
    sb_printf(&b, " %s %02d/100", m->cur, m->cents);
  /* a capital first letter: every first letter here is a two-byte Cyrillic one */
  const unsigned char *s = (const unsigned char *)b.s;
  if (s[0] == 0xd0 && s[1] >= 0xb0 && s[1] <= 0xbf) {
    sb_putc(out, (char)0xd0);
    sb_putc(out, (char)(s[1] - 0x20));
    sb_puts(out, b.s + 2);
  } else if (s[0] == 0xd1 && s[1] >= 0x80 && s[1] <= 0x8f) {
    sb_putc(out, (char)0xd0);
    sb_putc(out, (char)(s[1] + 0x20));
    sb_puts(out, b.s + 2);
  } else {
    sb_puts(out, b.s);
  }
  sb_free(&b);
}

/* A date or date-time as ISO-8601 starts "YYYY-MM-DD". */
static int parse_date(const char *s, int *y, int *mo, int *d) {
  for (int i = 0; i < 10; i++) {
    if (i == 4 || i == 7) {
      if (s[i] != '-') return 0;
    } else if (s[i] < '0' || s[i] > '9') {
      return 0;
    }
  }
  if (s[10] && s[10] != 'T' && s[10] != ' ') return 0;
  *y = atoi(s);
  *mo = atoi(s + 5);
  *d = atoi(s + 8);
  return *mo >= 1 && *mo <= 12 && *d >= 1 && *d <= 31;
}

/* Appends a value's text (through its filter) to `b`; -1 on error. */
static int value_text(Render *r, const TNode *n, json_t *v, StrBuf *b) {
  static const char *const months[] = {"января", "февраля", "марта",    "апреля",
                                       "мая",    "июня",    "июля",     "августа",
                                       "сентября", "октября", "ноября", "декабря"};
  if (json_is_null(v)) return 0;
  if (json_is_array(v) || json_is_object(v)) {
    fail(r->t, "%s:%d: {{%s}} is a %s, not a value%s", n->path, n->line, n->name,
         json_is_array(v) ? "list" : "object", json_is_array(v) ? " (use {{#each}})" : "");
    return -1;
  }
  if (n->filter == F_NONE) {
    if (json_is_string(v)) sb_add(b, json_string_value(v), json_string_length(v));
    else if (json_is_integer(v)) sb_printf(b, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) sb_printf(b, "%.15g", json_real_value(v));
    else sb_puts(b, json_is_true(v) ? "да" : "нет");
    return 0;
  }
  const char *s = json_string_value(v);
  if (n->filter == F_MONEY || n->filter == F_WORDS) {
    Money m;
    if (!s || !parse_money(s, &m)) {
      char *j = json_dumps(v, JSON_ENCODE_ANY);
      fail(r->t, "%s:%d: {{%s|%s}}: %.60s is not money (like \"1500.00 RUB\")", n->path, n->line,
           n->name, n->filter == F_MONEY ? "money" : "words", j ? j : "?");
      free(j);
      return -1;
    }
    if (n->filter == F_MONEY) fmt_money(b, &m);
    else fmt_words(b, &m);
    return 0;
  }
  int y, mo, d;
  if (!s || !parse_date(s, &y, &mo, &d)) {
    char *j = json_dumps(v, JSON_ENCODE_ANY);
    fail(r->t, "%s:%d: {{%s|%s}}: %.60s is not a date (like \"2026-01-12\")", n->path, n->line,
         n->name, n->filter == F_DATE ? "date" : "longdate", j ? j : "?");
    free(j);
    return -1;
  }
  if (n->filter == F_DATE) sb_printf(b, "%02d.%02d.%04d", d, mo, y);
  else sb_printf(b, "%d %s %04d г.", d, months[mo - 1], y);
  return 0;
}

static int truthy(json_t *v) {
  if (!v || json_is_null(v) || json_is_false(v)) return 0;
  if (json_is_string(v)) return json_string_length(v) > 0;
  if (json_is_integer(v)) return json_integer_value(v) != 0;
  if (json_is_real(v)) return json_real_value(v) != 0;
  if (json_is_array(v)) return json_array_size(v) > 0;
  if (json_is_object(v)) return json_object_size(v) > 0;
  return 1;
}

static void push(Render *r, json_t *v, long number) {
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 8;
    r->scopes = xrealloc(r->scopes, r->cap * sizeof *r->scopes);
  }
  r->scopes[r->n].v = v;
  r->scopes[r->n++].number = number;
}

static int render(Render *r, const TNode *n) {
  for (; n; n = n->next) {
    switch (n->kind) {
    case N_TEXT: sb_add(r->out, n->text, n->len); break;
    case N_PARTIAL: {
      if (n->args) push(r, n->args, 0);
      int rc = render(r, n->body);
      if (n->args) r->n--;
      if (rc) return -1;
      break;
    }
    case N_VALUE: {
      if (!strcmp(n->name, "@number")) {
        long num = 0;
        for (size_t i = r->n; i-- > 0 && !num;) num = r->scopes[i].number;
        if (!num) {
          fail(r->t, "%s:%d: {{@number}} outside {{#each}}", n->path, n->line);
          return -1;
        }
        sb_printf(r->out, "%ld", num);
        break;
      }
      json_t *v = lookup(r, n->name);
      if (!v) {
        StrBuf k = {0};
        known_names(r, &k);
        fail(r->t, "%s:%d: no param '%s' for {{%s%s}} (the params are: %s)", n->path, n->line,
             n->name, n->name, filter_names[n->filter], k.s);
        sb_free(&k);
        return -1;
      }
      StrBuf b = {0};
      int rc = value_text(r, n, v, &b);
      if (!rc) escape_html(r->out, b.s ? b.s : "", b.len);
      sb_free(&b);
      if (rc) return -1;
      break;
    }
    case N_IF:
      if (render(r, truthy(lookup(r, n->name)) ? n->body : n->alt)) return -1;
      break;
    case N_EACH: {
      json_t *v = lookup(r, n->name);
      if (!v || json_is_null(v)) {
        if (v) break;
        fail(r->t, "%s:%d: no param '%s' for {{#each %s}} (guard it with {{#if %s}})", n->path,
             n->line, n->name, n->name, n->name);
        return -1;
      }
      if (!json_is_array(v)) {
        fail(r->t, "%s:%d: {{#each %s}}: '%s' is not a list", n->path, n->line, n->name, n->name);
        return -1;
      }
      size_t i;
      json_t *item;
      json_array_foreach(v, i, item) {
        push(r, item, (long)i + 1);
        int rc = render(r, n->body);
        r->n--;
        if (rc) return -1;
      }
      break;
    }
    }
  }
  return 0;
}

int dtpl_fill_text(const char *text, const char *path, const char *dir, json_t *params,
                   StrBuf *out, char *err, size_t errlen) {
  Tpl t = {dir, NULL, 0, 0, err, errlen, 0};
  if (!json_is_object(params)) {
    snprintf(err, errlen, "the params are not a JSON object");
    return -1;
  }
  TNode *root = parse_file(&t, path, text, 0);
  if (!t.failed) {
    Render r = {&t, NULL, 0, 0, out};
    push(&r, params, 0);
    render(&r, root);
    free(r.scopes);
  }
  free_nodes(root);
  for (size_t i = 0; i < t.nowned; i++) free(t.owned[i]);
  free(t.owned);
  if (!t.failed && !out->s) sb_puts(out, "");
  return t.failed ? -1 : 0;
}

int dtpl_fill(const char *dir, const char *name, json_t *params, StrBuf *out, char *err,
              size_t errlen) {
  if (!dtpl_name_ok(name)) {
    snprintf(err, errlen, "'%.*s' is not a template name (no '/', not starting with '.')",
             DTPL_MAX_NAME, name ? name : "");
    return -1;
  }
  StrBuf path = {0};
  sb_printf(&path, "%s/%s.html", dir, name);
  char *text = read_file(path.s);
  if (!text) {
    snprintf(err, errlen, "no template '%s': cannot read %s: %s", name, path.s, strerror(errno));
    sb_free(&path);
    return -1;
  }
  int rc = dtpl_fill_text(text, path.s, dir, params, out, err, errlen);
  free(text);
  sb_free(&path);
  return rc;
}
