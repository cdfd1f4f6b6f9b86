/*
** exprs.c: typing expressions.
**
** chk_expr(c, e, expected) types e, stores the type in e->type and the
** resolved declaration in e->sym, and returns the type (T_ERROR after an
** error, which fits everywhere so that one mistake gives one message).
** `expected` is a hint, not a requirement: it lets bare names resolve as
** enum values (`kind == truck`), stages (`stage == won`) or roles, and an
** empty list take its element type.
**
** Numeric literals adapt: `sum > 0` compares money with money, `paid +
** 100` adds money. Variables never convert implicitly.
*/
#include <stdlib.h>
#include <string.h>

#include "check/check_int.h"
#include "util/strbuf.h"

const char *tstr(Checker *c, Type *t) { return type_str(c->a, t); }

static Type *err(void) { return type_basic(T_ERROR); }

/* ---- scopes -------------------------------------------------------------- */

void scope_push(Checker *c) { c->depth++; }

void scope_pop(Checker *c) {
  while (c->locals.len && c->locals.items[c->locals.len - 1].depth == c->depth) c->locals.len--;
  c->depth--;
}

void scope_add(Checker *c, const char *name, Type *t, Node *decl) {
  for (size_t i = c->locals.len; i-- > 0;) {
    Local *l = &c->locals.items[i];
    if (l->depth != c->depth) break;
    if (!strcmp(l->name, name)) {
      sym_duplicate(c, decl, "variable", name, l->decl);
      return;
    }
  }
  Local l = {name, t, decl, c->depth};
  vec_push(&c->locals, l);
}

Local *scope_find(Checker *c, const char *name) {
  for (size_t i = c->locals.len; i-- > 0;)
    if (!strcmp(c->locals.items[i].name, name)) return &c->locals.items[i];
  return NULL;
}

/* ---- compatibility -------------------------------------------------------- */

static bool is_num_literal(const Node *e) {
  if (e->kind == N_UNARY && e->op == AOP_NEG) e = e->a;
  return e->kind == N_INT || e->kind == N_DECIMAL;
}

static bool is_textlike(TypeKind k) {
  return k == T_TEXT || k == T_PHONE || k == T_EMAIL || k == T_ADDRESS;
}

/* The type a numeric literal takes next to a value of type `other`. */
static Type *adapt(const Node *e, Type *t, Type *other) {
  if (!is_num_literal(e) || !other) return t;
  if (t->kind == T_INT && (other->kind == T_DECIMAL || other->kind == T_MONEY)) return other;
  if (t->kind == T_DECIMAL && other->kind == T_MONEY) return other;
  return t;
}

bool chk_fits(Checker *c, Node *e, Type *have, Type *want) {
  if (type_is_error(have) || type_is_error(want)) return true;
  if (have == want || have->kind == T_NULL) return true;
  if (e && adapt(e, have, want) == want) return true;
  if (is_textlike(have->kind) && is_textlike(want->kind)) return true;
  /* a file is named by its path or address */
  if (have->kind == T_TEXT && want->kind == T_FILE) return true;
  if (have->kind == T_DATE && want->kind == T_DATETIME) return true;
  if (have->kind == T_INT && want->kind == T_DECIMAL) return true;
  if (have->kind == T_LIST && want->kind == T_LIST) {
    if (have->elem->kind == T_NULL) return true;
    if (e && e->kind == N_LIST) {
      for (Node *x = e->list; x; x = x->next)
        if (!chk_fits(c, x, x->type ? x->type : have->elem, want->elem)) return false;
      return true;
    }
    return chk_fits(c, NULL, have->elem, want->elem);
  }
  return false;
}

void chk_expr_as(Checker *c, Node *e, Type *want, const char *what) {
  Type *t = chk_expr(c, e, want);
  if (!chk_fits(c, e, t, want))
    diag_error(c->d, e->span, D_TYPE, "%s must be %s, not %s", what, tstr(c, want), tstr(c, t));
}

void chk_cond(Checker *c, Node *e, const char *what) {
  Type *t = chk_expr(c, e, type_basic(T_BOOL));
  if (!type_is_error(t) && t->kind != T_BOOL)
    diag_error(c->d, e->span, D_COND_BOOL, "%s must be true or false, not %s", what, tstr(c, t));
}

/* ---- names ------------------------------------------------------------- */

