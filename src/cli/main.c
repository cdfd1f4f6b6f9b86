/*
** main.c: the funnel command line.
**
**   funnel check FILE...             check packs (or verify .pipec files)
**   funnel graph FILE [--format F]   draw a pack: dot, mermaid or json
**   funnel build FILE -o OUT.pipec   compile a pack to bytecode
**   funnel disasm FILE               list the bytecode of a pack or a .pipec
**   funnel test FILE...              run the packs' test blocks
**   funnel run --db FILE PACK        JSON-lines commands on stdin (run.c)
**   funnel outbox / deliver / inbox  delivery of effects (outbox.c)
**   funnel parse FILE                print the syntax tree (for debugging)
**
** Exit status: 0 success, 1 errors in the input, 2 usage errors.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "bytecode/bcfile.h"
#include "bytecode/disasm.h"
#include "check/check.h"
#include "cli/document.h"
#include "cli/outbox.h"
#include "cli/run.h"
#include "compile/compile.h"
#include "graph/graph.h"
#include "natives/ffi.h"
#include "parse/loader.h"
#include "runtime/engine.h"
#include "store/store.h"

#define EXIT_USAGE 2

static void usage(FILE *out) {
  fputs("usage: funnel COMMAND [OPTIONS] FILE...\n"
        "\n"
        "commands:\n"
        "  check FILE...        check packs and report every error and warning\n"
        "  graph FILE           draw a pack's directions, stages and arrows\n"
        "  build FILE -o OUT    compile a pack to a .pipec file (bytecode)\n"
        "  disasm FILE          list the bytecode of a pack or a .pipec file\n"
        "  test FILE...         run the test blocks of packs on a virtual clock\n"
        "  run --db FILE PACK   run JSON-line commands from stdin against a database\n"
        "  outbox --db FILE     list the outbox: [--status S] [--json], or --retry ID\n"
        "  deliver --db FILE --config FILE [--once | --follow [--interval S]]\n"
        "                       deliver effects (e-mail, SMS, web hooks, documents...)\n"
        "  inbox --db FILE      users' notifications, tasks and questions: [--user U] [--json]\n"
        "  document --template-dir DIR NAME --params JSON --html F --pdf F\n"
        "                       fill a document template, write HTML and PDF\n"
        "  parse FILE           print the syntax tree of a file\n"
        "\n"
        "options:\n"
        "  -I DIR               also look for imports in DIR (repeatable)\n"
        "  --format FORMAT      check: text (default) or json\n"
        "                       graph: dot (default), mermaid or json\n"
        "  --color / --no-color color diagnostics (default: when stderr is a terminal)\n"
        "  -W error             treat warnings as errors\n"
        "  -o FILE              build: where to write the .pipec\n"
        "  --strip              build: leave out line information\n"
        "  --db FILE            run: the database (SQLite, created if missing)\n"
        "  --batch N            run: commit at most N waiting commands together (default 64)\n"
        "  -h, --help           show this help\n"
        "  -V, --version        show the version\n"
        "\n"
        "Imports are also searched in $FUNNEL_PATH (colon-separated); the\n"
        "standard library is at $FUNNEL_STDLIB or the installed stdlib.\n"
        "Exit status: 0 success, 1 errors in the input, 2 usage errors.\n",
        out);
}

typedef struct Options {
  const char *command;
  const char *format;
  const char **files;
  size_t nfiles;
  const char **includes;
  size_t nincludes;
  int color;          /* -1: auto */
  int werror;
  const char *output;
  int strip;
  const char *db;     /* run: --db FILE */
  int batch;          /* run: --batch N (group commit), 0: the default */
} Options;

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "funnel: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry 'funnel --help'.\n");
  return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, Options *o) {
  o->files = calloc((size_t)argc, sizeof *o->files);
  o->includes = calloc((size_t)argc, sizeof *o->includes);
  o->color = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
      printf("funnel %s\n", PACKAGE_VERSION);
      exit(0);
    } else if (!strcmp(a, "-I")) {
      if (++i >= argc) return usage_error("%s needs a directory", a);
      o->includes[o->nincludes++] = argv[i];
    } else if (!strncmp(a, "-I", 2)) {
      o->includes[o->nincludes++] = a + 2;
    } else if (!strcmp(a, "--format")) {
      if (++i >= argc) return usage_error("%s needs a value", a);
      o->format = argv[i];
    } else if (!strncmp(a, "--format=", 9)) {
      o->format = a + 9;
    } else if (!strcmp(a, "--color")) {
      o->color = 1;
    } else if (!strcmp(a, "--no-color")) {
      o->color = 0;
    } else if (!strcmp(a, "-W") || !strcmp(a, "-Werror")) {
      if (!strcmp(a, "-W") && (++i >= argc || strcmp(argv[i], "error")))
        return usage_error("%s", "-W takes 'error'");
      o->werror = 1;
    } else if (!strcmp(a, "-o")) {
      if (++i >= argc) return usage_error("%s needs a file", a);
      o->output = argv[i];
    } else if (!strcmp(a, "--strip")) {
      o->strip = 1;
    } else if (!strcmp(a, "--db")) {
      if (++i >= argc) return usage_error("%s needs a file", a);
      o->db = argv[i];
    } else if (!strncmp(a, "--db=", 5)) {
      o->db = a + 5;
    } else if (!strcmp(a, "--batch") || !strncmp(a, "--batch=", 8)) {
      /* run: group commit, see src/cli/run.c */
      const char *v = a[7] == '=' ? a + 8 : ++i < argc ? argv[i] : NULL;
      char *end;
      long n = v ? strtol(v, &end, 10) : 0;
      if (!v || !*v || *end || n < 1 || n > 100000)
        return usage_error("%s", "--batch takes a number of commands from 1 to 100000");
      o->batch = (int)n;
    } else if (a[0] == '-' && a[1]) {
      return usage_error("unknown option '%s'", a);
    } else if (!o->command) {
      o->command = a;
    } else {
      o->files[o->nfiles++] = a;
    }
  }
  if (!o->command) return usage_error("%s", "no command given");
  return 0;
}

