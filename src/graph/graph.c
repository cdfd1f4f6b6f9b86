/*
** graph.c: `funnel graph`, a pack drawn as dot, mermaid or JSON.
**
** Design. Drawing happens in two steps. First a builder fills a Desc (see
** graph_int.h): the directions and stages, and every trigger and every move,
** create and convert found in a handler as an arrow with a source, a target
** stage, a kind and a label in three parts: the cause ("email.read", "after
** 3 days"), the action when it is not plain ("create deal", "convert with
** contact", "move d") and the condition ("when sum > 0", "if not closed").
** This file holds the builder from the checker's Model (a source pack);
** graph_chunk.c holds the one from a compiled Chunk (a .pipec). Then one
** writer per format renders the same Desc, so the three formats always
** agree. A diagram leaves the cause out when the arrow starts at the node of
** its own event; JSON always gives the whole label.
**
** Sources. An arrow starts at a stage (a trigger's from-stage, or the stage
** owning the handler), at a direction as a whole (a direction-level handler,
** or a condition trigger with no `from`: drawn from a small "any stage" node
** in the direction's box), at an event (an event trigger with no `from`, or a
** top-level `on event`: drawn from an event node), or at an entity (entity
** handlers: drawn from an entity node).
**
** Conditions. The Model keeps no source text, so conditions are printed back
** from the AST (unparse) with the fewest parentheses the grammar's
** precedences allow. The diagrams clip long conditions; JSON keeps them whole.
**
** Node ids are ASCII: a stage is `dir__stage`, a direction box
** `cluster_dir`, and the extra nodes start with a keyword no direction can be
** named after: `from__dir`, `event__email__read`, `entity__deal`, and in dot
** `direction__order`, an invisible node that stacks the boxes in order.
*/
#include "graph/graph.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph_int.h"
#include "util/strbuf.h"

/* The longest condition a diagram shows, in code points, before "…". */
#define LABEL_MAX_COND 48

/* Colors: stage kinds and arrow kinds. */
#define C_PROGRESS_FILL "#eceff1"
#define C_PROGRESS_LINE "#90a4ae"
#define C_SUCCESS_FILL "#c8e6c9"
#define C_SUCCESS_LINE "#2e7d32"
#define C_FAILURE_FILL "#ffcdd2"
#define C_FAILURE_LINE "#c62828"
#define C_ORDER "#b0bec5"
#define C_TRIGGER "#1565c0"
#define C_ROBOT "#ef6c00"
#define C_CREATE "#6a1b9a"
#define C_CONVERT "#00838f"
#define C_EVENT_FILL "#e3f2fd"
#define C_ENTITY_FILL "#f3e5f5"
#define C_MUTED "#78909c"

static const char *const kind_names[] = {"trigger", "robot", "create", "convert"};
static const char *const kind_colors[] = {C_TRIGGER, C_ROBOT, C_CREATE, C_CONVERT};

/* ---- the description ---------------------------------------------------- */

void graph_desc_init(Desc *d) {
  memset(d, 0, sizeof *d);
  arena_init(&d->arena);
}

void graph_desc_free(Desc *d) {
  for (size_t i = 0; i < d->entities.len; i++) vec_free(&d->entities.items[i].fields);
  for (size_t i = 0; i < d->events.len; i++) vec_free(&d->events.items[i].payload);
  vec_free(&d->dirs);
  vec_free(&d->stages);
  vec_free(&d->arrows);
  vec_free(&d->event_nodes);
  vec_free(&d->entities);
  vec_free(&d->enums);
  vec_free(&d->roles);
  vec_free(&d->events);
  vec_free(&d->calendars);
  arena_free(&d->arena);
}

static bool same_str(const char *x, const char *y) {
  return x == y || (x && y && !strcmp(x, y));
}

static bool same_source(const GSource *x, const GSource *y) {
  return x->kind == y->kind && x->id == y->id && same_str(x->event, y->event);
}

static void note_event(Desc *d, const char *name) {
  for (size_t i = 0; i < d->event_nodes.len; i++)
    if (!strcmp(d->event_nodes.items[i].name, name)) return;
  GEventNode e = {name, name};
  for (size_t i = 0; i < d->events.len; i++) {
    const GEvent *ev = &d->events.items[i];
    if (!strcmp(ev->name, name)) {
      if (ev->title) e.title = ev->title;
      break;
    }
  }
  vec_push(&d->event_nodes, e);
}

void graph_add_arrow(Desc *d, GArrow a) {
  for (size_t i = 0; i < d->arrows.len; i++) {
    const GArrow *o = &d->arrows.items[i];
    if (o->kind == a.kind && o->to == a.to && same_source(&o->from, &a.from) &&
        same_str(o->cause, a.cause) && same_str(o->action, a.action) &&
        same_str(o->cond, a.cond) && o->back == a.back)
      return;
  }
  switch (a.from.kind) {
  case SRC_DIRECTION: d->dirs.items[a.from.id].used = true; break;
  case SRC_EVENT: note_event(d, a.from.event); break;
  case SRC_ENTITY: d->entities.items[a.from.id].used = true; break;
  default: break;
  }
  vec_push(&d->arrows, a);
}

/* ---- the Model's builder -------------------------------------------------- */

/* A builder from the Model: the Desc it fills, and where each Stage (by
** Stage.id) and EnumDef went. */
typedef struct Graph {
  const Model *m;
  Desc *d;
  size_t *stage_at;        /* by Stage.id: its index in Desc.stages */
  VEC(const EnumDef *) enum_from;
  VEC(GEnum *) enum_to;
} Graph;

/* ---- printing expressions back ------------------------------------------ */

/* Binding strength, as in parser.y: or < and < not < comparisons < ?? <
** + - < * / % < unary minus < primaries. */
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_COALESCE, P_ADD, P_MUL, P_NEG, P_PRIMARY };

static int binary_prec(int op) {
  switch (op) {
  case AOP_OR: return P_OR;
  case AOP_AND: return P_AND;
  case AOP_EQ: case AOP_NE: case AOP_LT: case AOP_LE: case AOP_GT: case AOP_GE: case AOP_IN:
    return P_CMP;
  case AOP_COALESCE: return P_COALESCE;
  case AOP_ADD: case AOP_SUB: return P_ADD;
  default: return P_MUL;
  }
}

