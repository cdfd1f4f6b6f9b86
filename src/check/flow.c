/*
** flow.c: analyses over the whole pack, after every name is resolved:
** - each direction has its final stages (success and failure);
** - computed fields do not depend on each other in a cycle;
** - auto-move cycles: `on enter` robots that move a deal on, and on, back
**   to where it started (a loop the runtime would have to cut);
** - `auto` stages that no trigger, robot, creation or conversion reaches;
** - `at` timers over date fields that may be empty.
*/
#include <stdlib.h>
#include <string.h>

#include "check/check_int.h"
#include "util/strbuf.h"

/* ---- walking bodies ------------------------------------------------------------ */

typedef void (*Visit)(Checker *c, Node *n, void *ud);

/* Calls visit on every node under n (statements and expressions). */
static void walk(Checker *c, Node *n, Visit visit, void *ud) {
  for (; n; n = n->next) {
    visit(c, n, ud);
    walk(c, n->a, visit, ud);
    walk(c, n->b, visit, ud);
    walk(c, n->c, visit, ud);
    walk(c, n->d, visit, ud);
    if (n->kind != N_FIELD) walk(c, n->list, visit, ud);
  }
}

/* walk() follows `next`; this visits one node's subtree only. */
static void walk1(Checker *c, Node *n, Visit visit, void *ud) {
  if (!n) return;
  Node *nx = n->next;
  n->next = NULL;
  walk(c, n, visit, ud);
  n->next = nx;
}

/* ---- final stages -------------------------------------------------------------- */

static void check_finals(Checker *c) {
  for (size_t i = 0; i < c->m->directions.len; i++) {
    Direction *d = c->m->directions.items[i];
    bool ok_s = false, ok_f = false;
    for (size_t k = 0; k < d->stages.len; k++) {
      ok_s |= d->stages.items[k]->kind == SK_SUCCESS;
      ok_f |= d->stages.items[k]->kind == SK_FAILURE;
    }
    if (!d->stages.len) {
      diag_error(c->d, d->decl->name_span, D_NO_SUCCESS, "direction '%s' has no stages", d->name);
      continue;
    }
    if (!ok_s) {
      diag_error(c->d, d->decl->name_span, D_NO_SUCCESS,
                 "direction '%s' has no success stage: how does a deal end well?", d->name);
      diag_note(c->d, d->decl->name_span, "mark one: stage won \"Сделка успешна\" success");
    }
    if (!ok_f) {
      diag_error(c->d, d->decl->name_span, D_NO_FAILURE,
                 "direction '%s' has no failure stage: where do lost deals go?", d->name);
      diag_note(c->d, d->decl->name_span, "mark one: stage lost \"Сделка провалена\" failure");
    }
  }
}

/* ---- computed fields --------------------------------------------------------------- */

typedef struct Deps {
  Entity *e;
  struct { Field **items; size_t len, cap; } out;
} Deps;

static void collect_deps(Checker *c, Node *n, void *ud) {
  Deps *d = ud;
  if (n->kind == N_NAME && n->sym && entity_field(d->e, n->name) == n->sym) {
    Field *f = n->sym;
    if (f->computed) vec_push(&d->out, f);
  }
}

/* Depth-first search over "computed field f reads computed field g". */
static bool cycle_from(Checker *c, Entity *e, Field *f, int *state, Field **path, int depth) {
  state[f->index] = 1;
  path[depth] = f;
  Deps d = {e, {0}};
  walk1(c, f->computed, collect_deps, &d);
  bool found = false;
  for (size_t i = 0; i < d.out.len && !found; i++) {
    Field *g = d.out.items[i];
    if (state[g->index] == 1) {
      diag_error(c->d, f->decl->name_span, D_COMPUTED_CYCLE,
                 "computed field '%s' depends on itself", f->name);
      StrBuf b = {0};
      int k = depth;
      while (k > 0 && path[k] != g) k--;
      for (int j = k; j <= depth; j++) sb_printf(&b, "%s -> ", path[j]->name);
      sb_puts(&b, g->name);
      diag_note(c->d, f->decl->name_span, "the cycle: %s", sb_str(&b));
      sb_free(&b);
      found = true;
    } else if (state[g->index] == 0) {
      found = cycle_from(c, e, g, state, path, depth + 1);
    }
  }
  vec_free(&d.out);
  state[f->index] = 2;
  return found;
}

static void check_computed(Checker *c) {
  for (int k = 0; k < E__COUNT; k++) {
    Entity *e = &c->m->entities[k];
    int *state = xcalloc(e->fields.len + 1, sizeof *state);
    Field **path = xcalloc(e->fields.len + 1, sizeof *path);
    for (size_t i = 0; i < e->fields.len; i++) {
      Field *f = e->fields.items[i];
      if (f->computed && state[f->index] == 0) cycle_from(c, e, f, state, path, 0);
    }
    free(state);
    free(path);
  }
}

