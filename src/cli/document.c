/*
** document.c: `funnel document`, to try a document template by hand:
** fills DIR/NAME.html with the params given as JSON and writes the HTML
** and the PDF, exactly as `funnel deliver` does for a document effect
** (which adds the params key, ref and date; here give them yourself).
** docs/documents.md describes the templates.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/document.h"
#include "deliver/document.h"

static int usage(const char *msg, const char *arg) {
  fprintf(stderr, "funnel: document: ");
  fprintf(stderr, msg, arg);
  fprintf(stderr,
          "\nusage: funnel document --template-dir DIR NAME [--params JSON|@FILE] "
          "[--html OUT.html] [--pdf OUT.pdf]\n");
  return 2;
}

int cmd_document(int argc, char **argv) {
  const char *dir = NULL, *name = NULL, *params = NULL, *html = NULL, *pdf = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = !strcmp(a, "--template-dir") ? &dir
                        : !strcmp(a, "--params")     ? &params
                        : !strcmp(a, "--html")       ? &html
                        : !strcmp(a, "--pdf")        ? &pdf
                                                     : NULL;
    if (slot) {
      if (++i >= argc) return usage("%s needs a value", a);
      *slot = argv[i];
    } else if (a[0] == '-' && a[1]) {
      return usage("unknown option '%s'", a);
    } else if (!name) {
      name = a;
    } else {
      return usage("one template at a time ('%s' is extra)", a);
    }
  }
  if (!dir) return usage("%s", "say where the templates are: --template-dir DIR");
  if (!name) return usage("%s", "give the template's name (NAME for DIR/NAME.html)");
  if (!html && !pdf) return usage("%s", "say what to write: --html FILE, --pdf FILE or both");
  json_error_t je;
  json_t *p = !params               ? json_object()
              : params[0] == '@'    ? json_load_file(params + 1, 0, &je)
                                    : json_loads(params, 0, &je);
  if (!p) {
    if (je.line > 0)
      fprintf(stderr, "funnel: document: --params: %s%s%s (line %d, column %d)\n",
              params[0] == '@' ? params + 1 : "", params[0] == '@' ? ": " : "", je.text, je.line,
              je.column);
    else /* the file could not be read: jansson's text names it */
      fprintf(stderr, "funnel: document: --params: %s\n", je.text);
    return 1;
  }
  if (!json_is_object(p)) {
    fprintf(stderr, "funnel: document: --params must be a JSON object\n");
    json_decref(p);
    return 1;
  }
  char err[1024];
  int rc = doc_render(dir, name, p, html, pdf, err, sizeof err);
  if (rc) fprintf(stderr, "funnel: document: %s\n", err);
  json_decref(p);
  doc_shutdown();
  return rc ? 1 : 0;
}