static void collect_names(Checker *c, NameVec *out) {
  for (size_t i = 0; i < c->locals.len; i++) vec_push(out, c->locals.items[i].name);
  if (c->cx && c->cx->self)
    for (size_t i = 0; i < c->cx->self->fields.len; i++)
      vec_push(out, c->cx->self->fields.items[i]->name);
  for (size_t i = 0; i < c->m->users.len; i++) vec_push(out, c->m->users.items[i]->name);
}

static Stage *find_stage_anywhere(Checker *c, Node *ref, const char *name, Entity *e,
                                  Direction *near) {
  Stage *found = NULL;
  int n = 0;
  for (size_t i = 0; i < c->m->directions.len; i++) {
    Direction *d = c->m->directions.items[i];
    if (e && d->entity != e) continue;
    Stage *s = direction_stage(d, name);
    if (s) {
      if (!found) found = s;
      n++;
    }
  }
  if (n > 1) {
    diag_error(c->d, ref->span, D_UNKNOWN_STAGE,
               "stage '%s' exists in several directions; write DIRECTION.%s", name, name);
    for (size_t i = 0; i < c->m->directions.len; i++) {
      Direction *d = c->m->directions.items[i];
      Stage *s = direction_stage(d, name);
      if (s && (!e || d->entity == e)) diag_note(c->d, s->decl->name_span, "'%s.%s' is here", d->name, name);
    }
    return NULL;
  }
  if (!found) {
    NameVec names = {0};
    Direction *d0 = near;
    for (size_t i = 0; i < c->m->directions.len; i++) {
      Direction *d = c->m->directions.items[i];
      if (d0 && d != d0) continue;
      for (size_t j = 0; j < d->stages.len; j++) vec_push(&names, d->stages.items[j]->name);
    }
    sym_unknown(c, ref->span, D_UNKNOWN_STAGE, "stage", name, names.items, names.len);
    vec_free(&names);
  }
  return found;
}

static Direction *find_direction(Checker *c, Node *at, const char *name, bool report) {
  Direction *d = model_direction(c->m, name);
  if (!d && report) {
    NameVec names = {0};
    for (size_t i = 0; i < c->m->directions.len; i++) vec_push(&names, c->m->directions.items[i]->name);
    sym_unknown(c, at->span, D_UNKNOWN_DIR, "direction", name, names.items, names.len);
    vec_free(&names);
  }
  return d;
}

Stage *chk_stage_ref(Checker *c, Node *ref, Entity *e, Direction *near) {
  Stage *s = NULL;
  if (ref->kind == N_MEMBER && ref->a && ref->a->kind == N_NAME) {
    Direction *d = find_direction(c, ref->a, ref->a->name, true);
    if (!d) return NULL;
    ref->a->sym = d;
    ref->a->symk = SYM_DIRECTION;
    s = direction_stage(d, ref->name);
    if (!s) {
      NameVec names = {0};
      for (size_t j = 0; j < d->stages.len; j++) vec_push(&names, d->stages.items[j]->name);
      Span at = ref->name_span;
      diag_error(c->d, at, D_UNKNOWN_STAGE, "direction '%s' has no stage '%s'", d->name, ref->name);
      const char *best = diag_suggest(ref->name, names.items, names.len);
      if (best) diag_note(c->d, at, "did you mean '%s'?", best);
      vec_free(&names);
      return NULL;
    }
  } else if (ref->kind == N_NAME) {
    if (near) s = direction_stage(near, ref->name);
    if (!s) {
      Direction *d = model_direction(c->m, ref->name);
      if (d) {
        if (!d->stages.len) {
          diag_error(c->d, ref->span, D_UNKNOWN_STAGE, "direction '%s' has no stages", d->name);
          return NULL;
        }
        s = d->stages.items[0];
      }
    }
    if (!s) s = find_stage_anywhere(c, ref, ref->name, e, near);
    if (!s) return NULL;
  } else {
    diag_error(c->d, ref->span, D_UNKNOWN_STAGE, "expected a stage: NAME or DIRECTION.NAME");
    return NULL;
  }
  if (e && s->dir->entity != e) {
    diag_error(c->d, ref->span, D_WRONG_ENTITY, "stage '%s.%s' holds %s records, not %s records",
               s->dir->name, s->name, s->dir->entity->name, e->name);
    return NULL;
  }
  ref->sym = s;
  ref->symk = SYM_STAGE;
  ref->type = type_basic(T_STAGE);
  return s;
}