/* ---- auto-move cycles ----------------------------------------------------------------- */

typedef struct Moves {
  NodeVec out;      /* N_MOVE of the current record with a resolved target */
} Moves;

static void collect_moves(Checker *c, Node *n, void *ud) {
  Moves *m = ud;
  if (n->kind == N_MOVE && !n->a && n->sym) vec_push(&m->out, n);
}

/* Edges: for each stage, the moves its `on enter` robots make (its own
** and its direction's). */
typedef struct Graph {
  NodeVec *edges;   /* per stage id: N_MOVE nodes */
} Graph;

static void add_enter_moves(Checker *c, Graph *g, Stage *s, NodeVec *handlers) {
  for (size_t i = 0; i < handlers->len; i++) {
    Node *h = handlers->items[i];
    if (h->op != HK_ENTER) continue;
    Moves m = {{0}};
    walk1(c, h->b, collect_moves, &m);
    for (size_t k = 0; k < m.out.len; k++) vec_push(&g->edges[s->id], m.out.items[k]);
    vec_free(&m.out);
  }
}

static bool find_cycle(Checker *c, Graph *g, Stage *s, int *state, Node **path, int depth,
                       bool *reported) {
  state[s->id] = 1;
  for (size_t i = 0; i < g->edges[s->id].len; i++) {
    Node *mv = g->edges[s->id].items[i];
    Stage *t = mv->sym;
    path[depth] = mv;
    if (state[t->id] == 1) {
      /* the cycle is the part of the path from t's first move on */
      int k = depth;
      while (k > 0 && ((Stage *)path[k - 1]->sym) != t) k--;
      Stage *start = t;
      if (!reported[start->id]) {
        reported[start->id] = true;
        diag_warning(c->d, mv->span, D_MOVE_CYCLE,
                     "robots may move a deal in a circle: entering '%s' leads back to '%s'",
                     s->name, t->name);
        StrBuf b = {0};
        sb_printf(&b, "%s.%s", t->dir->name, t->name);
        for (int j = k; j <= depth; j++) {
          Stage *to = path[j]->sym;
          sb_printf(&b, " -> %s.%s", to->dir->name, to->name);
        }
        diag_note(c->d, mv->span, "the cycle: %s (each arrow is an 'on enter' move)", sb_str(&b));
        sb_free(&b);
      }
    } else if (state[t->id] == 0) {
      find_cycle(c, g, t, state, path, depth + 1, reported);
    }
  }
  state[s->id] = 2;
  return false;
}

static void check_move_cycles(Checker *c) {
  size_t n = c->m->stages.len;
  if (!n) return;
  Graph g;
  g.edges = xcalloc(n, sizeof *g.edges);
  for (size_t i = 0; i < n; i++) {
    Stage *s = c->m->stages.items[i];
    add_enter_moves(c, &g, s, &s->handlers);
    add_enter_moves(c, &g, s, &s->dir->handlers);
  }
  int *state = xcalloc(n, sizeof *state);
  bool *reported = xcalloc(n, sizeof *reported);
  Node **path = xcalloc(n + 1, sizeof *path);
  for (size_t i = 0; i < n; i++)
    if (state[i] == 0) find_cycle(c, &g, c->m->stages.items[i], state, path, 0, reported);
  for (size_t i = 0; i < n; i++) vec_free(&g.edges[i]);
  free(g.edges);
  free(state);
  free(reported);
  free(path);
}

/* ---- reachability of auto stages -------------------------------------------------------- */

static void mark_targets(Checker *c, Node *n, void *ud) {
  bool *reached = ud;
  if ((n->kind == N_MOVE || n->kind == N_CREATE || n->kind == N_CONVERT) && n->sym)
    reached[((Stage *)n->sym)->id] = true;
}

