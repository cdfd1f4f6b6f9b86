/*
** graph_int.h: the description every diagram is drawn from.
**
** `funnel graph` draws from one intermediate description, a Desc: the
** pack's directions and stages in order, the arrows between them (kind,
** source, target stage, label in parts), the event and entity nodes the
** arrows start from, and, for JSON, the catalogue (entities and fields,
** named enums, roles, events, calendars). Two builders fill it: the checked
** Model (graph.c: the source, with conditions printed back from the AST) and
** a compiled Chunk (graph_chunk.c: a .pipec, where labels come from the
** tables and function names, and arrows from the bytecode). The writers
** (dot, mermaid, json, in graph.c) read only the Desc, so both builders
** draw alike.
**
** Everything a Desc points to lives in its arena, or in the Model or Chunk
** it was built from, which must outlive it. Stages and directions are
** indexes into the Desc's own tables, in declaration order.
*/
#ifndef FUNNEL_GRAPH_INT_H
#define FUNNEL_GRAPH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "graph/graph.h"
#include "util/arena.h"
#include "util/vec.h"

typedef enum ArrowKind { AK_TRIGGER, AK_ROBOT, AK_CREATE, AK_CONVERT } ArrowKind;

/* Where an arrow starts: a stage, a direction as a whole (drawn from an
** "any stage" node), an event (an event node) or an entity (an entity
** node). */
typedef enum SrcKind { SRC_STAGE, SRC_DIRECTION, SRC_EVENT, SRC_ENTITY } SrcKind;

/* Stage kinds, as StageKind and the Chunk's StageDef.kind number them. */
enum { GK_PROGRESS, GK_SUCCESS, GK_FAILURE };

typedef struct GStage {
  const char *name, *title;  /* title: NULL when there is none */
  int kind;                  /* GK_* */
  bool is_auto;
  size_t dir;                /* index into Desc.dirs */
  size_t index;              /* position in its direction */
} GStage;

typedef struct GDirection {
  const char *name, *title;
  const char *entity;        /* the entity's name, or NULL */
  size_t first, nstages;     /* a range of Desc.stages */
  bool used;                 /* an arrow starts at its "any stage" node */
} GDirection;

typedef struct GSource {
  SrcKind kind;
  size_t id;                 /* stage, direction or entity index by kind */
  const char *event;         /* SRC_EVENT: the event's name */
} GSource;

/* An arrow; its label has three parts: the cause ("email.read", "after 3
** days"), the action when it is not a plain move ("create deal", "convert
** with contact", "move d") and the condition ("when sum > 0", "if x > 1"). */
typedef struct GArrow {
  ArrowKind kind;
  GSource from;
  size_t to;                 /* a stage */
  const char *cause, *action, *cond;  /* each may be NULL */
  const char *event;         /* the event that causes it, or NULL */
  bool back;                 /* a trigger that may move back */
} GArrow;

typedef struct GEnumValue {
  const char *name, *title;
} GEnumValue;

typedef struct GEnum {
  const char *name, *title;  /* name: "deal.kind" or a named enum's name */
  size_t nvalues;
  GEnumValue *values;
} GEnum;

typedef struct GField {
  const char *name, *title;
  const char *type;          /* "money", "enum deal.kind", "list<text>"; NULL if unknown */
  const GEnum *enm;          /* the values of an enum field, or NULL */
  bool required, computed, builtin, readonly;
} GField;

typedef struct GEntity {
  const char *name, *title;
  VEC(GField) fields;
  bool used;                 /* an arrow starts at its node */
} GEntity;

typedef struct GEvent {
  const char *name, *title;
  bool builtin;
  VEC(GField) payload;
} GEvent;

/* A role, or any other thing with only a name and a title. */
typedef struct GNamed {
  const char *name, *title;
} GNamed;

typedef struct GCalendar {
  const char *name, *title, *timezone;
  bool is_default;
} GCalendar;

/* An event node: one per event that starts an arrow, in order of use. */
typedef struct GEventNode {
  const char *name, *title;
} GEventNode;

typedef struct Desc {
  Arena arena;               /* labels, ids and copied tables */
  bool has_pack;
  const char *pack_name, *pack_title, *pack_version;  /* NULL when absent */
  VEC(GDirection) dirs;
  VEC(GStage) stages;
  VEC(GArrow) arrows;
  VEC(GEventNode) event_nodes;
  VEC(GEntity) entities;
  VEC(const GEnum *) enums;  /* named enums, for JSON */
  VEC(GNamed) roles;
  VEC(GEvent) events;
  VEC(GCalendar) calendars;
} Desc;

void graph_desc_init(Desc *d);
void graph_desc_free(Desc *d);

/* Adds arrow a unless the same arrow is there already, and marks the node
** it starts from as used (an event node takes its title from Desc.events,
** so fill the events before the arrows). */
void graph_add_arrow(Desc *d, GArrow a);

/* Writes the diagram of d to out in format fmt. */
void graph_render(Desc *d, FILE *out, GraphFormat fmt);

/* Fills d from the compiled pack c (graph_chunk.c). */
void graph_desc_from_chunk(Desc *d, const Chunk *c);

#endif