static int node_prec(const Node *n) {
  if (n->kind == N_BINARY) return binary_prec(n->op);
  if (n->kind == N_UNARY) return n->op == AOP_NOT ? P_NOT : P_NEG;
  return P_PRIMARY;
}

static void unparse(StrBuf *b, const Node *n, int min_prec);

static void unparse_list(StrBuf *b, const Node *n) {
  for (; n; n = n->next) {
    unparse(b, n, 0);
    if (n->next) sb_puts(b, ", ");
  }
}

/* A string literal, escaped as the lexer reads it. */
static void unparse_text(StrBuf *b, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '"': sb_puts(b, "\\\""); break;
    case '\\': sb_puts(b, "\\\\"); break;
    case '$': sb_puts(b, "\\$"); break;
    case '\n': sb_puts(b, "\\n"); break;
    case '\t': sb_puts(b, "\\t"); break;
    default: sb_putc(b, *s);
    }
  }
}

/* Writes expression n, in parentheses if it binds looser than min_prec. */
static void unparse(StrBuf *b, const Node *n, int min_prec) {
  if (!n) {
    sb_puts(b, "?");
    return;
  }
  int prec = node_prec(n);
  bool paren = prec < min_prec;
  if (paren) sb_putc(b, '(');
  switch (n->kind) {
  case N_BINARY: {
    /* left-associative, except comparisons, which do not chain */
    unparse(b, n->a, prec == P_CMP ? prec + 1 : prec);
    sb_printf(b, " %s ", ast_op_str((Op)n->op));
    unparse(b, n->b, prec + 1);
    break;
  }
  case N_UNARY:
    /* `not` parenthesizes any operator: "not (sum > 0)" reads better than
    ** the equivalent "not sum > 0" */
    sb_puts(b, n->op == AOP_NOT ? "not " : "-");
    unparse(b, n->a, n->op == AOP_NOT ? P_PRIMARY : prec);
    break;
  case N_INT:
    if (n->text) sb_puts(b, n->text);
    else sb_printf(b, "%" PRId64, n->ival);
    break;
  case N_DECIMAL: case N_DATE: case N_DATETIME:
    sb_puts(b, n->text ? n->text : "?");
    break;
  case N_MONEY:
    sb_printf(b, "%s %s", n->text ? n->text : "?", n->name ? n->name : "");
    break;
  case N_STRING:
    sb_putc(b, '"');
    if (!n->list) unparse_text(b, n->text);
    for (const Node *p = n->list; p; p = p->next) {
      if (p->kind == N_STR_PART) {
        unparse_text(b, p->text);
      } else {
        sb_puts(b, "${");
        unparse(b, p, 0);
        sb_putc(b, '}');
      }
    }
    sb_putc(b, '"');
    break;
  case N_BOOL: sb_puts(b, n->ival ? "true" : "false"); break;
  case N_NUL: sb_puts(b, "null"); break;
  case N_DURATION:
    sb_printf(b, "%" PRId64 " %s", n->ival, ast_unit_str((DurUnit)n->op, n->ival));
    break;
  case N_NAME: sb_puts(b, n->name); break;
  case N_MEMBER:
    unparse(b, n->a, P_PRIMARY);
    sb_printf(b, ".%s", n->name);
    break;
  case N_CALL:
    sb_printf(b, "%s(", n->name);
    unparse_list(b, n->list);
    sb_putc(b, ')');
    break;
  case N_LIST:
    sb_putc(b, '[');
    unparse_list(b, n->list);
    sb_putc(b, ']');
    break;
  case N_COMPREHEND:
    sb_putc(b, '[');
    unparse(b, n->a, 0);
    sb_printf(b, " for %s in ", n->name);
    unparse(b, n->b, 0);
    if (n->c) {
      sb_puts(b, " where ");
      unparse(b, n->c, 0);
    }
    sb_putc(b, ']');
    break;
  case N_EVENT_DATA: sb_puts(b, "event"); break;
  case N_SUPERVISOR: sb_puts(b, "supervisor"); break;
  case N_ROLE_TARGET: sb_printf(b, "role %s", n->name); break;
  case N_EVENT_REF: sb_puts(b, n->name); break;
  default: sb_puts(b, "…"); break;
  }
  if (paren) sb_putc(b, ')');
}

/* The text of expression n, in the Desc's arena; prefix goes first. */
static const char *expr_text(Graph *g, const char *prefix, const Node *n) {
  StrBuf b = {0};
  sb_puts(&b, prefix);
  unparse(&b, n, 0);
  const char *s = arena_strdup(&g->d->arena, sb_str(&b));
  sb_free(&b);
  return s;
}

/* ---- collecting arrows ---------------------------------------------------- */

typedef struct Source {
  SrcKind kind;
  const Stage *stage;      /* SRC_STAGE */
  const Direction *dir;    /* SRC_DIRECTION */
  const char *event;       /* SRC_EVENT: the event's name */
  const Entity *entity;    /* SRC_ENTITY */
} Source;

/* Adds an arrow to stage `to` (none when it did not resolve). */
static void add_arrow(Graph *g, ArrowKind kind, const Source *from, const Stage *to,
                      const char *cause, const char *action, const char *cond, const char *event,
                      bool back) {
  if (!to) return;
  GArrow a = {kind, {from->kind, 0, NULL}, g->stage_at[to->id], cause, action, cond, event, back};
  switch (from->kind) {
  case SRC_STAGE: a.from.id = g->stage_at[from->stage->id]; break;
  case SRC_DIRECTION: a.from.id = (size_t)from->dir->index; break;
  case SRC_EVENT: a.from.event = from->event; break;
  case SRC_ENTITY: a.from.id = (size_t)from->entity->kind; break;
  }
  graph_add_arrow(g->d, a);
}

