/*
** doc_html.h: the subset of HTML that document templates use, read into
** blocks for the PDF renderer (doc_html.c; docs/documents.md lists the
** tags).
**
** Each paragraph, heading and list item becomes a Block of Pango markup
** (text escaped, inline formatting as <span> attributes, so the markup is
** well formed whatever the HTML's nesting); tables become rows of cells of
** markup. Any input is accepted: unknown tags are dropped and their text
** kept, a stray '<' is text, unclosed tags end with the document, invalid
** UTF-8 is replaced.
*/
#ifndef FUNNEL_DOC_HTML_H
#define FUNNEL_DOC_HTML_H

#include <stddef.h>

typedef enum { HA_LEFT, HA_CENTER, HA_RIGHT } HtmlAlign;

typedef struct HtmlCell {
  char *markup;
  HtmlAlign align;
  int colspan;                /* 1 or more */
  int header;                 /* a <th> */
  int nowrap;                 /* nowrap or class="nowrap": never narrower than its text */
} HtmlCell;

typedef struct HtmlRow {
  HtmlCell *cells;
  size_t n, cap;
  int header;                 /* in <thead>: repeated at the top of each page */
} HtmlRow;

typedef enum { HB_PARA, HB_HR, HB_TABLE, HB_PAGEBREAK } HtmlBlockKind;

typedef struct HtmlBlock {
  HtmlBlockKind kind;
  char *markup;               /* HB_PARA */
  int level;                  /* HB_PARA: 1-6 for a heading, 0 for text */
  HtmlAlign align;
  double indent;              /* HB_PARA: list nesting, in points */
  int item;                   /* HB_PARA: a list item (less space after) */
  HtmlRow *rows;              /* HB_TABLE */
  size_t nrows, caprows;
  int plain;                  /* HB_TABLE: class="plain" or border="0": no lines */
} HtmlBlock;

typedef struct HtmlDoc {
  HtmlBlock *blocks;
  size_t n, cap;
  char *title;                /* the <title>'s text, NULL without one */
} HtmlDoc;

/* Reads `len` bytes of HTML into `doc` (zeroed by the caller). Never
** fails; free the result with html_doc_free. */
void html_parse(const char *html, size_t len, HtmlDoc *doc);
void html_doc_free(HtmlDoc *doc);

#endif
