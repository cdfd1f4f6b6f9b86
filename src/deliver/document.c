/*
** document.c: documents from templates to HTML and PDF (document.h).
**
** doc_render fills the template (doc_template.c), reads the filled HTML
** into blocks (doc_html.c) and lays them out on A4 pages with pango on a
** cairo PDF surface: paragraphs and headings line by line (a page break
** may fall between any two lines), tables row by row (a row taller than a
** page split between two of its lines) with column widths
** from the cells' natural widths, the header rows repeated on each new
** page, and "Страница N из M" at the foot of each page of a document of
** more than one page. The layout runs twice: once to count the pages,
** once to draw. Sizes are in points (pango's resolution is set to 72 dpi,
** so a 10 pt font is 10 units of the PDF surface).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <dlfcn.h>
#include <pango/pangocairo.h>

#include "deliver/doc_html.h"
#include "deliver/doc_template.h"
#include "deliver/document.h"
#include "util/arena.h"
#include "util/strbuf.h"

/* A4 and its margins, in points (1 mm = 2.8346 pt). */
#define PAGE_W 595.276
#define PAGE_H 841.890
#define MARGIN_L 56.69   /* 20 mm, for binding */
#define MARGIN_R 42.52   /* 15 mm */
#define MARGIN_T 42.52
#define MARGIN_B 56.69   /* the page number sits in it */
#define CONTENT_W (PAGE_W - MARGIN_L - MARGIN_R)
#define BOTTOM (PAGE_H - MARGIN_B)
#define FONT "DejaVu Sans"
#define CELL_PAD 3.5
#define MIN_COL 18.0
/* More columns than this cannot fit on A4 at any readable size. */
#define MAX_COLS 64

typedef struct R {
  cairo_t *cr;
  PangoContext *ctx;
  int draw;                   /* 0: only count the pages */
  int page, npages;
  double y;
} R;

static const double sizes[7] = {10, 16, 13, 11.5, 10.5, 10, 10};
static const double before[7] = {0, 4, 10, 8, 6, 6, 6};
static const double after[7] = {5, 8, 5, 4, 3, 3, 3};

static PangoLayout *layout(R *r, const char *markup, double size, double width, HtmlAlign align) {
  PangoLayout *l = pango_layout_new(r->ctx);
  PangoFontDescription *fd = pango_font_description_from_string(FONT);
  pango_font_description_set_size(fd, (gint)(size * PANGO_SCALE));
  pango_layout_set_font_description(l, fd);
  pango_font_description_free(fd);
  if (width > 0) {
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
  }
  pango_layout_set_alignment(l, align == HA_RIGHT    ? PANGO_ALIGN_RIGHT
                                : align == HA_CENTER ? PANGO_ALIGN_CENTER
                                                     : PANGO_ALIGN_LEFT);
  PangoAttrList *attrs = NULL;
  char *text = NULL;
  /* doc_html.c makes well-formed markup; should it not be, the text shows as is */
  if (pango_parse_markup(markup, -1, 0, &attrs, &text, NULL, NULL)) {
    pango_layout_set_text(l, text, -1);
    pango_layout_set_attributes(l, attrs);
    pango_attr_list_unref(attrs);
    g_free(text);
  } else {
    pango_layout_set_text(l, markup, -1);
  }
  return l;
}

static double height_of(PangoLayout *l) {
  PangoRectangle lg;
  pango_layout_get_extents(l, NULL, &lg);
  return (double)lg.height / PANGO_SCALE;
}

static void footer(R *r) {
  if (!r->draw || r->npages < 2) return;
  char buf[64];
  snprintf(buf, sizeof buf, "Страница %d из %d", r->page, r->npages);
  PangoLayout *l = layout(r, buf, 8, CONTENT_W, HA_RIGHT);
  cairo_set_source_rgb(r->cr, 0.4, 0.4, 0.4);
  cairo_move_to(r->cr, MARGIN_L, BOTTOM + 20);
  pango_cairo_show_layout(r->cr, l);
  cairo_set_source_rgb(r->cr, 0, 0, 0);
  g_object_unref(l);
}

static void new_page(R *r) {
  footer(r);
  if (r->draw) cairo_show_page(r->cr);
  r->page++;
  r->y = MARGIN_T;
}

static int at_top(const R *r) {
  return r->y <= MARGIN_T + 0.01;
}

