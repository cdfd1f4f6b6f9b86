/*
** disasm.h: a readable listing of a Chunk (`funnel disasm f.pipec`), in the
** spirit of `luac -l` and `objdump -S`: the pack's tables briefly, then
** every function with its instructions, operands resolved to names and
** values, and the source line above the first instruction compiled from it.
*/
#ifndef FUNNEL_DISASM_H
#define FUNNEL_DISASM_H

#include <stdio.h>

#include "bytecode/chunk.h"
#include "diag/srcfile.h"

/* Prints the listing of c to out. srcs holds source texts to show; a
** source named in the chunk that srcs lacks (or all of them, if srcs is
** NULL) is read from disk if the file exists, else the listing goes
** without it. The chunk should be verified; indices out of range print as
** "?" rather than crash. */
void bc_disasm(FILE *out, const Chunk *c, const SrcSet *srcs);

#endif
