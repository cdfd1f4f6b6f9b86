/*
** stmts.c: statements and the places they run in: handlers (robots),
** triggers, guards, required fields, access rules, functions and tests.
** The Ctx says where a body runs; each statement checks that it may run
** there (a test has no current record, a guard cannot send a message...).
*/
#include <stdlib.h>
#include <string.h>

#include "check/check_int.h"

static Type *err(void) { return type_basic(T_ERROR); }

static const char *place_name(Place p) {
  switch (p) {
  case PL_TOP: return "a top-level handler";
  case PL_ENTITY: return "an entity";
  case PL_DIRECTION: return "a direction";
  case PL_STAGE: return "a stage";
  case PL_FUNC: return "a function";
  case PL_TEST: return "a test";
  }
  return "here";
}

/* Effects on the world (messages, tasks...) come from handlers. */
static bool action_allowed(Checker *c, Node *s, const char *what) {
  if (c->cx->pure) {
    diag_error(c->d, s->span, D_NOT_HERE, "'%s' is an action; conditions and computed fields have none",
               what);
    return false;
  }
  if (c->cx->place == PL_TEST) {
    diag_error(c->d, s->span, D_NOT_HERE,
               "'%s' belongs in a handler; a test drives records with create, set, move and emit",
               what);
    return false;
  }
  return true;
}

static bool test_only(Checker *c, Node *s, const char *what) {
  if (c->cx->place == PL_TEST) return true;
  diag_error(c->d, s->span, D_NOT_HERE, "'%s' is a test step; it is allowed only in a test block",
             what);
  return false;
}

/* The current record, for statements that act on it implicitly. */
static Entity *need_self(Checker *c, Node *s, const char *what) {
  if (c->cx->self) return c->cx->self;
  if (c->cx->place == PL_TEST)
    diag_error(c->d, s->span, D_NOT_HERE, "a test has no current record: say which, as in '%s d ...'",
               what);
  else
    diag_error(c->d, s->span, D_NOT_HERE, "'%s' acts on the current record, and %s has none", what,
               place_name(c->cx->place));
  return NULL;
}

static Calendar *resolve_calendar(Checker *c, Node *name) {
  Calendar *cal = sym_need_calendar(c, name->span, name->name);
  if (!cal) return NULL;
  name->sym = cal;
  return cal;
}

static void check_target(Checker *c, Node *t) {
  if (t->kind == N_ROLE_TARGET) chk_expr(c, t, NULL);
  else chk_expr_as(c, t, type_basic(T_USER), "the recipient");
}

static void check_free_inits(Checker *c, Node *inits) {
  for (Node *i = inits; i; i = i->next) {
    for (Node *j = inits; j != i; j = j->next)
      if (!strcmp(j->name, i->name)) sym_duplicate(c, i, "parameter", i->name, j);
    chk_expr(c, i->a, NULL);
  }
}

/* A field of `e` that statements may write. */
static Field *writable_field(Checker *c, Entity *e, const char *name, Span at) {
  Field *f = sym_need_field(c, e, at, name);
  if (!f) return NULL;
  if (f->computed) {
    diag_error(c->d, at, D_READONLY, "'%s' is computed; it cannot be set", name);
    if (f->decl) diag_note(c->d, f->decl->b->span, "it is computed from this");
    return NULL;
  }
  if (f->readonly) {
    diag_error(c->d, at, D_READONLY, "'%s' is read-only%s", name,
               !strcmp(name, "stage") || !strcmp(name, "direction") ? "; use 'move' to change it" : "");
    return NULL;
  }
  return f;
}

