/*
** diag.c: collecting and rendering diagnostics.
**
** Text form (what editors parse, as GCC and Clang print it):
**   deals.pipe:12:11: error[E0203]: unknown stage 'qualifed'
**      12 |   move to qualifed
**         |           ^~~~~~~~
**   deals.pipe:3:9: note: did you mean 'qualified'?
** Long lines are shown as a window around the caret; invalid UTF-8 bytes
** are shown as '?' so that the terminal never receives broken text.
*/
#include "diag/diag.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/strbuf.h"
#include "util/utf8.h"

static const struct {
  const char *code, *desc;
} codes[] = {
#define DIAG(name, code, desc) {code, desc},
#include "diag/codes.def"
#undef DIAG
};

const char *diag_code_str(DiagCode c) { return c < D__COUNT ? codes[c].code : "E0000"; }
const char *diag_code_desc(DiagCode c) { return c < D__COUNT ? codes[c].desc : "?"; }

void diag_init(Diag *d, const SrcSet *srcs) {
  memset(d, 0, sizeof *d);
  d->srcs = srcs;
  d->last = -1;
}

void diag_free(Diag *d) {
  for (size_t i = 0; i < d->len; i++) free(d->items[i].msg);
  free(d->items);
  d->items = NULL;
  d->len = d->cap = 0;
}

static char *vformat(const char *fmt, va_list ap) {
  va_list aq;
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  char *s = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

static int push(Diag *d, Severity sev, DiagCode code, Span span, bool has_span, char *msg) {
  if (d->len == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 16;
    d->items = xrealloc(d->items, d->cap * sizeof *d->items);
  }
  Diagnostic *x = &d->items[d->len];
  x->sev = sev;
  x->code = code;
  x->span = span;
  x->has_span = has_span;
  x->msg = msg;
  x->parent = sev == SEV_NOTE ? d->last : -1;
  x->seq = (unsigned)d->len;
  return (int)d->len++;
}

static void emit(Diag *d, Severity sev, DiagCode code, Span span, bool has_span, const char *fmt,
                 va_list ap) {
  if (sev == SEV_ERROR) d->nerrors++;
  else d->nwarnings++;
  if (d->nerrors + d->nwarnings > DIAG_MAX_ERRORS) {
    if (!d->capped) {
      d->capped = true;
      push(d, SEV_ERROR, D_TOO_MANY, span, has_span,
           xstrdup("too many errors; stopping here"));
    }
    d->last = -1;
    return;
  }
  d->last = push(d, sev, code, span, has_span, vformat(fmt, ap));
}

void diag_error(Diag *d, Span span, DiagCode code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(d, SEV_ERROR, code, span, true, fmt, ap);
  va_end(ap);
}

void diag_error_nospan(Diag *d, DiagCode code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Span none = {0, 0, 0};
  emit(d, SEV_ERROR, code, none, false, fmt, ap);
  va_end(ap);
}

void diag_warning(Diag *d, Span span, DiagCode code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(d, SEV_WARNING, code, span, true, fmt, ap);
  va_end(ap);
}

void diag_note(Diag *d, Span span, const char *fmt, ...) {
  if (d->last < 0) return;
  va_list ap;
  va_start(ap, fmt);
  push(d, SEV_NOTE, D__COUNT, span, true, vformat(fmt, ap));
  va_end(ap);
}

void diag_note_to(Diag *d, int parent, Span span, const char *fmt, ...) {
  if (parent < 0 || (size_t)parent >= d->len) return;
  va_list ap;
  va_start(ap, fmt);
  int k = push(d, SEV_NOTE, D__COUNT, span, true, vformat(fmt, ap));
  va_end(ap);
  d->items[k].parent = parent;
}

/* ---- ordering ---------------------------------------------------------- */

/* Entries sort by their group's head (the error or warning a note belongs
** to), then by emission order. Keys are taken before sorting, since
** parent indices refer to the unsorted array. */
typedef struct SortKey {
  bool has_span;
  uint32_t file, start;
  unsigned head_seq, seq;
  size_t index;
} SortKey;

static int cmp_key(const void *pa, const void *pb) {
  const SortKey *a = pa, *b = pb;
  if (a->head_seq != b->head_seq) {
    if (a->has_span != b->has_span) return a->has_span ? 1 : -1;
    if (a->file != b->file) return a->file < b->file ? -1 : 1;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return a->head_seq < b->head_seq ? -1 : 1;
  }
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void diag_sort(Diag *d) {
  if (d->len < 2) return;
  SortKey *keys = xmalloc(d->len * sizeof *keys);
  for (size_t i = 0; i < d->len; i++) {
    const Diagnostic *x = &d->items[i];
    const Diagnostic *h = x->parent >= 0 ? &d->items[x->parent] : x;
    keys[i] = (SortKey){h->has_span, h->span.file, h->span.start, h->seq, x->seq, i};
  }
  qsort(keys, d->len, sizeof *keys, cmp_key);
  Diagnostic *sorted = xmalloc(d->len * sizeof *sorted);
  for (size_t i = 0; i < d->len; i++) sorted[i] = d->items[keys[i].index];
  free(d->items);
  free(keys);
  d->items = sorted;
  d->cap = d->len;
  /* re-link notes to their heads' new positions */
  int head = -1;
  for (size_t i = 0; i < d->len; i++) {
    if (d->items[i].sev == SEV_NOTE) d->items[i].parent = head;
    else head = (int)i;
  }
  d->last = -1;
}

/* ---- text -------------------------------------------------------------- */

/* Lines longer than this are shown as a window around the caret. */
#define LINE_WINDOW 100

static const char *sev_name(Severity s) {
  return s == SEV_ERROR ? "error" : s == SEV_WARNING ? "warning" : "note";
}

/* Appends text[0..n) with invalid UTF-8 and control bytes replaced. */
static void put_clean(StrBuf *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    if (p[i] == '\t') { sb_putc(b, '\t'); i++; continue; }
    if (p[i] < 0x20 || p[i] == 0x7F) { sb_putc(b, '?'); i++; continue; }
    int k = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
    if (!k) { sb_putc(b, '?'); i++; continue; }
    sb_add(b, s + i, (size_t)k);
    i += (size_t)k;
  }
}

/* Byte offset of the cp-th code point of s (clamped to n). */
static size_t cp_offset(const char *s, size_t n, size_t cp) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n && cp > 0) {
    int k = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
    i += k ? (size_t)k : 1;
    cp--;
  }
  return i;
}