/* Reads and verifies a .pipec; NULL after printing why not. */
static Chunk *load_pipec(const char *path) {
  char err[512];
  Chunk *c = bc_read_file(path, err, sizeof err);
  if (!c) fprintf(stderr, "%s%s\n", strncmp(err, "cannot", 6) ? "" : "funnel: ", err);
  return c;
}

/* Loads, checks and compiles a pack, or reads a .pipec: the one way every
** command that runs a pack gets its chunk. Prints diagnostics; NULL on
** errors. */
static Chunk *load_chunk(const Options *o, const char *file) {
  if (bc_is_file(file)) return load_pipec(file);
  Program p;
  program_init(&p);
  LoadOpts lo = {o->includes, o->nincludes};
  program_load(&p, file, &lo);
  Model *m = check_program(&p);
  Chunk *c = p.diag.nerrors ? NULL : compile_program(&p, m);
  diag_sort(&p.diag);
  if (p.diag.nerrors || p.diag.nwarnings) {
    diag_print_text(&p.diag, stderr, o->color < 0 ? isatty(fileno(stderr)) : o->color);
    diag_print_summary(&p.diag, stderr);
  }
  model_free(m);
  program_free(&p);
  return c;
}

/* natives (issue 5): binds the chunk's natives to their plugins before
** anything runs; prints the error and frees the chunk if one cannot be
** bound (a missing library or symbol, a signature mismatch). */
static Chunk *bind_natives(Chunk *c, const char *file) {
  char err[1024];
  if (!c || natives_bind(c, file, err, sizeof err)) return c;
  fprintf(stderr, "funnel: %s\n", err);
  chunk_free(c);
  return NULL;
}
/* end natives */

static int cmd_build(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s", "build: give exactly one pack");
  if (!o->output) return usage_error("%s", "build: say where to write it: -o FILE.pipec");
  Chunk *c = load_chunk(o, o->files[0]);
  if (!c) return 1;
  char err[256];
  if (!bc_verify(c, err, sizeof err)) {
    fprintf(stderr, "funnel: internal error: the compiled pack does not verify: %s\n", err);
    chunk_free(c);
    return 1;
  }
  FILE *out = fopen(o->output, "wb");
  if (!out) {
    fprintf(stderr, "funnel: cannot write '%s': %s\n", o->output, strerror(errno));
    chunk_free(c);
    return 1;
  }
  int rc = bc_write(c, out, o->strip);
  if (fclose(out) != 0) rc = -1;
  chunk_free(c);
  if (rc != 0) {
    fprintf(stderr, "funnel: writing '%s' failed\n", o->output);
    remove(o->output);
    return 1;
  }
  return 0;
}

