/*
** chunk.h: a compiled pack, the unit the VM runs and the .pipec file
** stores. A Chunk is self-contained: it holds the code of every function
** and the tables the engine needs (entities and fields, directions and
** stages, handlers, triggers, guards, events, calendars, roles, users,
** natives, tests) with names and titles, so that running needs neither the
** source nor the AST. Every index in it is verified before it runs
** (bc_verify): a chunk from a file is as safe as one from the compiler.
**
** Instructions are 32-bit words (see opcodes.def for the formats).
*/
#ifndef FUNNEL_CHUNK_H
#define FUNNEL_CHUNK_H

#include <stdint.h>

#include "vm/value.h"

typedef uint32_t Instr;

typedef enum OpCode {
#define OP(name, fmt, syn) OP_##name,
#include "bytecode/opcodes.def"
#undef OP
  OP__COUNT
} OpCode;

typedef enum OpFormat { FMT_ABC, FMT_ABx, FMT_AsBx, FMT_sJ } OpFormat;

extern const char *const op_names[OP__COUNT];
extern const OpFormat op_formats[OP__COUNT];
extern const char *const op_synopses[OP__COUNT];

#define GET_OP(i) ((OpCode)((i) & 0xFF))
#define GET_A(i) ((int)(((i) >> 8) & 0xFF))
#define GET_B(i) ((int)(((i) >> 16) & 0xFF))
#define GET_C(i) ((int)(((i) >> 24) & 0xFF))
#define GET_Bx(i) ((int)((i) >> 16))
#define GET_sBx(i) (GET_Bx(i) - 32767)
#define GET_sJ(i) ((int32_t)((i) >> 8) - 0x7FFFFF)
#define MK_ABC(op, a, b, c) ((Instr)(op) | (Instr)(a) << 8 | (Instr)(b) << 16 | (Instr)(c) << 24)
#define MK_ABx(op, a, bx) ((Instr)(op) | (Instr)(a) << 8 | (Instr)(bx) << 16)
#define MK_AsBx(op, a, sbx) MK_ABx(op, a, (uint32_t)((sbx) + 32767))
#define MK_sJ(op, sj) ((Instr)(op) | (Instr)((uint32_t)((sj) + 0x7FFFFF)) << 8)
#define MAX_Bx 0xFFFF
#define MAX_sBx 32767
#define MAX_sJ 0x7FFFFF
/* Registers are 8-bit operands. */
#define MAX_REGS 250

/* Kinds as the chunk stores them (the compiler maps the checker's). */
enum { STAGE_PROGRESS, STAGE_SUCCESS, STAGE_FAILURE };
enum { ENT_DEAL, ENT_CONTACT, ENT_COMPANY, ENT_LEAD, ENT__COUNT };
/* CONVERT's flags (in R[A+1]) */
enum { CONV_CONTACT = 1, CONV_COMPANY = 2 };

/* A static type, for fields and payloads: the engine stores and converts
** by it. */
typedef struct TypeDesc {
  uint8_t kind;        /* a ValueType; V_LIST uses elem */
  uint8_t elem;        /* for lists: the element's ValueType */
  uint16_t ref;        /* V_REC: entity kind; V_ENUM: enum id */
} TypeDesc;

typedef enum FnKind {
  FN_USER, FN_HANDLER, FN_GUARD, FN_TRIGGER, FN_COMPUTED, FN_MOMENT, FN_TEST, FN_MESSAGE
} FnKind;

typedef struct Func {
  const char *name;    /* for traces: "stage contract, on enter" */
  uint8_t kind;        /* FnKind */
  uint8_t nparams;
  uint8_t nregs;
  int16_t entity;      /* the current record's entity, -1 for none */
  int32_t event;       /* the payload `event` refers to, -1 for none */
  uint32_t file;       /* index into Chunk.files */
  uint32_t ncode;
  Instr *code;
  uint32_t *lines;     /* the source line of each instruction */
} Func;

typedef struct FieldDef {
  const char *name, *title;
  TypeDesc type;
  uint16_t entity;     /* the entity it belongs to */
  uint16_t index;      /* its position in the entity */
  int32_t computed;    /* function computing it, or -1 */
  uint8_t required, builtin, readonly;
} FieldDef;

typedef struct EntityDef {
  const char *name, *title;
  uint32_t first_field, nfields;  /* a range of Chunk.fields */
} EntityDef;

typedef struct EnumDefC {
  const char *name;    /* "deal.kind" or a named enum's name */
  const char *title;
  uint32_t nvalues;
  const char **values, **titles;
} EnumDefC;

typedef struct DirectionDef {
  const char *name, *title;
  uint16_t entity;
  uint32_t first_stage, nstages;  /* a range of Chunk.stages */
} DirectionDef;

