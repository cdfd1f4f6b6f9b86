/*
** check.h: the checker and the model it builds.
**
** check_program resolves every name of a loaded program, types every
** expression, and checks structure; it reports through the program's Diag
** and returns the Model: the pack's entities, fields, directions, stages,
** roles, users, calendars, events and functions as tables, with AST nodes
** annotated (Node.type, Node.sym). The compiler and `funnel graph` read the
** model; they never look names up again.
*/
#ifndef FUNNEL_CHECK_H
#define FUNNEL_CHECK_H

#include "check/types.h"
#include "parse/loader.h"
#include "util/vec.h"

typedef VEC(Node *) NodeVec;

typedef struct Direction Direction;
typedef struct Stage Stage;

typedef struct Field {
  const char *name, *title;
  Type *type;
  Entity *owner;
  Node *decl;          /* NULL for standard fields */
  Node *computed;      /* the expression of a computed field */
  bool required;
  bool builtin;        /* a standard field (title, sum, owner, ...) */
  bool readonly;       /* a property (stage, id, won...) or a back reference */
  struct Field *backref_of;  /* a back reference: the field that points here */
  int index;           /* position in the entity */
} Field;

typedef enum EntityKind { E_DEAL, E_CONTACT, E_COMPANY, E_LEAD, E__COUNT } EntityKind;

struct Entity {
  EntityKind kind;
  const char *name, *title, *plural;  /* "deal", "Сделка", "deals" */
  VEC(Field *) fields;
  NodeVec handlers;               /* on create / change / event */
  Type type;                          /* T_RECORD of this entity */
};

struct Stage {
  const char *name, *title;
  StageKind kind;
  bool is_auto;
  Direction *dir;
  Node *decl;
  int index;           /* position in the direction */
  int id;              /* position among all stages of the pack */
  NodeVec handlers, triggers, guards, requires, access;
};

struct Direction {
  const char *name, *title;
  Entity *entity;
  Node *decl;
  int index;
  VEC(Stage *) stages;
  NodeVec handlers;
};

typedef struct Role {
  const char *name, *title;
  Node *decl;
  int index;
} Role;

typedef struct UserDef {
  const char *name, *title;
  Node *decl;
  VEC(Role *) roles;
  struct UserDef *supervisor;
  int index;
} UserDef;

typedef struct Calendar {
  const char *name, *title;
  Node *decl;
  const char *timezone;
  bool is_default;
  int index;
} Calendar;

struct EventDef {
  const char *name, *title;
  Node *decl;          /* NULL for standard events */
  VEC(Field *) fields; /* the payload */
  bool builtin;
  int index;
  Type type;           /* T_EVENT */
};

typedef enum FuncKind { FK_USER, FK_EXTERN, FK_BUILTIN } FuncKind;

typedef struct FuncDef {
  const char *name;
  FuncKind kind;
  Node *decl;
  Type **params;
  size_t nparams;
  Type *ret;
  bool pure;
  bool test_only;      /* builtins that read test effects */
  Node *acts;          /* a user function that acts: its first action, or the call that acts */
  int index;
} FuncDef;

typedef struct Model {
  Arena arena;         /* types and tables; the AST stays in the Program */
  Node *pack;
  Entity entities[E__COUNT];
  VEC(Direction *) directions;
  VEC(Stage *) stages;             /* all stages, by Stage.id */
  VEC(Role *) roles;
  VEC(EnumDef *) enums;            /* named enums */
  VEC(UserDef *) users;
  VEC(Calendar *) calendars;
  VEC(EventDef *) events;
  VEC(FuncDef *) funcs;
  NodeVec tests;
  NodeVec top_handlers;        /* on event without a record */
  Calendar *default_calendar;
} Model;

/* Checks p; never returns NULL (a model with errors is still complete
** enough to draw). Free with model_free. */
Model *check_program(Program *p);
void model_free(Model *m);

Entity *model_entity(Model *m, const char *name);
Direction *model_direction(Model *m, const char *name);
Field *entity_field(Entity *e, const char *name);
Stage *direction_stage(Direction *d, const char *name);
Role *model_role(Model *m, const char *name);
EventDef *model_event(Model *m, const char *name);

#endif