/* Resolves a bare name; returns NULL (without a message) if nothing fits. */
static Type *lookup_name(Checker *c, Node *e, Type *expected) {
  /* Where an enum is expected, its value wins over a variable or field of
  ** another type with the same name: `status == paid` next to a money
  ** field `paid`. */
  if (expected && expected->kind == T_ENUM) {
    const EnumValue *v = enum_find(expected->enm, e->name);
    Local *l = scope_find(c, e->name);
    Field *f = c->cx && c->cx->self ? entity_field(c->cx->self, e->name) : NULL;
    if (v && !(l && l->type == expected) && !(f && f->type == expected)) {
      e->sym = (void *)v;
      e->symk = SYM_ENUMVAL;
      return expected;
    }
  }
  /* Likewise a stage where a stage is expected: `stage == won` next to the
  ** bool property `won`. */
  if (expected && expected->kind == T_STAGE) {
    Local *l = scope_find(c, e->name);
    Field *f = c->cx && c->cx->self ? entity_field(c->cx->self, e->name) : NULL;
    bool is_stage = false;
    for (size_t i = 0; i < c->m->directions.len && !is_stage; i++)
      is_stage = direction_stage(c->m->directions.items[i], e->name) != NULL;
    if (is_stage && !(l && l->type == expected) && !(f && f->type == expected)) return NULL;
  }
  Local *l = scope_find(c, e->name);
  if (l) {
    e->sym = l->decl;
    e->symk = SYM_LOCAL;
    return l->type;
  }
  if (c->cx && c->cx->self) {
    Field *f = entity_field(c->cx->self, e->name);
    if (f) {
      e->sym = f;
      e->symk = SYM_FIELD;
      return f->type;
    }
    /* `self`: the current record, to hand to a function */
    if (!strcmp(e->name, "self")) {
      e->symk = SYM_SELF;
      return &c->cx->self->type;
    }
  }
  UserDef *u = sym_user(c, e->name);
  if (u) {
    e->sym = u;
    e->symk = SYM_USER;
    return type_basic(T_USER);
  }
  if (expected && expected->kind == T_ENUM) {
    const EnumValue *v = enum_find(expected->enm, e->name);
    if (v) {
      e->sym = (void *)v;
      e->symk = SYM_ENUMVAL;
      return expected;
    }
  }
  if (expected && expected->kind == T_ROLE) {
    Role *r = model_role(c->m, e->name);
    if (r) {
      e->sym = r;
      e->symk = SYM_ROLE;
      return expected;
    }
  }
  if (expected && expected->kind == T_DIRECTION) {
    Direction *d = model_direction(c->m, e->name);
    if (d) {
      e->sym = d;
      e->symk = SYM_DIRECTION;
      return expected;
    }
  }
  return NULL;
}

