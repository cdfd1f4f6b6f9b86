/*
** document.h: documents (invoices, acts, contracts) from templates to HTML
** and PDF (document.c; the template language and the HTML subset are in
** docs/documents.md).
*/
#ifndef FUNNEL_DOCUMENT_H
#define FUNNEL_DOCUMENT_H

#include <stddef.h>

#include <jansson.h>

/* Fills `template_dir`/`template_name`.html with `params` (a JSON object;
** not consumed) and writes the result to `html_path` and, laid out on A4
** pages with pango and cairo, to `pdf_path` (either may be NULL to skip
** it). Each file is written under a temporary name and renamed into place
** once both are complete, so a failure leaves neither a partial file nor
** a changed one. Returns 0 on success; -1 with a message in `err` for a
** missing template, an error in a template (PATH:LINE: ...), a missing
** param, an unwritable output or a rendering failure. Safe to call many
** times in one process; see doc_shutdown. */
int doc_render(const char *template_dir, const char *template_name, json_t *params,
               const char *html_path, const char *pdf_path, char *err, size_t errlen);

/* Releases what pango and fontconfig cache between documents (the font
** map, its fonts, fontconfig's configuration). Call it before the process
** exits if it rendered anything, so that leak checkers see no leftovers.
** Calling it twice is harmless, and a doc_render after it works (it loads
** the fonts again, which takes some milliseconds). */
void doc_shutdown(void);

#endif