static const char *handler_cause(Graph *g, const Node *h) {
  Arena *ar = &g->d->arena;
  const char *once = h->flags & F_ONCE ? " once" : "";
  const char *cal = h->c && h->c->name ? arena_printf(ar, " in %s", h->c->name) : "";
  switch ((HandlerKind)h->op) {
  case HK_ENTER: return "on enter";
  case HK_LEAVE: return "on leave";
  case HK_CREATE: return "on create";
  case HK_CHANGE: {
    StrBuf b = {0};
    sb_puts(&b, "on change ");
    for (const Node *f = h->a; f; f = f->next) sb_printf(&b, "%s%s", f->name, f->next ? ", " : "");
    const char *s = arena_strdup(ar, sb_str(&b));
    sb_free(&b);
    return s;
  }
  case HK_EVENT: return arena_printf(ar, "on %s", h->a ? h->a->name : "?");
  case HK_AFTER: return arena_printf(ar, "%s%s%s", expr_text(g, "after ", h->a), cal, once);
  case HK_AT: return arena_printf(ar, "%s%s%s", expr_text(g, "at ", h->a), cal, once);
  case HK_EVERY: return arena_printf(ar, "%s%s", expr_text(g, "every ", h->a), cal);
  }
  return "?";
}

/* What the statements under a handler are walking in. */
typedef struct Walk {
  Source from;
  const char *cause;
  const char *event;       /* the handler's event, or NULL */
} Walk;

static void walk(Graph *g, const Walk *w, const char *cond, const Node *n);

/* The condition of a branch: the outer one, then this one. */
static const char *join_cond(Graph *g, const char *outer, const char *inner) {
  if (!outer) return arena_printf(&g->d->arena, "if %s", inner);
  return arena_printf(&g->d->arena, "%s, %s", outer, inner);
}

static void walk_if(Graph *g, const Walk *w, const char *cond, const Node *n) {
  StrBuf b = {0};
  unparse(&b, n->a, 0);
  walk(g, w, join_cond(g, cond, sb_str(&b)), n->b);
  if (n->c) {
    /* else: "not (c)"; but "not not c" is "c", and "not (a == b)" is
    ** "a != b" (both compare emptiness the same way) */
    sb_clear(&b);
    const Node *c = n->a;
    if (c && c->kind == N_UNARY && c->op == AOP_NOT) {
      unparse(&b, c->a, 0);
    } else if (c && c->kind == N_BINARY && (c->op == AOP_EQ || c->op == AOP_NE)) {
      Node neg = *c;
      neg.op = c->op == AOP_EQ ? AOP_NE : AOP_EQ;
      unparse(&b, &neg, 0);
    } else {
      sb_puts(&b, "not ");
      unparse(&b, n->a, P_PRIMARY);
    }
    walk(g, w, join_cond(g, cond, sb_str(&b)), n->c);
  }
  sb_free(&b);
}

static void walk_expr(Graph *g, const Walk *w, const char *cond, const Node *n) {
  if (!n || n->kind != N_CREATE || !n->sym) return;
  add_arrow(g, AK_CREATE, &w->from, n->sym, w->cause,
            arena_printf(&g->d->arena, "create %s", n->name), cond, w->event, false);
}

/* Finds moves, creates and converts in a statement list (or in one block,
** whose `next` is NULL), recursively. */
static void walk(Graph *g, const Walk *w, const char *cond, const Node *n) {
  for (; n; n = n->next) {
    switch (n->kind) {
    case N_BLOCK: walk(g, w, cond, n->list); break;
    case N_IF: walk_if(g, w, cond, n); break;
    case N_FOR: walk(g, w, cond, n->b); break;
    case N_LET: case N_EXPR_STMT: walk_expr(g, w, cond, n->a); break;
    case N_MOVE:
      add_arrow(g, AK_ROBOT, &w->from, n->sym, w->cause, n->a ? expr_text(g, "move ", n->a) : NULL,
                cond, w->event, false);
      break;
    case N_CONVERT: {
      const char *action = "convert";
      if (n->flags & (F_WITH_CONTACT | F_WITH_COMPANY)) {
        bool both = (n->flags & F_WITH_CONTACT) && (n->flags & F_WITH_COMPANY);
        action = arena_printf(&g->d->arena, "convert with %s%s%s",
                              n->flags & F_WITH_CONTACT ? "contact" : "", both ? ", " : "",
                              n->flags & F_WITH_COMPANY ? "company" : "");
      }
      add_arrow(g, AK_CONVERT, &w->from, n->sym, w->cause, action, cond, w->event, false);
      break;
    }
    default: break;
    }
  }
}

static void walk_handler(Graph *g, Source from, const Node *h) {
  if (!h || h->kind != N_HANDLER) return;
  Walk w = {from, handler_cause(g, h), NULL};
  if (h->op == HK_EVENT && h->a) {
    w.event = h->a->name;
    if (from.kind == SRC_EVENT) w.from.event = h->a->name;
  }
  if (w.from.kind == SRC_EVENT && !w.from.event) return;  /* only `on event` is top level */
  walk(g, &w, NULL, h->b);
}

static void collect_trigger(Graph *g, const Stage *st, const Node *t) {
  const Node *ev = t->a;
  const char *event = ev ? ev->name : NULL;
  const char *cond = t->b ? expr_text(g, "when ", t->b) : NULL;
  bool back = (t->flags & F_BACK) != 0;
  Source from = {0};
  if (t->list) {
    for (const Node *r = t->list; r; r = r->next) {
      if (!r->sym) continue;
      from = (Source){.kind = SRC_STAGE, .stage = r->sym};
      add_arrow(g, AK_TRIGGER, &from, st, event, NULL, cond, event, back);
    }
  } else if (ev) {
    from = (Source){.kind = SRC_EVENT, .event = ev->name};
    add_arrow(g, AK_TRIGGER, &from, st, event, NULL, cond, event, back);
  } else {
    from = (Source){.kind = SRC_DIRECTION, .dir = st->dir};
    add_arrow(g, AK_TRIGGER, &from, st, event, NULL, cond, event, back);
  }
}