static Type *check_name(Checker *c, Node *e, Type *expected) {
  Type *t = lookup_name(c, e, expected);
  if (t) return t;
  if (expected && expected->kind == T_STAGE) {
    Stage *s = chk_stage_ref(c, e, c->cx ? c->cx->self : NULL, c->cx ? c->cx->dir : NULL);
    return s ? type_basic(T_STAGE) : err();
  }
  if (expected && expected->kind == T_ENUM) {
    EnumDef *en = expected->enm;
    const char **names = xmalloc((en->nvalues + 1) * sizeof *names);
    for (size_t i = 0; i < en->nvalues; i++) names[i] = en->values[i].name;
    diag_error(c->d, e->span, D_UNKNOWN_ENUM, "'%s' is not a value of %s", e->name, tstr(c, expected));
    const char *best = diag_suggest(e->name, names, en->nvalues);
    if (best) diag_note(c->d, e->span, "did you mean '%s'?", best);
    else {
      StrBuf b = {0};
      for (size_t i = 0; i < en->nvalues; i++) sb_printf(&b, "%s%s", i ? ", " : "", names[i]);
      diag_note(c->d, e->span, "its values are: %s", sb_str(&b));
      sb_free(&b);
    }
    free(names);
    return err();
  }
  if (expected && expected->kind == T_ROLE) {
    sym_need_role(c, e->span, e->name);
    return err();
  }
  NameVec names = {0};
  collect_names(c, &names);
  if (c->cx && c->cx->self)
    diag_error(c->d, e->span, D_UNKNOWN_NAME, "unknown name '%s' (not a variable, nor a field of %s)",
               e->name, c->cx->self->name);
  else diag_error(c->d, e->span, D_UNKNOWN_NAME, "unknown name '%s'", e->name);
  static const char *const units[] = {"minute", "minutes", "hour", "hours", "day", "days",
                                      "week", "weeks", "month", "months", "year", "years",
                                      "workday", "workdays", "workhour", "workhours"};
  bool is_unit = false;
  for (size_t i = 0; i < sizeof units / sizeof *units; i++) is_unit |= !strcmp(units[i], e->name);
  const char *best = diag_suggest(e->name, names.items, names.len);
  if (model_role(c->m, e->name))
    diag_note(c->d, e->span, "'%s' is a role; to address everyone with it, write 'role %s'", e->name,
              e->name);
  else if (is_unit)
    diag_note(c->d, e->span, "a duration has a number: 1 %s", e->name);
  else if (best) diag_note(c->d, e->span, "did you mean '%s'?", best);
  else if (!c->cx || !c->cx->self) {
    if (c->cx && c->cx->place == PL_TEST)
      diag_note(c->d, e->span, "a test has no current record: name one, as in d.%s", e->name);
  }
  vec_free(&names);
  return err();
}

/* ---- members ------------------------------------------------------------- */

typedef struct MemberDef {
  const char *name;
  TypeKind kind;
} MemberDef;

static const MemberDef user_members[] = {
    {"name", T_TEXT}, {"title", T_TEXT}, {"supervisor", T_USER}, {"email", T_EMAIL}, {"phone", T_PHONE}};
static const MemberDef effect_members[] = {{"kind", T_TEXT}, {"text", T_TEXT},  {"title", T_TEXT},
                                           {"user", T_USER}, {"at", T_DATETIME}, {"due", T_DATETIME},
                                           {"channel", T_TEXT}};
static const MemberDef named_members[] = {{"name", T_TEXT}, {"title", T_TEXT}};

static Type *fixed_member(Checker *c, Node *e, Type *on, const MemberDef *defs, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(defs[i].name, e->name)) return type_basic(defs[i].kind);
  const char **names = xmalloc(n * sizeof *names);
  for (size_t i = 0; i < n; i++) names[i] = defs[i].name;
  diag_error(c->d, e->name_span, D_UNKNOWN_FIELD, "a %s has no '%s'", tstr(c, on), e->name);
  const char *best = diag_suggest(e->name, names, n);
  if (best) diag_note(c->d, e->name_span, "did you mean '%s'?", best);
  free(names);
  return err();
}

static Type *check_member(Checker *c, Node *e) {
  /* DIRECTION.STAGE */
  if (e->a->kind == N_NAME && !lookup_name(c, e->a, NULL) && model_direction(c->m, e->a->name)) {
    Stage *s = chk_stage_ref(c, e, NULL, NULL);
    return s ? type_basic(T_STAGE) : err();
  }
  Type *t = chk_expr(c, e->a, NULL);
  if (type_is_error(t)) return err();
  switch (t->kind) {
  case T_RECORD: {
    Field *f = sym_need_field(c, t->entity, e->name_span, e->name);
    if (!f) return err();
    e->sym = f;
    e->symk = SYM_FIELD;
    return f->type;
  }
  case T_EVENT: {
    Field *f = sym_need_payload(c, t->event, e->name_span, e->name);
    if (!f) return err();
    e->sym = f;
    e->symk = SYM_PAYLOAD;
    return f->type;
  }
  case T_USER: return fixed_member(c, e, t, user_members, sizeof user_members / sizeof *user_members);
  case T_EFFECT:
    return fixed_member(c, e, t, effect_members, sizeof effect_members / sizeof *effect_members);
  case T_STAGE:
  case T_DIRECTION:
  case T_ENUM:
    return fixed_member(c, e, t, named_members, sizeof named_members / sizeof *named_members);
  default:
    diag_error(c->d, e->name_span, D_UNKNOWN_FIELD, "a %s has no fields (asked for '%s')",
               tstr(c, t), e->name);
    return err();
  }
}

