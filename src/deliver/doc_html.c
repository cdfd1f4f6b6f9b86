/*
** doc_html.c: reads the HTML subset of document templates into blocks of
** Pango markup (doc_html.h).
**
** A small tag scanner, not an HTML parser: it walks the text once, keeps a
** stack of open block tags (for alignment, heading level and list
** nesting), counters for the inline styles (b, i, u, s, small, code), and
** the table being built. Text goes into the current paragraph or cell with
** white space collapsed; each run of text is wrapped in a <span> carrying
** the styles in force, so the markup stays well formed however the HTML's
** tags nest. A block boundary (a block tag opening or closing) ends the
** paragraph, or starts a new line inside a table cell. Tables nested in a
** cell are flattened into the cell's text.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "deliver/doc_html.h"
#include "util/arena.h"
#include "util/strbuf.h"

enum { ST_B = 1, ST_I = 2, ST_U = 4, ST_S = 8, ST_SMALL = 16, ST_MONO = 32 };

/* An open block tag. */
typedef struct Open {
  char tag[12];
  HtmlAlign align;
  int has_align;
  int level;                  /* h1-h6 */
  int list;                   /* ul: -1, ol: the last number used; 0: not a list */
} Open;

typedef struct P {
  HtmlDoc *doc;
  const char *s, *end;
  StrBuf cur;                 /* the paragraph's or the cell's markup */
  int has_text, line_start, pending_space;
  int count[6];               /* open b, i, u, s, small, code tags */
  unsigned span;              /* the styles of the <span> open in cur, 0: none */
  Open *stack;
  size_t n, cap;
  /* the paragraph's look, taken when its first text arrives */
  int p_level, p_item;
  HtmlAlign p_align;
  double p_indent;
  /* tables */
  int table_depth, in_row, in_cell, in_thead;
  size_t table;               /* the index of the table block being built */
  HtmlAlign cell_align;
  int cell_colspan, cell_header, cell_nowrap;
} P;

/* ---- output ------------------------------------------------------------------------------- */

static unsigned style_now(P *p) {
  unsigned st = 0;
  for (int i = 0; i < 6; i++)
    if (p->count[i] > 0) st |= 1u << i;
  return st;
}

static void close_span(P *p) {
  if (p->span) sb_puts(&p->cur, "</span>");
  p->span = 0;
}

static void sync_span(P *p) {
  unsigned st = style_now(p);
  if (st == p->span) return;
  close_span(p);
  if (!st) return;
  sb_puts(&p->cur, "<span");
  if (st & ST_B) sb_puts(&p->cur, " weight=\"bold\"");
  if (st & ST_I) sb_puts(&p->cur, " style=\"italic\"");
  if (st & ST_U) sb_puts(&p->cur, " underline=\"single\"");
  if (st & ST_S) sb_puts(&p->cur, " strikethrough=\"true\"");
  if (st & ST_SMALL) sb_puts(&p->cur, " size=\"smaller\"");
  if (st & ST_MONO) sb_puts(&p->cur, " font_family=\"DejaVu Sans Mono\"");
  sb_putc(&p->cur, '>');
  p->span = st;
}

static HtmlBlock *add_block(P *p, HtmlBlockKind k) {
  HtmlDoc *d = p->doc;
  if (d->n == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 16;
    d->blocks = xrealloc(d->blocks, d->cap * sizeof *d->blocks);
  }
  HtmlBlock *b = &d->blocks[d->n++];
  memset(b, 0, sizeof *b);
  b->kind = k;
  return b;
}

static void start_cell(P *p, HtmlAlign align, int colspan, int header);

/* The first visible content of a paragraph fixes its look; inside a table
** but outside a cell, text opens a cell of its own. */
static void begin_content(P *p) {
  if (p->has_text) return;
  if (p->table_depth > 0 && !p->in_cell) start_cell(p, HA_LEFT, 1, 0);
  p->has_text = 1;
  if (p->in_cell) return;
  p->p_level = 0;
  p->p_item = 0;
  p->p_align = HA_LEFT;
  p->p_indent = 0;
  int aligned = 0;
  for (size_t i = p->n; i-- > 0;) {
    Open *o = &p->stack[i];
    if (!p->p_level && o->level) p->p_level = o->level;
    if (!aligned && o->has_align) {
      p->p_align = o->align;
      aligned = 1;
    }
    if (o->list) p->p_indent += 18;
    if (i == p->n - 1 && !strcmp(o->tag, "li")) p->p_item = 1;
  }
}