static void check_set(Checker *c, Node *s) {
  Node *t = s->a;
  Type *want = err();
  if (c->cx->pure) action_allowed(c, s, "set");
  if (t->kind == N_NAME) {
    Local *l = scope_find(c, t->name);
    if (l) {
      want = l->type;
      t->sym = l->decl;
      t->symk = SYM_LOCAL;
    } else if (c->cx->self) {
      Field *f = writable_field(c, c->cx->self, t->name, t->span);
      if (f) {
        want = f->type;
        t->sym = f;
        t->symk = SYM_FIELD;
      } else if ((f = entity_field(c->cx->self, t->name))) {
        want = f->type;
      }
    } else {
      diag_error(c->d, t->span, D_UNKNOWN_NAME, "unknown variable '%s'", t->name);
      if (c->cx->place == PL_TEST) diag_note(c->d, t->span, "a test has no current record: set d.%s = ...", t->name);
    }
  } else if (t->kind == N_MEMBER) {
    Type *ot = chk_expr(c, t->a, NULL);
    if (!type_is_error(ot)) {
      if (ot->kind != T_RECORD) {
        diag_error(c->d, t->span, D_READONLY, "only fields of records can be set; this is a %s",
                   tstr(c, ot));
      } else {
        Field *f = writable_field(c, ot->entity, t->name, t->name_span);
        if (f) {
          want = f->type;
          t->sym = f;
          t->symk = SYM_FIELD;
        } else if ((f = entity_field(ot->entity, t->name))) {
          want = f->type; /* read-only: reported; still type the value */
        }
      }
    }
  }
  t->type = want;
  chk_expr_as(c, s->b, want, "the new value");
}

static void check_move(Checker *c, Node *s) {
  Entity *e = NULL;
  Direction *near = NULL;
  if (c->cx->pure) {
    action_allowed(c, s, "move");
    return;
  }
  if (s->a) {
    Type *t = chk_expr(c, s->a, NULL);
    if (type_is_error(t)) return;
    if (t->kind != T_RECORD || (t->entity->kind != E_DEAL && t->entity->kind != E_LEAD)) {
      diag_error(c->d, s->a->span, D_TYPE, "only deals and leads move between stages, not %s",
                 tstr(c, t));
      return;
    }
    e = t->entity;
  } else {
    e = need_self(c, s, "move");
    if (!e) return;
    near = c->cx->dir;
  }
  s->sym = chk_stage_ref(c, s->b, e, near);
}

static void check_user_decl(Checker *c, Node *s) {
  if (!test_only(c, s, "user")) return;
  for (Node *r = s->list; r; r = r->next) {
    r->sym = sym_need_role(c, r->span, r->name);
  }
  if (s->a && !scope_find(c, s->a->name) && !sym_user(c, s->a->name))
    diag_error(c->d, s->a->span, D_UNKNOWN_USER, "unknown user '%s' (declare the supervisor first)",
               s->a->name);
  if (sym_user(c, s->name)) {
    diag_error(c->d, s->name_span, D_DUPLICATE, "user '%s' is already declared by the pack", s->name);
    return;
  }
  scope_add(c, s->name, type_basic(T_USER), s);
}

static void check_emit(Checker *c, Node *s) {
  EventDef *ev = sym_need_event(c, s->a->span, s->a->name);
  if (!ev) {
    check_free_inits(c, s->list);
    return;
  }
  s->a->sym = ev;
  if (s->b) {
    Type *t = chk_expr(c, s->b, NULL);
    if (!type_is_error(t) && t->kind != T_RECORD)
      diag_error(c->d, s->b->span, D_TYPE, "an event goes to a record, not to %s", tstr(c, t));
  }
  for (Node *i = s->list; i; i = i->next) {
    Field *f = sym_need_payload(c, ev, i->name_span, i->name);
    if (!f) {
      chk_expr(c, i->a, NULL);
      continue;
    }
    i->sym = f;
    chk_expr_as(c, i->a, f->type, arena_printf(c->a, "'%s'", f->name));
  }
}

static const char *const channels[] = {"email", "sms", "whatsapp", "telegram"};

static void check_message(Checker *c, Node *s) {
  if (!action_allowed(c, s, "message")) return;
  bool known = false;
  for (size_t i = 0; i < sizeof channels / sizeof *channels; i++) known |= !strcmp(channels[i], s->name);
  if (!known) {
    diag_error(c->d, s->name_span, D_UNKNOWN_NAME, "unknown channel '%s'", s->name);
    const char *best = diag_suggest(s->name, channels, sizeof channels / sizeof *channels);
    if (best) diag_note(c->d, s->name_span, "did you mean '%s'?", best);
    else diag_note(c->d, s->name_span, "the channels are email, sms, whatsapp and telegram");
  }
  if (s->a) {
    Type *t = chk_expr(c, s->a, NULL);
    if (!type_is_error(t) && t->kind != T_RECORD && t->kind != T_EMAIL && t->kind != T_PHONE &&
        t->kind != T_TEXT && t->kind != T_USER)
      diag_error(c->d, s->a->span, D_TYPE, "a message goes to a record, a user, an e-mail or a phone, not %s",
                 tstr(c, t));
  } else {
    need_self(c, s, "message");
  }
  chk_expr_as(c, s->b, type_basic(T_TEXT), "the message");
}

