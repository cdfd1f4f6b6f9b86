/*
** symbols.c: the first passes of the checker. They collect every
** declaration of the program (all files, imports included: one namespace)
** into the model, report duplicates, resolve declared types, users' roles
** and supervisors, calendars and function signatures. Bodies are checked
** later (stmts.c), when every name exists.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/check_int.h"


/* ---- reporting ----------------------------------------------------------- */

void sym_unknown(Checker *c, Span at, DiagCode code, const char *what, const char *name,
                 const char *const *cands, size_t ncands) {
  diag_error(c->d, at, code, "unknown %s '%s'", what, name);
  const char *best = diag_suggest(name, cands, ncands);
  if (best) diag_note(c->d, at, "did you mean '%s'?", best);
}

/* Reports `name` unknown among items, each a pointer to a struct whose
** first member is its name (Role, EventDef, Calendar, Field...). */
static void unknown_among(Checker *c, Span at, DiagCode code, const char *what, const char *name,
                          void *const *items, size_t n) {
  const char **names = xmalloc((n + 1) * sizeof *names);
  for (size_t i = 0; i < n; i++) names[i] = *(const char *const *)items[i];
  sym_unknown(c, at, code, what, name, names, n);
  free(names);
}

Role *sym_need_role(Checker *c, Span at, const char *name) {
  Role *r = model_role(c->m, name);
  if (!r) {
    unknown_among(c, at, D_UNKNOWN_ROLE, "role", name, (void *const *)c->m->roles.items, c->m->roles.len);
    if (sym_user(c, name)) diag_note(c->d, at, "'%s' is a user; rules and roles name roles", name);
  }
  return r;
}

EventDef *sym_need_event(Checker *c, Span at, const char *name) {
  EventDef *ev = model_event(c->m, name);
  if (!ev)
    unknown_among(c, at, D_UNKNOWN_EVENT, "event", name, (void *const *)c->m->events.items, c->m->events.len);
  return ev;
}

Calendar *sym_need_calendar(Checker *c, Span at, const char *name) {
  Calendar *cal = sym_calendar(c, name);
  if (!cal)
    unknown_among(c, at, D_UNKNOWN_CAL, "calendar", name, (void *const *)c->m->calendars.items,
                  c->m->calendars.len);
  return cal;
}

UserDef *sym_need_user(Checker *c, Span at, const char *name) {
  UserDef *u = sym_user(c, name);
  if (!u) unknown_among(c, at, D_UNKNOWN_USER, "user", name, (void *const *)c->m->users.items, c->m->users.len);
  return u;
}

/* "deal has no field 'x'" with a suggestion among the fields. */
static void no_field(Checker *c, Span at, const char *owner, const char *name, Field **fields,
                     size_t n) {
  diag_error(c->d, at, D_UNKNOWN_FIELD, "%s has no field '%s'", owner, name);
  const char **names = xmalloc((n + 1) * sizeof *names);
  for (size_t i = 0; i < n; i++) names[i] = fields[i]->name;
  const char *best = diag_suggest(name, names, n);
  if (best) diag_note(c->d, at, "did you mean '%s'?", best);
  free(names);
}

Field *sym_need_field(Checker *c, Entity *e, Span at, const char *name) {
  Field *f = entity_field(e, name);
  if (!f) no_field(c, at, e->name, name, e->fields.items, e->fields.len);
  return f;
}

Field *sym_need_payload(Checker *c, EventDef *ev, Span at, const char *name) {
  for (size_t i = 0; i < ev->fields.len; i++)
    if (!strcmp(ev->fields.items[i]->name, name)) return ev->fields.items[i];
  no_field(c, at, arena_printf(c->a, "event '%s'", ev->name), name, ev->fields.items, ev->fields.len);
  return NULL;
}

void sym_duplicate(Checker *c, Node *dup, const char *what, const char *name, Node *first) {
  diag_error(c->d, dup->name_span, D_DUPLICATE, "%s '%s' is already defined", what, name);
  if (first) diag_note(c->d, first->name_span, "first defined here");
}

/* ---- lookups ----------------------------------------------------------- */