static void collect_arrows(Graph *g) {
  const Model *m = g->m;
  for (size_t i = 0; i < m->directions.len; i++) {
    const Direction *d = m->directions.items[i];
    Source dsrc = {.kind = SRC_DIRECTION, .dir = d};
    for (size_t k = 0; k < d->handlers.len; k++) walk_handler(g, dsrc, d->handlers.items[k]);
    for (size_t j = 0; j < d->stages.len; j++) {
      const Stage *st = d->stages.items[j];
      for (size_t k = 0; k < st->triggers.len; k++) collect_trigger(g, st, st->triggers.items[k]);
      Source ssrc = {.kind = SRC_STAGE, .stage = st};
      for (size_t k = 0; k < st->handlers.len; k++) walk_handler(g, ssrc, st->handlers.items[k]);
    }
  }
  for (int e = 0; e < E__COUNT; e++) {
    const Entity *en = &m->entities[e];
    Source esrc = {.kind = SRC_ENTITY, .entity = en};
    for (size_t k = 0; k < en->handlers.len; k++) walk_handler(g, esrc, en->handlers.items[k]);
  }
  Source top = {.kind = SRC_EVENT};
  for (size_t k = 0; k < m->top_handlers.len; k++) walk_handler(g, top, m->top_handlers.items[k]);
}

/* ---- the Model's tables ----------------------------------------------------- */

/* The Desc's copy of enum en, made once. */
static const GEnum *enum_of(Graph *g, const EnumDef *en) {
  for (size_t i = 0; i < g->enum_from.len; i++)
    if (g->enum_from.items[i] == en) return g->enum_to.items[i];
  GEnum *ge = ARENA_NEW(&g->d->arena, GEnum);
  ge->name = en->owner;
  ge->title = en->title;
  ge->nvalues = en->nvalues;
  ge->values = arena_alloc(&g->d->arena, (en->nvalues ? en->nvalues : 1) * sizeof *ge->values);
  for (size_t i = 0; i < en->nvalues; i++)
    ge->values[i] = (GEnumValue){en->values[i].name, en->values[i].title};
  vec_push(&g->enum_from, en);
  vec_push(&g->enum_to, ge);
  return ge;
}

static GField field_of(Graph *g, const Field *f) {
  GField gf = {f->name, f->title, NULL, NULL, f->required, f->computed != NULL, f->builtin,
               f->readonly};
  if (f->type) gf.type = type_str(&g->d->arena, f->type);
  if (f->type && f->type->kind == T_ENUM && f->type->enm) gf.enm = enum_of(g, f->type->enm);
  return gf;
}

static void collect_tables(Graph *g) {
  const Model *m = g->m;
  Desc *d = g->d;
  const Node *pk = m->pack;
  if (pk) {
    d->has_pack = true;
    d->pack_name = pk->name;
    d->pack_title = pk->title;
    d->pack_version = pk->text;
  }
  for (size_t i = 0; i < m->directions.len; i++) {
    const Direction *dir = m->directions.items[i];
    GDirection gd = {dir->name, dir->title, dir->entity ? dir->entity->name : NULL, d->stages.len,
                     dir->stages.len, false};
    for (size_t j = 0; j < dir->stages.len; j++) {
      const Stage *s = dir->stages.items[j];
      GStage gs = {s->name, s->title, (int)s->kind, s->is_auto, i, j};
      g->stage_at[s->id] = d->stages.len;
      vec_push(&d->stages, gs);
    }
    vec_push(&d->dirs, gd);
  }
  for (int e = 0; e < E__COUNT; e++) {
    const Entity *en = &m->entities[e];
    GEntity ge = {en->name, en->title, {0}, false};
    for (size_t i = 0; i < en->fields.len; i++)
      vec_push(&ge.fields, field_of(g, en->fields.items[i]));
    vec_push(&d->entities, ge);
  }
  for (size_t i = 0; i < m->enums.len; i++) vec_push(&d->enums, enum_of(g, m->enums.items[i]));
  for (size_t i = 0; i < m->roles.len; i++) {
    GNamed r = {m->roles.items[i]->name, m->roles.items[i]->title};
    vec_push(&d->roles, r);
  }
  for (size_t i = 0; i < m->events.len; i++) {
    const EventDef *ev = m->events.items[i];
    GEvent ge = {ev->name, ev->title, ev->builtin, {0}};
    for (size_t k = 0; k < ev->fields.len; k++)
      vec_push(&ge.payload, field_of(g, ev->fields.items[k]));
    vec_push(&d->events, ge);
  }
  for (size_t i = 0; i < m->calendars.len; i++) {
    const Calendar *c = m->calendars.items[i];
    GCalendar gc = {c->name, c->title, c->timezone, c->is_default};
    vec_push(&d->calendars, gc);
  }
}

/* ---- shared helpers for the writers ----------------------------------------- */

static const char *title_of(const char *title, const char *name) {
  return title && *title ? title : name;
}

static const char *stage_id(Desc *d, size_t s) {
  const GStage *st = &d->stages.items[s];
  return arena_printf(&d->arena, "%s__%s", d->dirs.items[st->dir].name, st->name);
}

static const char *event_id(Desc *d, const char *name) {
  StrBuf b = {0};
  sb_puts(&b, "event__");
  for (const char *p = name; *p; p++) {
    if (*p == '.') sb_puts(&b, "__");
    else sb_putc(&b, *p);
  }
  const char *s = arena_strdup(&d->arena, sb_str(&b));
  sb_free(&b);
  return s;
}

static const char *source_id(Desc *d, const GSource *s) {
  switch (s->kind) {
  case SRC_STAGE: return stage_id(d, s->id);
  case SRC_DIRECTION: return arena_printf(&d->arena, "from__%s", d->dirs.items[s->id].name);
  case SRC_EVENT: return event_id(d, s->event);
  case SRC_ENTITY: return arena_printf(&d->arena, "entity__%s", d->entities.items[s->id].name);
  }
  return "?";
}

/* At most max code points of s, with "…" when cut. */
static const char *clip(Desc *d, const char *s, size_t max) {
  size_t n = 0;
  for (const char *p = s; *p; p++) {
    if (((unsigned char)*p & 0xC0) != 0x80 && n++ == max)
      return arena_printf(&d->arena, "%.*s…", (int)(p - s), s);
  }
  return s;
}

/* Appends part to b, after sep if b has text already. */
static void add_part(StrBuf *b, const char *sep, const char *part) {
  if (!part) return;
  if (b->len) sb_puts(b, sep);
  sb_puts(b, part);
}