/* Appends text that is already decoded, collapsing white space. */
static void add_text(P *p, const char *t, size_t n) {
  StrBuf run = {0};
  int lead = 0; /* a space before the run: it goes in with the styles before it */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)t[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c < 0x20 || c == 0x7f) {
      if (!p->line_start) p->pending_space = 1;
      continue;
    }
    if (p->pending_space && run.len) sb_putc(&run, ' ');
    else if (p->pending_space && p->has_text) lead = 1;
    p->pending_space = 0;
    p->line_start = 0;
    sb_putc(&run, (char)c);
  }
  if (run.len) {
    begin_content(p);
    if (lead) { /* between runs of different styles a space has neither */
      if (style_now(p) != p->span) close_span(p);
      sb_putc(&p->cur, ' ');
    }
    sync_span(p);
    char *e = g_markup_escape_text(run.s, (gssize)run.len);
    sb_puts(&p->cur, e);
    g_free(e);
  }
  sb_free(&run);
}

static void line_break(P *p) {
  begin_content(p);
  close_span(p);
  sb_putc(&p->cur, '\n');
  p->line_start = 1;
  p->pending_space = 0;
}

/* Takes the markup collected so far, without trailing line breaks. */
static char *take_markup(P *p) {
  close_span(p);
  while (p->cur.len && p->cur.s[p->cur.len - 1] == '\n') p->cur.s[--p->cur.len] = 0;
  char *m = xstrdup(sb_str(&p->cur));
  sb_clear(&p->cur);
  p->has_text = 0;
  p->line_start = 1;
  p->pending_space = 0;
  return m;
}

static void flush_para(P *p) {
  if (!p->has_text) {
    close_span(p);
    sb_clear(&p->cur);
    p->line_start = 1;
    p->pending_space = 0;
    return;
  }
  char *m = take_markup(p);
  if (!*m) {
    free(m);
    return;
  }
  HtmlBlock *b = add_block(p, HB_PARA);
  b->markup = m;
  b->level = p->p_level;
  b->align = p->p_align;
  b->indent = p->p_indent;
  b->item = p->p_item;
}

/* A block tag opens or closes: a new paragraph, or a new line in a cell. */
static void boundary(P *p) {
  if (p->in_cell) {
    if (p->has_text && p->cur.len && p->cur.s[p->cur.len - 1] != '\n') line_break(p);
    p->pending_space = 0;
    p->line_start = 1;
  } else {
    flush_para(p);
  }
}

/* ---- tables ------------------------------------------------------------------------------- */

static HtmlRow *cur_row(P *p) {
  HtmlBlock *t = &p->doc->blocks[p->table];
  return t->nrows ? &t->rows[t->nrows - 1] : NULL;
}

static void start_row(P *p) {
  HtmlBlock *t = &p->doc->blocks[p->table];
  if (t->nrows == t->caprows) {
    t->caprows = t->caprows ? t->caprows * 2 : 16;
    t->rows = xrealloc(t->rows, t->caprows * sizeof *t->rows);
  }
  HtmlRow *r = &t->rows[t->nrows++];
  memset(r, 0, sizeof *r);
  r->header = p->in_thead;
  p->in_row = 1;
}

static void end_cell(P *p) {
  if (!p->in_cell) return;
  HtmlRow *r = cur_row(p);
  char *m = take_markup(p);
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 8;
    r->cells = xrealloc(r->cells, r->cap * sizeof *r->cells);
  }
  r->cells[r->n++] = (HtmlCell){m, p->cell_align, p->cell_colspan, p->cell_header, p->cell_nowrap};
  if (p->cell_header && p->count[0] > 0) p->count[0]--; /* a <th>'s bold ends with it */
  p->in_cell = 0;
}

static void start_cell(P *p, HtmlAlign align, int colspan, int header) {
  end_cell(p);
  if (!p->in_row) start_row(p);
  close_span(p);
  sb_clear(&p->cur);
  p->has_text = 0;
  p->line_start = 1;
  p->pending_space = 0;
  p->in_cell = 1;
  p->cell_align = align;
  p->cell_colspan = colspan;
  p->cell_header = header;
  p->cell_nowrap = 0;
}

