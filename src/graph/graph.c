/*
** graph.c: `funnel graph`, a checked pack drawn as dot, mermaid or JSON.
**
** Design. Drawing happens in two steps. First collect() walks the model in
** declaration order and turns every trigger and every move, create and
** convert found in a handler into an Arrow: a source, a target stage, a
** kind and a label in three parts: the cause ("email.read", "after 3 days"),
** the action when it is not plain ("create deal", "convert with contact",
** "move d") and the condition ("when sum > 0", "if not closed"). Then one
** writer per format renders the same arrow list, so the three formats always
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

typedef enum ArrowKind { AK_TRIGGER, AK_ROBOT, AK_CREATE, AK_CONVERT } ArrowKind;

static const char *const kind_names[] = {"trigger", "robot", "create", "convert"};
static const char *const kind_colors[] = {C_TRIGGER, C_ROBOT, C_CREATE, C_CONVERT};

typedef enum SrcKind { SRC_STAGE, SRC_DIRECTION, SRC_EVENT, SRC_ENTITY } SrcKind;

typedef struct Source {
  SrcKind kind;
  const Stage *stage;      /* SRC_STAGE */
  const Direction *dir;    /* SRC_DIRECTION */
  const char *event;       /* SRC_EVENT: the event's name */
  const EventDef *evdef;   /* SRC_EVENT: its definition, if resolved */
  const Entity *entity;    /* SRC_ENTITY */
} Source;

typedef struct Arrow {
  ArrowKind kind;
  Source from;
  const Stage *to;
  const char *cause;       /* "email.read", "on enter", "after 3 days"; may be NULL */
  const char *action;      /* "create deal", "convert", "move d"; NULL for a plain move */
  const char *cond;        /* "when sum > 0", "if x > 1"; may be NULL */
  const char *event;       /* the event that causes it, or NULL */
  bool back;               /* a trigger that may move back */
} Arrow;

/* An event node: one per event that starts an arrow. */
typedef struct EventNode {
  const char *name, *title;
} EventNode;