/* A paragraph, heading or list item, line by line. */
static void para(R *r, const HtmlBlock *b) {
  int lv = b->level >= 1 && b->level <= 6 ? b->level : 0;
  double width = CONTENT_W - b->indent;
  if (width < 100) width = 100;
  PangoLayout *l = layout(r, b->markup, sizes[lv], width, b->align);
  if (!at_top(r)) r->y += before[lv];
  /* a heading stays with the first lines after it */
  if (lv && !at_top(r) && r->y + height_of(l) + 3 * sizes[0] > BOTTOM) new_page(r);
  PangoLayoutIter *it = pango_layout_get_iter(l);
  double shift = r->y; /* page y = layout y + shift */
  do {
    int y0, y1;
    pango_layout_iter_get_line_yrange(it, &y0, &y1);
    double ly0 = (double)y0 / PANGO_SCALE, ly1 = (double)y1 / PANGO_SCALE;
    if (ly1 + shift > BOTTOM && ly0 + shift > MARGIN_T + 0.01) {
      new_page(r);
      shift = MARGIN_T - ly0;
    }
    if (r->draw) {
      PangoRectangle lg;
      pango_layout_iter_get_line_extents(it, NULL, &lg);
      double base = (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE;
      cairo_move_to(r->cr, MARGIN_L + b->indent + (double)lg.x / PANGO_SCALE, shift + base);
      pango_cairo_show_layout_line(r->cr, pango_layout_iter_get_line_readonly(it));
    }
    r->y = ly1 + shift;
  } while (pango_layout_iter_next_line(it));
  pango_layout_iter_free(it);
  g_object_unref(l);
  r->y += b->item ? 2 : after[lv];
}

static void rule(R *r) {
  if (r->y + 10 > BOTTOM) new_page(r);
  r->y += 4;
  if (r->draw) {
    cairo_set_line_width(r->cr, 0.7);
    cairo_move_to(r->cr, MARGIN_L, r->y);
    cairo_line_to(r->cr, PAGE_W - MARGIN_R, r->y);
    cairo_stroke(r->cr);
  }
  r->y += 6;
}

/* ---- tables ------------------------------------------------------------------------------- */

static int span_of(const HtmlCell *c, int col, int ncols) {
  int s = c->colspan < 1 ? 1 : c->colspan;
  return col + s > ncols ? ncols - col : s;
}

/* The widest line of a layout (its widest word when laid out narrow). */
static double widest_line(PangoLayout *l) {
  double w = 0;
  PangoLayoutIter *it = pango_layout_get_iter(l);
  do {
    PangoRectangle lg;
    pango_layout_iter_get_line_extents(it, NULL, &lg);
    if ((double)lg.width / PANGO_SCALE > w) w = (double)lg.width / PANGO_SCALE;
  } while (pango_layout_iter_next_line(it));
  pango_layout_iter_free(it);
  return w;
}

/* Column widths, much as browsers lay out tables: each column has a
** natural width (its widest cell spanning one column, unwrapped) and a
** minimum (its widest word). When the natural widths fit, the widest
** column takes the rest of the line; otherwise each column gets its
** minimum plus a share of the space left in proportion to what it lacks;
** when even the minimums do not fit, they shrink in proportion (and the
** words break). */
static void col_widths(R *r, const HtmlBlock *t, int ncols, double *w) {
  double min[MAX_COLS];
  for (int c = 0; c < ncols; c++) w[c] = min[c] = MIN_COL;
  for (size_t i = 0; i < t->nrows; i++) {
    const HtmlRow *row = &t->rows[i];
    int col = 0;
    for (size_t k = 0; k < row->n && col < ncols; k++) {
      const HtmlCell *c = &row->cells[k];
      int s = span_of(c, col, ncols);
      if (s == 1) {
        PangoLayout *l = layout(r, c->markup, sizes[0], -1, HA_LEFT);
        double nat = widest_line(l) + 2 * CELL_PAD + 1;
        pango_layout_set_width(l, 1);
        pango_layout_set_wrap(l, PANGO_WRAP_WORD);
        double mw = c->nowrap ? nat : widest_line(l) + 2 * CELL_PAD + 1;
        g_object_unref(l);
        if (nat > w[col]) w[col] = nat;
        if (mw > min[col]) min[col] = mw;
      }
      col += s;
    }
  }
  double sum = 0, summin = 0;
  for (int c = 0; c < ncols; c++) {
    if (min[c] > w[c]) w[c] = min[c];
    sum += w[c];
    summin += min[c];
  }
  if (sum <= CONTENT_W) {
    int wide = 0;
    for (int c = 1; c < ncols; c++)
      if (w[c] > w[wide]) wide = c;
    w[wide] += CONTENT_W - sum;
  } else if (summin >= CONTENT_W) {
    for (int c = 0; c < ncols; c++) w[c] = min[c] * CONTENT_W / summin;
  } else {
    double extra = CONTENT_W - summin;
    for (int c = 0; c < ncols; c++) w[c] = min[c] + (w[c] - min[c]) * extra / (sum - summin);
  }
}

/* A row's cells laid out at their columns' widths, with the bottom of
** each line (in points from the cell's top) for splitting the row. */
typedef struct Cells {
  int n;
  PangoLayout *ls[MAX_COLS];
  double xs[MAX_COLS], ws[MAX_COLS];
  double *ends[MAX_COLS];
  int nends[MAX_COLS];
  int header[MAX_COLS];
} Cells;

/* Lays out a row's cells; returns the row's height. */
static double cells_new(R *r, const HtmlRow *row, int ncols, const double *w, Cells *c) {
  double h = 0;
  int col = 0;
  c->n = 0;
  for (size_t k = 0; k < row->n && col < ncols; k++) {
    const HtmlCell *hc = &row->cells[k];
    int s = span_of(hc, col, ncols), i = c->n++;
    c->xs[i] = MARGIN_L;
    for (int j = 0; j < col; j++) c->xs[i] += w[j];
    c->ws[i] = 0;
    for (int j = col; j < col + s; j++) c->ws[i] += w[j];
    c->header[i] = hc->header;
    c->ls[i] = layout(r, hc->markup, sizes[0], c->ws[i] - 2 * CELL_PAD, hc->align);
    int nl = pango_layout_get_line_count(c->ls[i]);
    c->ends[i] = xmalloc((size_t)(nl > 0 ? nl : 1) * sizeof(double));
    c->nends[i] = 0;
    PangoLayoutIter *it = pango_layout_get_iter(c->ls[i]);
    do {
      int y0, y1;
      pango_layout_iter_get_line_yrange(it, &y0, &y1);
      if (c->nends[i] < nl) c->ends[i][c->nends[i]++] = (double)y1 / PANGO_SCALE;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    double ch = (c->nends[i] ? c->ends[i][c->nends[i] - 1] : 0) + 2 * CELL_PAD;
    if (ch > h) h = ch;
    col += s;
  }
  return h;
}

static void cells_free(Cells *c) {
  for (int i = 0; i < c->n; i++) {
    g_object_unref(c->ls[i]);
    free(c->ends[i]);
  }
}

static double row_height(R *r, const HtmlRow *row, int ncols, const double *w) {
  Cells c;
  double h = cells_new(r, row, ncols, w, &c);
  cells_free(&c);
  return h;
}

static void draw_row(R *r, const HtmlBlock *t, size_t i, int ncols, const double *w, size_t nhead);

/* On a new page, a table's header rows again. */
static void table_page(R *r, const HtmlBlock *t, int ncols, const double *w, size_t nhead) {
  new_page(r);
  for (size_t k = 0; k < nhead; k++) draw_row(r, t, k, ncols, w, 0);
}

/* Draws row i at r->y (only counts pages without draw). A row that runs
** past the foot of the page is split between two lines of its cells and
** goes on on the next page, under the header rows (nhead) again. */
static void draw_row(R *r, const HtmlBlock *t, size_t i, int ncols, const double *w, size_t nhead) {
  Cells c;
  cells_new(r, &t->rows[i], ncols, w, &c);
  int next[MAX_COLS] = {0};     /* each cell's first line not drawn yet */
  double off[MAX_COLS] = {0};   /* and where it starts */
  for (;;) {
    double room = BOTTOM - r->y - 2 * CELL_PAD, slice = 0, end[MAX_COLS];
    int upto[MAX_COLS], done = 1;
    for (int k = 0; k < c.n; k++) {
      int j = next[k];
      while (j < c.nends[k] && c.ends[k][j] - off[k] <= room) j++;
      if (j == next[k] && j < c.nends[k] && at_top(r)) j++; /* a line taller than a page */
      upto[k] = j;
      end[k] = j > next[k] ? c.ends[k][j - 1] : off[k];
      if (j < c.nends[k]) done = 0;
      if (end[k] - off[k] > slice) slice = end[k] - off[k];
    }
    if (!done && slice == 0 && !at_top(r)) { /* not one line fits here */
      table_page(r, t, ncols, w, nhead);
      continue;
    }
    double h = slice + 2 * CELL_PAD;
    if (r->draw) {
      cairo_set_line_width(r->cr, 0.5);
      for (int k = 0; k < c.n; k++) {
        if (c.header[k] && !t->plain) {
          cairo_set_source_rgb(r->cr, 0.92, 0.92, 0.92);
          cairo_rectangle(r->cr, c.xs[k], r->y, c.ws[k], h);
          cairo_fill(r->cr);
          cairo_set_source_rgb(r->cr, 0, 0, 0);
        }
        if (!t->plain) {
          cairo_rectangle(r->cr, c.xs[k], r->y, c.ws[k], h);
          cairo_stroke(r->cr);
        }
        /* the lines of this slice, each at its baseline */
        PangoLayoutIter *it = pango_layout_get_iter(c.ls[k]);
        for (int j = 0; j < upto[k]; j++) {
          if (j >= next[k]) {
            PangoRectangle lg;
            pango_layout_iter_get_line_extents(it, NULL, &lg);
            double base = (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE;
            cairo_move_to(r->cr, c.xs[k] + CELL_PAD + (double)lg.x / PANGO_SCALE,
                          r->y + CELL_PAD - off[k] + base);
            pango_cairo_show_layout_line(r->cr, pango_layout_iter_get_line_readonly(it));
          }
          if (!pango_layout_iter_next_line(it)) break;
        }
        pango_layout_iter_free(it);
      }
    }
    r->y += h;
    for (int k = 0; k < c.n; k++) {
      next[k] = upto[k];
      off[k] = end[k];
    }
    if (done) break;
    table_page(r, t, ncols, w, nhead);
  }
  cells_free(&c);
}

static void table(R *r, const HtmlBlock *t) {
  int ncols = 0;
  for (size_t i = 0; i < t->nrows; i++) {
    int n = 0;
    for (size_t k = 0; k < t->rows[i].n; k++) n += t->rows[i].cells[k].colspan;
    if (n > ncols) ncols = n;
  }
  if (ncols > MAX_COLS) ncols = MAX_COLS;
  if (!ncols) return;
  double w[MAX_COLS];
  col_widths(r, t, ncols, w);
  /* the header: the rows in <thead>, else the leading rows of <th> cells */
  size_t nhead = 0;
  while (nhead < t->nrows && t->rows[nhead].header) nhead++;
  if (!nhead) {
    for (; nhead < t->nrows && t->rows[nhead].n; nhead++) {
      int all = 1;
      for (size_t k = 0; k < t->rows[nhead].n; k++) all &= t->rows[nhead].cells[k].header;
      if (!all) break;
    }
  }
  double head_h = 0;
  for (size_t i = 0; i < nhead; i++) head_h += row_height(r, &t->rows[i], ncols, w);
  if (head_h > (BOTTOM - MARGIN_T) / 3) nhead = 0, head_h = 0;
  if (!at_top(r)) r->y += 2;
  for (size_t i = 0; i < t->nrows; i++) {
    double h = row_height(r, &t->rows[i], ncols, w);
    /* the header goes with the first body row; a row that does not fit
    ** starts a page, unless it would not fit on a page either: then it is
    ** split, here if a few lines fit */
    double need = h;
    if (i == 0 && nhead && nhead < t->nrows) need = head_h + row_height(r, &t->rows[nhead], ncols, w);
    double page = BOTTOM - MARGIN_T - (i >= nhead ? head_h : 0);
    if (r->y + need > BOTTOM && !at_top(r) && (need <= page || r->y + 4 * sizes[0] > BOTTOM)) {
      if (i >= nhead) table_page(r, t, ncols, w, nhead);
      else new_page(r);
    }
    draw_row(r, t, i, ncols, w, i >= nhead ? nhead : 0);
  }
  r->y += 8;
}

static void lay_out(R *r, const HtmlDoc *d) {
  r->page = 1;
  r->y = MARGIN_T;
  for (size_t i = 0; i < d->n; i++) {
    const HtmlBlock *b = &d->blocks[i];
    switch (b->kind) {
    case HB_PARA: para(r, b); break;
    case HB_HR: rule(r); break;
    case HB_TABLE: table(r, b); break;
    case HB_PAGEBREAK:
      if (!at_top(r)) new_page(r);
      break;
    }
  }
  footer(r);
}

/* ---- files -------------------------------------------------------------------------------- */

typedef struct Sink {
  FILE *f;
  int failed;
} Sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int len) {
  Sink *s = closure;
  if (fwrite(data, 1, len, s->f) != len) {
    s->failed = errno ? errno : EIO;
    return CAIRO_STATUS_WRITE_ERROR;
  }
  return CAIRO_STATUS_SUCCESS;
}

static int pdf_to(FILE *f, const char *html, size_t len, const char *what, char *err, size_t errlen) {
  HtmlDoc d;
  memset(&d, 0, sizeof d);
  html_parse(html, len, &d);
  Sink sink = {f, 0};
  cairo_surface_t *sf = cairo_pdf_surface_create_for_stream(sink_write, &sink, PAGE_W, PAGE_H);
  if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
    snprintf(err, errlen, "cannot make a PDF for %s: %s", what,
             cairo_status_to_string(cairo_surface_status(sf)));
    cairo_surface_destroy(sf);
    html_doc_free(&d);
    return -1;
  }
  cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "funnel");
  if (d.title) cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE, d.title);
  cairo_t *cr = cairo_create(sf);
  PangoContext *ctx = pango_cairo_create_context(cr);
  pango_cairo_context_set_resolution(ctx, 72);
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options(ctx, fo);
  cairo_font_options_destroy(fo);
  R r = {cr, ctx, 0, 1, 1, MARGIN_T};
  lay_out(&r, &d);
  int npages = r.page;
  r = (R){cr, ctx, 1, 1, npages, MARGIN_T};
  lay_out(&r, &d);
  g_object_unref(ctx);
  cairo_destroy(cr);
  cairo_surface_finish(sf);
  cairo_status_t st = cairo_surface_status(sf);
  cairo_surface_destroy(sf);
  html_doc_free(&d);
  if (sink.failed || st != CAIRO_STATUS_SUCCESS) {
    snprintf(err, errlen, "cannot write %s: %s", what,
             sink.failed ? strerror(sink.failed) : cairo_status_to_string(st));
    return -1;
  }
  return 0;
}

