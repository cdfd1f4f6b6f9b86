/*
** chunk.c: the instruction tables and the Chunk's life cycle.
**
** The names, formats and synopses below are expanded from opcodes.def, the
** one list of instructions; nothing here is kept in step by hand. A Chunk
** owns a single arena: the compiler and the .pipec reader allocate every
** table, string, constant and code array of the chunk in it, so that
** chunk_free is one arena_free.
*/
#include "bytecode/chunk.h"

#include <stdlib.h>

#include "natives/ffi.h"

const char *const op_names[OP__COUNT] = {
#define OP(name, fmt, syn) #name,
#include "bytecode/opcodes.def"
#undef OP
};

const OpFormat op_formats[OP__COUNT] = {
#define OP(name, fmt, syn) FMT_##fmt,
#include "bytecode/opcodes.def"
#undef OP
};

const char *const op_synopses[OP__COUNT] = {
#define OP(name, fmt, syn) syn,
#include "bytecode/opcodes.def"
#undef OP
};

/* Returns an empty chunk: every table empty, no default calendar (-1).
** Never fails (allocation failure exits, as everywhere). */
Chunk *chunk_new(void) {
  Chunk *c = xcalloc(1, sizeof *c);
  arena_init(&c->arena);
  c->default_calendar = -1;
  return c;
}

/* Frees the chunk and everything in its arena; NULL is allowed. */
void chunk_free(Chunk *c) {
  if (!c) return;
  natives_unbind(c);   /* natives (issue 5) */
  arena_free(&c->arena);
  free(c);
}