/* The label of an arrow. A diagram (cond_max > 0) puts the condition on a
** line of its own (after nl), clips it, and leaves the cause out when the
** arrow starts at its own event's node; JSON (cond_max 0) gets it all on one
** line. */
static const char *arrow_label(Desc *d, const GArrow *a, const char *nl, size_t cond_max) {
  StrBuf b = {0};
  bool at_event = a->from.kind == SRC_EVENT && cond_max;
  if (!at_event) add_part(&b, "", a->cause);
  add_part(&b, ": ", a->action);
  if (a->cond) add_part(&b, nl, cond_max ? clip(d, a->cond, cond_max) : a->cond);
  if (a->back) add_part(&b, nl, "may move back");
  const char *s = arena_strdup(&d->arena, sb_str(&b));
  sb_free(&b);
  return s;
}

/* Does the arrow go against the layout: backwards (or sideways) inside a
** direction, or to a direction declared earlier? Such arrows must not pull
** the layout, so stages stay in their order and directions flow from the
** first declared to the last. */
static bool against_order(const Desc *d, const GArrow *a) {
  const GStage *to = &d->stages.items[a->to];
  size_t from;
  if (a->from.kind == SRC_STAGE) from = d->stages.items[a->from.id].dir;
  else if (a->from.kind == SRC_DIRECTION) from = a->from.id;
  else return false;
  if (from != to->dir) return from >= to->dir;   /* directions flow in their order */
  return a->from.kind == SRC_DIRECTION || d->stages.items[a->from.id].index >= to->index;
}

/* The last in-progress stage of a direction, which success and failure
** stages follow; returns false when there is none. */
static bool last_progress(const Desc *d, const GDirection *dir, size_t *out) {
  bool found = false;
  for (size_t j = dir->first; j < dir->first + dir->nstages; j++) {
    if (d->stages.items[j].kind == GK_PROGRESS) {
      *out = j;
      found = true;
    }
  }
  return found;
}

static bool any_entity_used(const Desc *d) {
  for (size_t e = 0; e < d->entities.len; e++)
    if (d->entities.items[e].used) return true;
  return false;
}

/* ---- dot ------------------------------------------------------------------------ */

/* A dot string, quoted: quotes and backslashes escaped, newlines as \n. */
static void dot_str(FILE *out, const char *s) {
  fputc('"', out);
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', out);
    if (*s == '\n') fputs("\\n", out);
    else if (*s != '\r') fputc(*s, out);
  }
  fputc('"', out);
}

/* The pack's caption: its title (or name) and version. */
static const char *pack_caption(Desc *d) {
  const char *t = title_of(d->pack_title, d->pack_name);
  return d->pack_version ? arena_printf(&d->arena, "%s %s", t, d->pack_version) : t;
}

static void write_dot(Desc *d, FILE *out) {
  fputs("digraph ", out);
  dot_str(out, d->has_pack && d->pack_name ? d->pack_name : "funnel");
  fputs(" {\n", out);
  fputs("  graph [rankdir=LR, nodesep=0.3, ranksep=0.6, fontname=\"Helvetica\"", out);
  if (d->has_pack) {
    fputs(", labelloc=t, fontsize=18, label=", out);
    dot_str(out, pack_caption(d));
  }
  fputs("];\n", out);
  fprintf(out, "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, "
               "fillcolor=\"%s\", color=\"%s\"];\n", C_PROGRESS_FILL, C_PROGRESS_LINE);
  fputs("  edge [fontname=\"Helvetica\", fontsize=9];\n", out);

  for (size_t i = 0; i < d->dirs.len; i++) {
    const GDirection *dir = &d->dirs.items[i];
    fputs("\n  subgraph ", out);
    dot_str(out, arena_printf(&d->arena, "cluster_%s", dir->name));
    fputs(" {\n    label=", out);
    dot_str(out, title_of(dir->title, dir->name));
    fputs(";\n    style=\"rounded,filled\"; fillcolor=\"#fafafa\"; color=\"#cfd8dc\"; "
          "fontsize=13;\n", out);
    for (size_t j = dir->first; j < dir->first + dir->nstages; j++) {
      const GStage *s = &d->stages.items[j];
      fputs("    ", out);
      dot_str(out, stage_id(d, j));
      fputs(" [label=", out);
      dot_str(out, title_of(s->title, s->name));
      if (s->kind == GK_SUCCESS)
        fprintf(out, ", fillcolor=\"%s\", color=\"%s\"", C_SUCCESS_FILL, C_SUCCESS_LINE);
      else if (s->kind == GK_FAILURE)
        fprintf(out, ", fillcolor=\"%s\", color=\"%s\"", C_FAILURE_FILL, C_FAILURE_LINE);
      if (s->is_auto) fputs(", style=\"rounded,filled,dashed\"", out);
      fputs(", tooltip=", out);
      dot_str(out, arena_printf(&d->arena, "%s.%s", dir->name, s->name));
      fputs("];\n", out);
    }
    if (dir->used) {
      fputs("    ", out);
      dot_str(out, arena_printf(&d->arena, "from__%s", dir->name));
      fprintf(out, " [label=\"any stage\", shape=plaintext, style=\"\", fontcolor=\"%s\", "
                   "fontsize=10];\n", C_MUTED);
    }
    /* the natural order, then invisible edges that put the closing stages last */
    bool has_prev = false;
    size_t prev = 0, last = 0;
    for (size_t j = dir->first; j < dir->first + dir->nstages; j++) {
      if (d->stages.items[j].kind != GK_PROGRESS) continue;
      if (has_prev) {
        fputs("    ", out);
        dot_str(out, stage_id(d, prev));
        fputs(" -> ", out);
        dot_str(out, stage_id(d, j));
        fprintf(out, " [color=\"%s\", arrowsize=0.6, weight=10];\n", C_ORDER);
      }
      prev = j;
      has_prev = true;
    }
    if (last_progress(d, dir, &last)) {
      for (size_t j = dir->first; j < dir->first + dir->nstages; j++) {
        if (d->stages.items[j].kind == GK_PROGRESS) continue;
        fputs("    ", out);
        dot_str(out, stage_id(d, last));
        fputs(" -> ", out);
        dot_str(out, stage_id(d, j));
        fputs(" [style=invis];\n", out);
      }
    }
    fputs("  }\n", out);
  }

  if (d->event_nodes.len || any_entity_used(d)) fputc('\n', out);
  for (size_t i = 0; i < d->event_nodes.len; i++) {
    fputs("  ", out);
    dot_str(out, event_id(d, d->event_nodes.items[i].name));
    fputs(" [label=", out);
    dot_str(out, d->event_nodes.items[i].title);
    fprintf(out, ", shape=cds, style=filled, fillcolor=\"%s\", color=\"%s\", tooltip=",
            C_EVENT_FILL, C_TRIGGER);
    dot_str(out, d->event_nodes.items[i].name);
    fputs("];\n", out);
  }
  for (size_t e = 0; e < d->entities.len; e++) {
    const GEntity *en = &d->entities.items[e];
    if (!en->used) continue;
    fputs("  ", out);
    dot_str(out, arena_printf(&d->arena, "entity__%s", en->name));
    fputs(" [label=", out);
    dot_str(out, title_of(en->title, en->name));
    fprintf(out, ", shape=cylinder, style=filled, fillcolor=\"%s\", color=\"%s\"];\n",
            C_ENTITY_FILL, C_CREATE);
  }

  /* Directions stack in declaration order: an invisible node whose edges
  ** keep their order (ordering=out) leads to each direction's first stage. */
  if (d->dirs.len > 1) {
    fputs("\n  \"direction__order\" [style=invis, label=\"\", width=0, height=0, fixedsize=true, "
          "ordering=out];\n", out);
    for (size_t i = 0; i < d->dirs.len; i++) {
      const GDirection *dir = &d->dirs.items[i];
      if (!dir->nstages) continue;
      fputs("  \"direction__order\" -> ", out);
      dot_str(out, stage_id(d, dir->first));
      fputs(" [style=invis];\n", out);
    }
  }

  if (d->arrows.len) fputc('\n', out);
  for (size_t i = 0; i < d->arrows.len; i++) {
    const GArrow *a = &d->arrows.items[i];
    const char *color = kind_colors[a->kind];
    fputs("  ", out);
    dot_str(out, source_id(d, &a->from));
    fputs(" -> ", out);
    dot_str(out, stage_id(d, a->to));
    fputs(" [", out);
    const char *label = arrow_label(d, a, "\n", LABEL_MAX_COND);
    if (*label) {
      fputs("label=", out);
      dot_str(out, label);
      fputs(", ", out);
    }
    fprintf(out, "color=\"%s\", fontcolor=\"%s\"", color, color);
    if (a->kind == AK_CREATE) fputs(", style=dashed", out);
    if (a->kind == AK_CONVERT) fputs(", penwidth=2", out);
    if (against_order(d, a)) fputs(", constraint=false", out);
    fputs("];\n", out);
  }
  fputs("}\n", out);
}