/* ---- calls --------------------------------------------------------------- */

static Type *check_call(Checker *c, Node *e) {
  int b = ev_builtin(e->name);
  if (b >= 0) return ev_check_builtin_call(c, b, e);
  FuncDef *f = sym_func(c, e->name);
  if (!f) {
    NameVec names = {0};
    for (size_t i = 0; i < c->m->funcs.len; i++) vec_push(&names, c->m->funcs.items[i]->name);
    static const char *const bnames[] = {
#define BUILTIN(id, name, nargs, test) name,
#include "bytecode/builtins.def"
#undef BUILTIN
    };
    for (size_t i = 0; i < sizeof bnames / sizeof *bnames; i++) vec_push(&names, bnames[i]);
    sym_unknown(c, e->name_span, D_UNKNOWN_FN, "function", e->name, names.items, names.len);
    vec_free(&names);
    for (Node *a = e->list; a; a = a->next) chk_expr(c, a, NULL);
    return err();
  }
  e->sym = f;
  e->symk = SYM_FUNC;
  size_t n = ast_list_len(e->list);
  if (n != f->nparams) {
    diag_error(c->d, e->span, D_ARITY, "%s() takes %zu argument%s, not %zu", f->name, f->nparams,
               f->nparams == 1 ? "" : "s", n);
    diag_note(c->d, f->decl->name_span, "'%s' is declared here", f->name);
    for (Node *a = e->list; a; a = a->next) chk_expr(c, a, NULL);
    return f->ret;
  }
  size_t i = 0;
  for (Node *a = e->list; a; a = a->next, i++) {
    Type *t = chk_expr(c, a, f->params[i]);
    if (!chk_fits(c, a, t, f->params[i]))
      diag_error(c->d, a->span, D_TYPE, "argument %zu of %s() must be %s, not %s", i + 1, f->name,
                 tstr(c, f->params[i]), tstr(c, t));
  }
  if (f->kind == FK_EXTERN && !f->pure && c->cx && c->cx->pure)
    diag_error(c->d, e->span, D_NOT_HERE,
               "native '%s' is not declared pure, so it cannot be called in a condition or a "
               "computed field",
               f->name);
  if (f->kind == FK_USER && f->acts && c->cx && c->cx->pure) {
    diag_error(c->d, e->span, D_NOT_HERE,
               "%s() acts, so it cannot be called in a condition or a computed field", f->name);
    diag_note(c->d, f->acts->span, "it acts here");
  }
  return f->ret;
}

/* ---- operators ----------------------------------------------------------- */

static bool has_day_units(const Node *e) {
  return e->kind == N_DURATION && e->op != DU_HOUR && e->op != DU_MINUTE && e->op != DU_WORKHOUR;
}

static Type *bad_operands(Checker *c, Node *e, Type *l, Type *r) {
  diag_error(c->d, e->span, D_OPERANDS, "cannot apply '%s' to %s and %s", ast_op_str((Op)e->op),
             tstr(c, l), tstr(c, r));
  if ((l->kind == T_INT && r->kind == T_MONEY) || (l->kind == T_MONEY && r->kind == T_INT))
    diag_note(c->d, e->span, "money adds to money; multiply a price by a count instead");
  return err();
}