static void check_stmt(Checker *c, Node *s);

static void check_else(Checker *c, Node *e) {
  if (!e) return;
  if (e->kind == N_IF) check_stmt(c, e);
  else chk_block(c, e);
}

static void check_stmt(Checker *c, Node *s) {
  if (!s) return;
  switch (s->kind) {
  case N_LET: {
    Type *want = s->b ? sym_resolve_type(c, s->b, s->name) : NULL;
    Type *t = chk_expr(c, s->a, want);
    if (t->kind == T_VOID) {
      diag_error(c->d, s->a->span, D_TYPE, "this gives no value to keep");
      t = err();
    }
    if (want && !chk_fits(c, s->a, t, want))
      diag_error(c->d, s->a->span, D_TYPE, "'%s' is declared %s, but the value is %s", s->name,
                 tstr(c, want), tstr(c, t));
    if (s->a->kind == N_ASK) vec_push(&c->ask_names, s->name);
    if (t->kind == T_NULL && !want) {
      diag_error(c->d, s->a->span, D_TYPE, "give '%s' a type: let %s: TYPE = null", s->name, s->name);
      t = err();
    }
    s->type = want ? want : t;
    scope_add(c, s->name, s->type, s);
    break;
  }
  case N_SET: check_set(c, s); break;
  case N_IF:
    chk_cond(c, s->a, "the condition of 'if'");
    chk_block(c, s->b);
    check_else(c, s->c);
    break;
  case N_FOR: {
    Type *t = chk_expr(c, s->a, NULL);
    Type *el = err();
    if (!type_is_error(t)) {
      if (t->kind != T_LIST) diag_error(c->d, s->a->span, D_TYPE, "'for' goes over a list, not %s", tstr(c, t));
      else el = t->elem;
    }
    scope_push(c);
    scope_add(c, s->name, el, s);
    chk_block(c, s->b);
    scope_pop(c);
    break;
  }
  case N_RETURN:
    if (c->cx->place == PL_FUNC) {
      Type *ret = c->cx->ret;
      if (s->a && ret->kind == T_VOID)
        diag_error(c->d, s->a->span, D_RETURN, "this function declares no return type; add ': TYPE'");
      else if (!s->a && ret->kind != T_VOID)
        diag_error(c->d, s->span, D_RETURN, "this function returns %s; say which value", tstr(c, ret));
      else if (s->a) chk_expr_as(c, s->a, ret, "the returned value");
    } else if (c->cx->place == PL_TEST) {
      diag_error(c->d, s->span, D_NOT_HERE, "'return' ends a function or a handler, not a test");
    } else if (s->a) {
      diag_error(c->d, s->a->span, D_RETURN, "a handler returns no value");
    }
    break;
  case N_EXPR_STMT:
    if (s->a->kind == N_CREATE && c->cx->pure) action_allowed(c, s, "create");
    chk_expr(c, s->a, NULL);
    break;
  case N_MOVE: check_move(c, s); break;
  case N_DELETE:
    if (action_allowed(c, s, "delete")) need_self(c, s, "delete");
    break;
  case N_NOTIFY:
    if (!action_allowed(c, s, "notify")) break;
    check_target(c, s->a);
    chk_expr_as(c, s->b, type_basic(T_TEXT), "the notification");
    break;
  case N_TASK: {
    if (!action_allowed(c, s, "task")) break;
    check_target(c, s->a);
    chk_expr_as(c, s->b, type_basic(T_TEXT), "the task");
    bool had = c->cx->has_calendar;
    if (s->d) {
      resolve_calendar(c, s->d);
      c->cx->has_calendar = true;
    }
    if (s->c) {
      Type *t = chk_expr(c, s->c, NULL);
      if (!type_is_error(t) && t->kind != T_DURATION && t->kind != T_DATE && t->kind != T_DATETIME)
        diag_error(c->d, s->c->span, D_TYPE, "a deadline is a duration or a moment, not %s", tstr(c, t));
    }
    c->cx->has_calendar = had;
    break;
  }
  case N_MESSAGE: check_message(c, s); break;
  case N_DOCUMENT:
    if (!action_allowed(c, s, "document")) break;
    chk_expr_as(c, s->b, type_basic(T_TEXT), "the template");
    check_free_inits(c, s->list);
    break;
  case N_WEBHOOK:
    if (!action_allowed(c, s, "webhook")) break;
    chk_expr_as(c, s->b, type_basic(T_TEXT), "the address");
    check_free_inits(c, s->list);
    break;
  case N_CONVERT: {
    if (!action_allowed(c, s, "convert")) break;
    Entity *e = need_self(c, s, "convert");
    if (e && e->kind != E_LEAD) {
      diag_error(c->d, s->span, D_WRONG_ENTITY, "only leads are converted; this is a %s", e->name);
      break;
    }
    s->sym = chk_stage_ref(c, s->a, &c->m->entities[E_DEAL], NULL);
    break;
  }
  case N_USER: check_user_decl(c, s); break;
  case N_CLOCK: test_only(c, s, "at"); break;
  case N_ADVANCE:
    if (!test_only(c, s, "advance")) break;
    if (s->flags & F_TO) {
      Type *t = chk_expr(c, s->a, NULL);
      if (!type_is_error(t) && t->kind != T_DATE && t->kind != T_DATETIME)
        diag_error(c->d, s->a->span, D_TYPE, "'advance to' takes a moment, not %s", tstr(c, t));
    } else {
      chk_expr_as(c, s->a, type_basic(T_DURATION), "'advance' takes a duration; it");
    }
    break;
  case N_EMIT:
    if (test_only(c, s, "emit")) check_emit(c, s);
    break;
  case N_EXPECT:
    if (test_only(c, s, "expect")) chk_cond(c, s->a, "an expectation");
    break;
  case N_REFUSED:
    if (!test_only(c, s, "expect refused")) break;
    chk_block(c, s->b);
    if (s->c) chk_expr_as(c, s->c, type_basic(T_TEXT), "the expected message");
    break;
  case N_ANSWER: {
    if (!test_only(c, s, "answer")) break;
    Type *t = chk_expr(c, s->a, NULL);
    if (!type_is_error(t) && t->kind != T_RECORD)
      diag_error(c->d, s->a->span, D_TYPE, "questions are answered on a record, not %s", tstr(c, t));
    bool found = false;
    for (size_t i = 0; i < c->ask_names.len; i++) found |= !strcmp(c->ask_names.items[i], s->name);
    if (!found) {
      diag_error(c->d, s->name_span, D_UNKNOWN_NAME, "no 'let %s = ask ...' in the pack", s->name);
      const char *best = diag_suggest(s->name, c->ask_names.items, c->ask_names.len);
      if (best) diag_note(c->d, s->name_span, "did you mean '%s'?", best);
    }
    chk_expr(c, s->b, NULL);
    break;
  }
  default:
    diag_error(c->d, s->span, D_SYNTAX, "a %s is not a statement", ast_kind_name(s->kind));
    break;
  }
}