Entity *model_entity(Model *m, const char *name) {
  for (int k = 0; k < E__COUNT; k++)
    if (m->entities[k].name && !strcmp(m->entities[k].name, name)) return &m->entities[k];
  return NULL;
}

Direction *model_direction(Model *m, const char *name) {
  for (size_t i = 0; i < m->directions.len; i++)
    if (!strcmp(m->directions.items[i]->name, name)) return m->directions.items[i];
  return NULL;
}

Field *entity_field(Entity *e, const char *name) {
  for (size_t i = 0; i < e->fields.len; i++)
    if (!strcmp(e->fields.items[i]->name, name)) return e->fields.items[i];
  return NULL;
}

Stage *direction_stage(Direction *d, const char *name) {
  for (size_t i = 0; i < d->stages.len; i++)
    if (!strcmp(d->stages.items[i]->name, name)) return d->stages.items[i];
  return NULL;
}

Role *model_role(Model *m, const char *name) {
  for (size_t i = 0; i < m->roles.len; i++)
    if (!strcmp(m->roles.items[i]->name, name)) return m->roles.items[i];
  return NULL;
}

EventDef *model_event(Model *m, const char *name) {
  for (size_t i = 0; i < m->events.len; i++)
    if (!strcmp(m->events.items[i]->name, name)) return m->events.items[i];
  return NULL;
}

UserDef *sym_user(Checker *c, const char *name) {
  for (size_t i = 0; i < c->m->users.len; i++)
    if (!strcmp(c->m->users.items[i]->name, name)) return c->m->users.items[i];
  return NULL;
}

Calendar *sym_calendar(Checker *c, const char *name) {
  for (size_t i = 0; i < c->m->calendars.len; i++)
    if (!strcmp(c->m->calendars.items[i]->name, name)) return c->m->calendars.items[i];
  return NULL;
}

FuncDef *sym_func(Checker *c, const char *name) {
  for (size_t i = 0; i < c->m->funcs.len; i++)
    if (!strcmp(c->m->funcs.items[i]->name, name)) return c->m->funcs.items[i];
  return NULL;
}

Field *sym_add_field(Checker *c, Entity *e, const char *name, const char *title, Type *t,
                     Node *decl) {
  Field *f = ARENA_NEW(c->a, Field);
  f->name = name;
  f->title = title ? title : name;
  f->type = t;
  f->owner = e;
  f->decl = decl;
  f->index = (int)e->fields.len;
  vec_push(&e->fields, f);
  return f;
}

/* ---- types --------------------------------------------------------------- */

static const char *const type_names[] = {"text", "int", "decimal", "money", "bool", "date",
                                         "datetime", "duration", "file", "address", "phone",
                                         "email", "user", "deal", "contact", "company", "lead"};

Type *sym_resolve_type(Checker *c, Node *t, const char *owner) {
  if (!t) return type_basic(T_ERROR);
  switch (t->kind) {
  case N_TYPE_NAME: {
    Type *b = type_by_name(t->name);
    if (b) return t->type = b;
    Entity *e = model_entity(c->m, t->name);
    if (e) return t->type = &e->type;
    for (size_t i = 0; i < c->m->enums.len; i++)
      if (!strcmp(c->m->enums.items[i]->owner, t->name)) return t->type = &c->m->enums.items[i]->type;
    NameVec names = {0};
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++) vec_push(&names, type_names[i]);
    for (size_t i = 0; i < c->m->enums.len; i++) vec_push(&names, c->m->enums.items[i]->owner);
    sym_unknown(c, t->span, D_UNKNOWN_TYPE, "type", t->name, names.items, names.len);
    vec_free(&names);
    return t->type = type_basic(T_ERROR);
  }
  case N_TYPE_LIST: {
    Type *el = sym_resolve_type(c, t->a, owner);
    if (el->kind == T_LIST) {
      diag_error(c->d, t->a->span, D_TYPE, "a list of lists is not supported");
      return t->type = type_basic(T_ERROR);
    }
    return t->type = type_is_error(el) ? el : type_list(c->a, el);
  }
  case N_TYPE_ENUM: {
    EnumDef *en = ARENA_NEW(c->a, EnumDef);
    en->owner = owner;
    en->nvalues = ast_list_len(t->list);
    en->values = arena_alloc(c->a, en->nvalues * sizeof *en->values);
    size_t k = 0;
    for (Node *v = t->list; v; v = v->next) {
      bool dup = false;
      for (size_t j = 0; j < k; j++) {
        if (!strcmp(en->values[j].name, v->name)) {
          sym_duplicate(c, v, "enum value", v->name, en->values[j].decl);
          dup = true;
        }
      }
      if (dup) continue;
      en->values[k].name = v->name;
      en->values[k].title = v->title ? v->title : v->name;
      en->values[k].decl = v;
      v->sym = &en->values[k];
      k++;
    }
    en->nvalues = k;
    en->type.kind = T_ENUM;
    en->type.enm = en;
    return t->type = &en->type;
  }
  default: return type_basic(T_ERROR);
  }
}