static Type *arith(Checker *c, Node *e, Type *l, Type *r) {
  TypeKind a = l->kind, b = r->kind;
  bool num_a = type_is_numeric(l), num_b = type_is_numeric(r);
  switch (e->op) {
  case AOP_ADD:
    if (a == T_TEXT && b == T_TEXT) return l;
    /* lists concatenate: payments + [event.amount] */
    if (a == T_LIST && b == T_LIST) {
      if (l->elem->kind == T_NULL) return r;
      if (chk_fits(c, e->b, r, l)) return l;
    }
    /* fall through */
  case AOP_SUB:
    if (a == T_INT && b == T_INT) return l;
    if ((a == T_DECIMAL || a == T_INT) && (b == T_DECIMAL || b == T_INT)) return type_basic(T_DECIMAL);
    if (a == T_MONEY && b == T_MONEY) return l;
    if (b == T_DURATION && a == T_DATE) return has_day_units(e->b) ? l : type_basic(T_DATETIME);
    if (b == T_DURATION && (a == T_DATETIME || a == T_DURATION)) return l;
    if (e->op == AOP_ADD && a == T_DURATION && (b == T_DATE || b == T_DATETIME))
      return b == T_DATE && !has_day_units(e->a) ? type_basic(T_DATETIME) : r;
    if (e->op == AOP_SUB && (a == T_DATE || a == T_DATETIME) && (b == T_DATE || b == T_DATETIME))
      return type_basic(T_DURATION);
    return bad_operands(c, e, l, r);
  case AOP_MUL:
    if (a == T_INT && b == T_INT) return l;
    if (a == T_MONEY && (b == T_INT || b == T_DECIMAL)) return l;
    if (b == T_MONEY && (a == T_INT || a == T_DECIMAL)) return r;
    if (num_a && num_b && a != T_MONEY && b != T_MONEY) return type_basic(T_DECIMAL);
    if (a == T_DURATION && b == T_INT) return l;
    if (b == T_DURATION && a == T_INT) return r;
    return bad_operands(c, e, l, r);
  case AOP_DIV:
    if (a == T_MONEY && (b == T_INT || b == T_DECIMAL)) return l;
    if (a == T_MONEY && b == T_MONEY) return type_basic(T_DECIMAL);
    if (num_a && num_b && a != T_MONEY && b != T_MONEY) return type_basic(T_DECIMAL);
    if (a == T_DURATION && b == T_INT) return l;
    return bad_operands(c, e, l, r);
  case AOP_MOD:
    if (a == T_INT && b == T_INT) return l;
    return bad_operands(c, e, l, r);
  default: return bad_operands(c, e, l, r);
  }
}

static bool comparable_order(Type *t) {
  return type_is_numeric(t) || t->kind == T_DATE || t->kind == T_DATETIME ||
         t->kind == T_DURATION || t->kind == T_TEXT;
}

/* Types both sides; a bare name that resolves to nothing on its own is typed
** after the other side, so `truck == kind` works like `kind == truck`. */
static void both_sides(Checker *c, Node *e, Type **l, Type **r) {
  if (e->a->kind == N_NAME && !lookup_name(c, e->a, NULL)) {
    *r = chk_expr(c, e->b, NULL);
    *l = chk_expr(c, e->a, *r);
  } else {
    *l = chk_expr(c, e->a, NULL);
    *r = chk_expr(c, e->b, *l);
  }
}

static Type *check_binary(Checker *c, Node *e) {
  Type *l, *r;
  switch (e->op) {
  case AOP_AND:
  case AOP_OR:
    chk_cond(c, e->a, arena_printf(c->a, "the left side of '%s'", ast_op_str((Op)e->op)));
    chk_cond(c, e->b, arena_printf(c->a, "the right side of '%s'", ast_op_str((Op)e->op)));
    return type_basic(T_BOOL);
  case AOP_EQ:
  case AOP_NE:
    both_sides(c, e, &l, &r);
    if (type_is_error(l) || type_is_error(r)) return type_basic(T_BOOL);
    if (!chk_fits(c, e->b, r, l) && !chk_fits(c, e->a, l, r)) bad_operands(c, e, l, r);
    return type_basic(T_BOOL);
  case AOP_LT:
  case AOP_LE:
  case AOP_GT:
  case AOP_GE:
    both_sides(c, e, &l, &r);
    if (type_is_error(l) || type_is_error(r)) return type_basic(T_BOOL);
    l = adapt(e->a, l, r);
    r = adapt(e->b, r, l);
    if (!(comparable_order(l) && (l == r || (l->kind == T_DATE && r->kind == T_DATETIME) ||
                                   (l->kind == T_DATETIME && r->kind == T_DATE) ||
                                   (type_is_numeric(l) && type_is_numeric(r) && l->kind != T_MONEY &&
                                    r->kind != T_MONEY))))
      bad_operands(c, e, l, r);
    return type_basic(T_BOOL);
  case AOP_IN: {
    l = chk_expr(c, e->a, NULL);
    for (Node *x = e->b->list; x; x = x->next) {
      Type *t = chk_expr(c, x, l);
      if (!chk_fits(c, x, t, l) && !type_is_error(l))
        diag_error(c->d, x->span, D_TYPE, "'in' compares with %s, not %s", tstr(c, l), tstr(c, t));
    }
    e->b->type = type_list(c->a, type_is_error(l) ? type_basic(T_NULL) : l);
    return type_basic(T_BOOL);
  }
  case AOP_COALESCE:
    l = chk_expr(c, e->a, NULL);
    r = chk_expr(c, e->b, l);
    if (type_is_error(l) || type_is_error(r)) return err();
    if (l->kind == T_NULL) return r;
    if (!chk_fits(c, e->b, r, l)) return bad_operands(c, e, l, r);
    return l;
  default:
    l = chk_expr(c, e->a, NULL);
    r = chk_expr(c, e->b, NULL);
    if (type_is_error(l) || type_is_error(r)) return err();
    /* a literal adapts to what it is added to, but scales: money * 2 */
    if (e->op != AOP_MUL && e->op != AOP_DIV) {
      l = adapt(e->a, l, r);
      r = adapt(e->b, r, l);
    }
    return arith(c, e, l, r);
  }
}