static void check_reachable(Checker *c) {
  size_t n = c->m->stages.len;
  if (!n) return;
  bool *reached = xcalloc(n, sizeof *reached);
  for (size_t i = 0; i < n; i++) {
    Stage *s = c->m->stages.items[i];
    if (s->triggers.len || s->index == 0) reached[i] = true;
  }
  /* robots anywhere: stages, directions, entities, top level, functions */
  for (size_t i = 0; i < n; i++) {
    Stage *s = c->m->stages.items[i];
    for (size_t k = 0; k < s->handlers.len; k++) walk1(c, s->handlers.items[k], mark_targets, reached);
  }
  for (size_t i = 0; i < c->m->directions.len; i++) {
    Direction *d = c->m->directions.items[i];
    for (size_t k = 0; k < d->handlers.len; k++) walk1(c, d->handlers.items[k], mark_targets, reached);
  }
  for (int e = 0; e < E__COUNT; e++) {
    Entity *en = &c->m->entities[e];
    for (size_t k = 0; k < en->handlers.len; k++) walk1(c, en->handlers.items[k], mark_targets, reached);
  }
  for (size_t k = 0; k < c->m->top_handlers.len; k++) walk1(c, c->m->top_handlers.items[k], mark_targets, reached);
  for (size_t k = 0; k < c->m->funcs.len; k++)
    if (c->m->funcs.items[k]->kind == FK_USER) walk1(c, c->m->funcs.items[k]->decl, mark_targets, reached);
  for (size_t i = 0; i < n; i++) {
    Stage *s = c->m->stages.items[i];
    if (!s->is_auto || reached[i]) continue;
    diag_warning(c->d, s->decl->name_span, D_UNREACHABLE,
                 "stage '%s.%s' is automatic, but no trigger, robot or conversion leads to it",
                 s->dir->name, s->name);
    diag_note(c->d, s->decl->name_span,
              "people cannot move deals into an 'auto' stage; add a trigger or a 'move to %s'",
              s->name);
  }
  free(reached);
}

/* ---- timers on dates that may be empty ---------------------------------------------------- */

typedef struct TimerCtx {
  Entity *self;
  Stage *stage;         /* whose `require` guarantees fields, or NULL */
  Node *handler;
} TimerCtx;

static bool stage_requires(Stage *s, Field *f) {
  if (!s) return false;
  for (size_t i = 0; i < s->requires.len; i++)
    for (Node *n = s->requires.items[i]->list; n; n = n->next)
      if (n->sym == f) return true;
  return false;
}

/* Walks a moment expression; fields under the left of `??` are safe. */
static void nullable_walk(Checker *c, Node *n, TimerCtx *t, bool safe) {
  if (!n) return;
  if (n->kind == N_BINARY && n->op == AOP_COALESCE) {
    nullable_walk(c, n->a, t, true);
    nullable_walk(c, n->b, t, safe);
    return;
  }
  Field *f = NULL;
  if (n->kind == N_NAME && t->self && n->sym && entity_field(t->self, n->name) == n->sym) f = n->sym;
  if (n->kind == N_MEMBER && n->a && n->a->type && n->a->type->kind == T_RECORD && n->sym)
    f = n->sym;
  if (f && !safe && !f->required && !f->readonly && !f->computed &&
      (f->type->kind == T_DATE || f->type->kind == T_DATETIME) &&
      !(n->kind == N_NAME && stage_requires(t->stage, f))) {
    diag_warning(c->d, n->span, D_NULLABLE_TIMER,
                 "this timer depends on '%s', which may be empty: the timer would never fire",
                 f->name);
    const SrcFile *src = srcset_get(&c->p->srcs, n->span.file);
    int len = (int)(n->span.end - n->span.start);
    diag_note(c->d, n->span,
              "make the field required, list it in the stage's 'require', or give a default: "
              "(%.*s ?? today())",
              len, src ? src->text + n->span.start : f->name);
    return;
  }
  if (n->kind == N_COMPREHEND) return;
  nullable_walk(c, n->a, t, safe);
  nullable_walk(c, n->b, t, safe);
  if (n->kind == N_CALL)
    for (Node *a = n->list; a; a = a->next) nullable_walk(c, a, t, safe);
}

static void check_timer_list(Checker *c, NodeVec *handlers, Entity *self, Stage *stage) {
  for (size_t i = 0; i < handlers->len; i++) {
    Node *h = handlers->items[i];
    if (h->op != HK_AT) continue;
    TimerCtx t = {self, stage, h};
    nullable_walk(c, h->a, &t, false);
  }
}

static void check_timers(Checker *c) {
  for (size_t i = 0; i < c->m->stages.len; i++) {
    Stage *s = c->m->stages.items[i];
    check_timer_list(c, &s->handlers, s->dir->entity, s);
  }
  for (size_t i = 0; i < c->m->directions.len; i++) {
    Direction *d = c->m->directions.items[i];
    check_timer_list(c, &d->handlers, d->entity, NULL);
  }
  for (int e = 0; e < E__COUNT; e++)
    check_timer_list(c, &c->m->entities[e].handlers, &c->m->entities[e], NULL);
}

void flow_check(Checker *c) {
  check_finals(c);
  check_computed(c);
  check_move_cycles(c);
  check_reachable(c);
  check_timers(c);
}