void chk_block(Checker *c, Node *block) {
  if (!block) return;
  scope_push(c);
  for (Node *s = block->list; s; s = s->next) check_stmt(c, s);
  scope_pop(c);
}

bool chk_returns(Node *block) {
  if (!block) return false;
  Node *last = block->kind == N_BLOCK ? block->list : block;
  while (last && last->next) last = last->next;
  if (!last) return false;
  if (last->kind == N_RETURN) return true;
  if (last->kind == N_IF) return last->c && chk_returns(last->b) && chk_returns(last->c);
  return false;
}

/* ---- handlers -------------------------------------------------------------- */

static const char *hk_name(int hk) {
  static const char *names[] = {"on enter", "on leave", "on change", "on event", "on create",
                                "after", "at", "every"};
  return names[hk];
}

void chk_handler(Checker *c, Node *h) {
  Ctx saved = *c->cx;
  Place pl = c->cx->place;
  int hk = h->op;
  bool ok = true;
  if (pl == PL_ENTITY && (hk == HK_ENTER || hk == HK_LEAVE || hk == HK_AFTER)) {
    diag_error(c->d, h->span, D_NOT_HERE,
               "'%s' belongs to a stage or a direction (it counts from entering a stage); an "
               "entity has no stages",
               hk_name(hk));
    ok = false;
  }
  if ((pl == PL_STAGE || pl == PL_DIRECTION) && hk == HK_CREATE) {
    diag_error(c->d, h->span, D_NOT_HERE,
               "'on create' belongs to an entity; in a stage, use 'on enter' of the first stage");
    ok = false;
  }
  if (pl == PL_TOP && hk != HK_EVENT) return; /* reported while collecting */
  c->cx->in_handler = true;
  c->cx->hk = (HandlerKind)hk;
  switch (hk) {
  case HK_CHANGE:
    for (Node *n = h->a; n; n = n->next) {
      n->sym = c->cx->self ? sym_need_field(c, c->cx->self, n->span, n->name) : NULL;
    }
    break;
  case HK_EVENT: {
    EventDef *ev = sym_need_event(c, h->a->span, h->a->name);
    h->a->sym = ev;
    c->cx->event = ev;
    c->cx->event_unknown = !ev;
    break;
  }
  case HK_AFTER:
  case HK_EVERY:
  case HK_AT:
    if (h->c) {
      resolve_calendar(c, h->c);
      c->cx->has_calendar = true; /* an unknown one is reported once, above */
    }
    c->cx->pure = true;
    if (hk == HK_AT) {
      Type *t = chk_expr(c, h->a, NULL);
      if (!type_is_error(t) && t->kind != T_DATE && t->kind != T_DATETIME)
        diag_error(c->d, h->a->span, D_TYPE, "'at' takes a moment (a date or datetime), not %s",
                   tstr(c, t));
    } else {
      chk_expr_as(c, h->a, type_basic(T_DURATION), arena_printf(c->a, "the delay of '%s'", hk_name(hk)));
    }
    c->cx->pure = false;
    break;
  default: break;
  }
  (void)ok;
  chk_block(c, h->b);
  *c->cx = saved;
}

