/*
** check.c: the checker's driver. The passes, in order:
**   0. expand.c replaces each `use` of a behavior by a copy of its items;
**   1. symbols.c collects every declaration into the model and resolves
**      declared types, users, calendars and function signatures;
**   2. computed fields, handlers (entity, direction, stage, top level),
**      stage rules, function bodies, then tests (stmts.c, exprs.c);
**   3. whole-pack analyses (flow.c).
** Every pass runs even after errors, so one run reports every independent
** mistake; T_ERROR types keep one mistake from causing a cascade.
*/
#include "check/check.h"

#include <stdlib.h>
#include <string.h>

#include "check/check_int.h"

static void check_bodies(Checker *c) {
  Model *m = c->m;
  /* functions first: an expression body without a declared type gives the
  ** function its result type, which its callers need */
  Ctx none = {.place = PL_TOP};
  c->cx = &none;
  for (size_t i = 0; i < m->funcs.len; i++) chk_function(c, m->funcs.items[i]);
  chk_function_effects(c);
  for (int k = 0; k < E__COUNT; k++) {
    Entity *e = &m->entities[k];
    Ctx cx = {.place = PL_ENTITY, .self = e, .pure = true};
    c->cx = &cx;
    for (size_t i = 0; i < e->fields.len; i++) {
      Field *f = e->fields.items[i];
      if (f->computed)
        chk_expr_as(c, f->computed, f->type, arena_printf(c->a, "computed field '%s'", f->name));
    }
    cx.pure = false;
    for (size_t i = 0; i < e->handlers.len; i++) {
      size_t before = c->d->len;
      chk_handler(c, e->handlers.items[i]);
      chk_note_use(c, before, e->handlers.items[i]);
    }
  }
  for (size_t i = 0; i < m->directions.len; i++) {
    Direction *d = m->directions.items[i];
    Ctx cx = {.place = PL_DIRECTION, .self = d->entity, .dir = d};
    c->cx = &cx;
    for (size_t k = 0; k < d->handlers.len; k++) {
      size_t before = c->d->len;
      chk_handler(c, d->handlers.items[k]);
      chk_note_use(c, before, d->handlers.items[k]);
    }
    for (size_t k = 0; k < d->stages.len; k++) chk_stage_items(c, d->stages.items[k]);
  }
  Ctx top = {.place = PL_TOP};
  c->cx = &top;
  for (size_t i = 0; i < m->top_handlers.len; i++) chk_handler(c, m->top_handlers.items[i]);
  for (size_t i = 0; i < m->tests.len; i++) chk_test(c, m->tests.items[i]);
  c->cx = NULL;
}

Model *check_program(Program *p) {
  types_reset();
  Model *m = xcalloc(1, sizeof *m);
  arena_init(&m->arena);
  Checker c = {0};
  c.p = p;
  c.d = &p->diag;
  c.m = m;
  c.a = &m->arena;
  expand_behaviors(&c);
  sym_collect(&c);
  check_bodies(&c);
  flow_check(&c);
  vec_free(&c.locals);
  vec_free(&c.ask_names);
  return m;
}

void model_free(Model *m) {
  if (!m) return;
  for (int k = 0; k < E__COUNT; k++) {
    vec_free(&m->entities[k].fields);
    vec_free(&m->entities[k].handlers);
  }
  for (size_t i = 0; i < m->directions.len; i++) {
    vec_free(&m->directions.items[i]->stages);
    vec_free(&m->directions.items[i]->handlers);
  }
  for (size_t i = 0; i < m->stages.len; i++) {
    Stage *s = m->stages.items[i];
    vec_free(&s->handlers);
    vec_free(&s->triggers);
    vec_free(&s->guards);
    vec_free(&s->requires);
    vec_free(&s->access);
  }
  for (size_t i = 0; i < m->users.len; i++) vec_free(&m->users.items[i]->roles);
  for (size_t i = 0; i < m->events.len; i++) vec_free(&m->events.items[i]->fields);
  vec_free(&m->directions);
  vec_free(&m->stages);
  vec_free(&m->roles);
  vec_free(&m->enums);
  vec_free(&m->users);
  vec_free(&m->calendars);
  vec_free(&m->events);
  vec_free(&m->funcs);
  vec_free(&m->tests);
  vec_free(&m->top_handlers);
  arena_free(&m->arena);
  free(m);
}