static void render_snippet(StrBuf *b, const SrcFile *f, Span sp, bool color) {
  size_t line, col, eline, ecol;
  src_line_col(f, sp.start, &line, &col);
  src_line_col(f, sp.end, &eline, &ecol);
  size_t len;
  const char *text = src_line_text(f, line, &len);
  size_t ncp = utf8_count(text, len);
  /* caret width in code points: to the span's end, or the line's end */
  size_t width = eline == line && ecol > col ? ecol - col : (eline > line ? ncp + 1 - col : 1);
  if (width == 0) width = 1;
  /* window for long lines */
  size_t from = 0, to = ncp;
  bool cut_left = false, cut_right = false;
  if (ncp > LINE_WINDOW) {
    if (col > LINE_WINDOW / 2) {
      from = col - LINE_WINDOW / 2;
      cut_left = true;
    }
    to = from + LINE_WINDOW;
    if (to < ncp) cut_right = true;
    else to = ncp;
    if (width > to + 1 - col) width = to + 1 > col ? to + 1 - col : 1;
  }
  size_t bfrom = cp_offset(text, len, from), bto = cp_offset(text, len, to);
  sb_printf(b, "%5zu | ", line);
  if (cut_left) sb_puts(b, "...");
  put_clean(b, text + bfrom, bto - bfrom);
  if (cut_right) sb_puts(b, "...");
  sb_puts(b, "\n      | ");
  if (cut_left) sb_puts(b, "   ");
  /* pad: echo tabs so the caret lines up under tab-indented code */
  size_t pad_end = cp_offset(text, len, col - 1);
  for (size_t i = bfrom, cp = from; i < pad_end && cp + 1 < col; cp++) {
    const unsigned char *p = (const unsigned char *)text;
    sb_putc(b, p[i] == '\t' ? '\t' : ' ');
    int k = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, len - i);
    i += k ? (size_t)k : 1;
  }
  if (color) sb_puts(b, "\033[1;32m");
  sb_putc(b, '^');
  for (size_t i = 1; i < width; i++) sb_putc(b, '~');
  if (color) sb_puts(b, "\033[0m");
  sb_putc(b, '\n');
}