typedef enum AccessBits { ACC_VIEW = 1, ACC_MOVE = 2 } AccessBits;

typedef struct StageDef {
  const char *name, *title;
  uint8_t kind;        /* STAGE_* */
  uint8_t is_auto;
  uint16_t direction;
  uint32_t nrequired;
  uint32_t *required;  /* global field ids */
  int32_t require_msg; /* function returning the message, or -1 */
  uint32_t naccess;
  uint32_t *access_roles;  /* role ids */
  uint8_t *access_bits;    /* AccessBits per role */
} StageDef;

typedef enum HandlerWhen {
  HW_ENTER, HW_LEAVE, HW_CHANGE, HW_EVENT, HW_CREATE, HW_AFTER, HW_AT, HW_EVERY
} HandlerWhen;

typedef enum HandlerScope { HS_STAGE, HS_DIRECTION, HS_ENTITY, HS_TOP } HandlerScope;

typedef struct HandlerDef {
  uint8_t when;        /* HandlerWhen */
  uint8_t scope;       /* HandlerScope */
  uint8_t once;
  uint32_t owner;      /* stage, direction or entity id by scope */
  int32_t event;       /* HW_EVENT */
  int32_t calendar;    /* -1: the default */
  int32_t timing;      /* HW_AFTER/HW_EVERY: function giving the duration;
                          HW_AT: function giving the moment; else -1 */
  uint32_t nfields;
  uint32_t *fields;    /* HW_CHANGE, and HW_AT: the fields it depends on */
  uint32_t body;       /* the function */
} HandlerDef;

typedef struct TriggerDef {
  uint32_t stage;      /* moves into this stage */
  int32_t event;       /* -1: a condition trigger */
  int32_t cond;        /* function, or -1 */
  uint8_t may_move_back;
  uint32_t nfrom;
  uint32_t *from;      /* stage ids; none: any earlier stage */
} TriggerDef;

typedef struct GuardDef {
  uint32_t stage;
  uint32_t cond;       /* function returning bool */
  uint32_t message;    /* function returning text */
} GuardDef;

typedef struct EventDefC {
  const char *name, *title;
  uint32_t nfields;
  const char **fields;
  TypeDesc *types;
} EventDefC;

typedef struct RoleDef {
  const char *name, *title;
} RoleDef;

typedef struct UserDefC {
  const char *name, *title;
  int32_t supervisor;  /* user index or -1 */
  uint32_t nroles;
  uint32_t *roles;
} UserDefC;

typedef struct CalendarDef {
  const char *name, *title, *timezone;
  uint8_t is_default;
  uint32_t nhours;
  uint8_t *hours_days; /* per range: a bit mask of weekdays, bit 0 = Monday */
  uint16_t *hours_from, *hours_to;   /* minutes of the day */
  uint32_t nholidays;
  int32_t *holiday_from, *holiday_to;  /* days since the epoch */
  uint32_t nworkdays;
  int32_t *workdays;   /* transferred working days */
} CalendarDef;

typedef struct NativeDef {
  const char *name, *library;
  uint8_t pure;
  uint8_t nparams;
  TypeDesc *params;
  TypeDesc ret;
} NativeDef;

typedef struct TestDef {
  const char *title;
  uint32_t func;
} TestDef;

typedef struct Chunk {
  Arena arena;         /* everything below */
  const char *pack_name, *pack_title, *pack_version;
  uint32_t nfiles;
  const char **files;  /* source names, for traces */
  uint64_t source_hash;
#define CHUNK_TABLE(T, name) T *name; uint32_t n##name
  CHUNK_TABLE(Value, consts);
  CHUNK_TABLE(Func, funcs);
  CHUNK_TABLE(EntityDef, entities);
  CHUNK_TABLE(FieldDef, fields);
  CHUNK_TABLE(EnumDefC, enums);
  CHUNK_TABLE(DirectionDef, directions);
  CHUNK_TABLE(StageDef, stages);
  CHUNK_TABLE(HandlerDef, handlers);
  CHUNK_TABLE(TriggerDef, triggers);
  CHUNK_TABLE(GuardDef, guards);
  CHUNK_TABLE(EventDefC, events);
  CHUNK_TABLE(RoleDef, roles);
  CHUNK_TABLE(UserDefC, users);
  CHUNK_TABLE(CalendarDef, calendars);
  CHUNK_TABLE(NativeDef, natives);
  CHUNK_TABLE(TestDef, tests);
#undef CHUNK_TABLE
  int32_t default_calendar;
  /* natives (issue 5): the natives' libraries and call interfaces, set by
  ** natives_bind (natives/ffi.h) before a run, freed by chunk_free */
  struct NativeBinding *bound;
} Chunk;

Chunk *chunk_new(void);
void chunk_free(Chunk *c);

#endif