/* ---- mermaid ---------------------------------------------------------------- */

/* A mermaid label, quoted: entity codes for the characters mermaid reads
** itself (quotes, #, <, >, &, backquote, backslash); nl (may be NULL) replaces each newline. */
static void mmd_str(FILE *out, const char *s, const char *nl) {
  fputc('"', out);
  for (; s && *s; s++) {
    switch (*s) {
    case '"': fputs("#quot;", out); break;
    case '#': fputs("#35;", out); break;
    case '<': fputs("#lt;", out); break;
    case '>': fputs("#gt;", out); break;
    case '&': fputs("#amp;", out); break;
    case '`': fputs("#96;", out); break;
    case '\\': fputs("#92;", out); break;
    case '\r': break;
    case '\n': fputs(nl ? nl : " ", out); break;
    default: fputc(*s, out);
    }
  }
  fputc('"', out);
}

/* Link indexes of one style, for linkStyle. */
typedef VEC(size_t) Links;

static void mmd_link_style(FILE *out, const Links *l, const char *style) {
  if (!l->len) return;
  fputs("  linkStyle ", out);
  for (size_t i = 0; i < l->len; i++) fprintf(out, "%s%zu", i ? "," : "", l->items[i]);
  fprintf(out, " %s\n", style);
}

static void mmd_class(FILE *out, const char *cls, const char *const *ids, size_t n) {
  if (!n) return;
  fputs("  class ", out);
  for (size_t i = 0; i < n; i++) fprintf(out, "%s%s", i ? "," : "", ids[i]);
  fprintf(out, " %s\n", cls);
}