static void end_row(P *p) {
  end_cell(p);
  p->in_row = 0;
}

/* ---- tags --------------------------------------------------------------------------------- */

/* Copies the value of attribute `name` of the tag text [a, e) into buf
** (lowercased); 0 if the tag has no such attribute. */
static int attr(const char *a, const char *e, const char *name, char *buf, size_t size) {
  size_t nl = strlen(name);
  while (a < e) {
    while (a < e && !isalpha((unsigned char)*a)) a++;
    const char *n0 = a;
    while (a < e && (isalnum((unsigned char)*a) || *a == '-' || *a == '_')) a++;
    size_t len = (size_t)(a - n0);
    while (a < e && isspace((unsigned char)*a)) a++;
    const char *v0 = a, *v1 = a;
    if (a < e && *a == '=') {
      a++;
      while (a < e && isspace((unsigned char)*a)) a++;
      if (a < e && (*a == '"' || *a == '\'')) {
        char q = *a++;
        v0 = a;
        while (a < e && *a != q) a++;
        v1 = a;
        if (a < e) a++;
      } else {
        v0 = a;
        while (a < e && !isspace((unsigned char)*a) && *a != '>') a++;
        v1 = a;
      }
    }
    if (len == nl && !strncasecmp(n0, name, nl)) {
      size_t n = (size_t)(v1 - v0) < size - 1 ? (size_t)(v1 - v0) : size - 1;
      for (size_t i = 0; i < n; i++) buf[i] = (char)tolower((unsigned char)v0[i]);
      buf[n] = 0;
      return 1;
    }
    if (len == 0 && a < e) a++;
  }
  return 0;
}

/* Does the space-separated list `list` hold `word`? */
static int has_word(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return 1;
  return 0;
}

/* A style attribute with spaces removed contains `decl`? */
static int style_has(const char *style, const char *decl) {
  char buf[256];
  size_t k = 0;
  for (const char *s = style; *s && k < sizeof buf - 1; s++)
    if (!isspace((unsigned char)*s)) buf[k++] = *s;
  buf[k] = 0;
  return strstr(buf, decl) != NULL;
}

/* The alignment a tag asks for: align=, style="text-align:", or the
** classes "right"/"num" and "center". */
static int tag_align(const char *a, const char *e, HtmlAlign *out) {
  char v[256];
  if (attr(a, e, "align", v, sizeof v)) {
    if (!strcmp(v, "right")) return *out = HA_RIGHT, 1;
    if (!strcmp(v, "center")) return *out = HA_CENTER, 1;
    if (!strcmp(v, "left")) return *out = HA_LEFT, 1;
  }
  if (attr(a, e, "style", v, sizeof v)) {
    if (style_has(v, "text-align:right")) return *out = HA_RIGHT, 1;
    if (style_has(v, "text-align:center")) return *out = HA_CENTER, 1;
    if (style_has(v, "text-align:left")) return *out = HA_LEFT, 1;
  }
  if (attr(a, e, "class", v, sizeof v)) {
    if (has_word(v, "right") || has_word(v, "num")) return *out = HA_RIGHT, 1;
    if (has_word(v, "center")) return *out = HA_CENTER, 1;
  }
  return 0;
}

static int page_break(const char *a, const char *e) {
  char v[256];
  if (attr(a, e, "class", v, sizeof v) && has_word(v, "page-break")) return 1;
  return attr(a, e, "style", v, sizeof v) &&
         (style_has(v, "page-break-before:always") || style_has(v, "break-before:page"));
}

static const char *const inline_tags[6][5] = {
  {"b", "strong", NULL},        {"i", "em", "cite", "var", NULL},  {"u", "ins", NULL},
  {"s", "strike", "del", NULL}, {"small", NULL},                   {"code", "tt", "kbd", "samp", NULL},
};

static int inline_index(const char *tag) {
  for (int i = 0; i < 6; i++)
    for (int k = 0; inline_tags[i][k]; k++)
      if (!strcmp(tag, inline_tags[i][k])) return i;
  return -1;
}

