/*
** run.h: `funnel run --db FILE PACK`, the scriptable batch interface
** (run.c; the commands are documented in docs/runtime.md).
*/
#ifndef FUNNEL_RUN_H
#define FUNNEL_RUN_H

#include <stdio.h>

#include "bytecode/chunk.h"

/* Runs the commands of `in` (JSON lines) against the database at `db`
** (created if needed) with the pack `ch`, writing effect and result lines
** to `out`. Lines already available are committed in groups of up to
** `batch` (1: a transaction per command), each acknowledged after its
** group's commit. Returns 0 once the input is exhausted, 1 if the database
** cannot be opened (the reason goes to stderr). */
#define RUN_BATCH_DEFAULT 64
int run_batch(const Chunk *ch, const char *db, int batch, FILE *in, FILE *out);

#endif
