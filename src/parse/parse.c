/*
** parse.c: owns the flex scanner for one file and runs the bison parser.
*/
#include "parse/parse.h"

#include "parse/parse_ctx.h"
#include "parser.h"
#include "lexer.h"

Node *parse_file(Arena *a, Diag *d, uint32_t file) {
  const SrcFile *f = srcset_get(d->srcs, file);
  ParseCtx ctx = {0};
  ctx.arena = a;
  ctx.diag = d;
  ctx.file = file;
  yyscan_t scanner;
  if (pp_yylex_init_extra(&ctx, &scanner)) {
    diag_error_nospan(d, D_IO, "cannot start the lexer");
    return NULL;
  }
  YY_BUFFER_STATE buf = pp_yy_scan_bytes(f->text, (int)f->len, scanner);
  yyparse(scanner, &ctx);
  pp_yy_delete_buffer(buf, scanner);
  pp_yylex_destroy(scanner);
  sb_free(&ctx.sb);
  return ctx.decls.head;
}