static int is_block(const char *tag) {
  static const char *const tags[] = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
                                     "li", "blockquote", "section", "article", "header", "footer",
                                     "address", "pre", "center", "main", "nav", "aside", "dl",
                                     "dt", "dd", "figure", "caption", "body", "html", NULL};
  for (int i = 0; tags[i]; i++)
    if (!strcmp(tag, tags[i])) return 1;
  return 0;
}

static void push_open(P *p, const char *tag, const char *a, const char *e) {
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 16;
    p->stack = xrealloc(p->stack, p->cap * sizeof *p->stack);
  }
  Open *o = &p->stack[p->n++];
  memset(o, 0, sizeof *o);
  snprintf(o->tag, sizeof o->tag, "%s", tag);
  if (!strcmp(tag, "center")) o->align = HA_CENTER, o->has_align = 1;
  else o->has_align = tag_align(a, e, &o->align);
  if (tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6' && !tag[2]) {
    o->level = tag[1] - '0';
    p->count[0]++;
  }
  if (!strcmp(tag, "ul")) o->list = -1;
  if (!strcmp(tag, "ol")) o->list = 1;
}

static void pop_open(P *p) {
  Open *o = &p->stack[--p->n];
  if (o->level && p->count[0] > 0) p->count[0]--;
}

static void open_tag(P *p, const char *tag, const char *a, const char *e) {
  int k = inline_index(tag);
  if (k >= 0) {
    p->count[k]++;
    return;
  }
  if (!strcmp(tag, "br")) {
    line_break(p);
    return;
  }
  if (!strcmp(tag, "hr")) {
    boundary(p);
    if (!p->table_depth) add_block(p, HB_HR);
    return;
  }
  if (!strcmp(tag, "table")) {
    boundary(p);
    if (++p->table_depth == 1) {
      if (page_break(a, e)) add_block(p, HB_PAGEBREAK);
      HtmlBlock *t = add_block(p, HB_TABLE);
      char v[256];
      t->plain = (attr(a, e, "class", v, sizeof v) && has_word(v, "plain")) ||
                 (attr(a, e, "border", v, sizeof v) && !strcmp(v, "0"));
      p->table = p->doc->n - 1;
      p->in_row = p->in_cell = p->in_thead = 0;
    }
    return;
  }
  if (p->table_depth > 1 && (!strcmp(tag, "tr") || !strcmp(tag, "td") || !strcmp(tag, "th"))) {
    if (tag[1] == 'r') boundary(p);
    else if (!p->line_start) p->pending_space = 1;
    return;
  }
  if (p->table_depth == 1) {
    if (!strcmp(tag, "thead")) {
      end_row(p);
      p->in_thead = 1;
      return;
    }
    if (!strcmp(tag, "tbody") || !strcmp(tag, "tfoot")) {
      end_row(p);
      p->in_thead = 0;
      return;
    }
    if (!strcmp(tag, "tr")) {
      end_row(p);
      start_row(p);
      return;
    }
    if (!strcmp(tag, "td") || !strcmp(tag, "th")) {
      HtmlAlign al = HA_LEFT;
      tag_align(a, e, &al);
      char v[32];
      int span = attr(a, e, "colspan", v, sizeof v) ? atoi(v) : 1;
      start_cell(p, al, span < 1 ? 1 : span > 64 ? 64 : span, tag[1] == 'h');
      p->cell_nowrap = attr(a, e, "nowrap", v, sizeof v) ||
                       (attr(a, e, "class", v, sizeof v) && has_word(v, "nowrap"));
      if (tag[1] == 'h') p->count[0]++;
      return;
    }
  }
  if (is_block(tag)) {
    boundary(p);
    if (!p->in_cell && !p->table_depth && page_break(a, e)) add_block(p, HB_PAGEBREAK);
    /* an open <p> or <li> ends where the next one starts */
    if ((!strcmp(tag, "p") || !strcmp(tag, "li")) && p->n && !strcmp(p->stack[p->n - 1].tag, tag))
      pop_open(p);
    push_open(p, tag, a, e);
    if (!strcmp(tag, "li")) {
      Open *list = NULL;
      for (size_t i = p->n; i-- > 0 && !list;)
        if (p->stack[i].list) list = &p->stack[i];
      char pre[32];
      if (list && list->list > 0) snprintf(pre, sizeof pre, "%d. ", list->list++);
      else snprintf(pre, sizeof pre, "\xe2\x80\xa2 ");
      add_text(p, pre, strlen(pre));
      p->pending_space = 1;
    }
  }
  /* anything else (span, a, img, unknown tags): dropped, its text kept */
}