/* ---- stage rules ------------------------------------------------------------ */

static void check_trigger(Checker *c, Stage *s, Node *t) {
  Ctx saved = *c->cx;
  if (t->a) {
    EventDef *ev = sym_need_event(c, t->a->span, t->a->name);
    t->a->sym = ev;
    c->cx->event = ev;
    c->cx->event_unknown = !ev;
  } else if (!t->b) {
    diag_error(c->d, t->span, D_SYNTAX, "a trigger needs an event or a 'when' condition");
  }
  for (Node *r = t->list; r; r = r->next) {
    Stage *from = chk_stage_ref(c, r, s->dir->entity, s->dir);
    if (from && from->dir != s->dir) {
      diag_error(c->d, r->span, D_CROSS_DIRECTION,
                 "a trigger moves deals within its direction; '%s' is in '%s', not '%s'",
                 from->name, from->dir->name, s->dir->name);
    } else if (from == s) {
      diag_error(c->d, r->span, D_CROSS_DIRECTION, "a trigger of stage '%s' cannot start from it",
                 s->name);
    }
  }
  if (t->b) {
    c->cx->pure = true;
    chk_cond(c, t->b, "a trigger's condition");
  }
  *c->cx = saved;
}

void chk_note_use(Checker *c, size_t before, const Node *item) {
  if (!item->via) return;
  size_t end = c->d->len;
  for (size_t k = before; k < end; k++)
    if (c->d->items[k].sev != SEV_NOTE)
      diag_note_to(c->d, (int)k, item->via->span, "in behavior '%s', used here", item->via->name);
}