/* ---- create and ask ------------------------------------------------------ */

static Type *check_create(Checker *c, Node *e) {
  Entity *ent = model_entity(c->m, e->name);
  if (!ent) {
    static const char *const ents[] = {"deal", "contact", "company", "lead"};
    sym_unknown(c, e->name_span, D_UNKNOWN_TYPE, "entity", e->name, ents, 4);
    for (Node *i = e->list; i; i = i->next) chk_expr(c, i->a, NULL);
    return err();
  }
  if (c->cx && c->cx->pure)
    diag_error(c->d, e->span, D_NOT_HERE, "records are created by handlers, not in conditions");
  if (e->a) {
    Stage *s = chk_stage_ref(c, e->a, ent, NULL);
    e->sym = s;
  } else {
    bool has_dir = false;
    for (size_t i = 0; i < c->m->directions.len; i++)
      has_dir |= c->m->directions.items[i]->entity == ent;
    if (has_dir)
      diag_error(c->d, e->span, D_NOT_HERE, "say where the new %s starts: create %s in DIRECTION",
                 ent->name, ent->name);
  }
  for (Node *i = e->list; i; i = i->next) {
    Field *f = sym_need_field(c, ent, i->name_span, i->name);
    if (!f) {
      chk_expr(c, i->a, NULL);
      continue;
    }
    i->sym = f;
    if (f->readonly || f->computed)
      diag_error(c->d, i->name_span, D_READONLY, "'%s' is %s; it cannot be set", f->name,
                 f->computed ? "computed" : "read-only");
    for (Node *j = e->list; j != i; j = j->next)
      if (!strcmp(j->name, i->name)) sym_duplicate(c, i, "field", i->name, j);
    chk_expr_as(c, i->a, f->type, arena_printf(c->a, "'%s'", f->name));
  }
  return &ent->type;
}

static Type *check_ask(Checker *c, Node *e) {
  if (!c->cx || !c->cx->in_handler)
    diag_error(c->d, e->span, D_NOT_HERE, "'ask' is a step of a handler (a business process)");
  if (e->a->kind == N_ROLE_TARGET) {
    e->a->sym = sym_need_role(c, e->a->name_span, e->a->name);
  } else {
    chk_expr_as(c, e->a, type_basic(T_USER), "the one asked");
  }
  chk_expr_as(c, e->b, type_basic(T_TEXT), "a question");
  Type *t = sym_resolve_type(c, e->c, "answer");
  if (!type_is_error(t) && t->kind != T_BOOL && t->kind != T_ENUM) {
    diag_error(c->d, e->c->span, D_TYPE, "an answer is yes/no (bool) or a choice (enum), not %s",
               tstr(c, t));
    t = err();
  }
  if (e->d) chk_expr_as(c, e->d, type_basic(T_DURATION), "a timeout");
  if (e->list) chk_expr_as(c, e->list, t, "the default answer");
  else if (e->d)
    diag_error(c->d, e->d->span, D_TYPE,
               "a timeout needs a default answer: timeout DURATION default VALUE");
  return t;
}

/* ---- the dispatcher -------------------------------------------------------- */

