/*
** events.c: the standard catalogues that exist without declaration: the
** standard fields and properties of each entity, the standard events with
** their payloads (DESIGN.md, "Standard events"), and the builtin functions.
*/
#include <string.h>

#include "check/check_int.h"

/* ---- standard fields -------------------------------------------------- */

typedef struct StdField {
  const char *name, *title;
  TypeKind kind;          /* T_RECORD uses `ref` */
  int ref;                /* EntityKind for references */
} StdField;

static const StdField deal_fields[] = {
    {"title", "Название", T_TEXT, 0},       {"sum", "Сумма", T_MONEY, 0},
    {"currency", "Валюта", T_TEXT, 0},      {"owner", "Ответственный", T_USER, 0},
    {"contact", "Контакт", T_RECORD, E_CONTACT}, {"company", "Компания", T_RECORD, E_COMPANY},
    {"source", "Источник", T_TEXT, 0},      {"comment", "Комментарий", T_TEXT, 0},
};
static const StdField contact_fields[] = {
    {"name", "Имя", T_TEXT, 0},             {"phone", "Телефон", T_PHONE, 0},
    {"email", "E-mail", T_EMAIL, 0},        {"owner", "Ответственный", T_USER, 0},
    {"company", "Компания", T_RECORD, E_COMPANY}, {"comment", "Комментарий", T_TEXT, 0},
};
static const StdField company_fields[] = {
    {"name", "Название компании", T_TEXT, 0}, {"phone", "Телефон", T_PHONE, 0},
    {"email", "E-mail", T_EMAIL, 0},        {"owner", "Ответственный", T_USER, 0},
    {"comment", "Комментарий", T_TEXT, 0},
};
static const StdField lead_fields[] = {
    {"title", "Название", T_TEXT, 0},       {"name", "Имя", T_TEXT, 0},
    {"phone", "Телефон", T_PHONE, 0},       {"email", "E-mail", T_EMAIL, 0},
    {"source", "Источник", T_TEXT, 0},      {"owner", "Ответственный", T_USER, 0},
    {"comment", "Комментарий", T_TEXT, 0},
};

/* Properties every record has; read-only. */
static const StdField record_props[] = {
    {"id", "ID", T_TEXT, 0}, {"created", "Создано", T_DATETIME, 0},
};
/* Properties of records that move through a direction; read-only. */
static const StdField stage_props[] = {
    {"stage", "Стадия", T_STAGE, 0},       {"direction", "Направление", T_DIRECTION, 0},
    {"entered", "Вход в стадию", T_DATETIME, 0}, {"won", "Успешно", T_BOOL, 0},
    {"lost", "Провалено", T_BOOL, 0},      {"closed", "Закрыто", T_BOOL, 0},
};

static const struct {
  const char *name, *title, *plural;
  const StdField *fields;
  size_t n;
} entity_defs[E__COUNT] = {
    [E_DEAL] = {"deal", "Сделка", "deals", deal_fields, sizeof deal_fields / sizeof *deal_fields},
    [E_CONTACT] = {"contact", "Контакт", "contacts", contact_fields,
                   sizeof contact_fields / sizeof *contact_fields},
    [E_COMPANY] = {"company", "Компания", "companies", company_fields,
                   sizeof company_fields / sizeof *company_fields},
    [E_LEAD] = {"lead", "Лид", "leads", lead_fields, sizeof lead_fields / sizeof *lead_fields},
};

static Type *std_type(Checker *c, const StdField *f) {
  if (f->kind == T_RECORD) return &c->m->entities[f->ref].type;
  return type_basic(f->kind);
}

void ev_add_standard_fields(Checker *c) {
  for (int k = 0; k < E__COUNT; k++) {
    Entity *e = &c->m->entities[k];
    e->kind = (EntityKind)k;
    e->name = entity_defs[k].name;
    e->title = entity_defs[k].title;
    e->plural = entity_defs[k].plural;
    e->type.kind = T_RECORD;
    e->type.entity = e;
  }
  for (int k = 0; k < E__COUNT; k++) {
    Entity *e = &c->m->entities[k];
    for (size_t i = 0; i < entity_defs[k].n; i++) {
      Field *f = sym_add_field(c, e, entity_defs[k].fields[i].name, entity_defs[k].fields[i].title,
                               std_type(c, &entity_defs[k].fields[i]), NULL);
      f->builtin = true;
    }
    for (size_t i = 0; i < sizeof record_props / sizeof *record_props; i++) {
      Field *f = sym_add_field(c, e, record_props[i].name, record_props[i].title,
                               std_type(c, &record_props[i]), NULL);
      f->builtin = f->readonly = true;
      f->required = true;
    }
    if (k == E_DEAL || k == E_LEAD) {
      for (size_t i = 0; i < sizeof stage_props / sizeof *stage_props; i++) {
        Field *f = sym_add_field(c, e, stage_props[i].name, stage_props[i].title,
                                 std_type(c, &stage_props[i]), NULL);
        f->builtin = f->readonly = true;
        f->required = true;
      }
    }
  }
}