static void write_mermaid(Desc *d, FILE *out) {
  VEC(const char *) by_kind[3] = {{0}};   /* progress, success, failure stage ids */
  VEC(const char *) autos = {0}, anys = {0}, evs = {0}, ents = {0};
  Links order = {0}, by_arrow[4] = {{0}};
  size_t nlinks = 0;

  if (d->has_pack) {
    fputs("---\ntitle: ", out);   /* YAML quotes escape as dot's do */
    dot_str(out, pack_caption(d));
    fputs("\n---\n", out);
  }
  fputs("flowchart LR\n", out);
  for (size_t i = 0; i < d->dirs.len; i++) {
    const GDirection *dir = &d->dirs.items[i];
    fprintf(out, "  subgraph cluster_%s [", dir->name);
    mmd_str(out, title_of(dir->title, dir->name), NULL);
    fputs("]\n    direction LR\n", out);
    for (size_t j = dir->first; j < dir->first + dir->nstages; j++) {
      const GStage *s = &d->stages.items[j];
      const char *id = stage_id(d, j);
      fprintf(out, "    %s[", id);
      mmd_str(out, title_of(s->title, s->name), "<br/>");
      fputs("]\n", out);
      vec_push(&by_kind[s->kind >= 0 && s->kind <= GK_FAILURE ? s->kind : 0], id);
      if (s->is_auto) vec_push(&autos, id);
    }
    if (dir->used) {
      const char *id = arena_printf(&d->arena, "from__%s", dir->name);
      fprintf(out, "    %s([\"any stage\"])\n", id);
      vec_push(&anys, id);
    }
    bool has_prev = false;
    size_t prev = 0, last = 0;
    for (size_t j = dir->first; j < dir->first + dir->nstages; j++) {
      if (d->stages.items[j].kind != GK_PROGRESS) continue;
      if (has_prev) {
        fprintf(out, "    %s --> %s\n", stage_id(d, prev), stage_id(d, j));
        vec_push(&order, nlinks);
        nlinks++;
      }
      prev = j;
      has_prev = true;
    }
    if (last_progress(d, dir, &last)) {
      for (size_t j = dir->first; j < dir->first + dir->nstages; j++) {
        if (d->stages.items[j].kind == GK_PROGRESS) continue;
        fprintf(out, "    %s ~~~ %s\n", stage_id(d, last), stage_id(d, j));
        nlinks++;
      }
    }
    fputs("  end\n", out);
  }
  for (size_t i = 0; i < d->event_nodes.len; i++) {
    const char *id = event_id(d, d->event_nodes.items[i].name);
    fprintf(out, "  %s{{", id);
    mmd_str(out, d->event_nodes.items[i].title, "<br/>");
    fputs("}}\n", out);
    vec_push(&evs, id);
  }
  for (size_t e = 0; e < d->entities.len; e++) {
    const GEntity *en = &d->entities.items[e];
    if (!en->used) continue;
    const char *id = arena_printf(&d->arena, "entity__%s", en->name);
    fprintf(out, "  %s[(", id);
    mmd_str(out, title_of(en->title, en->name), NULL);
    fputs(")]\n", out);
    vec_push(&ents, id);
  }
  for (size_t i = 0; i < d->arrows.len; i++) {
    const GArrow *a = &d->arrows.items[i];
    static const char *const links[] = {"-->", "-->", "-.->", "==>"};
    fprintf(out, "  %s %s", source_id(d, &a->from), links[a->kind]);
    const char *label = arrow_label(d, a, "\n", LABEL_MAX_COND);
    if (*label) {
      fputc('|', out);
      mmd_str(out, label, "<br/>");
      fputc('|', out);
    }
    fprintf(out, " %s\n", stage_id(d, a->to));
    vec_push(&by_arrow[a->kind], nlinks);
    nlinks++;
  }

  fprintf(out, "  classDef progress fill:%s,stroke:%s,color:#263238\n", C_PROGRESS_FILL,
          C_PROGRESS_LINE);
  fprintf(out, "  classDef success fill:%s,stroke:%s,color:#1b5e20\n", C_SUCCESS_FILL,
          C_SUCCESS_LINE);
  fprintf(out, "  classDef failure fill:%s,stroke:%s,color:#b71c1c\n", C_FAILURE_FILL,
          C_FAILURE_LINE);
  fputs("  classDef auto stroke-dasharray:5 5\n", out);
  fprintf(out, "  classDef event fill:%s,stroke:%s\n", C_EVENT_FILL, C_TRIGGER);
  fprintf(out, "  classDef entity fill:%s,stroke:%s\n", C_ENTITY_FILL, C_CREATE);
  fprintf(out, "  classDef any fill:none,stroke:none,color:%s\n", C_MUTED);
  static const char *const kinds[] = {"progress", "success", "failure"};
  for (int k = 0; k < 3; k++) mmd_class(out, kinds[k], by_kind[k].items, by_kind[k].len);
  mmd_class(out, "auto", autos.items, autos.len);
  mmd_class(out, "event", evs.items, evs.len);
  mmd_class(out, "entity", ents.items, ents.len);
  mmd_class(out, "any", anys.items, anys.len);
  mmd_link_style(out, &order, "stroke:" C_ORDER);
  for (int k = 0; k < 4; k++) {
    const char *style = arena_printf(&d->arena, "stroke:%s,color:%s%s", kind_colors[k],
                                     kind_colors[k], k == AK_CREATE ? ",stroke-dasharray:5 5" : "");
    mmd_link_style(out, &by_arrow[k], style);
  }

  for (int k = 0; k < 3; k++) vec_free(&by_kind[k]);
  for (int k = 0; k < 4; k++) vec_free(&by_arrow[k]);
  vec_free(&autos);
  vec_free(&anys);
  vec_free(&evs);
  vec_free(&ents);
  vec_free(&order);
}

/* ---- json ------------------------------------------------------------------------ */

/* A JSON string, or null for NULL (or for text that is not UTF-8). */
static json_t *jstr(const char *s) {
  json_t *j = s ? json_string(s) : NULL;
  return j ? j : json_null();
}

static json_t *json_stage_ref(const Desc *d, size_t s) {
  json_t *o = json_object();
  json_object_set_new(o, "direction", jstr(d->dirs.items[d->stages.items[s].dir].name));
  json_object_set_new(o, "stage", jstr(d->stages.items[s].name));
  return o;
}

static json_t *json_enum_values(const GEnum *en) {
  json_t *vals = json_array();
  for (size_t i = 0; i < en->nvalues; i++) {
    json_t *v = json_object();
    json_object_set_new(v, "id", jstr(en->values[i].name));
    json_object_set_new(v, "title", jstr(en->values[i].title));
    json_array_append_new(vals, v);
  }
  return vals;
}

static json_t *json_field(const GField *f, bool full) {
  json_t *o = json_object();
  json_object_set_new(o, "id", jstr(f->name));
  if (full) json_object_set_new(o, "title", jstr(f->title));
  json_object_set_new(o, "type", jstr(f->type));
  if (f->enm) json_object_set_new(o, "values", json_enum_values(f->enm));
  if (full) {
    json_object_set_new(o, "required", json_boolean(f->required));
    json_object_set_new(o, "computed", json_boolean(f->computed));
    json_object_set_new(o, "builtin", json_boolean(f->builtin));
    json_object_set_new(o, "readonly", json_boolean(f->readonly));
  }
  return o;
}

