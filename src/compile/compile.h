/*
** compile.h: from a checked program to a Chunk.
*/
#ifndef FUNNEL_COMPILE_H
#define FUNNEL_COMPILE_H

#include "bytecode/chunk.h"
#include "check/check.h"

/* The compiler's version, written into every .pipec. */
#define FUNNEL_COMPILER_VERSION 1

/* Compiles p, which must have checked without errors (m is its model).
** Returns the chunk, or NULL after reporting to p->diag what does not fit
** the VM's limits (too many registers or constants in one function). */
Chunk *compile_program(Program *p, Model *m);

#endif