static void close_tag(P *p, const char *tag) {
  int k = inline_index(tag);
  if (k >= 0) {
    if (p->count[k] > 0) p->count[k]--;
    return;
  }
  if (!strcmp(tag, "table")) {
    if (!p->table_depth) return;
    if (p->table_depth == 1) {
      end_row(p);
      p->in_thead = 0;
      p->table_depth = 0;
      return;
    }
    p->table_depth--;
    boundary(p);
    return;
  }
  if (p->table_depth > 1 && (!strcmp(tag, "tr") || !strcmp(tag, "td") || !strcmp(tag, "th"))) {
    if (tag[1] == 'r') boundary(p);
    return;
  }
  if (p->table_depth == 1) {
    if (!strcmp(tag, "thead")) {
      end_row(p);
      p->in_thead = 0;
      return;
    }
    if (!strcmp(tag, "tr")) {
      end_row(p);
      return;
    }
    if (!strcmp(tag, "td") || !strcmp(tag, "th")) {
      end_cell(p);
      return;
    }
  }
  if (is_block(tag)) {
    size_t i = p->n;
    while (i > 0 && strcmp(p->stack[i - 1].tag, tag)) i--;
    if (!i) return; /* not open: ignored */
    boundary(p);
    while (p->n >= i) pop_open(p);
  }
}

/* ---- entities and the scanner ------------------------------------------------------------- */

static void put_utf8(StrBuf *b, unsigned long c) {
  if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) c = 0xfffd;
  char u[8];
  int n = g_unichar_to_utf8((gunichar)c, u);
  sb_add(b, u, (size_t)n);
}

/* Decodes the character references of [s, e) into b. */
static void decode(StrBuf *b, const char *s, const char *e) {
  static const struct { const char *name, *text; } named[] = {
    {"amp", "&"},          {"lt", "<"},           {"gt", ">"},           {"quot", "\""},
    {"apos", "'"},         {"nbsp", "\xc2\xa0"},  {"laquo", "«"},        {"raquo", "»"},
    {"mdash", "—"},        {"ndash", "–"},        {"hellip", "…"},       {"copy", "©"},
    {"numero", "№"},       {"shy", ""},           {"times", "×"},        {"middot", "·"},
  };
  while (s < e) {
    const char *amp = memchr(s, '&', (size_t)(e - s));
    if (!amp) {
      sb_add(b, s, (size_t)(e - s));
      return;
    }
    sb_add(b, s, (size_t)(amp - s));
    const char *semi = amp + 1;
    while (semi < e && semi - amp < 12 && *semi != ';' && *semi != '&' && *semi != '<') semi++;
    int done = 0;
    if (semi < e && *semi == ';') {
      const char *n = amp + 1;
      size_t len = (size_t)(semi - n);
      if (len > 1 && n[0] == '#') {
        char *end;
        unsigned long c = (n[1] == 'x' || n[1] == 'X') ? strtoul(n + 2, &end, 16) : strtoul(n + 1, &end, 10);
        if (end == semi && len > (n[1] == 'x' || n[1] == 'X' ? 2u : 1u)) {
          put_utf8(b, c);
          done = 1;
        }
      } else {
        for (size_t i = 0; i < sizeof named / sizeof *named && !done; i++) {
          if (strlen(named[i].name) == len && !memcmp(named[i].name, n, len)) {
            sb_puts(b, named[i].text);
            done = 1;
          }
        }
      }
    }
    if (done) {
      s = semi + 1;
    } else {
      sb_putc(b, '&');
      s = amp + 1;
    }
  }
}

static void text(P *p, const char *s, const char *e) {
  if (s >= e) return;
  StrBuf b = {0};
  decode(&b, s, e);
  add_text(p, sb_str(&b), b.len);
  sb_free(&b);
}