/* ---- pack header and versions -------------------------------------------- */

/* Parses "1", "1.2" or "1.2.3" into v[3]; returns the number of parts, 0 if bad. */
static int parse_version(const char *s, long v[3]) {
  int n = 0;
  v[0] = v[1] = v[2] = 0;
  while (*s && n < 3) {
    if (*s < '0' || *s > '9') return 0;
    char *end;
    v[n++] = strtol(s, &end, 10);
    s = end;
    if (*s == '.') s++;
    else break;
  }
  return *s ? 0 : n;
}

static void check_pack(Checker *c, Node *pk, Node **seen_per_file, size_t nfiles) {
  uint32_t f = pk->span.file;
  if (f < nfiles) {
    if (seen_per_file[f]) {
      diag_error(c->d, pk->span, D_PACK_HEADER, "a file has one pack header");
      diag_note(c->d, seen_per_file[f]->span, "the first is here");
      return;
    }
    seen_per_file[f] = pk;
  }
  long v[3];
  if (pk->text && parse_version(pk->text, v) != 3)
    diag_error(c->d, pk->a->span, D_BAD_VERSION,
               "version '%s' is not of the form MAJOR.MINOR.PATCH (like \"1.0.0\")", pk->text);
}

/* `import x version "1.2"`: the imported pack's version must match the
** requirement: the same major, and at least the given minor and patch. */
static void check_import_version(Checker *c, Node *imp, Node *const *pack_of, size_t nfiles) {
  if (!imp->a || imp->ival < 0 || (size_t)imp->ival >= nfiles) return;
  const char *req = imp->a->text ? imp->a->text : "";
  long want[3], have[3];
  int n = parse_version(req, want);
  if (!n) {
    diag_error(c->d, imp->a->span, D_BAD_VERSION,
               "version requirement '%s' is not of the form MAJOR[.MINOR[.PATCH]]", req);
    return;
  }
  Node *pk = pack_of[imp->ival];
  if (!pk || !pk->text) {
    diag_error(c->d, imp->a->span, D_IMPORT_VERSION,
               "'%s' declares no version, but version \"%s\" is required",
               imp->name ? imp->name : imp->text, req);
    return;
  }
  if (parse_version(pk->text, have) != 3) return; /* reported at the header */
  bool ok = have[0] == want[0] &&
            (n < 2 || have[1] > want[1] || (have[1] == want[1] && (n < 3 || have[2] >= want[2])));
  if (!ok) {
    diag_error(c->d, imp->a->span, D_IMPORT_VERSION, "version \"%s\" is required, but '%s' is %s",
               req, imp->name ? imp->name : imp->text, pk->text);
    diag_note(c->d, pk->span, "its version is declared here");
  }
}

/* ---- calendars --------------------------------------------------------- */