static int cmd_disasm(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s", "disasm: give exactly one pack or .pipec");
  Chunk *c = load_chunk(o, o->files[0]);
  if (!c) return 1;
  bc_disasm(stdout, c, NULL);
  chunk_free(c);
  return 0;
}

/* The source line `line` of file `path`, trimmed (for test failures). */
static void print_source_line(const char *path, uint32_t line) {
  FILE *f = fopen(path, "r");
  if (!f) return;
  char buf[512];
  for (uint32_t n = 1; fgets(buf, sizeof buf, f); n++) {
    if (n != line) continue;
    char *s = buf;
    while (*s == ' ' || *s == '\t') s++;
    s[strcspn(s, "\r\n")] = '\0';
    printf("    %5u | %s\n", line, s);
    break;
  }
  fclose(f);
}

/* Runs every test of one pack, each against a fresh in-memory store. */
static void run_tests(const Options *o, const char *file, int *passed, int *failed) {
  Chunk *c = load_chunk(o, file);
  if (c && !(c = bind_natives(c, file))) {   /* natives (issue 5) */
    (*failed)++;
    printf("FAIL  %s: its natives do not load\n", file);
    return;
  }
  if (!c) {
    (*failed)++;
    printf("FAIL  %s: does not compile\n", file);
    return;
  }
  for (uint32_t t = 0; t < c->ntests; t++) {
    char err[512];
    Store *st = store_open_sqlite(c, ":memory:", err, sizeof err);
    if (!st) {
      (*failed)++;
      printf("FAIL  %s: %s\n      %s\n", file, c->tests[t].title, err);
      continue;
    }
    Engine *e = engine_new(c, st);
    int rc = engine_run_test(e, t);
    if (rc == 0) {
      (*passed)++;
      printf("PASS  %s: %s\n", file, c->tests[t].title);
    } else {
      (*failed)++;
      const VmError *ve = engine_vm_error(e);
      const char *src = ve->file < c->nfiles ? c->files[ve->file] : "?";
      printf("FAIL  %s: %s\n    %s:%u: %s\n", file, c->tests[t].title, src, ve->line, ve->message);
      print_source_line(src, ve->line);
      if (ve->code != RE_TEST && ve->trace[0]) printf("%s", ve->trace);
    }
    engine_free(e);
    st->ops->close(st);
  }
  chunk_free(c);
}

/* run: funnel run --db FILE PACK, the batch interface (src/cli/run.c) */
static int cmd_run(const Options *o) {
  if (!o->db) return usage_error("%s", "run: say which database: --db FILE");
  if (o->nfiles != 1) return usage_error("%s", "run: give exactly one pack");
  Chunk *c = bind_natives(load_chunk(o, o->files[0]), o->files[0]);
  if (!c) return 1;
  int rc = run_batch(c, o->db, o->batch ? o->batch : RUN_BATCH_DEFAULT, stdin, stdout);
  chunk_free(c);
  return rc;
}
/* end run */

