/*
** types.c: the interned types of the language.
*/
#include "check/types.h"

#include "check/check.h"

#include <string.h>

static Type basics[T__COUNT];
static bool basics_ready;

static void init_basics(void) {
  if (basics_ready) return;
  for (int k = 0; k < T__COUNT; k++) basics[k].kind = (TypeKind)k;
  basics_ready = true;
}

Type *type_basic(TypeKind k) {
  init_basics();
  return &basics[k];
}

void types_reset(void) {
  init_basics();
  for (int k = 0; k < T__COUNT; k++) basics[k].list_of = NULL;
}

Type *type_list(Arena *a, Type *elem) {
  if (!elem->list_of) {
    Type *t = ARENA_NEW(a, Type);
    t->kind = T_LIST;
    t->elem = elem;
    elem->list_of = t;
  }
  return elem->list_of;
}

static const struct {
  const char *name;
  TypeKind kind;
} names[] = {
    {"text", T_TEXT},       {"int", T_INT},         {"decimal", T_DECIMAL},
    {"money", T_MONEY},     {"bool", T_BOOL},       {"date", T_DATE},
    {"datetime", T_DATETIME}, {"duration", T_DURATION}, {"file", T_FILE},
    {"address", T_ADDRESS}, {"phone", T_PHONE},     {"email", T_EMAIL},
    {"user", T_USER},
};

Type *type_by_name(const char *name) {
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(names[i].name, name)) return type_basic(names[i].kind);
  return NULL;
}

const char *type_str(Arena *a, const Type *t) {
  switch (t->kind) {
  case T_ERROR: return "<error>";
  case T_VOID: return "nothing";
  case T_NULL: return "null";
  case T_ROLE: return "role";
  case T_STAGE: return "stage";
  case T_DIRECTION: return "direction";
  case T_EFFECT: return "effect";
  case T_ENUM: return arena_printf(a, "enum %s", t->enm && t->enm->owner ? t->enm->owner : "");
  case T_LIST: return arena_printf(a, "list<%s>", type_str(a, t->elem));
  case T_RECORD: return t->entity ? t->entity->name : "record";
  case T_EVENT: return "event payload";
  default:
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      if (names[i].kind == t->kind) return names[i].name;
    return "?";
  }
}

bool type_is_numeric(const Type *t) {
  return t->kind == T_INT || t->kind == T_DECIMAL || t->kind == T_MONEY;
}

bool type_is_error(const Type *t) { return !t || t->kind == T_ERROR; }

const EnumValue *enum_find(const EnumDef *e, const char *name) {
  for (size_t i = 0; i < e->nvalues; i++)
    if (!strcmp(e->values[i].name, name)) return &e->values[i];
  return NULL;
}