/* ---- standard events -------------------------------------------------- */

typedef struct StdEvent {
  const char *name, *title;
  const char *fields;     /* "name:type name:type", types from type_by_name or list */
} StdEvent;

static const StdEvent std_events[] = {
    {"email.received", "Получено письмо", "sender:email subject:text text:text"},
    {"email.read", "Письмо прочитано", "subject:text"},
    {"email.link_clicked", "Переход по ссылке из письма", "url:text"},
    {"form.submitted", "Заполнена CRM-форма",
     "form:text name:text phone:phone email:email comment:text photos:files"},
    {"call.incoming", "Входящий звонок", "phone:phone"},
    {"call.missed", "Пропущенный звонок", "phone:phone"},
    {"message.received", "Получено сообщение", "channel:text text:text"},
    {"file.attached", "Прикреплён файл", "field:text file:file"},
    {"payment.received", "Поступила оплата", "amount:money doc:text"},
    {"invoice.paid", "Счёт оплачен", "amount:money invoice:text"},
    {"document.viewed", "Документ просмотрен", "document:text"},
    {"order.status", "Статус заказа", "order:text status:text"},
    {"webhook", "Входящий вебхук", "name:text data:text"},
};

void ev_add_standard_events(Checker *c) {
  for (size_t i = 0; i < sizeof std_events / sizeof *std_events; i++) {
    EventDef *ev = ARENA_NEW(c->a, EventDef);
    ev->name = std_events[i].name;
    ev->title = std_events[i].title;
    ev->builtin = true;
    ev->type.kind = T_EVENT;
    ev->type.event = ev;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", std_events[i].fields);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
      char *colon = strchr(tok, ':');
      *colon = '\0';
      Type *t = !strcmp(colon + 1, "files") ? type_list(c->a, type_basic(T_FILE))
                                             : type_by_name(colon + 1);
      Field *f = ARENA_NEW(c->a, Field);
      f->name = arena_strdup(c->a, tok);
      f->title = f->name;
      f->type = t;
      f->builtin = true;
      f->index = (int)ev->fields.len;
      vec_push(&ev->fields, f);
    }
    ev->index = (int)c->m->events.len;
    vec_push(&c->m->events, ev);
  }
}

/* ---- builtin functions -------------------------------------------------- */

enum Builtin {
#define BUILTIN(id, name, nargs, test) B_##id,
#include "bytecode/builtins.def"
#undef BUILTIN
  B__COUNT
};

static const struct {
  const char *name;
  int nargs;
  bool test_only;
} builtins[B__COUNT] = {
#define BUILTIN(id, name, nargs, test) {name, nargs, test},
#include "bytecode/builtins.def"
#undef BUILTIN
};

int ev_builtin(const char *name) {
  for (int i = 0; i < B__COUNT; i++)
    if (!strcmp(builtins[i].name, name)) return i;
  return -1;
}

static Type *bad_arg(Checker *c, Node *arg, const char *fn, const char *want, Type *have) {
  diag_error(c->d, arg->span, D_TYPE, "%s() takes %s, not %s", fn, want, tstr(c, have));
  return type_basic(T_ERROR);
}

static bool is_date_like(Type *t) { return t->kind == T_DATE || t->kind == T_DATETIME; }

