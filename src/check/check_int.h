/*
** check_int.h: the checker's private state, shared by its files:
** symbols.c (collecting declarations into the model), events.c (the
** standard catalogues), exprs.c (typing expressions), stmts.c (statements,
** handlers, stage rules, tests), flow.c (whole-pack analyses).
*/
#ifndef FUNNEL_CHECK_INT_H
#define FUNNEL_CHECK_INT_H

#include "check/check.h"

/* Where a body runs: decides which names, statements and actions exist. */
typedef enum Place {
  PL_TOP,        /* a top-level handler: no current record */
  PL_ENTITY,     /* an entity-level handler or computed field */
  PL_DIRECTION,  /* a direction-level handler */
  PL_STAGE,      /* a stage's handler, trigger, guard */
  PL_FUNC,       /* a function body */
  PL_TEST,       /* a test block */
} Place;

typedef struct Ctx {
  Place place;
  Entity *self;        /* the current record's entity, or NULL */
  Direction *dir;
  Stage *stage;
  EventDef *event;     /* `event` is its payload */
  Type *ret;           /* in a function: the declared return type */
  bool pure;           /* no actions: computed fields, guards, conditions */
  HandlerKind hk;      /* the enclosing handler's kind, when in one */
  bool in_handler;
  bool has_calendar;   /* an `in CALENDAR` applies to working-time durations */
  bool event_unknown;  /* the handled event was not found (already reported) */
} Ctx;

typedef VEC(const char *) NameVec;

typedef struct Local {
  const char *name;
  Type *type;
  Node *decl;
  int depth;
} Local;

typedef struct Checker {
  Program *p;
  Diag *d;
  Model *m;
  Arena *a;            /* the model's arena */
  VEC(Local) locals;
  int depth;           /* scope depth for locals */
  Ctx *cx;
  NameVec ask_names;  /* names bound by `let x = ask`, for `answer` */
} Checker;

/* stmts.c: notes "in behavior X used here" on the diagnostics emitted since
** `before` when `item` was copied from a behavior. */
void chk_note_use(Checker *c, size_t before, const Node *item);
/* stmts.c: marks the user functions that act (FuncDef.acts), after their bodies are checked */
void chk_function_effects(Checker *c);

/* expand.c: replaces every `use` by a copy of its behavior's items */
void expand_behaviors(Checker *c);

/* events.c */
void ev_add_standard_fields(Checker *c);
void ev_add_standard_events(Checker *c);
/* A builtin function id, or -1. */
int ev_builtin(const char *name);
/* Types a call of builtin `id`; args already point at the call's list. */
Type *ev_check_builtin_call(Checker *c, int id, Node *call);

/* symbols.c */
void sym_collect(Checker *c);
Type *sym_resolve_type(Checker *c, Node *t, const char *owner);
Field *sym_add_field(Checker *c, Entity *e, const char *name, const char *title, Type *t,
                     Node *decl);
UserDef *sym_user(Checker *c, const char *name);
Calendar *sym_calendar(Checker *c, const char *name);
FuncDef *sym_func(Checker *c, const char *name);
/* Reports an unknown name with a "did you mean" note. */
void sym_unknown(Checker *c, Span at, DiagCode code, const char *what, const char *name,
                 const char *const *cands, size_t ncands);
/* Find a declaration by name, or report it unknown at `at` (with a "did
** you mean" note) and return NULL. */
Role *sym_need_role(Checker *c, Span at, const char *name);
EventDef *sym_need_event(Checker *c, Span at, const char *name);
Calendar *sym_need_calendar(Checker *c, Span at, const char *name);
UserDef *sym_need_user(Checker *c, Span at, const char *name);
Field *sym_need_field(Checker *c, Entity *e, Span at, const char *name);
Field *sym_need_payload(Checker *c, EventDef *ev, Span at, const char *name);
/* Reports a duplicate definition with a note at the first one. */
void sym_duplicate(Checker *c, Node *dup, const char *what, const char *name, Node *first);

/* exprs.c */
Type *chk_expr(Checker *c, Node *e, Type *expected);
/* Checks e and that it fits `want`; reports E0301 otherwise. */
void chk_expr_as(Checker *c, Node *e, Type *want, const char *what);
void chk_cond(Checker *c, Node *e, const char *what);
/* True if a value of type `have` (from node e) may go where `want` is. */
bool chk_fits(Checker *c, Node *e, Type *have, Type *want);
/* Resolves a stage reference (won, dir.won, dir) for records of entity e;
** prefer: the stages of direction `near`. Reports errors. */
Stage *chk_stage_ref(Checker *c, Node *ref, Entity *e, Direction *near);
void scope_push(Checker *c);
void scope_pop(Checker *c);
void scope_add(Checker *c, const char *name, Type *t, Node *decl);
Local *scope_find(Checker *c, const char *name);
const char *tstr(Checker *c, Type *t);

/* stmts.c */
void chk_block(Checker *c, Node *block);
void chk_handler(Checker *c, Node *h);
void chk_stage_items(Checker *c, Stage *s);
void chk_test(Checker *c, Node *t);
void chk_function(Checker *c, FuncDef *f);
/* Does the block end in a return on every path? */
bool chk_returns(Node *block);

/* flow.c */
void flow_check(Checker *c);

#endif