static void render_one(StrBuf *b, const Diag *d, const Diagnostic *x, bool color) {
  const SrcFile *f = x->has_span ? srcset_get(d->srcs, x->span.file) : NULL;
  const char *sevcolor = x->sev == SEV_ERROR ? "\033[1;31m" : x->sev == SEV_WARNING ? "\033[1;35m"
                                                                                       : "\033[1;36m";
  if (color) sb_puts(b, "\033[1m");
  if (f) {
    size_t line, col;
    src_line_col(f, x->span.start, &line, &col);
    sb_printf(b, "%s:%zu:%zu: ", f->name, line, col);
  } else {
    sb_puts(b, "funnel: ");
  }
  if (color) sb_puts(b, sevcolor);
  sb_puts(b, sev_name(x->sev));
  if (x->sev != SEV_NOTE) sb_printf(b, "[%s]", diag_code_str(x->code));
  if (color) sb_puts(b, "\033[0m\033[1m");
  sb_puts(b, ": ");
  put_clean(b, x->msg, strlen(x->msg));
  if (color) sb_puts(b, "\033[0m");
  sb_putc(b, '\n');
  /* a note at its error's very spot would repeat the same snippet */
  const Diagnostic *parent = x->sev == SEV_NOTE && x->parent >= 0 ? &d->items[x->parent] : NULL;
  bool same = parent && parent->has_span && parent->span.file == x->span.file &&
              parent->span.start == x->span.start && parent->span.end == x->span.end;
  if (f && !same) render_snippet(b, f, x->span, color);
}

void diag_print_text(const Diag *d, FILE *out, bool color) {
  StrBuf b = {0};
  for (size_t i = 0; i < d->len; i++) render_one(&b, d, &d->items[i], color);
  fputs(sb_str(&b), out);
  sb_free(&b);
}

void diag_print_summary(const Diag *d, FILE *out) {
  if (!d->nerrors && !d->nwarnings) return;
  fprintf(out, "funnel: ");
  if (d->nerrors) fprintf(out, "%d error%s", d->nerrors, d->nerrors == 1 ? "" : "s");
  if (d->nerrors && d->nwarnings) fprintf(out, ", ");
  if (d->nwarnings) fprintf(out, "%d warning%s", d->nwarnings, d->nwarnings == 1 ? "" : "s");
  fputc('\n', out);
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *json_one(const Diag *d, const Diagnostic *x) {
  StrBuf clean = {0};
  put_clean(&clean, x->msg, strlen(x->msg));
  json_t *o = json_object();
  json_object_set_new(o, "severity", json_string(sev_name(x->sev)));
  if (x->sev != SEV_NOTE) json_object_set_new(o, "code", json_string(diag_code_str(x->code)));
  json_object_set_new(o, "message", json_string(sb_str(&clean)));
  sb_free(&clean);
  const SrcFile *f = x->has_span ? srcset_get(d->srcs, x->span.file) : NULL;
  if (f) {
    size_t line, col, eline, ecol;
    src_line_col(f, x->span.start, &line, &col);
    src_line_col(f, x->span.end, &eline, &ecol);
    StrBuf name = {0};
    put_clean(&name, f->name, strlen(f->name));
    json_object_set_new(o, "file", json_string(sb_str(&name)));
    sb_free(&name);
    json_object_set_new(o, "line", json_integer((json_int_t)line));
    json_object_set_new(o, "column", json_integer((json_int_t)col));
    json_object_set_new(o, "end_line", json_integer((json_int_t)eline));
    json_object_set_new(o, "end_column", json_integer((json_int_t)ecol));
  }
  return o;
}

char *diag_to_json(const Diag *d) {
  json_t *root = json_object(), *arr = json_array();
  json_t *cur = NULL;
  for (size_t i = 0; i < d->len; i++) {
    const Diagnostic *x = &d->items[i];
    json_t *o = json_one(d, x);
    if (x->sev == SEV_NOTE && cur) {
      json_array_append_new(json_object_get(cur, "notes"), o);
      continue;
    }
    json_object_set_new(o, "notes", json_array());
    json_array_append_new(arr, o);
    cur = o;
  }
  json_object_set_new(root, "diagnostics", arr);
  json_object_set_new(root, "errors", json_integer(d->nerrors));
  json_object_set_new(root, "warnings", json_integer(d->nwarnings));
  char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(root);
  char *r = xstrdup(s ? s : "{}");
  free(s);
  return r;
}

/* ---- suggestions ------------------------------------------------------- */

/* Levenshtein distance, bounded by limit+1 to stay cheap on long names. */
static size_t edit_distance(const char *a, const char *b, size_t limit) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return limit + 1;
  if ((la > lb ? la - lb : lb - la) > limit) return limit + 1;
  size_t row[65];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      if (up + 1 < best) best = up + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

const char *diag_suggest(const char *name, const char *const *names, size_t n) {
  size_t limit = strlen(name) / 3 + 1;
  if (limit > 3) limit = 3;
  const char *best = NULL;
  size_t best_d = limit + 1;
  for (size_t i = 0; i < n; i++) {
    if (!names[i] || !strcmp(names[i], name)) continue;
    size_t dist = edit_distance(name, names[i], limit);
    if (dist < best_d) {
      best_d = dist;
      best = names[i];
    }
  }
  return best;
}
