/*
** types.h: the types of the language. Types are interned: two types are
** equal iff their pointers are, so the checker compares with ==.
*/
#ifndef FUNNEL_TYPES_H
#define FUNNEL_TYPES_H

#include <stdbool.h>

#include "ast/ast.h"

typedef enum TypeKind {
  T_ERROR,      /* after an error: compatible with everything, no cascades */
  T_VOID,
  T_NULL,       /* the type of `null`: fits any field */
  T_TEXT, T_INT, T_DECIMAL, T_MONEY, T_BOOL,
  T_DATE, T_DATETIME, T_DURATION,
  T_FILE, T_ADDRESS, T_PHONE, T_EMAIL,
  T_USER, T_ROLE, T_STAGE, T_DIRECTION,
  T_ENUM,       /* enm */
  T_LIST,       /* elem */
  T_RECORD,     /* entity: a deal, contact, company or lead */
  T_EVENT,      /* event: a payload record */
  T_EFFECT,     /* in tests: a notification, task, message... */
  T__COUNT
} TypeKind;

typedef struct Entity Entity;
typedef struct EnumDef EnumDef;
typedef struct EventDef EventDef;

struct Type {
  TypeKind kind;
  Type *elem;          /* T_LIST */
  Entity *entity;      /* T_RECORD */
  EnumDef *enm;        /* T_ENUM */
  EventDef *event;     /* T_EVENT */
  Type *list_of;       /* cache: list<this> */
};

typedef struct EnumValue {
  const char *name, *title;
  Node *decl;
} EnumValue;

struct EnumDef {
  const char *owner;   /* "deal.object_kind", or the name of a named enum */
  const char *title;   /* a named enum's title, else NULL */
  Node *decl;          /* a named enum's declaration, else NULL */
  EnumValue *values;
  size_t nvalues;
  Type type;
};

/* The shared scalar types. */
Type *type_basic(TypeKind k);
Type *type_list(Arena *a, Type *elem);
/* Forgets the list types cached on the shared scalar types: each model
** allocates its own (check_program calls it first). */
void types_reset(void);
/* A type by name (text, int, ..., email, user), or NULL. */
Type *type_by_name(const char *name);
/* "money", "list<int>", "enum deal.kind", "contact" (arena string). */
const char *type_str(Arena *a, const Type *t);
bool type_is_numeric(const Type *t);   /* int, decimal, money */
bool type_is_error(const Type *t);
/* The value of the enum named `name`, or NULL. */
const EnumValue *enum_find(const EnumDef *e, const char *name);

#endif