/* A temporary file next to `path`, to be renamed over it when complete. */
static FILE *open_temp(const char *path, char **tmp, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) { /* a rename over it would fail at the end */
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(EISDIR));
    return NULL;
  }
  StrBuf b = {0};
  sb_printf(&b, "%s.tmpXXXXXX", path);
  int fd = mkstemp(b.s);
  if (fd < 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    sb_free(&b);
    return NULL;
  }
  fchmod(fd, 0644);
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    close(fd);
    unlink(b.s);
    sb_free(&b);
    return NULL;
  }
  *tmp = b.s;
  return f;
}

/* Flushes, syncs and closes a temporary file; -1 with err on failure. */
static int close_temp(FILE *f, const char *path, int rc, char *err, size_t errlen) {
  int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
  int e = errno;
  if (fclose(f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (bad && rc == 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
    return -1;
  }
  return rc;
}

int doc_render(const char *template_dir, const char *template_name, json_t *params,
               const char *html_path, const char *pdf_path, char *err, size_t errlen) {
  StrBuf html = {0};
  char *tmp_pdf = NULL, *tmp_html = NULL;
  if (!template_dir || !*template_dir) {
    snprintf(err, errlen, "no template directory");
    return -1;
  }
  int rc = dtpl_fill(template_dir, template_name, params, &html, err, errlen);
  if (rc == 0 && pdf_path) {
    FILE *f = open_temp(pdf_path, &tmp_pdf, err, errlen);
    rc = f ? pdf_to(f, html.s, html.len, pdf_path, err, errlen) : -1;
    if (f) rc = close_temp(f, pdf_path, rc, err, errlen);
  }
  if (rc == 0 && html_path) {
    FILE *f = open_temp(html_path, &tmp_html, err, errlen);
    rc = f ? 0 : -1;
    if (f && fwrite(html.s, 1, html.len, f) != html.len) {
      snprintf(err, errlen, "cannot write %s: %s", html_path, strerror(errno));
      rc = -1;
    }
    if (f) rc = close_temp(f, html_path, rc, err, errlen);
  }
  if (rc == 0 && tmp_pdf && rename(tmp_pdf, pdf_path) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", pdf_path, strerror(errno));
    rc = -1;
  }
  if (rc == 0 && tmp_html && rename(tmp_html, html_path) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", html_path, strerror(errno));
    rc = -1;
  }
  if (rc != 0) {
    if (tmp_pdf) unlink(tmp_pdf);
    if (tmp_html) unlink(tmp_html);
  }
  free(tmp_pdf);
  free(tmp_html);
  sb_free(&html);
  return rc;
}

void doc_shutdown(void) {
  pango_cairo_font_map_set_default(NULL);
  /* fontconfig comes with pango (it is not linked directly): release its
  ** configuration and caches if it is loaded. (cairo_debug_reset_static_data
  ** is not called: it asserts when a font face is still cached, and what it
  ** frees is still reachable, so leak checkers do not report it.) */
  void (*fc_fini)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");
  if (fc_fini) fc_fini();
}
