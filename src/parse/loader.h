/*
** loader.h: reading a pack and everything it imports into one program.
**
** `import std.x` names a module of the stdlib: names that start with
** "std." are found in the stdlib directory (std.x -> x.pipe);
** other dotted names a.b are found as a/b.pipe in, in order: the importing
** file's directory, each -I directory, each directory of $FUNNEL_PATH
** (colon-separated), and the stdlib directory. `import "file.pipe"` is a
** path relative to the importing file. Each file is loaded once.
*/
#ifndef FUNNEL_LOADER_H
#define FUNNEL_LOADER_H

#include "ast/ast.h"
#include "diag/diag.h"

typedef struct LoadOpts {
  const char **include_dirs;
  size_t ninclude;
} LoadOpts;

/* Everything the front end produced for one pack. */
typedef struct Program {
  Arena arena;
  SrcSet srcs;
  Diag diag;
  Ast ast;
  uint32_t main_file;
} Program;

void program_init(Program *p);
void program_free(Program *p);
/* Loads and parses path and its imports. Errors go to p->diag; returns
** false if the main file could not be read at all. */
bool program_load(Program *p, const char *path, const LoadOpts *opts);
/* Same, from text in memory (tests, the service). */
bool program_load_text(Program *p, const char *name, const char *text, size_t len,
                       const LoadOpts *opts);
/* The stdlib directory in use: $FUNNEL_STDLIB, else the source tree's when
** running uninstalled, else the installed one. */
const char *loader_stdlib_dir(void);

#endif