/* Where the element whose content starts at s ends: the start of its
** closing tag </tag (any case), or the end of the input. */
static const char *find_close(const char *s, const char *end, const char *tag) {
  size_t n = strlen(tag);
  for (; s + n + 2 <= end; s++)
    if (s[0] == '<' && s[1] == '/' && !strncasecmp(s + 2, tag, n) &&
        (s + n + 2 == end || !isalnum((unsigned char)s[n + 2])))
      return s;
  return end;
}

static void set_title(P *p, const char *s, const char *e) {
  StrBuf b = {0}, t = {0};
  decode(&b, s, e);
  int space = 0;
  for (size_t i = 0; i < b.len; i++) {
    unsigned char c = (unsigned char)b.s[i];
    if (c <= ' ') {
      space = t.len > 0;
      continue;
    }
    if (space) sb_putc(&t, ' ');
    space = 0;
    sb_putc(&t, (char)c);
  }
  sb_free(&b);
  free(p->doc->title);
  p->doc->title = t.len ? xstrdup(t.s) : NULL;
  sb_free(&t);
}

void html_parse(const char *html, size_t len, HtmlDoc *doc) {
  gchar *valid = g_utf8_make_valid(html, (gssize)len);
  P p;
  memset(&p, 0, sizeof p);
  p.doc = doc;
  p.line_start = 1;
  const char *s = valid, *end = valid + strlen(valid);
  while (s < end) {
    const char *lt = memchr(s, '<', (size_t)(end - s));
    if (!lt) {
      text(&p, s, end);
      break;
    }
    text(&p, s, lt);
    s = lt;
    if (!strncmp(s, "<!--", 4)) {
      const char *c = strstr(s + 4, "-->");
      s = c ? c + 3 : end;
      continue;
    }
    if (s[1] == '!' || s[1] == '?') {
      const char *gt = memchr(s, '>', (size_t)(end - s));
      s = gt ? gt + 1 : end;
      continue;
    }
    int closing = s[1] == '/';
    const char *n0 = s + 1 + closing;
    if (!isalpha((unsigned char)*n0)) {
      text(&p, s, s + 1); /* a stray '<' */
      s++;
      continue;
    }
    const char *n1 = n0;
    while (n1 < end && isalnum((unsigned char)*n1)) n1++;
    /* the end of the tag: the first '>' outside quotes */
    const char *q = n1;
    char quote = 0;
    for (; q < end; q++) {
      if (quote) {
        if (*q == quote) quote = 0;
      } else if (*q == '"' || *q == '\'') {
        quote = *q;
      } else if (*q == '>') {
        break;
      }
    }
    if (q >= end) {
      text(&p, s, s + 1); /* no '>': the '<' is text */
      s++;
      continue;
    }
    char tag[12];
    size_t tl = (size_t)(n1 - n0) < sizeof tag - 1 ? (size_t)(n1 - n0) : sizeof tag - 1;
    for (size_t i = 0; i < tl; i++) tag[i] = (char)tolower((unsigned char)n0[i]);
    tag[tl] = 0;
    if ((size_t)(n1 - n0) >= sizeof tag) tag[0] = '?'; /* too long: an unknown tag */
    s = q + 1;
    if (closing) {
      close_tag(&p, tag);
    } else if (!strcmp(tag, "style") || !strcmp(tag, "script") || !strcmp(tag, "title")) {
      const char *c = find_close(s, end, tag);
      if (tag[0] == 't') set_title(&p, s, c);
      const char *gt = c < end ? memchr(c, '>', (size_t)(end - c)) : NULL;
      s = gt ? gt + 1 : end;
    } else {
      open_tag(&p, tag, n1, q);
    }
  }
  if (p.table_depth) {
    p.table_depth = 1;
    close_tag(&p, "table");
  }
  flush_para(&p);
  sb_free(&p.cur);
  free(p.stack);
  g_free(valid);
}

void html_doc_free(HtmlDoc *doc) {
  for (size_t i = 0; i < doc->n; i++) {
    HtmlBlock *b = &doc->blocks[i];
    free(b->markup);
    for (size_t r = 0; r < b->nrows; r++) {
      for (size_t c = 0; c < b->rows[r].n; c++) free(b->rows[r].cells[c].markup);
      free(b->rows[r].cells);
    }
    free(b->rows);
  }
  free(doc->blocks);
  free(doc->title);
  memset(doc, 0, sizeof *doc);
}