typedef struct Graph {
  const Model *m;
  Arena arena;             /* labels and ids; freed with the graph */
  VEC(Arrow) arrows;
  VEC(EventNode) events;
  bool *dir_used;          /* by Direction.index: the "any stage" node is drawn */
  bool entity_used[E__COUNT];
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

/* The text of expression n, in the graph's arena; prefix goes first. */
static const char *expr_text(Graph *g, const char *prefix, const Node *n) {
  StrBuf b = {0};
  sb_puts(&b, prefix);
  unparse(&b, n, 0);
  const char *s = arena_strdup(&g->arena, sb_str(&b));
  sb_free(&b);
  return s;
}

/* ---- collecting arrows ---------------------------------------------------- */

static bool same_source(const Source *x, const Source *y) {
  return x->kind == y->kind && x->stage == y->stage && x->dir == y->dir &&
         x->entity == y->entity &&
         (x->event == y->event || (x->event && y->event && !strcmp(x->event, y->event)));
}

static bool same_str(const char *x, const char *y) {
  return x == y || (x && y && !strcmp(x, y));
}

static void note_event(Graph *g, const char *name, const EventDef *ev) {
  for (size_t i = 0; i < g->events.len; i++)
    if (!strcmp(g->events.items[i].name, name)) return;
  EventNode e = {name, ev && ev->title ? ev->title : name};
  vec_push(&g->events, e);
}

/* Adds an arrow unless the same one is already there. */
static void add_arrow(Graph *g, Arrow a) {
  if (!a.to) return;
  for (size_t i = 0; i < g->arrows.len; i++) {
    const Arrow *o = &g->arrows.items[i];
    if (o->kind == a.kind && o->to == a.to && same_source(&o->from, &a.from) &&
        same_str(o->cause, a.cause) && same_str(o->action, a.action) &&
        same_str(o->cond, a.cond) && o->back == a.back)
      return;
  }
  switch (a.from.kind) {
  case SRC_DIRECTION:
    for (size_t i = 0; i < g->m->directions.len; i++)
      if (g->m->directions.items[i] == a.from.dir) g->dir_used[i] = true;
    break;
  case SRC_EVENT: note_event(g, a.from.event, a.from.evdef); break;
  case SRC_ENTITY: g->entity_used[a.from.entity->kind] = true; break;
  default: break;
  }
  vec_push(&g->arrows, a);
}

static const char *handler_cause(Graph *g, const Node *h) {
  const char *once = h->flags & F_ONCE ? " once" : "";
  const char *cal = h->c && h->c->name ? arena_printf(&g->arena, " in %s", h->c->name) : "";
  switch ((HandlerKind)h->op) {
  case HK_ENTER: return "on enter";
  case HK_LEAVE: return "on leave";
  case HK_CREATE: return "on create";
  case HK_CHANGE: {
    StrBuf b = {0};
    sb_puts(&b, "on change ");
    for (const Node *f = h->a; f; f = f->next) sb_printf(&b, "%s%s", f->name, f->next ? ", " : "");
    const char *s = arena_strdup(&g->arena, sb_str(&b));
    sb_free(&b);
    return s;
  }
  case HK_EVENT: return arena_printf(&g->arena, "on %s", h->a ? h->a->name : "?");
  case HK_AFTER:
    return arena_printf(&g->arena, "%s%s%s", expr_text(g, "after ", h->a), cal, once);
  case HK_AT: return arena_printf(&g->arena, "%s%s%s", expr_text(g, "at ", h->a), cal, once);
  case HK_EVERY: return arena_printf(&g->arena, "%s%s", expr_text(g, "every ", h->a), cal);
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
  if (!outer) return arena_printf(&g->arena, "if %s", inner);
  return arena_printf(&g->arena, "%s, %s", outer, inner);
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
  Arrow a = {AK_CREATE, w->from, n->sym, w->cause, NULL, cond, w->event, false};
  a.action = arena_printf(&g->arena, "create %s", n->name);
  add_arrow(g, a);
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
    case N_MOVE: {
      Arrow a = {AK_ROBOT, w->from, n->sym, w->cause, NULL, cond, w->event, false};
      if (n->a) a.action = expr_text(g, "move ", n->a);
      add_arrow(g, a);
      break;
    }
    case N_CONVERT: {
      Arrow a = {AK_CONVERT, w->from, n->sym, w->cause, "convert", cond, w->event, false};
      if (n->flags & (F_WITH_CONTACT | F_WITH_COMPANY))
        a.action = arena_printf(&g->arena, "convert with %s%s%s",
                               n->flags & F_WITH_CONTACT ? "contact" : "",
                               (n->flags & F_WITH_CONTACT) && (n->flags & F_WITH_COMPANY) ? ", " : "",
                               n->flags & F_WITH_COMPANY ? "company" : "");
      add_arrow(g, a);
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
    if (from.kind == SRC_EVENT) {
      w.from.event = h->a->name;
      w.from.evdef = h->a->sym;
    }
  }
  if (w.from.kind == SRC_EVENT && !w.from.event) return;  /* only `on event` is top level */
  walk(g, &w, NULL, h->b);
}

static void collect_trigger(Graph *g, const Stage *st, const Node *t) {
  const Node *ev = t->a;
  Arrow a = {AK_TRIGGER, {0}, st, ev ? ev->name : NULL, NULL, NULL, ev ? ev->name : NULL,
             (t->flags & F_BACK) != 0};
  if (t->b) a.cond = expr_text(g, "when ", t->b);
  if (t->list) {
    for (const Node *r = t->list; r; r = r->next) {
      if (!r->sym) continue;
      a.from = (Source){.kind = SRC_STAGE, .stage = r->sym};
      add_arrow(g, a);
    }
  } else if (ev) {
    a.from = (Source){.kind = SRC_EVENT, .event = ev->name, .evdef = ev->sym};
    add_arrow(g, a);
  } else {
    a.from = (Source){.kind = SRC_DIRECTION, .dir = st->dir};
    add_arrow(g, a);
  }
}

static void collect(Graph *g) {
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

/* ---- shared helpers for the writers ----------------------------------------- */

static const char *title_of(const char *title, const char *name) {
  return title && *title ? title : name;
}

static const char *stage_id(Graph *g, const Stage *s) {
  return arena_printf(&g->arena, "%s__%s", s->dir ? s->dir->name : "_", s->name);
}

static const char *event_id(Graph *g, const char *name) {
  StrBuf b = {0};
  sb_puts(&b, "event__");
  for (const char *p = name; *p; p++) {
    if (*p == '.') sb_puts(&b, "__");
    else sb_putc(&b, *p);
  }
  const char *s = arena_strdup(&g->arena, sb_str(&b));
  sb_free(&b);
  return s;
}

static const char *source_id(Graph *g, const Source *s) {
  switch (s->kind) {
  case SRC_STAGE: return stage_id(g, s->stage);
  case SRC_DIRECTION: return arena_printf(&g->arena, "from__%s", s->dir->name);
  case SRC_EVENT: return event_id(g, s->event);
  case SRC_ENTITY: return arena_printf(&g->arena, "entity__%s", s->entity->name);
  }
  return "?";
}

/* At most max code points of s, with "…" when cut. */
static const char *clip(Graph *g, const char *s, size_t max) {
  size_t n = 0;
  for (const char *p = s; *p; p++) {
    if (((unsigned char)*p & 0xC0) != 0x80 && n++ == max)
      return arena_printf(&g->arena, "%.*s…", (int)(p - s), s);
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
static const char *arrow_label(Graph *g, const Arrow *a, const char *nl, size_t cond_max) {
  StrBuf b = {0};
  bool at_event = a->from.kind == SRC_EVENT && cond_max;
  if (!at_event) add_part(&b, "", a->cause);
  add_part(&b, ": ", a->action);
  if (a->cond) add_part(&b, nl, cond_max ? clip(g, a->cond, cond_max) : a->cond);
  if (a->back) add_part(&b, nl, "may move back");
  const char *s = arena_strdup(&g->arena, sb_str(&b));
  sb_free(&b);
  return s;
}

/* Does the arrow go against the layout: backwards (or sideways) inside a
** direction, or to a direction declared earlier? Such arrows must not pull
** the layout, so stages stay in their order and directions flow from the
** first declared to the last. */
static bool against_order(const Arrow *a) {
  const Direction *from = a->from.kind == SRC_STAGE ? a->from.stage->dir
                        : a->from.kind == SRC_DIRECTION ? a->from.dir : NULL;
  const Direction *to = a->to->dir;
  if (!from || !to) return false;
  if (from != to) return from->index >= to->index;   /* directions flow in their order */
  return a->from.kind == SRC_DIRECTION || a->from.stage->index >= a->to->index;
}

/* The last in-progress stage, which success and failure stages follow. */
static const Stage *last_progress(const Direction *d) {
  const Stage *last = NULL;
  for (size_t j = 0; j < d->stages.len; j++)
    if (d->stages.items[j]->kind == SK_PROGRESS) last = d->stages.items[j];
  return last;
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

static void write_dot(Graph *g, FILE *out) {
  const Model *m = g->m;
  const Node *pk = m->pack;
  fputs("digraph ", out);
  dot_str(out, pk && pk->name ? pk->name : "funnel");
  fputs(" {\n", out);
  fputs("  graph [rankdir=LR, nodesep=0.3, ranksep=0.6, fontname=\"Helvetica\"", out);
  if (pk) {
    const char *t = title_of(pk->title, pk->name);
    fputs(", labelloc=t, fontsize=18, label=", out);
    dot_str(out, pk->text ? arena_printf(&g->arena, "%s %s", t, pk->text) : t);
  }
  fputs("];\n", out);
  fprintf(out, "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, "
               "fillcolor=\"%s\", color=\"%s\"];\n", C_PROGRESS_FILL, C_PROGRESS_LINE);
  fputs("  edge [fontname=\"Helvetica\", fontsize=9];\n", out);

  for (size_t i = 0; i < m->directions.len; i++) {
    const Direction *d = m->directions.items[i];
    fputs("\n  subgraph ", out);
    dot_str(out, arena_printf(&g->arena, "cluster_%s", d->name));
    fputs(" {\n    label=", out);
    dot_str(out, title_of(d->title, d->name));
    fputs(";\n    style=\"rounded,filled\"; fillcolor=\"#fafafa\"; color=\"#cfd8dc\"; fontsize=13;\n",
          out);
    for (size_t j = 0; j < d->stages.len; j++) {
      const Stage *s = d->stages.items[j];
      fputs("    ", out);
      dot_str(out, stage_id(g, s));
      fputs(" [label=", out);
      dot_str(out, title_of(s->title, s->name));
      if (s->kind == SK_SUCCESS)
        fprintf(out, ", fillcolor=\"%s\", color=\"%s\"", C_SUCCESS_FILL, C_SUCCESS_LINE);
      else if (s->kind == SK_FAILURE)
        fprintf(out, ", fillcolor=\"%s\", color=\"%s\"", C_FAILURE_FILL, C_FAILURE_LINE);
      if (s->is_auto) fputs(", style=\"rounded,filled,dashed\"", out);
      fputs(", tooltip=", out);
      dot_str(out, arena_printf(&g->arena, "%s.%s", d->name, s->name));
      fputs("];\n", out);
    }
    if (g->dir_used[i]) {
      fputs("    ", out);
      dot_str(out, arena_printf(&g->arena, "from__%s", d->name));
      fprintf(out, " [label=\"any stage\", shape=plaintext, style=\"\", fontcolor=\"%s\", "
                   "fontsize=10];\n", C_MUTED);
    }
    /* the natural order, then invisible edges that put the closing stages last */
    const Stage *prev = NULL;
    for (size_t j = 0; j < d->stages.len; j++) {
      const Stage *s = d->stages.items[j];
      if (s->kind != SK_PROGRESS) continue;
      if (prev) {
        fputs("    ", out);
        dot_str(out, stage_id(g, prev));
        fputs(" -> ", out);
        dot_str(out, stage_id(g, s));
        fprintf(out, " [color=\"%s\", arrowsize=0.6, weight=10];\n", C_ORDER);
      }
      prev = s;
    }
    const Stage *last = last_progress(d);
    for (size_t j = 0; last && j < d->stages.len; j++) {
      const Stage *s = d->stages.items[j];
      if (s->kind == SK_PROGRESS) continue;
      fputs("    ", out);
      dot_str(out, stage_id(g, last));
      fputs(" -> ", out);
      dot_str(out, stage_id(g, s));
      fputs(" [style=invis];\n", out);
    }
    fputs("  }\n", out);
  }

  if (g->events.len || g->entity_used[0] || g->entity_used[1] || g->entity_used[2] ||
      g->entity_used[3])
    fputc('\n', out);
  for (size_t i = 0; i < g->events.len; i++) {
    fputs("  ", out);
    dot_str(out, event_id(g, g->events.items[i].name));
    fputs(" [label=", out);
    dot_str(out, g->events.items[i].title);
    fprintf(out, ", shape=cds, style=filled, fillcolor=\"%s\", color=\"%s\", tooltip=",
            C_EVENT_FILL, C_TRIGGER);
    dot_str(out, g->events.items[i].name);
    fputs("];\n", out);
  }
  for (int e = 0; e < E__COUNT; e++) {
    if (!g->entity_used[e]) continue;
    const Entity *en = &m->entities[e];
    fputs("  ", out);
    dot_str(out, arena_printf(&g->arena, "entity__%s", en->name));
    fputs(" [label=", out);
    dot_str(out, title_of(en->title, en->name));
    fprintf(out, ", shape=cylinder, style=filled, fillcolor=\"%s\", color=\"%s\"];\n",
            C_ENTITY_FILL, C_CREATE);
  }

  /* Directions stack in declaration order: an invisible node whose edges
  ** keep their order (ordering=out) leads to each direction's first stage. */
  if (m->directions.len > 1) {
    fputs("\n  \"direction__order\" [style=invis, label=\"\", width=0, height=0, fixedsize=true, "
          "ordering=out];\n", out);
    for (size_t i = 0; i < m->directions.len; i++) {
      const Direction *d = m->directions.items[i];
      if (!d->stages.len) continue;
      fputs("  \"direction__order\" -> ", out);
      dot_str(out, stage_id(g, d->stages.items[0]));
      fputs(" [style=invis];\n", out);
    }
  }

  if (g->arrows.len) fputc('\n', out);
  for (size_t i = 0; i < g->arrows.len; i++) {
    const Arrow *a = &g->arrows.items[i];
    const char *color = kind_colors[a->kind];
    fputs("  ", out);
    dot_str(out, source_id(g, &a->from));
    fputs(" -> ", out);
    dot_str(out, stage_id(g, a->to));
    fputs(" [", out);
    const char *label = arrow_label(g, a, "\n", LABEL_MAX_COND);
    if (*label) {
      fputs("label=", out);
      dot_str(out, label);
      fputs(", ", out);
    }
    fprintf(out, "color=\"%s\", fontcolor=\"%s\"", color, color);
    if (a->kind == AK_CREATE) fputs(", style=dashed", out);
    if (a->kind == AK_CONVERT) fputs(", penwidth=2", out);
    if (against_order(a)) fputs(", constraint=false", out);
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

static void write_mermaid(Graph *g, FILE *out) {
  const Model *m = g->m;
  const Node *pk = m->pack;
  VEC(const char *) by_kind[3] = {{0}};   /* progress, success, failure stage ids */
  VEC(const char *) autos = {0}, anys = {0}, evs = {0}, ents = {0};
  Links order = {0}, by_arrow[4] = {{0}};
  size_t nlinks = 0;

  if (pk) {
    const char *t = title_of(pk->title, pk->name);
    fputs("---\ntitle: ", out);   /* YAML quotes escape as dot's do */
    dot_str(out, pk->text ? arena_printf(&g->arena, "%s %s", t, pk->text) : t);
    fputs("\n---\n", out);
  }
  fputs("flowchart LR\n", out);
  for (size_t i = 0; i < m->directions.len; i++) {
    const Direction *d = m->directions.items[i];
    fprintf(out, "  subgraph cluster_%s [", d->name);
    mmd_str(out, title_of(d->title, d->name), NULL);
    fputs("]\n    direction LR\n", out);
    for (size_t j = 0; j < d->stages.len; j++) {
      const Stage *s = d->stages.items[j];
      const char *id = stage_id(g, s);
      fprintf(out, "    %s[", id);
      mmd_str(out, title_of(s->title, s->name), "<br/>");
      fputs("]\n", out);
      vec_push(&by_kind[s->kind <= SK_FAILURE ? s->kind : 0], id);
      if (s->is_auto) vec_push(&autos, id);
    }
    if (g->dir_used[i]) {
      const char *id = arena_printf(&g->arena, "from__%s", d->name);
      fprintf(out, "    %s([\"any stage\"])\n", id);
      vec_push(&anys, id);
    }
    const Stage *prev = NULL;
    for (size_t j = 0; j < d->stages.len; j++) {
      const Stage *s = d->stages.items[j];
      if (s->kind != SK_PROGRESS) continue;
      if (prev) {
        fprintf(out, "    %s --> %s\n", stage_id(g, prev), stage_id(g, s));
        vec_push(&order, nlinks);
        nlinks++;
      }
      prev = s;
    }
    const Stage *last = last_progress(d);
    for (size_t j = 0; last && j < d->stages.len; j++) {
      const Stage *s = d->stages.items[j];
      if (s->kind == SK_PROGRESS) continue;
      fprintf(out, "    %s ~~~ %s\n", stage_id(g, last), stage_id(g, s));
      nlinks++;
    }
    fputs("  end\n", out);
  }
  for (size_t i = 0; i < g->events.len; i++) {
    const char *id = event_id(g, g->events.items[i].name);
    fprintf(out, "  %s{{", id);
    mmd_str(out, g->events.items[i].title, "<br/>");
    fputs("}}\n", out);
    vec_push(&evs, id);
  }
  for (int e = 0; e < E__COUNT; e++) {
    if (!g->entity_used[e]) continue;
    const Entity *en = &m->entities[e];
    const char *id = arena_printf(&g->arena, "entity__%s", en->name);
    fprintf(out, "  %s[(", id);
    mmd_str(out, title_of(en->title, en->name), NULL);
    fputs(")]\n", out);
    vec_push(&ents, id);
  }
  for (size_t i = 0; i < g->arrows.len; i++) {
    const Arrow *a = &g->arrows.items[i];
    static const char *const links[] = {"-->", "-->", "-.->", "==>"};
    fprintf(out, "  %s %s", source_id(g, &a->from), links[a->kind]);
    const char *label = arrow_label(g, a, "\n", LABEL_MAX_COND);
    if (*label) {
      fputc('|', out);
      mmd_str(out, label, "<br/>");
      fputc('|', out);
    }
    fprintf(out, " %s\n", stage_id(g, a->to));
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
    const char *style = arena_printf(&g->arena, "stroke:%s,color:%s%s", kind_colors[k],
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

static json_t *json_stage_ref(const Stage *s) {
  json_t *o = json_object();
  json_object_set_new(o, "direction", jstr(s->dir ? s->dir->name : NULL));
  json_object_set_new(o, "stage", jstr(s->name));
  return o;
}

static json_t *json_enum_values(const EnumDef *en) {
  json_t *vals = json_array();
  for (size_t i = 0; i < en->nvalues; i++) {
    json_t *v = json_object();
    json_object_set_new(v, "id", jstr(en->values[i].name));
    json_object_set_new(v, "title", jstr(en->values[i].title));
    json_array_append_new(vals, v);
  }
  return vals;
}

static json_t *json_field(Arena *ta, const Field *f, bool full) {
  json_t *o = json_object();
  json_object_set_new(o, "id", jstr(f->name));
  if (full) json_object_set_new(o, "title", jstr(f->title));
  json_object_set_new(o, "type", jstr(f->type ? type_str(ta, f->type) : NULL));
  if (f->type && f->type->kind == T_ENUM && f->type->enm)
    json_object_set_new(o, "values", json_enum_values(f->type->enm));
  if (full) {
    json_object_set_new(o, "required", json_boolean(f->required));
    json_object_set_new(o, "computed", json_boolean(f->computed != NULL));
    json_object_set_new(o, "builtin", json_boolean(f->builtin));
    json_object_set_new(o, "readonly", json_boolean(f->readonly));
  }
  return o;
}

static void write_json(Graph *g, FILE *out) {
  const Model *m = g->m;
  Arena ta;                /* type names */
  arena_init(&ta);
  json_t *root = json_object();

  const Node *pk = m->pack;
  if (pk) {
    json_t *p = json_object();
    json_object_set_new(p, "id", jstr(pk->name));
    json_object_set_new(p, "title", jstr(pk->title));
    json_object_set_new(p, "version", jstr(pk->text));
    json_object_set_new(root, "pack", p);
  } else {
    json_object_set_new(root, "pack", json_null());
  }

  json_t *dirs = json_array();
  for (size_t i = 0; i < m->directions.len; i++) {
    const Direction *d = m->directions.items[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(d->name));
    json_object_set_new(o, "title", jstr(d->title));
    json_object_set_new(o, "entity", jstr(d->entity ? d->entity->name : NULL));
    json_t *stages = json_array();
    for (size_t j = 0; j < d->stages.len; j++) {
      const Stage *s = d->stages.items[j];
      static const char *const sk[] = {"progress", "success", "failure"};
      json_t *so = json_object();
      json_object_set_new(so, "id", jstr(s->name));
      json_object_set_new(so, "title", jstr(s->title));
      json_object_set_new(so, "kind", jstr(s->kind <= SK_FAILURE ? sk[s->kind] : NULL));
      json_object_set_new(so, "auto", json_boolean(s->is_auto));
      json_array_append_new(stages, so);
    }
    json_object_set_new(o, "stages", stages);
    json_array_append_new(dirs, o);
  }
  json_object_set_new(root, "directions", dirs);

  json_t *arrows = json_array();
  for (size_t i = 0; i < g->arrows.len; i++) {
    const Arrow *a = &g->arrows.items[i];
    json_t *o = json_object();
    json_t *from;
    switch (a->from.kind) {
    case SRC_STAGE: from = json_stage_ref(a->from.stage); break;
    case SRC_DIRECTION:
      from = json_object();
      json_object_set_new(from, "direction", jstr(a->from.dir->name));
      json_object_set_new(from, "stage", json_null());
      break;
    default: from = json_null(); break;
    }
    json_object_set_new(o, "from", from);
    json_object_set_new(o, "to", json_stage_ref(a->to));
    json_object_set_new(o, "kind", jstr(kind_names[a->kind]));
    json_object_set_new(o, "label", jstr(arrow_label(g, a, " ", 0)));
    if (a->event) json_object_set_new(o, "event", jstr(a->event));
    if (a->from.kind == SRC_ENTITY) json_object_set_new(o, "entity", jstr(a->from.entity->name));
    json_array_append_new(arrows, o);
  }
  json_object_set_new(root, "arrows", arrows);

  json_t *ents = json_array();
  for (int e = 0; e < E__COUNT; e++) {
    const Entity *en = &m->entities[e];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(en->name));
    json_object_set_new(o, "title", jstr(en->title));
    json_t *fields = json_array();
    for (size_t i = 0; i < en->fields.len; i++)
      json_array_append_new(fields, json_field(&ta, en->fields.items[i], true));
    json_object_set_new(o, "fields", fields);
    json_array_append_new(ents, o);
  }
  json_object_set_new(root, "entities", ents);

  json_t *enums = json_array();
  for (size_t i = 0; i < m->enums.len; i++) {
    const EnumDef *en = m->enums.items[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(en->owner));
    json_object_set_new(o, "title", jstr(en->title));
    json_object_set_new(o, "values", json_enum_values(en));
    json_array_append_new(enums, o);
  }
  json_object_set_new(root, "enums", enums);

  json_t *roles = json_array();
  for (size_t i = 0; i < m->roles.len; i++) {
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(m->roles.items[i]->name));
    json_object_set_new(o, "title", jstr(m->roles.items[i]->title));
    json_array_append_new(roles, o);
  }
  json_object_set_new(root, "roles", roles);

  json_t *events = json_array();
  for (size_t i = 0; i < m->events.len; i++) {
    const EventDef *ev = m->events.items[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(ev->name));
    json_object_set_new(o, "title", jstr(ev->title));
    json_object_set_new(o, "builtin", json_boolean(ev->builtin));
    json_t *payload = json_array();
    for (size_t k = 0; k < ev->fields.len; k++)
      json_array_append_new(payload, json_field(&ta, ev->fields.items[k], false));
    json_object_set_new(o, "payload", payload);
    json_array_append_new(events, o);
  }
  json_object_set_new(root, "events", events);

  json_t *cals = json_array();
  for (size_t i = 0; i < m->calendars.len; i++) {
    const Calendar *c = m->calendars.items[i];
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
  arena_free(&ta);
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

void graph_write(FILE *out, const Model *m, GraphFormat fmt) {
  Graph g = {0};
  g.m = m;
  arena_init(&g.arena);
  g.dir_used = xcalloc(m->directions.len + 1, sizeof *g.dir_used);
  collect(&g);
  switch (fmt) {
  case GRAPH_DOT: write_dot(&g, out); break;
  case GRAPH_MERMAID: write_mermaid(&g, out); break;
  case GRAPH_JSON: write_json(&g, out); break;
  }
  free(g.dir_used);
  vec_free(&g.arrows);
  vec_free(&g.events);
  arena_free(&g.arena);
}