void chk_stage_items(Checker *c, Stage *s) {
  Ctx cx = {.place = PL_STAGE, .self = s->dir->entity, .dir = s->dir, .stage = s};
  Ctx *saved = c->cx;
  c->cx = &cx;
  for (size_t i = 0; i < s->handlers.len; i++) {
    size_t before = c->d->len;
    chk_handler(c, s->handlers.items[i]);
    chk_note_use(c, before, s->handlers.items[i]);
  }
  for (size_t i = 0; i < s->triggers.len; i++) {
    size_t before = c->d->len;
    check_trigger(c, s, s->triggers.items[i]);
    chk_note_use(c, before, s->triggers.items[i]);
  }
  for (size_t i = 0; i < s->guards.len; i++) {
    Node *g = s->guards.items[i];
    size_t before = c->d->len;
    cx.pure = true;
    chk_cond(c, g->a, "a guard");
    chk_expr_as(c, g->b, type_basic(T_TEXT), "a guard's message");
    cx.pure = false;
    chk_note_use(c, before, g);
  }
  NodeVec seen = {0};
  for (size_t i = 0; i < s->requires.len; i++) {
    Node *r = s->requires.items[i];
    size_t before = c->d->len;
    for (Node *n = r->list; n; n = n->next) {
      Field *f = sym_need_field(c, s->dir->entity, n->span, n->name);
      if (!f) continue;
      if (f->computed || f->readonly) {
        diag_error(c->d, n->span, D_READONLY, "'%s' is %s: nobody fills it, so it cannot be required",
                   n->name, f->computed ? "computed" : "read-only");
        continue;
      }
      for (size_t k = 0; k < seen.len; k++)
        if (!strcmp(seen.items[k]->name, n->name)) sym_duplicate(c, n, "required field", n->name, seen.items[k]);
      vec_push(&seen, n);
      n->sym = f;
    }
    if (r->b) chk_expr_as(c, r->b, type_basic(T_TEXT), "the message");
    chk_note_use(c, before, r);
  }
  vec_free(&seen);
  for (size_t i = 0; i < s->access.len; i++) {
    for (Node *n = s->access.items[i]->list; n; n = n->next) {
      n->sym = sym_need_role(c, n->span, n->name);
    }
  }
  c->cx = saved;
}

/* ---- functions and tests ------------------------------------------------------ */

/* The first action in n (a statement, an expression, a list of them), or
** a call of a function that acts; NULL if there is none. */
static Node *first_action(Node *n) {
  for (; n; n = n->next) {
    switch (n->kind) {
    case N_NOTIFY: case N_TASK: case N_MESSAGE: case N_DOCUMENT: case N_WEBHOOK: case N_MOVE:
    case N_DELETE: case N_SET: case N_CREATE: case N_ASK: case N_CONVERT:
      return n;
    case N_CALL:
      if (n->symk == SYM_FUNC) {
        FuncDef *f = n->sym;
        if ((f->kind == FK_EXTERN && !f->pure) || (f->kind == FK_USER && f->acts)) return n;
      }
      break;
    default: break;
    }
    Node *x;
    if ((x = first_action(n->a)) || (x = first_action(n->b)) || (x = first_action(n->c)) ||
        (x = first_action(n->d)) || (x = first_action(n->list)))
      return x;
  }
  return NULL;
}

void chk_function_effects(Checker *c) {
  /* to a fixed point: a function that calls one that acts acts too */
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < c->m->funcs.len; i++) {
      FuncDef *f = c->m->funcs.items[i];
      if (f->kind != FK_USER || f->acts) continue;
      f->acts = first_action(f->decl->b);
      changed |= f->acts != NULL;
    }
  }
}

void chk_function(Checker *c, FuncDef *f) {
  if (f->kind != FK_USER) return;
  Ctx cx = {.place = PL_FUNC, .ret = f->ret};
  Ctx *saved = c->cx;
  c->cx = &cx;
  scope_push(c);
  size_t i = 0;
  for (Node *p = f->decl->list; p; p = p->next, i++) {
    Local *l = scope_find(c, p->name);
    if (!(l && l->depth == c->depth)) scope_add(c, p->name, f->params[i], p); /* dups: reported */
  }
  Node *body = f->decl->b;
  if (f->decl->flags & F_EXPR_BODY) {
    if (f->decl->a) {
      chk_expr_as(c, body, f->ret, arena_printf(c->a, "the result of %s()", f->name));
    } else {
      f->ret = chk_expr(c, body, NULL);
      cx.ret = f->ret;
    }
  } else {
    chk_block(c, body);
    if (f->ret->kind != T_VOID && !type_is_error(f->ret) && !chk_returns(body))
      diag_error(c->d, f->decl->name_span, D_RETURN,
                 "%s() must return %s on every path; the end of its body has no 'return'", f->name,
                 tstr(c, f->ret));
  }
  scope_pop(c);
  c->cx = saved;
}

void chk_test(Checker *c, Node *t) {
  Ctx cx = {.place = PL_TEST};
  Ctx *saved = c->cx;
  c->cx = &cx;
  chk_block(c, t->b);
  c->cx = saved;
}