static Type *check(Checker *c, Node *e, Type *expected) {
  switch (e->kind) {
  case N_INT: return type_basic(T_INT);
  case N_DECIMAL: return type_basic(T_DECIMAL);
  case N_MONEY: return type_basic(T_MONEY);
  case N_BOOL: return type_basic(T_BOOL);
  case N_NUL: return type_basic(T_NULL);
  case N_DATE: return type_basic(T_DATE);
  case N_DATETIME: return type_basic(T_DATETIME);
  case N_DURATION:
    if ((e->op == DU_WORKDAY || e->op == DU_WORKHOUR) && !c->m->default_calendar &&
        !(c->cx && c->cx->has_calendar)) {
      diag_error(c->d, e->span, D_NEEDS_CALENDAR,
                 "working time needs a calendar: add 'in CALENDAR' or declare a default calendar");
    }
    return type_basic(T_DURATION);
  case N_STRING:
    for (Node *p = e->list; p; p = p->next) {
      if (p->kind == N_STR_PART) continue;
      Type *t = chk_expr(c, p, NULL);
      if (t->kind == T_VOID) diag_error(c->d, p->span, D_TYPE, "this has no value to show");
    }
    return type_basic(T_TEXT);
  case N_NAME: return check_name(c, e, expected);
  case N_MEMBER: return check_member(c, e);
  case N_CALL: return check_call(c, e);
  case N_UNARY:
    if (e->op == AOP_NOT) {
      chk_cond(c, e->a, "the operand of 'not'");
      return type_basic(T_BOOL);
    } else {
      Type *t = chk_expr(c, e->a, expected);
      if (!type_is_error(t) && !type_is_numeric(t) && t->kind != T_DURATION) {
        diag_error(c->d, e->span, D_OPERANDS, "cannot negate %s", tstr(c, t));
        return err();
      }
      return t;
    }
  case N_BINARY: return check_binary(c, e);
  case N_LIST: {
    Type *elem = expected && expected->kind == T_LIST ? expected->elem : NULL;
    Type *first = NULL;
    for (Node *x = e->list; x; x = x->next) {
      Type *t = chk_expr(c, x, elem ? elem : first);
      if (type_is_error(t)) continue;
      if (!first && t->kind != T_NULL) first = adapt(x, t, elem);
      Type *want = elem ? elem : first;
      if (want && !chk_fits(c, x, t, want))
        diag_error(c->d, x->span, D_TYPE, "a list holds one type: %s here is not %s", tstr(c, t),
                   tstr(c, want));
    }
    Type *el = elem ? elem : first ? first : type_basic(T_NULL);
    return type_list(c->a, el);
  }
  case N_COMPREHEND: {
    Type *src = chk_expr(c, e->b, NULL);
    Type *el = err();
    if (!type_is_error(src)) {
      if (src->kind != T_LIST)
        diag_error(c->d, e->b->span, D_TYPE, "'for' goes over a list, not %s", tstr(c, src));
      else el = src->elem;
    }
    scope_push(c);
    scope_add(c, e->name, el, e);
    if (e->c) chk_cond(c, e->c, "the 'where' filter");
    Type *t = chk_expr(c, e->a, NULL);
    scope_pop(c);
    return type_is_error(t) ? t : type_list(c->a, t);
  }
  case N_SUPERVISOR:
    if (!c->cx || !c->cx->self) {
      diag_error(c->d, e->span, D_NOT_HERE,
                 "'supervisor' means the supervisor of the current record's owner; here there is "
                 "no current record (write x.owner.supervisor)");
      return err();
    }
    return type_basic(T_USER);
  case N_EVENT_DATA:
    if (c->cx && c->cx->event_unknown) return err();
    if (!c->cx || !c->cx->event) {
      diag_error(c->d, e->span, D_NOT_HERE,
                 "'event' is the payload of the event being handled; use it in 'on event' or in a "
                 "trigger on an event");
      return err();
    }
    return &c->cx->event->type;
  case N_CREATE: return check_create(c, e);
  case N_ASK: return check_ask(c, e);
  case N_ROLE_TARGET: {
    Role *r = sym_need_role(c, e->name_span, e->name);
    if (!r) return err();
    e->sym = r;
    e->symk = SYM_ROLE;
    return type_basic(T_ROLE);
  }
  default:
    diag_error(c->d, e->span, D_SYNTAX, "a %s is not an expression", ast_kind_name(e->kind));
    return err();
  }
}

Type *chk_expr(Checker *c, Node *e, Type *expected) {
  if (!e) return err();
  Type *t = check(c, e, expected);
  e->type = t;
  return t;
}