static void write_json(Desc *d, FILE *out) {
  json_t *root = json_object();

  if (d->has_pack) {
    json_t *p = json_object();
    json_object_set_new(p, "id", jstr(d->pack_name));
    json_object_set_new(p, "title", jstr(d->pack_title));
    json_object_set_new(p, "version", jstr(d->pack_version));
    json_object_set_new(root, "pack", p);
  } else {
    json_object_set_new(root, "pack", json_null());
  }

  json_t *dirs = json_array();
  for (size_t i = 0; i < d->dirs.len; i++) {
    const GDirection *dir = &d->dirs.items[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(dir->name));
    json_object_set_new(o, "title", jstr(dir->title));
    json_object_set_new(o, "entity", jstr(dir->entity));
    json_t *stages = json_array();
    for (size_t j = dir->first; j < dir->first + dir->nstages; j++) {
      const GStage *s = &d->stages.items[j];
      static const char *const sk[] = {"progress", "success", "failure"};
      json_t *so = json_object();
      json_object_set_new(so, "id", jstr(s->name));
      json_object_set_new(so, "title", jstr(s->title));
      bool known = s->kind >= 0 && s->kind <= GK_FAILURE;
      json_object_set_new(so, "kind", jstr(known ? sk[s->kind] : NULL));
      json_object_set_new(so, "auto", json_boolean(s->is_auto));
      json_array_append_new(stages, so);
    }
    json_object_set_new(o, "stages", stages);
    json_array_append_new(dirs, o);
  }
  json_object_set_new(root, "directions", dirs);

  json_t *arrows = json_array();
  for (size_t i = 0; i < d->arrows.len; i++) {
    const GArrow *a = &d->arrows.items[i];
    json_t *o = json_object();
    json_t *from;
    switch (a->from.kind) {
    case SRC_STAGE: from = json_stage_ref(d, a->from.id); break;
    case SRC_DIRECTION:
      from = json_object();
      json_object_set_new(from, "direction", jstr(d->dirs.items[a->from.id].name));
      json_object_set_new(from, "stage", json_null());
      break;
    default: from = json_null(); break;
    }
    json_object_set_new(o, "from", from);
    json_object_set_new(o, "to", json_stage_ref(d, a->to));
    json_object_set_new(o, "kind", jstr(kind_names[a->kind]));
    json_object_set_new(o, "label", jstr(arrow_label(d, a, " ", 0)));
    if (a->event) json_object_set_new(o, "event", jstr(a->event));
    if (a->from.kind == SRC_ENTITY)
      json_object_set_new(o, "entity", jstr(d->entities.items[a->from.id].name));
    json_array_append_new(arrows, o);
  }
  json_object_set_new(root, "arrows", arrows);

  json_t *ents = json_array();
  for (size_t e = 0; e < d->entities.len; e++) {
    const GEntity *en = &d->entities.items[e];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(en->name));
    json_object_set_new(o, "title", jstr(en->title));
    json_t *fields = json_array();
    for (size_t i = 0; i < en->fields.len; i++)
      json_array_append_new(fields, json_field(&en->fields.items[i], true));
    json_object_set_new(o, "fields", fields);
    json_array_append_new(ents, o);
  }
  json_object_set_new(root, "entities", ents);

  json_t *enums = json_array();
  for (size_t i = 0; i < d->enums.len; i++) {
    const GEnum *en = d->enums.items[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(en->name));
    json_object_set_new(o, "title", jstr(en->title));
    json_object_set_new(o, "values", json_enum_values(en));
    json_array_append_new(enums, o);
  }
  json_object_set_new(root, "enums", enums);

  json_t *roles = json_array();
  for (size_t i = 0; i < d->roles.len; i++) {
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(d->roles.items[i].name));
    json_object_set_new(o, "title", jstr(d->roles.items[i].title));
    json_array_append_new(roles, o);
  }
  json_object_set_new(root, "roles", roles);

  json_t *events = json_array();
  for (size_t i = 0; i < d->events.len; i++) {
    const GEvent *ev = &d->events.items[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(ev->name));
    json_object_set_new(o, "title", jstr(ev->title));
    json_object_set_new(o, "builtin", json_boolean(ev->builtin));
    json_t *payload = json_array();
    for (size_t k = 0; k < ev->payload.len; k++)
      json_array_append_new(payload, json_field(&ev->payload.items[k], false));
    json_object_set_new(o, "payload", payload);
    json_array_append_new(events, o);
  }
  json_object_set_new(root, "events", events);

  json_t *cals = json_array();
  for (size_t i = 0; i < d->calendars.len; i++) {
    const GCalendar *c = &d->calendars.items[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(c->name));
    json_object_set_new(o, "title", jstr(c->title));
    json_object_set_new(o, "timezone", jstr(c->timezone));
    json_object_set_new(o, "default", json_boolean(c->is_default));
    json_array_append_new(cals, o);
  }
  json_object_set_new(root, "calendars", cals);

  char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (s) fprintf(out, "%s\n", s);
  free(s);
  json_decref(root);
}

/* ---- entry points --------------------------------------------------------------- */

bool graph_parse_format(const char *s, GraphFormat *out) {
  static const struct { const char *name; GraphFormat fmt; } formats[] = {
    {"dot", GRAPH_DOT}, {"mermaid", GRAPH_MERMAID}, {"json", GRAPH_JSON},
  };
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    if (!strcmp(s, formats[i].name)) {
      *out = formats[i].fmt;
      return true;
    }
  }
  return false;
}

void graph_render(Desc *d, FILE *out, GraphFormat fmt) {
  switch (fmt) {
  case GRAPH_DOT: write_dot(d, out); break;
  case GRAPH_MERMAID: write_mermaid(d, out); break;
  case GRAPH_JSON: write_json(d, out); break;
  }
}

void graph_write(FILE *out, const Model *m, GraphFormat fmt) {
  Desc d;
  graph_desc_init(&d);
  Graph g = {0};
  g.m = m;
  g.d = &d;
  g.stage_at = xcalloc(m->stages.len + 1, sizeof *g.stage_at);
  collect_tables(&g);
  collect_arrows(&g);
  graph_render(&d, out, fmt);
  free(g.stage_at);
  vec_free(&g.enum_from);
  vec_free(&g.enum_to);
  graph_desc_free(&d);
}

void graph_write_chunk(FILE *out, const Chunk *c, GraphFormat fmt) {
  Desc d;
  graph_desc_init(&d);
  graph_desc_from_chunk(&d, c);
  graph_render(&d, out, fmt);
  graph_desc_free(&d);
}
