/*
** loader.c: the import search path and the load of a whole program.
*/
#include "parse/loader.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/parse.h"
#include "util/strbuf.h"

#ifndef FUNNEL_STDLIB_DIR
#define FUNNEL_STDLIB_DIR "/usr/local/share/funnel/stdlib"
#endif

/* Imports nested deeper than this are surely a mistake (or a cycle through
** differently spelled paths). */
#define MAX_IMPORT_DEPTH 32

void program_init(Program *p) {
  memset(p, 0, sizeof *p);
  arena_init(&p->arena);
  srcset_init(&p->srcs);
  diag_init(&p->diag, &p->srcs);
}

void program_free(Program *p) {
  diag_free(&p->diag);
  srcset_free(&p->srcs);
  arena_free(&p->arena);
}

const char *loader_stdlib_dir(void) {
  const char *env = getenv("FUNNEL_STDLIB");
  if (env && *env) return env;
#ifdef FUNNEL_SRC_STDLIB_DIR
  struct stat st;
  if (stat(FUNNEL_STDLIB_DIR, &st) != 0 && stat(FUNNEL_SRC_STDLIB_DIR, &st) == 0)
    return FUNNEL_SRC_STDLIB_DIR;
#endif
  return FUNNEL_STDLIB_DIR;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return xstrdup(".");
  if (slash == path) return xstrdup("/");
  char *d = xmalloc((size_t)(slash - path) + 1);
  memcpy(d, path, (size_t)(slash - path));
  d[slash - path] = '\0';
  return d;
}

static char *join(const char *dir, const char *rel) {
  StrBuf b = {0};
  if (rel[0] != '/') {
    sb_puts(&b, dir);
    sb_putc(&b, '/');
  }
  sb_puts(&b, rel);
  return b.s;
}

/* The file an `import a.b` names, or NULL. Fills `tried` with the places
** looked at, for the error message. */
static char *find_module(const char *name, const char *from_dir, const LoadOpts *o, StrBuf *tried) {
  bool std = !strncmp(name, "std.", 4);
  StrBuf rel = {0};
  for (const char *s = std ? name + 4 : name; *s; s++) sb_putc(&rel, *s == '.' ? '/' : *s);
  sb_puts(&rel, ".pipe");
  const char *dirs[64];
  size_t nd = 0;
  char *envcopy = NULL;
  if (std) {
    dirs[nd++] = loader_stdlib_dir();
  } else {
    dirs[nd++] = from_dir;
    for (size_t i = 0; i < o->ninclude && nd < 48; i++) dirs[nd++] = o->include_dirs[i];
    const char *env = getenv("FUNNEL_PATH");
    if (env && *env) {
      envcopy = xstrdup(env);
      for (char *tok = strtok(envcopy, ":"); tok && nd < 63; tok = strtok(NULL, ":")) dirs[nd++] = tok;
    }
    dirs[nd++] = loader_stdlib_dir();
  }
  char *found = NULL;
  for (size_t i = 0; i < nd && !found; i++) {
    char *p = join(dirs[i], sb_str(&rel));
    if (is_file(p)) found = p;
    else {
      sb_printf(tried, "%s%s", tried->len ? ", " : "", p);
      free(p);
    }
  }
  free(envcopy);
  sb_free(&rel);
  return found;
}

static uint32_t already_loaded(const Program *p, const char *real) {
  for (size_t i = 0; i < p->srcs.len; i++)
    if (!strcmp(p->srcs.files[i]->path, real)) return (uint32_t)i;
  return UINT32_MAX;
}

static NodeList load_imports(Program *p, Node *decls, uint32_t file, const LoadOpts *o, int depth);

/* Loads one imported file; returns its declarations (imports first). */
static NodeList load_one(Program *p, Node *imp, const char *path, const LoadOpts *o, int depth) {
  NodeList out = {0};
  char real[PATH_MAX];
  if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
  uint32_t seen = already_loaded(p, real);
  if (seen != UINT32_MAX) {
    imp->ival = seen;
    return out;
  }
  int id = srcset_load(&p->srcs, path, real);
  if (id < 0) {
    diag_error(&p->diag, imp->name_span, D_IMPORT, "cannot read '%s': %s", path, strerror(errno));
    return out;
  }
  imp->ival = id;
  Node *decls = parse_file(&p->arena, &p->diag, (uint32_t)id);
  out = load_imports(p, decls, (uint32_t)id, o, depth + 1);
  for (Node *d = decls; d;) {
    Node *nx = d->next;
    d->next = NULL;
    out = ast_append(out, d);
    d = nx;
  }
  return out;
}

static NodeList load_imports(Program *p, Node *decls, uint32_t file, const LoadOpts *o, int depth) {
  NodeList out = {0};
  const SrcFile *f = srcset_get(&p->srcs, file);
  char *dir = dir_of(f->path);
  for (Node *d = decls; d; d = d->next) {
    if (d->kind != N_IMPORT) continue;
    d->ival = -1;
    if (depth >= MAX_IMPORT_DEPTH) {
      diag_error(&p->diag, d->span, D_IMPORT, "imports nested more than %d deep", MAX_IMPORT_DEPTH);
      continue;
    }
    char *path = NULL;
    if (d->flags & F_IMPORT_FILE) {
      path = join(dir, d->text ? d->text : "");
      if (!is_file(path)) {
        diag_error(&p->diag, d->name_span, D_IMPORT, "import not found: no file '%s'", path);
        free(path);
        continue;
      }
    } else {
      StrBuf tried = {0};
      path = find_module(d->name, dir, o, &tried);
      if (!path) {
        diag_error(&p->diag, d->name_span, D_IMPORT, "import not found: '%s'", d->name);
        diag_note(&p->diag, d->name_span, "looked for %s", sb_str(&tried));
        sb_free(&tried);
        continue;
      }
      sb_free(&tried);
    }
    NodeList got = load_one(p, d, path, o, depth);
    free(path);
    if (got.head) {
      if (!out.head) out = got;
      else {
        out.tail->next = got.head;
        out.tail = got.tail;
      }
    }
  }
  free(dir);
  return out;
}

static bool finish(Program *p, uint32_t id, const LoadOpts *o) {
  static const LoadOpts none = {0};
  if (!o) o = &none;
  p->main_file = id;
  Node *decls = parse_file(&p->arena, &p->diag, id);
  NodeList all = load_imports(p, decls, id, o, 0);
  for (Node *d = decls; d;) {
    Node *nx = d->next;
    d->next = NULL;
    all = ast_append(all, d);
    if (d->kind == N_PACK && !p->ast.pack) p->ast.pack = d;
    d = nx;
  }
  p->ast.decls = all.head;
  return true;
}

bool program_load(Program *p, const char *path, const LoadOpts *o) {
  char real[PATH_MAX];
  if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
  int id = srcset_load(&p->srcs, path, real);
  if (id < 0) {
    diag_error_nospan(&p->diag, D_IO, "cannot read '%s': %s", path, strerror(errno));
    return false;
  }
  return finish(p, (uint32_t)id, o);
}

bool program_load_text(Program *p, const char *name, const char *text, size_t len,
                       const LoadOpts *o) {
  uint32_t id = srcset_add(&p->srcs, name, name, text, len);
  return finish(p, id, o);
}