Type *ev_check_builtin_call(Checker *c, int id, Node *call) {
  const char *fn = builtins[id].name;
  size_t n = ast_list_len(call->list);
  if (builtins[id].test_only && (!c->cx || c->cx->place != PL_TEST)) {
    diag_error(c->d, call->name_span, D_NOT_HERE, "%s() reads what a test run produced; use it in a test",
               fn);
    return type_basic(T_ERROR);
  }
  if ((int)n != builtins[id].nargs) {
    diag_error(c->d, call->span, D_ARITY, "%s() takes %d argument%s, not %zu", fn,
               builtins[id].nargs, builtins[id].nargs == 1 ? "" : "s", n);
    for (Node *a = call->list; a; a = a->next) chk_expr(c, a, NULL);
    return type_basic(T_ERROR);
  }
  Node *a1 = call->list, *a2 = a1 ? a1->next : NULL;
  Type *t1 = NULL, *t2 = NULL;
  if (id == B_HAS_ROLE) {
    t1 = chk_expr(c, a1, type_basic(T_USER));
    t2 = chk_expr(c, a2, type_basic(T_ROLE));
  } else {
    if (a1) t1 = chk_expr(c, a1, NULL);
    if (a2) t2 = chk_expr(c, a2, t1 && t1->kind == T_LIST ? t1->elem : NULL);
  }
  if ((t1 && type_is_error(t1)) || (t2 && type_is_error(t2))) return type_basic(T_ERROR);
  switch (id) {
  case B_COUNT:
    if (t1->kind != T_LIST) return bad_arg(c, a1, fn, "a list", t1);
    return type_basic(T_INT);
  case B_TOTAL:
    if (t1->kind != T_LIST || !type_is_numeric(t1->elem))
      return bad_arg(c, a1, fn, "a list of numbers or money", t1);
    return t1->elem;
  case B_MIN:
  case B_MAX:
    if (t1->kind != T_LIST || !(type_is_numeric(t1->elem) || is_date_like(t1->elem) ||
                                t1->elem->kind == T_DURATION))
      return bad_arg(c, a1, fn, "a list of numbers, money, dates or durations", t1);
    return t1->elem;
  case B_CONTAINS:
    if (t1->kind == T_TEXT) {
      if (t2->kind != T_TEXT) return bad_arg(c, a2, fn, "text to look for", t2);
    } else if (t1->kind == T_LIST) {
      if (!chk_fits(c, a2, t2, t1->elem))
        return bad_arg(c, a2, fn, arena_printf(c->a, "a %s", tstr(c, t1->elem)), t2);
    } else {
      return bad_arg(c, a1, fn, "a list or text", t1);
    }
    return type_basic(T_BOOL);
  case B_LEN:
    if (t1->kind != T_TEXT) return bad_arg(c, a1, fn, "text", t1);
    return type_basic(T_INT);
  case B_TEXT: return type_basic(T_TEXT);
  case B_TODAY: return type_basic(T_DATE);
  case B_NOW: return type_basic(T_DATETIME);
  case B_DATE:
    if (!is_date_like(t1)) return bad_arg(c, a1, fn, "a date or datetime", t1);
    return type_basic(T_DATE);
  case B_DAY:
  case B_MONTH:
  case B_YEAR:
  case B_WEEKDAY:
    if (!is_date_like(t1)) return bad_arg(c, a1, fn, "a date or datetime", t1);
    return type_basic(T_INT);
  case B_START_OF_MONTH:
  case B_END_OF_MONTH:
    if (!is_date_like(t1)) return bad_arg(c, a1, fn, "a date or datetime", t1);
    return type_basic(T_DATE);
  case B_DAYS_BETWEEN:
    if (!is_date_like(t1)) return bad_arg(c, a1, fn, "dates", t1);
    if (!is_date_like(t2)) return bad_arg(c, a2, fn, "dates", t2);
    return type_basic(T_INT);
  case B_ABS:
  case B_ROUND:
    if (!type_is_numeric(t1)) return bad_arg(c, a1, fn, "a number or money", t1);
    return t1;
  case B_HAS_ROLE:
    if (t1->kind != T_USER) return bad_arg(c, a1, fn, "a user", t1);
    if (t2->kind != T_ROLE) return bad_arg(c, a2, fn, "a role", t2);
    return type_basic(T_BOOL);
  case B_NOTIFICATIONS:
  case B_TASKS:
  case B_QUESTIONS:
    if (t1->kind != T_USER) return bad_arg(c, a1, fn, "a user", t1);
    return type_list(c->a, type_basic(T_EFFECT));
  case B_MESSAGES:
  case B_DOCUMENTS:
    if (t1->kind != T_RECORD) return bad_arg(c, a1, fn, "a record", t1);
    return type_list(c->a, type_basic(T_EFFECT));
  case B_WEBHOOKS: return type_list(c->a, type_basic(T_EFFECT));
  case B_NOTIFIED:
  case B_TASKED:
    if (t1->kind != T_USER) return bad_arg(c, a1, fn, "a user", t1);
    if (t2->kind != T_TEXT) return bad_arg(c, a2, fn, "text to look for", t2);
    return type_basic(T_BOOL);
  case B_MESSAGED:
    if (t1->kind != T_RECORD) return bad_arg(c, a1, fn, "a record", t1);
    if (t2->kind != T_TEXT) return bad_arg(c, a2, fn, "text to look for", t2);
    return type_basic(T_BOOL);
  }
  return type_basic(T_ERROR);
}
