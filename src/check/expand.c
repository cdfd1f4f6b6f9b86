/*
** expand.c: the checker's first pass, behaviors. `behavior NAME(params)
** { items }` declares a reusable set of handlers and stage rules; each
** `use NAME(args)` in an entity, a direction or a stage is replaced by a
** copy of those items in which every parameter reads as its argument (or
** its default). Names in the copy are resolved later, where it landed: a
** behavior's `owner` or `title` is the using record's, and an argument is
** checked against the type the place of each use demands.
*/
#include <string.h>

#include "check/check_int.h"

/* How deep `use` may nest inside behaviors: deeper is a cycle. */
#define MAX_USE_DEPTH 16

typedef struct Binding {
  const char *name;
  Node *value;          /* the argument or the default */
  bool is_default;      /* a default is the behavior's text: it sees the other parameters */
  bool busy;            /* being substituted (a default that names itself) */
} Binding;

typedef struct Expander {
  Checker *c;
  Arena *a;             /* the program's arena: the copies are AST */
  VEC(Node *) behaviors;
  /* the behavior being copied, its bindings */
  Node *beh;
  Binding *bind;
  size_t nbind;
  Node *stack[MAX_USE_DEPTH];
  int depth;
} Expander;

static Node *find_behavior(Expander *x, const char *name) {
  for (size_t i = 0; i < x->behaviors.len; i++)
    if (!strcmp(x->behaviors.items[i]->name, name)) return x->behaviors.items[i];
  return NULL;
}

static Binding *bound(Expander *x, const char *name) {
  for (size_t i = 0; i < x->nbind; i++)
    if (!strcmp(x->bind[i].name, name)) return &x->bind[i];
  return NULL;
}

static Node *copy_list(Expander *x, const Node *l, bool expr, bool subst);

/* A deep copy of n. With `subst`, a name that is a parameter becomes a copy
** of its value; `expr` says whether n's slot holds an expression (a
** calendar's, a role's or a changed field's name is not one). */
static Node *copy(Expander *x, const Node *n, bool expr, bool subst) {
  if (subst && expr && n->kind == N_NAME) {
    Binding *b = bound(x, n->name);
    if (b && b->busy) {
      diag_error(x->c->d, n->span, D_BAD_USE, "the default of '%s' depends on itself", n->name);
    } else if (b) {
      b->busy = true;
      Node *v = copy(x, b->value, true, b->is_default);
      b->busy = false;
      return v;
    }
  }
  if (subst && (n->kind == N_LET || n->kind == N_FOR || n->kind == N_COMPREHEND) && n->name &&
      bound(x, n->name)) {
    diag_error(x->c->d, n->name_span, D_DUPLICATE,
               "'%s' is a parameter of behavior '%s'; name the local otherwise", n->name, x->beh->name);
  }
  Node *m = ast_new(x->a, n->kind, n->span);
  *m = *n;
  m->next = NULL;
  m->type = NULL;
  m->sym = NULL;
  m->symk = SYM_NONE;
  bool ea = true, ec = true, el = true, ed = true;
  switch (n->kind) {
  case N_HANDLER: ec = false; ea = n->op != HK_CHANGE; break;
  case N_REQUIRE: case N_ACCESS: el = false; break;
  case N_TASK: ed = false; break;
  default: break;
  }
  m->a = copy_list(x, n->a, ea, subst);
  m->b = copy_list(x, n->b, true, subst);
  m->c = copy_list(x, n->c, ec, subst);
  m->d = copy_list(x, n->d, ed, subst);
  m->list = copy_list(x, n->list, el, subst);
  return m;
}

static Node *copy_list(Expander *x, const Node *l, bool expr, bool subst) {
  NodeList out = {0};
  for (; l; l = l->next) out = ast_append(out, copy(x, l, expr, subst));
  return out.head;
}

/* Binds the arguments of `use` to the parameters of `beh`; false after
** reporting what is wrong. */
static bool bind_args(Expander *x, Node *use, Node *beh, Binding *bind, size_t nparams) {
  Diag *d = x->c->d;
  bool ok = true, named = false;
  size_t pos = 0;
  for (Node *arg = use->list; arg; arg = arg->next) {
    size_t k = 0;
    Node *p = beh->list;
    if (arg->name) {
      named = true;
      while (p && strcmp(p->name, arg->name)) p = p->next, k++;
      if (!p) {
        const char *names[64];
        size_t n = 0;
        for (Node *q = beh->list; q && n < 64; q = q->next) names[n++] = q->name;
        char what[96];
        snprintf(what, sizeof what, "parameter of behavior '%s'", beh->name);
        sym_unknown(x->c, arg->name_span, D_BAD_USE, what, arg->name, names, n);
        ok = false;
        continue;
      }
    } else {
      if (named) {
        diag_error(d, arg->span, D_BAD_USE, "a positional argument after a named one");
        ok = false;
        continue;
      }
      for (k = 0; p && k < pos; k++) p = p->next;
      pos++;
      if (!p) {
        diag_error(d, arg->span, D_BAD_USE, "behavior '%s' takes %zu argument%s", beh->name, nparams,
                   nparams == 1 ? "" : "s");
        diag_note(d, beh->name_span, "'%s' is defined here", beh->name);
        ok = false;
        continue;
      }
    }
    if (bind[k].value) {
      diag_error(d, arg->span, D_BAD_USE, "parameter '%s' is given twice", p->name);
      ok = false;
      continue;
    }
    bind[k].value = arg->a;
  }
  size_t k = 0;
  for (Node *p = beh->list; p; p = p->next, k++) {
    if (bind[k].value) continue;
    if (p->b) {
      bind[k].value = p->b;
      bind[k].is_default = true;
      continue;
    }
    diag_error(d, use->span, D_BAD_USE, "behavior '%s' needs parameter '%s'", beh->name, p->name);
    diag_note(d, p->name_span, "'%s' has no default", p->name);
    ok = false;
  }
  return ok;
}

