/*
** graph.h: `funnel graph`, a checked pack drawn as a diagram.
**
** The picture is what a consultant shows a client: one box per direction
** with its stages in order (success green, failure red, auto dashed), the
** natural order as light edges, and the arrows that triggers, robots (moves
** in handlers), `create ... in` and lead conversions draw. Three renderings
** of the same arrows: Graphviz dot, Mermaid flowchart, and JSON (the whole
** model as data, for editors and the service). A diagram is drawn from the
** checker's Model (a source pack) or from a compiled Chunk (a .pipec); the
** writers never resolve a name themselves.
*/
#ifndef FUNNEL_GRAPH_H
#define FUNNEL_GRAPH_H

#include <stdbool.h>
#include <stdio.h>

#include "bytecode/chunk.h"
#include "check/check.h"

typedef enum GraphFormat { GRAPH_DOT, GRAPH_MERMAID, GRAPH_JSON } GraphFormat;

/* Parses "dot", "mermaid" or "json" into *out; returns false (and leaves
** *out alone) for anything else. */
bool graph_parse_format(const char *s, GraphFormat *out);

/* Writes the diagram of m to out. The output depends only on the model and
** follows declaration order, so it is stable enough for golden tests. A
** model with errors is drawn as far as it resolves (unresolved arrows are
** left out). */
void graph_write(FILE *out, const Model *m, GraphFormat fmt);

/* Writes the diagram of a compiled pack to out. A chunk keeps no source
** text: trigger conditions read "when (condition)", moves under a branch
** "if (condition)"; robots are found in the bytecode of the handlers (and
** of the user functions they call, one level deep). The chunk must have
** passed bc_verify. */
void graph_write_chunk(FILE *out, const Chunk *c, GraphFormat fmt);

#endif
