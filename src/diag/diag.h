/*
** diag.h: the diagnostics sink. Every error, warning and note of the
** compiler goes through diag_emit (never fprintf deep in code). The CLI
** renders them as text with a caret (GCC form) or as JSON for editors.
*/
#ifndef FUNNEL_DIAG_H
#define FUNNEL_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "diag/srcfile.h"

typedef enum DiagCode {
#define DIAG(name, code, desc) D_##name,
#include "diag/codes.def"
#undef DIAG
  D__COUNT
} DiagCode;

typedef enum Severity { SEV_ERROR, SEV_WARNING, SEV_NOTE } Severity;

typedef struct Diagnostic {
  Severity sev;
  DiagCode code;      /* unused for notes */
  Span span;
  bool has_span;      /* false for file-less messages (a missing file) */
  char *msg;          /* heap */
  int parent;         /* for notes: index of the error or warning, else -1 */
  unsigned seq;       /* emission order, for a stable sort */
} Diagnostic;

/* Stop storing errors after this many: a mangled file should not bury the
** first, most useful messages. */
#define DIAG_MAX_ERRORS 100

typedef struct Diag {
  const SrcSet *srcs;
  Diagnostic *items;
  size_t len, cap;
  int nerrors, nwarnings;
  int last;           /* index of the last error/warning, -1 if dropped */
  bool capped;        /* DIAG_MAX_ERRORS reached */
} Diag;

void diag_init(Diag *d, const SrcSet *srcs);
void diag_free(Diag *d);

void diag_error(Diag *d, Span span, DiagCode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_warning(Diag *d, Span span, DiagCode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Attaches a note to the last error or warning. */
void diag_note(Diag *d, Span span, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Attaches a note to diagnostic `parent` (an index into items). */
void diag_note_to(Diag *d, int parent, Span span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An error with no place in a source (a file that cannot be opened). */
void diag_error_nospan(Diag *d, DiagCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *diag_code_str(DiagCode code);
const char *diag_code_desc(DiagCode code);

/* Sorts by file and position, keeping notes after their parent. */
void diag_sort(Diag *d);
/* GCC-style text with source line and caret; color adds ANSI colors. */
void diag_print_text(const Diag *d, FILE *out, bool color);
/* Prints the closing count line "funnel: 2 errors, 1 warning" (nothing if
** there is nothing to count). */
void diag_print_summary(const Diag *d, FILE *out);
/* {"diagnostics":[...],"errors":N,"warnings":N}; returns a heap string. */
char *diag_to_json(const Diag *d);

/* Best "did you mean" candidate among names (Levenshtein distance at most
** a third of the length), or NULL. */
const char *diag_suggest(const char *name, const char *const *names, size_t n);

#endif