static Node *expand_list(Expander *x, Node *items, NodeKind where);

/* The items `use` stands for, or NULL after an error. */
static Node *expand_use(Expander *x, Node *use, NodeKind where) {
  Diag *d = x->c->d;
  Node *beh = find_behavior(x, use->name);
  if (!beh) {
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < x->behaviors.len && n < 64; i++) names[n++] = x->behaviors.items[i]->name;
    sym_unknown(x->c, use->name_span, D_UNKNOWN_BEHAVIOR, "behavior", use->name, names, n);
    return NULL;
  }
  for (int i = 0; i < x->depth; i++) {
    if (x->stack[i] != beh) continue;
    diag_error(d, use->name_span, D_BAD_USE, "behavior '%s' uses itself", beh->name);
    return NULL;
  }
  if (x->depth == MAX_USE_DEPTH) {
    diag_error(d, use->name_span, D_BAD_USE, "behaviors use one another more than %d deep",
               MAX_USE_DEPTH);
    return NULL;
  }
  size_t nparams = ast_list_len(beh->list);
  Binding *bind = arena_alloc(x->a, (nparams ? nparams : 1) * sizeof *bind);
  size_t k = 0;
  for (Node *p = beh->list; p; p = p->next, k++) bind[k] = (Binding){.name = p->name};
  if (!bind_args(x, use, beh, bind, nparams)) return NULL;
  /* the copy, then the uses inside it, one level deeper */
  Node *saved_beh = x->beh;
  Binding *saved_bind = x->bind;
  size_t saved_n = x->nbind;
  x->beh = beh;
  x->bind = bind;
  x->nbind = nparams;
  Node *items = copy_list(x, beh->b ? beh->b->list : NULL, true, true);
  x->beh = saved_beh;
  x->bind = saved_bind;
  x->nbind = saved_n;
  x->stack[x->depth++] = beh;
  items = expand_list(x, items, where);
  x->depth--;
  /* the outermost `use` is the one to name in errors inside the copy */
  for (Node *it = items; it; it = it->next) it->via = use;
  /* only handlers make sense outside a stage */
  if (where != N_STAGE) {
    NodeList keep = {0};
    for (Node *it = items; it;) {
      Node *nx = it->next;
      it->next = NULL;
      if (it->kind == N_HANDLER) {
        keep = ast_append(keep, it);
      } else {
        diag_error(d, use->span, D_NOT_HERE, "behavior '%s' has a %s, which only a stage can take",
                   beh->name, ast_kind_name(it->kind));
        diag_note(d, it->span, "the %s is here", ast_kind_name(it->kind));
      }
      it = nx;
    }
    items = keep.head;
  }
  return items;
}

/* The list with every `use` replaced by what it stands for. */
static Node *expand_list(Expander *x, Node *items, NodeKind where) {
  NodeList out = {0};
  for (Node *it = items; it;) {
    Node *nx = it->next;
    it->next = NULL;
    if (it->kind == N_USE) {
      for (Node *e = expand_use(x, it, where); e;) {
        Node *en = e->next;
        e->next = NULL;
        out = ast_append(out, e);
        e = en;
      }
    } else {
      if (it->kind == N_STAGE) it->list = expand_list(x, it->list, N_STAGE);
      out = ast_append(out, it);
    }
    it = nx;
  }
  return out.head;
}

void expand_behaviors(Checker *c) {
  Expander x = {.c = c, .a = &c->p->arena};
  for (Node *d = c->p->ast.decls; d; d = d->next) {
    if (d->kind != N_BEHAVIOR) continue;
    Node *old = find_behavior(&x, d->name);
    if (old) {
      sym_duplicate(c, d, "behavior", d->name, old);
      continue;
    }
    for (Node *p = d->list; p; p = p->next)
      for (Node *q = d->list; q != p; q = q->next)
        if (!strcmp(p->name, q->name)) sym_duplicate(c, p, "parameter", p->name, q);
    vec_push(&x.behaviors, d);
  }
  for (Node *d = c->p->ast.decls; d; d = d->next) {
    if (d->kind == N_ENTITY || d->kind == N_DIRECTION) d->list = expand_list(&x, d->list, d->kind);
  }
  vec_free(&x.behaviors);
}
