/*
** parse.h: turning one source file into a list of declarations.
*/
#ifndef FUNNEL_PARSE_H
#define FUNNEL_PARSE_H

#include "ast/ast.h"
#include "diag/diag.h"

/* Parses file `file` of the Diag's SrcSet. Returns its declarations (NULL
** for an empty file); every syntax error goes to d. The AST lives in a. */
Node *parse_file(Arena *a, Diag *d, uint32_t file);

#endif