static bool zone_known(const char *tz) {
  struct stat st;
  if (stat("/usr/share/zoneinfo", &st) != 0) return true; /* no database to ask */
  if (!*tz || strstr(tz, "..") || tz[0] == '/') return false;
  char path[512];
  snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void check_calendar(Checker *c, Calendar *cal) {
  Node *tz = NULL;
  bool had_errors = false;  /* a wrong item: skip "no time zone" and the like */
  for (Node *it = cal->decl->list; it; it = it->next) {
    if (it->flags & F_INVALID) {
      had_errors = true;
      continue;
    }
    switch (it->kind) {
    case N_CAL_TZ:
      if (tz) {
        diag_error(c->d, it->span, D_BAD_CALENDAR, "calendar '%s' has two time zones", cal->name);
        diag_note(c->d, tz->span, "the first is here");
        break;
      }
      tz = it;
      if (it->a && it->a->list) {
        diag_error(c->d, it->a->span, D_BAD_CALENDAR, "a time zone cannot interpolate values");
      } else if (!zone_known(it->text)) {
        diag_error(c->d, it->a->span, D_BAD_CALENDAR,
                   "unknown time zone '%s' (use an IANA name like \"Europe/Moscow\")", it->text);
      }
      cal->timezone = it->text;
      break;
    case N_CAL_HOLIDAY:
      if (it->b && it->b->ival < it->a->ival)
        diag_error(c->d, it->span, D_BAD_CALENDAR, "the holiday range ends before it starts");
      break;
    default: break;
    }
  }
  if (had_errors) return;
  if (!tz)
    diag_error(c->d, cal->decl->name_span, D_BAD_CALENDAR,
               "calendar '%s' has no time zone; add: timezone \"Europe/Moscow\"", cal->name);
  bool has_hours = false;
  for (Node *it = cal->decl->list; it; it = it->next) has_hours |= it->kind == N_CAL_HOURS;
  if (!has_hours)
    diag_error(c->d, cal->decl->name_span, D_BAD_CALENDAR,
               "calendar '%s' has no working hours; add: hours mon..fri 09:00..18:00", cal->name);
}

/* ---- collection -------------------------------------------------------- */

static void add_direction(Checker *c, Node *d) {
  Direction *old = model_direction(c->m, d->name);
  if (old) {
    sym_duplicate(c, d, "direction", d->name, old->decl);
    return;
  }
  Direction *dir = ARENA_NEW(c->a, Direction);
  dir->name = d->name;
  dir->title = d->title ? d->title : d->name;
  dir->decl = d;
  dir->index = (int)c->m->directions.len;
  dir->entity = &c->m->entities[E_DEAL];
  if (d->a) {
    Entity *e = model_entity(c->m, d->a->name);
    if (!e) {
      static const char *const ents[] = {"deal", "lead"};
      sym_unknown(c, d->a->span, D_UNKNOWN_TYPE, "entity", d->a->name, ents, 2);
    } else if (e->kind != E_DEAL && e->kind != E_LEAD) {
      diag_error(c->d, d->a->span, D_WRONG_ENTITY,
                 "directions hold deals or leads, not %s records", e->name);
    } else {
      dir->entity = e;
    }
  }
  d->sym = dir;
  vec_push(&c->m->directions, dir);
  for (Node *it = d->list; it; it = it->next) {
    if (it->kind == N_HANDLER) {
      vec_push(&dir->handlers, it);
      continue;
    }
    if (it->kind != N_STAGE) continue;
    Stage *old_s = direction_stage(dir, it->name);
    if (old_s) {
      sym_duplicate(c, it, "stage", it->name, old_s->decl);
      continue;
    }
    Stage *s = ARENA_NEW(c->a, Stage);
    s->name = it->name;
    s->title = it->title ? it->title : it->name;
    s->kind = (StageKind)it->op;
    s->is_auto = (it->flags & F_AUTO) != 0;
    s->dir = dir;
    s->decl = it;
    s->index = (int)dir->stages.len;
    s->id = (int)c->m->stages.len;
    it->sym = s;
    vec_push(&dir->stages, s);
    vec_push(&c->m->stages, s);
    for (Node *x = it->list; x; x = x->next) {
      switch (x->kind) {
      case N_HANDLER: vec_push(&s->handlers, x); break;
      case N_TRIGGER: x->sym = s; vec_push(&s->triggers, x); break;
      case N_GUARD: vec_push(&s->guards, x); break;
      case N_REQUIRE: vec_push(&s->requires, x); break;
      case N_ACCESS: vec_push(&s->access, x); break;
      default: break;
      }
    }
  }
}

static void add_func(Checker *c, Node *d) {
  FuncDef *old = sym_func(c, d->name);
  if (old) {
    sym_duplicate(c, d, "function", d->name, old->decl);
    return;
  }
  if (ev_builtin(d->name) >= 0) {
    diag_error(c->d, d->name_span, D_DUPLICATE, "'%s' is a builtin function; choose another name",
               d->name);
    return;
  }
  FuncDef *f = ARENA_NEW(c->a, FuncDef);
  f->name = d->name;
  f->kind = d->kind == N_EXTERN ? FK_EXTERN : FK_USER;
  f->decl = d;
  f->pure = d->kind == N_EXTERN ? (d->flags & F_PURE) != 0 : false;
  f->index = (int)c->m->funcs.len;
  d->sym = f;
  vec_push(&c->m->funcs, f);
}

/* Types that can cross into C natives (docs/plugins.md, later). */
static bool crosses_ffi(Type *t) {
  switch (t->kind) {
  case T_INT: case T_DECIMAL: case T_MONEY: case T_BOOL: case T_TEXT: case T_DATE:
  case T_DATETIME: case T_DURATION: case T_ENUM: case T_PHONE: case T_EMAIL: case T_ERROR:
    return true;
  case T_LIST: return crosses_ffi(t->elem);
  default: return false;
  }
}

static void resolve_signature(Checker *c, FuncDef *f) {
  Node *d = f->decl;
  f->nparams = ast_list_len(d->list);
  f->params = arena_alloc(c->a, f->nparams * sizeof *f->params);
  size_t i = 0;
  for (Node *p = d->list; p; p = p->next, i++) {
    for (Node *q = d->list; q != p; q = q->next)
      if (!strcmp(q->name, p->name)) sym_duplicate(c, p, "parameter", p->name, q);
    f->params[i] = sym_resolve_type(c, p->a, arena_printf(c->a, "%s.%s", f->name, p->name));
    p->type = f->params[i];
    if (f->kind == FK_EXTERN && !crosses_ffi(f->params[i]))
      diag_error(c->d, p->a->span, D_TYPE, "a %s cannot be passed to a native function",
                 tstr(c, f->params[i]));
  }
  f->ret = d->a ? sym_resolve_type(c, d->a, f->name) : type_basic(T_VOID);
  if (f->kind == FK_EXTERN) {
    if (d->a && !crosses_ffi(f->ret))
      diag_error(c->d, d->a->span, D_TYPE, "a native function cannot return a %s",
                 tstr(c, f->ret));
    /* an effectful native runs from the outbox after the commit: nothing
    ** is there to take its result */
    if (d->a && !f->pure) {
      diag_error(c->d, d->a->span, D_NOT_HERE,
                 "native '%s' is not pure, so it runs after the command commits and cannot "
                 "return a value", f->name);
      diag_note(c->d, d->name_span, "declare it 'extern pure fn' if it only computes, or drop "
                "the result type");
    }
    if (!d->text || !*d->text)
      diag_error(c->d, d->name_span, D_IMPORT, "extern '%s' names no library", f->name);
  }
}

static void collect_entity_members(Checker *c, Node *d) {
  Entity *e = model_entity(c->m, d->name);
  if (!e) {
    static const char *const ents[] = {"deal", "contact", "company", "lead"};
    sym_unknown(c, d->name_span, D_UNKNOWN_TYPE, "entity", d->name, ents, 4);
    diag_note(c->d, d->name_span, "the entities are deal, contact, company and lead");
    return;
  }
  d->sym = e;
  for (Node *m = d->list; m; m = m->next) {
    if (m->kind == N_HANDLER) {
      vec_push(&e->handlers, m);
      continue;
    }
    if (m->kind != N_FIELD) continue;
    Field *old = entity_field(e, m->name);
    if (old) {
      if (old->builtin) {
        diag_error(c->d, m->name_span, D_DUPLICATE, "'%s' is a standard field of %s",
                   m->name, e->name);
        diag_note(c->d, m->name_span, "standard fields exist without a declaration");
      } else {
        sym_duplicate(c, m, "field", m->name, old->decl);
      }
      continue;
    }
    Type *t = sym_resolve_type(c, m->a, arena_printf(c->a, "%s.%s", e->name, m->name));
    Field *f = sym_add_field(c, e, m->name, m->title, t, m);
    f->required = (m->flags & F_REQUIRED) != 0;
    f->computed = m->b;
    m->sym = f;
  }
}

static void collect_event(Checker *c, Node *d) {
  EventDef *old = model_event(c->m, d->name);
  if (old) {
    if (old->builtin)
      diag_error(c->d, d->name_span, D_DUPLICATE, "'%s' is a standard event", d->name);
    else sym_duplicate(c, d, "event", d->name, old->decl);
    return;
  }
  EventDef *ev = ARENA_NEW(c->a, EventDef);
  ev->name = d->name;
  ev->title = d->title ? d->title : d->name;
  ev->decl = d;
  ev->type.kind = T_EVENT;
  ev->type.event = ev;
  ev->index = (int)c->m->events.len;
  d->sym = ev;
  vec_push(&c->m->events, ev);
  for (Node *m = d->list; m; m = m->next) {
    if (m->kind != N_FIELD) {
      diag_error(c->d, m->span, D_NOT_HERE, "an event's payload holds fields only");
      continue;
    }
    bool dup = false;
    for (size_t i = 0; i < ev->fields.len; i++)
      if (!strcmp(ev->fields.items[i]->name, m->name)) {
        sym_duplicate(c, m, "payload field", m->name, ev->fields.items[i]->decl);
        dup = true;
      }
    if (dup) continue;
    if (m->b) diag_error(c->d, m->b->span, D_NOT_HERE, "payload fields cannot be computed");
    Field *f = ARENA_NEW(c->a, Field);
    f->name = m->name;
    f->title = m->title ? m->title : m->name;
    f->type = sym_resolve_type(c, m->a, arena_printf(c->a, "%s.%s", d->name, m->name));
    f->decl = m;
    f->index = (int)ev->fields.len;
    m->sym = f;
    vec_push(&ev->fields, f);
  }
}

/* contact.deals and the like: for each entity E with exactly one field that
** refers to entity X, X gets a read-only list of the E records that point
** to it, named by E's plural. */
static void add_back_references(Checker *c) {
  for (int x = 0; x < E__COUNT; x++) {
    Entity *target = &c->m->entities[x];
    for (int k = 0; k < E__COUNT; k++) {
      Entity *src = &c->m->entities[k];
      int refs = 0;
      Field *via = NULL;
      for (size_t i = 0; i < src->fields.len; i++) {
        Type *t = src->fields.items[i]->type;
        if (t->kind == T_RECORD && t->entity == target) {
          refs++;
          via = src->fields.items[i];
        }
      }
      if (refs != 1 || entity_field(target, src->plural)) continue;
      Field *f = sym_add_field(c, target, src->plural, src->plural,
                               type_list(c->a, &src->type), NULL);
      f->builtin = f->readonly = f->required = true;
      f->backref_of = via;
    }
  }
}

static void resolve_user(Checker *c, UserDef *u) {
  for (Node *r = u->decl->list; r; r = r->next) {
    Role *role = sym_need_role(c, r->span, r->name);
    if (!role) continue;
    r->sym = role;
    vec_push(&u->roles, role);
  }
  Node *s = u->decl->a;
  if (s) {
    UserDef *sup = sym_need_user(c, s->span, s->name);
    if (!sup) {
    } else if (sup == u) {
      diag_error(c->d, s->span, D_TYPE, "user '%s' cannot be their own supervisor", u->name);
    } else {
      u->supervisor = sup;
      s->sym = sup;
    }
  }
}

void sym_collect(Checker *c) {
  Model *m = c->m;
  ev_add_standard_fields(c);
  ev_add_standard_events(c);
  size_t nfiles = c->p->srcs.len;
  Node **pack_of = xcalloc(nfiles + 1, sizeof *pack_of);
  for (Node *d = c->p->ast.decls; d; d = d->next) {
    switch (d->kind) {
    case N_PACK: check_pack(c, d, pack_of, nfiles); break;
    case N_ROLE: {
      Role *old = model_role(m, d->name);
      if (old) {
        sym_duplicate(c, d, "role", d->name, old->decl);
        break;
      }
      Role *r = ARENA_NEW(c->a, Role);
      r->name = d->name;
      r->title = d->title ? d->title : d->name;
      r->decl = d;
      r->index = (int)m->roles.len;
      d->sym = r;
      vec_push(&m->roles, r);
      break;
    }
    case N_USER: {
      UserDef *old = sym_user(c, d->name);
      if (old) {
        sym_duplicate(c, d, "user", d->name, old->decl);
        break;
      }
      UserDef *u = ARENA_NEW(c->a, UserDef);
      u->name = d->name;
      u->title = d->title ? d->title : d->name;
      u->decl = d;
      u->index = (int)m->users.len;
      d->sym = u;
      vec_push(&m->users, u);
      break;
    }
    case N_CALENDAR: {
      Calendar *old = sym_calendar(c, d->name);
      if (old) {
        sym_duplicate(c, d, "calendar", d->name, old->decl);
        break;
      }
      Calendar *cal = ARENA_NEW(c->a, Calendar);
      cal->name = d->name;
      cal->title = d->title ? d->title : d->name;
      cal->decl = d;
      cal->is_default = (d->flags & F_DEFAULT) != 0;
      cal->index = (int)m->calendars.len;
      d->sym = cal;
      vec_push(&m->calendars, cal);
      if (cal->is_default) {
        if (m->default_calendar) {
          diag_error(c->d, d->name_span, D_BAD_CALENDAR,
                     "calendar '%s' is a second default calendar", d->name);
          diag_note(c->d, m->default_calendar->decl->name_span, "'%s' is the default already",
                    m->default_calendar->name);
        } else {
          m->default_calendar = cal;
        }
      }
      break;
    }
    case N_DIRECTION: add_direction(c, d); break;
    case N_FUNC:
    case N_EXTERN: add_func(c, d); break;
    case N_HANDLER:
      if (d->op != HK_EVENT)
        diag_error(c->d, d->span, D_NOT_HERE,
                   "only 'on event' handlers stand at the top level; put this one in an entity, "
                   "a direction or a stage");
      else vec_push(&m->top_handlers, d);
      break;
    case N_TEST:
      for (size_t i = 0; i < m->tests.len; i++) {
        Node *t = m->tests.items[i];
        if (t->span.file == d->span.file && t->title && d->title && !strcmp(t->title, d->title)) {
          diag_error(c->d, d->name_span, D_DUPLICATE, "test \"%s\" is already defined", d->title);
          diag_note(c->d, t->name_span, "first defined here");
        }
      }
      vec_push(&m->tests, d);
      break;
    default: break;
    }
  }
  for (Node *d = c->p->ast.decls; d; d = d->next)
    if (d->kind == N_IMPORT) check_import_version(c, d, pack_of, nfiles);
  free(pack_of);
  m->pack = c->p->ast.pack;
  for (Node *d = c->p->ast.decls; d; d = d->next) {
    if (d->kind != N_ENUM_DECL) continue;
    EnumDef *old = NULL;
    for (size_t i = 0; i < m->enums.len; i++)
      if (!strcmp(m->enums.items[i]->owner, d->name)) old = m->enums.items[i];
    if (old) {
      sym_duplicate(c, d, "enum", d->name, old->decl);
      continue;
    }
    if (type_by_name(d->name) || model_entity(m, d->name)) {
      diag_error(c->d, d->name_span, D_DUPLICATE, "'%s' is a built-in type; name the enum otherwise",
                 d->name);
      continue;
    }
    Type *t = sym_resolve_type(c, d->a, d->name);
    EnumDef *en = t->enm;
    en->title = d->title ? d->title : d->name;
    en->decl = d;
    d->sym = en;
    vec_push(&m->enums, en);
  }
  for (Node *d = c->p->ast.decls; d; d = d->next) {
    if (d->kind == N_ENTITY) collect_entity_members(c, d);
    else if (d->kind == N_EVENT_DECL) collect_event(c, d);
  }
  add_back_references(c);
  for (size_t i = 0; i < m->users.len; i++) resolve_user(c, m->users.items[i]);
  for (size_t i = 0; i < m->calendars.len; i++) check_calendar(c, m->calendars.items[i]);
  for (size_t i = 0; i < m->funcs.len; i++) resolve_signature(c, m->funcs.items[i]);
}