static int cmd_test(const Options *o) {
  if (!o->nfiles) return usage_error("%s", "test: give the packs to test");
  int passed = 0, failed = 0;
  for (size_t i = 0; i < o->nfiles; i++) run_tests(o, o->files[i], &passed, &failed);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

/* Loads and checks one pack, printing its diagnostics. Returns 0, 1. */
static int run_check(const Options *o, const char *file, bool json, FILE *out) {
  if (bc_is_file(file)) {
    Chunk *c = load_pipec(file);
    chunk_free(c);
    return c ? 0 : 1;
  }
  Program p;
  program_init(&p);
  LoadOpts lo = {o->includes, o->nincludes};
  program_load(&p, file, &lo);
  Model *m = NULL;
  if (p.diag.nerrors == 0 || p.ast.decls) m = check_program(&p);
  diag_sort(&p.diag);
  int bad = p.diag.nerrors > 0 || (o->werror && p.diag.nwarnings > 0);
  if (json) {
    char *s = diag_to_json(&p.diag);
    fprintf(out, "%s\n", s);
    free(s);
  } else {
    bool color = o->color < 0 ? isatty(fileno(stderr)) : o->color;
    diag_print_text(&p.diag, stderr, color);
    diag_print_summary(&p.diag, stderr);
  }
  model_free(m);
  program_free(&p);
  return bad;
}

static int cmd_check(const Options *o) {
  bool json = false;
  if (o->format && !strcmp(o->format, "json")) json = true;
  else if (o->format && strcmp(o->format, "text"))
    return usage_error("check: unknown format '%s' (text or json)", o->format);
  if (!o->nfiles) return usage_error("%s", "check: no files given");
  int status = 0;
  if (json && o->nfiles > 1) printf("[\n");
  for (size_t i = 0; i < o->nfiles; i++) {
    if (json && i) printf(",\n");
    status |= run_check(o, o->files[i], json, stdout);
  }
  if (json && o->nfiles > 1) printf("]\n");
  return status;
}

static int cmd_graph(const Options *o) {
  GraphFormat fmt = GRAPH_DOT;
  if (o->format && !graph_parse_format(o->format, &fmt))
    return usage_error("graph: unknown format '%s' (dot, mermaid or json)", o->format);
  if (o->nfiles != 1) return usage_error("%s", "graph: give exactly one pack");
  /* graph: a .pipec is drawn from its chunk (src/graph/graph_chunk.c) */
  if (bc_is_file(o->files[0])) {
    Chunk *c = load_pipec(o->files[0]);
    if (!c) return 1;
    graph_write_chunk(stdout, c, fmt);
    chunk_free(c);
    return 0;
  }
  /* end graph: .pipec */
  Program p;
  program_init(&p);
  LoadOpts lo = {o->includes, o->nincludes};
  program_load(&p, o->files[0], &lo);
  Model *m = check_program(&p);
  diag_sort(&p.diag);
  int status = 0;
  if (p.diag.nerrors) {
    diag_print_text(&p.diag, stderr, o->color < 0 ? isatty(fileno(stderr)) : o->color);
    diag_print_summary(&p.diag, stderr);
    status = 1;
  } else {
    graph_write(stdout, m, fmt);
  }
  model_free(m);
  program_free(&p);
  return status;
}

static int cmd_parse(const Options *o) {
  if (o->nfiles != 1) return usage_error("%s", "parse: give exactly one file");
  Program p;
  program_init(&p);
  LoadOpts lo = {o->includes, o->nincludes};
  program_load(&p, o->files[0], &lo);
  diag_sort(&p.diag);
  ast_dump(stdout, p.ast.decls);
  diag_print_text(&p.diag, stderr, false);
  diag_print_summary(&p.diag, stderr);
  int status = p.diag.nerrors > 0;
  program_free(&p);
  return status;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "document")) return cmd_document(argc - 1, argv + 1);
  /* the delivery commands parse their own options (src/cli/outbox.c) */
  if (argc > 1 && !strcmp(argv[1], "outbox")) return cmd_outbox(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "deliver")) return cmd_deliver(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "inbox")) return cmd_inbox(argc - 1, argv + 1);
  Options o = {0};
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc;
  if (!strcmp(o.command, "check")) rc = cmd_check(&o);
  else if (!strcmp(o.command, "graph")) rc = cmd_graph(&o);
  else if (!strcmp(o.command, "parse")) rc = cmd_parse(&o);
  else if (!strcmp(o.command, "build")) rc = cmd_build(&o);
  else if (!strcmp(o.command, "disasm")) rc = cmd_disasm(&o);
  else if (!strcmp(o.command, "test")) rc = cmd_test(&o);
  else if (!strcmp(o.command, "run")) rc = cmd_run(&o);
  else rc = usage_error("unknown command '%s'", o.command);
  free(o.files);
  free(o.includes);
  return rc;
}
