/*
** check_bcfile.c: the .pipec file (src/bytecode/bcfile.c), the verifier
** and the disassembler. A sample Chunk is built by hand (functions of
** every format, constants of every kind, an entry in every table); it must
** verify, survive a write/read round trip field by field, and break in the
** expected way under one bad operand or index at a time. Damaged files
** (cut at every offset, one bit flipped at every bit, a newer format, a
** hostile count) must give NULL and a message, never a crash: run under
** ASan+UBSan. Test ids (bcfile_N_M): N is 1 for "core", 2 for "limits",
** 3 for "errors".
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytecode/bcfile.h"
#include "bytecode/disasm.h"

/* ---- building chunks ---------------------------------------------------- */

enum { F_MAIN, F_ENTER, F_TIMING, F_MSG, F_TEST, NFUNCS };
/* constants, by index */
enum {
  K_NULL, K_TRUE, K_INT, K_DEC, K_RUB, K_USD, K_DATE, K_DATETIME, K_DUR, K_WORKDUR, K_NEGDUR,
  K_TEXT, K_LIST, K_KEYS, K_KEY, K_ENUM, K_STAGE, K_DIR, K_ROLE, K_USER, K_NESTED, K_EMPTY,
  NCONSTS
};

static const char *SOURCE =
  "pack sales \"Продажи\" version \"1.0\"\n"   /* 1 */
  "entity deal \"Сделка\" {\n"                 /* 2 */
  "  sum: money\n"
  "}\n"
  "fn main(x) {\n"                             /* 5 */
  "  let y = x + 1\n"                          /* 6 */
  "  if y { return f(y) }\n"                   /* 7 */
  "  return [x, y]\n"                          /* 8 */
  "}\n"
  "direction sales \"Продажи\" {\n"           /* 10 */
  "  stage new \"Новая\" {\n"                  /* 11 */
  "    on enter { move to won }\n"             /* 12 */
  "  }\n";

static Text *txt(Arena *a, const char *s) { return text_new(a, s, strlen(s)); }

static Value v_textv(Arena *a, const char *s) { return v_text(txt(a, s)); }

/* Allocates n copies-worth of T in the chunk's arena and copies src. */
#define COPY(c, T, src, n) ((T *)memcpy(arena_alloc(&(c)->arena, sizeof(T) * (n)), (src), sizeof(T) * (n)))

static void set_code(Chunk *c, uint32_t fi, const Instr *code, uint32_t n, uint32_t first_line) {
  Func *f = &c->funcs[fi];
  f->ncode = n;
  f->code = COPY(c, Instr, code, n);
  f->lines = arena_alloc(&c->arena, n * sizeof(uint32_t));
  for (uint32_t i = 0; i < n; i++) f->lines[i] = first_line + i / 2;
}

/* Builtin indices, from builtins.def. */
enum {
#define BUILTIN(id, name, nargs, tests) B_##id,
#include "bytecode/builtins.def"
#undef BUILTIN
  NBUILTINS
};

static Chunk *sample(void) {
  Chunk *c = chunk_new();
  Arena *a = &c->arena;
  c->pack_name = "sales";
  c->pack_title = "Продажи";
  c->pack_version = "1.0";
  c->source_hash = 0x1122334455667788ull;
  static const char *files[] = {"deals.pipe", "lib/util.pipe"};
  c->nfiles = 2;
  c->files = COPY(c, const char *, files, 2);

  /* constants */
  c->nconsts = NCONSTS;
  c->consts = arena_alloc(a, NCONSTS * sizeof(Value));
  Value *k = c->consts;
  k[K_NULL] = v_null();
  k[K_TRUE] = v_bool(true);
  k[K_INT] = v_int(-42);
  k[K_DEC] = v_dec(1500000);
  k[K_RUB] = v_money(150000, 0);
  k[K_USD] = v_money(-99, currency_index("USD"));
  k[K_DATE] = v_date(20000);
  k[K_DATETIME] = v_datetime(1700000000);
  k[K_DUR] = (Value){.type = V_DURATION, .aux = 1, .aux32 = 2, .u.i = 3600};
  k[K_WORKDUR] = (Value){.type = V_DURATION, .flags = VF_WORK, .aux32 = 3, .u.i = 90};
  k[K_NEGDUR] = (Value){.type = V_DURATION, .aux = (uint16_t)-2, .aux32 = -5, .u.i = -60};
  k[K_TEXT] = v_textv(a, "Привет, \"мир\"\n");
  List *l = list_new(a, 2);
  list_push(a, l, v_int(1));
  list_push(a, l, v_textv(a, "a"));
  k[K_LIST] = v_list(l);
  List *keys = list_new(a, 2);
  list_push(a, keys, v_textv(a, "amount"));
  list_push(a, keys, v_textv(a, "note"));
  k[K_KEYS] = v_list(keys);
  k[K_KEY] = v_textv(a, "amount");   /* the same string as a key: stored once */
  k[K_ENUM] = (Value){.type = V_ENUM, .aux = 0, .u.i = 1};
  k[K_STAGE] = v_tagged(V_STAGE, 1);
  k[K_DIR] = v_tagged(V_DIR, 0);
  k[K_ROLE] = v_tagged(V_ROLE, 1);
  k[K_USER] = (Value){.type = V_USER, .u.t = txt(a, "ivanov")};
  List *outer = list_new(a, 2), *i1 = list_new(a, 1), *i2 = list_new(a, 1);
  list_push(a, i1, v_int(1));
  list_push(a, i2, v_date(3));
  list_push(a, outer, v_list(i1));
  list_push(a, outer, v_list(i2));
  k[K_NESTED] = v_list(outer);
  k[K_EMPTY] = v_list(list_new(a, 0));

  /* entities and fields */
  static const EntityDef ents[] = {{"deal", "Сделка", 0, 3}, {"contact", NULL, 3, 1}};
  c->nentities = 2;
  c->entities = COPY(c, EntityDef, ents, 2);
  static const FieldDef fields[] = {
    {"title", "Название", {V_TEXT, 0, 0}, 0, 0, -1, 1, 1, 0},
    {"sum", "Сумма", {V_MONEY, 0, 0}, 0, 1, -1, 0, 1, 0},
    {"kind", NULL, {V_ENUM, 0, 0}, 0, 2, F_MAIN, 0, 0, 1},
    {"friends", "Друзья", {V_LIST, V_REC, 0}, 1, 0, -1, 0, 0, 0},
  };
  c->nfields = 4;
  c->fields = COPY(c, FieldDef, fields, 4);
  static const char *evals[] = {"truck", "bus"}, *etitles[] = {"Грузовик", NULL};
  static const EnumDefC enums[] = {{"deal.kind", "Тип", 2, evals, etitles}};
  c->nenums = 1;
  c->enums = COPY(c, EnumDefC, enums, 1);
  c->enums[0].values = COPY(c, const char *, evals, 2);
  c->enums[0].titles = COPY(c, const char *, etitles, 2);

  /* a direction with three stages */
  static const DirectionDef dirs[] = {{"sales", "Продажи", 0, 0, 3}};
  c->ndirections = 1;
  c->directions = COPY(c, DirectionDef, dirs, 1);
  static uint32_t req[] = {1}, roles[] = {0, 1};
  static uint8_t bits[] = {ACC_VIEW, ACC_VIEW | ACC_MOVE};
  static const StageDef stages[] = {
    {"new", "Новая", 0, 0, 0, 0, NULL, -1, 0, NULL, NULL},
    {"won", "Успех", 1, 1, 0, 1, req, F_MSG, 2, roles, bits},
    {"lost", "Провал", 2, 0, 0, 0, NULL, -1, 0, NULL, NULL},
  };
  c->nstages = 3;
  c->stages = COPY(c, StageDef, stages, 3);
  c->stages[1].required = COPY(c, uint32_t, req, 1);
  c->stages[1].access_roles = COPY(c, uint32_t, roles, 2);
  c->stages[1].access_bits = COPY(c, uint8_t, bits, 2);

  static uint32_t hfields[] = {1, 2};
  static const HandlerDef handlers[] = {
    {HW_ENTER, HS_STAGE, 0, 0, -1, -1, -1, 0, NULL, F_ENTER},
    {HW_AFTER, HS_DIRECTION, 1, 0, -1, 0, F_TIMING, 0, NULL, F_ENTER},
    {HW_CHANGE, HS_ENTITY, 0, 0, -1, -1, -1, 2, hfields, F_ENTER},
    {HW_EVENT, HS_TOP, 0, 0, 0, -1, -1, 0, NULL, F_MAIN},
  };
  c->nhandlers = 4;
  c->handlers = COPY(c, HandlerDef, handlers, 4);
  c->handlers[2].fields = COPY(c, uint32_t, hfields, 2);

  static uint32_t from[] = {0};
  static const TriggerDef triggers[] = {
    {1, 0, F_MAIN, 1, 1, from},
    {2, -1, F_MAIN, 0, 0, NULL},
  };
  c->ntriggers = 2;
  c->triggers = COPY(c, TriggerDef, triggers, 2);
  c->triggers[0].from = COPY(c, uint32_t, from, 1);

  static const GuardDef guards[] = {{1, F_MAIN, F_MSG}};
  c->nguards = 1;
  c->guards = COPY(c, GuardDef, guards, 1);

  static const char *evfields[] = {"amount", "payer"};
  static const TypeDesc evtypes[] = {{V_MONEY, 0, 0}, {V_REC, 0, 1}};
  static const EventDefC events[] = {{"payment.received", "Оплата", 2, NULL, NULL}};
  c->nevents = 1;
  c->events = COPY(c, EventDefC, events, 1);
  c->events[0].fields = COPY(c, const char *, evfields, 2);
  c->events[0].types = COPY(c, TypeDesc, evtypes, 2);

  static const RoleDef rolesd[] = {{"manager", "Менеджер"}, {"boss", NULL}};
  c->nroles = 2;
  c->roles = COPY(c, RoleDef, rolesd, 2);
  static uint32_t uroles[] = {0, 1};
  static const UserDefC users[] = {{"ivanov", "Иванов", -1, 2, NULL}, {"petrov", NULL, 0, 0, NULL}};
  c->nusers = 2;
  c->users = COPY(c, UserDefC, users, 2);
  c->users[0].roles = COPY(c, uint32_t, uroles, 2);

  static uint8_t hd[] = {0x1F, 0x20};
  static uint16_t hf[] = {540, 600}, ht[] = {1080, 900};
  static int32_t hol_from[] = {20454}, hol_to[] = {20461}, wdays[] = {20500, 20507};
  c->ncalendars = 1;
  c->calendars = arena_alloc(a, sizeof(CalendarDef));
  c->calendars[0] = (CalendarDef){"ru", "Россия", "Europe/Moscow", 1, 2,
                                  COPY(c, uint8_t, hd, 2), COPY(c, uint16_t, hf, 2),
                                  COPY(c, uint16_t, ht, 2), 1, COPY(c, int32_t, hol_from, 1),
                                  COPY(c, int32_t, hol_to, 1), 2, COPY(c, int32_t, wdays, 2)};
  c->default_calendar = 0;

  static const TypeDesc nparams[] = {{V_TEXT, 0, 0}, {V_LIST, V_INT, 0}};
  c->nnatives = 1;
  c->natives = arena_alloc(a, sizeof(NativeDef));
  c->natives[0] = (NativeDef){"hash", "libhash.so", 1, 2, COPY(c, TypeDesc, nparams, 2),
                              {V_INT, 0, 0}};

  static const TestDef tests[] = {{"оплата двигает сделку", F_TEST}};
  c->ntests = 1;
  c->tests = COPY(c, TestDef, tests, 1);

  /* functions */
  c->nfuncs = NFUNCS;
  c->funcs = arena_alloc(a, NFUNCS * sizeof(Func));
  c->funcs[F_MAIN] = (Func){"main", FN_USER, 1, 6, -1, -1, 0, 0, NULL, NULL};
  c->funcs[F_ENTER] = (Func){"stage new, on enter", FN_HANDLER, 1, 4, 0, 0, 0, 0, NULL, NULL};
  c->funcs[F_TIMING] = (Func){"after, timing", FN_MOMENT, 0, 2, 0, -1, 1, 0, NULL, NULL};
  c->funcs[F_MSG] = (Func){"won, message", FN_MESSAGE, 0, 1, 0, -1, 1, 0, NULL, NULL};
  c->funcs[F_TEST] = (Func){"test", FN_TEST, 0, 5, -1, -1, 0, 0, NULL, NULL};
  const Instr main_code[] = {
    MK_ABx(OP_LOADK, 1, K_INT),          /* 0 */
    MK_ABC(OP_ADDI, 2, 0, 1),            /* 1 */
    MK_AsBx(OP_JMPIFNOT, 2, 3),          /* 2 -> 6 */
    MK_ABC(OP_MOVE, 3, 2, 0),            /* 3 */
    MK_ABx(OP_CALL, 3, F_ENTER),         /* 4: R[3] = f(R[3]) */
    MK_ABC(OP_RET, 3, 0, 0),             /* 5 */
    MK_ABC(OP_NEWLIST, 4, 0, 2),         /* 6: [R0, R1] */
    MK_ABC(OP_CONCAT, 5, 0, 3),          /* 7 */
    MK_AsBx(OP_LOADI, 5, -7),            /* 8 */
    MK_ABC(OP_EQ, 5, 5, 4),              /* 9 */
    MK_sJ(OP_JMP, -10),                  /* 10 -> 1 */
  };
  set_code(c, F_MAIN, main_code, sizeof main_code / sizeof *main_code, 5);
  const Instr enter_code[] = {
    MK_ABx(OP_GETSELF, 0, 1),            /* deal.sum */
    MK_ABx(OP_LOADK, 1, K_DUR),
    MK_ABx(OP_LOADK, 2, K_TEXT),
    MK_ABx(OP_NEWOBJ, 1, K_KEYS),        /* {amount: R2, note: R3} */
    MK_ABx(OP_GETOBJ, 1, K_KEY),
    MK_ABx(OP_SETFIELD, 2, 0),
    MK_ABC(OP_CALLB, 2, B_COUNT, 1),
    MK_ABx(OP_CREATE, 2, 1),
    MK_ABx(OP_MOVETO, 0, 1),             /* won */
    MK_ABC(OP_TASK, 0, 1, 2),
    MK_AsBx(OP_FORLIST, 1, -1),
    MK_ABC(OP_ASK, 0, 0, V_TEXT),
    MK_ABx(OP_CONVERT, 0, 2),
    MK_ABC(OP_RET0, 0, 0, 0),
  };
  set_code(c, F_ENTER, enter_code, sizeof enter_code / sizeof *enter_code, 11);
  const Instr timing_code[] = {MK_ABx(OP_LOADK, 0, K_WORKDUR), MK_ABC(OP_RET, 0, 0, 0)};
  set_code(c, F_TIMING, timing_code, 2, 3);
  const Instr msg_code[] = {MK_ABx(OP_LOADK, 0, K_NESTED), MK_ABC(OP_RET, 0, 0, 0)};
  set_code(c, F_MSG, msg_code, 2, 4);
  c->funcs[F_MSG].lines = NULL;   /* a function without lines */
  const Instr test_code[] = {
    MK_ABx(OP_TEMIT, 0, 0),
    MK_ABC(OP_TEXPECT, 0, 1, 0),         /* R0, compared sides R1, R2 */
    MK_ABC(OP_TEXPECT, 4, 0, 0),         /* just R4 */
    MK_AsBx(OP_TREFUSE, 0, 1),
    MK_ABC(OP_TREFUSED, 0, 0, 0),
    MK_ABx(OP_TANSWER, 0, K_TEXT),
    MK_ABx(OP_TUSER, 3, K_USER),
    MK_ABC(OP_CALLB, 0, B_NOTIFICATIONS, 1),
    MK_ABC(OP_TADVANCE, 0, 1, 0),
    MK_ABC(OP_RET0, 0, 0, 0),
  };
  set_code(c, F_TEST, test_code, sizeof test_code / sizeof *test_code, 1);
  return c;
}

/* ---- comparing chunks --------------------------------------------------- */

static char diffbuf[512];

#define DIFF(...)                                          \
  do {                                                     \
    snprintf(diffbuf, sizeof diffbuf, __VA_ARGS__);        \
    return diffbuf;                                        \
  } while (0)
#define EQN(what, x, y)                                                                  \
  do {                                                                                   \
    if ((x) != (y)) DIFF("%s: %lld vs %lld", what, (long long)(x), (long long)(y));      \
  } while (0)
#define EQS(what, x, y)                                                                  \
  do {                                                                                   \
    if (!str_eq((x), (y))) DIFF("%s: '%s' vs '%s'", what, (x) ? (x) : "(null)",         \
                                (y) ? (y) : "(null)");                                   \
  } while (0)
#define EQT(what, x, y)                                                                  \
  do {                                                                                   \
    EQN(what, (x).kind, (y).kind);                                                       \
    EQN(what, (x).elem, (y).elem);                                                       \
    EQN(what, (x).ref, (y).ref);                                                         \
  } while (0)
/* Compares n items of two arrays with EQN. */
#define EQA(what, x, y, n)                                                               \
  do {                                                                                   \
    for (uint32_t q_ = 0; q_ < (n); q_++) EQN(what, (x)[q_], (y)[q_]);                   \
  } while (0)

static bool str_eq(const char *a, const char *b) {
  return a == b || (a && b && !strcmp(a, b));
}

static const char *value_diff(const Value *a, const Value *b) {
  EQN("type", a->type, b->type);
  switch (a->type) {
  case V_TEXT: case V_USER:
    if (a->u.t->len != b->u.t->len || memcmp(a->u.t->s, b->u.t->s, a->u.t->len))
      DIFF("text '%s' vs '%s'", a->u.t->s, b->u.t->s);
    if (b->u.t->s[b->u.t->len] != '\0') DIFF("text not NUL-terminated");
    return NULL;
  case V_LIST:
    EQN("list length", a->u.l->len, b->u.l->len);
    for (uint32_t i = 0; i < a->u.l->len; i++) {
      const char *d = value_diff(&a->u.l->items[i], &b->u.l->items[i]);
      if (d) return d;
    }
    return NULL;
  default:
    EQN("flags", a->flags, b->flags);
    EQN("aux", a->aux, b->aux);
    EQN("aux32", a->aux32, b->aux32);
    EQN("u.i", a->u.i, b->u.i);
    return NULL;
  }
}

/* NULL if a and b hold the same program, else the first difference. With
** lines false, line tables are not compared (b was stripped). */
static const char *chunk_diff(const Chunk *a, const Chunk *b, bool lines) {
  EQS("pack_name", a->pack_name, b->pack_name);
  EQS("pack_title", a->pack_title, b->pack_title);
  EQS("pack_version", a->pack_version, b->pack_version);
  EQN("source_hash", a->source_hash, b->source_hash);
  EQN("default_calendar", a->default_calendar, b->default_calendar);
  EQN("nfiles", a->nfiles, b->nfiles);
  for (uint32_t i = 0; i < a->nfiles; i++) EQS("file", a->files[i], b->files[i]);
  EQN("nconsts", a->nconsts, b->nconsts);
  for (uint32_t i = 0; i < a->nconsts; i++) {
    const char *d = value_diff(&a->consts[i], &b->consts[i]);
    if (d) DIFF("constant %u: %.400s", i, d);
  }
  EQN("nfuncs", a->nfuncs, b->nfuncs);
  for (uint32_t i = 0; i < a->nfuncs; i++) {
    const Func *x = &a->funcs[i], *y = &b->funcs[i];
    EQS("func name", x->name, y->name);
    EQN("func kind", x->kind, y->kind);
    EQN("func nparams", x->nparams, y->nparams);
    EQN("func nregs", x->nregs, y->nregs);
    EQN("func entity", x->entity, y->entity);
    EQN("func event", x->event, y->event);
    EQN("func file", x->file, y->file);
    EQN("func ncode", x->ncode, y->ncode);
    EQA("func code", x->code, y->code, x->ncode);
    if (lines) {
      EQN("func has lines", x->lines != NULL, y->lines != NULL);
      if (x->lines) EQA("func lines", x->lines, y->lines, x->ncode);
    } else if (y->lines) {
      DIFF("function %u has lines after stripping", i);
    }
  }
  EQN("nentities", a->nentities, b->nentities);
  for (uint32_t i = 0; i < a->nentities; i++) {
    const EntityDef *x = &a->entities[i], *y = &b->entities[i];
    EQS("entity name", x->name, y->name);
    EQS("entity title", x->title, y->title);
    EQN("entity first_field", x->first_field, y->first_field);
    EQN("entity nfields", x->nfields, y->nfields);
  }
  EQN("nfields", a->nfields, b->nfields);
  for (uint32_t i = 0; i < a->nfields; i++) {
    const FieldDef *x = &a->fields[i], *y = &b->fields[i];
    EQS("field name", x->name, y->name);
    EQS("field title", x->title, y->title);
    EQT("field type", x->type, y->type);
    EQN("field entity", x->entity, y->entity);
    EQN("field index", x->index, y->index);
    EQN("field computed", x->computed, y->computed);
    EQN("field required", x->required, y->required);
    EQN("field builtin", x->builtin, y->builtin);
    EQN("field readonly", x->readonly, y->readonly);
  }
  EQN("nenums", a->nenums, b->nenums);
  for (uint32_t i = 0; i < a->nenums; i++) {
    const EnumDefC *x = &a->enums[i], *y = &b->enums[i];
    EQS("enum name", x->name, y->name);
    EQS("enum title", x->title, y->title);
    EQN("enum nvalues", x->nvalues, y->nvalues);
    for (uint32_t k = 0; k < x->nvalues; k++) {
      EQS("enum value", x->values[k], y->values[k]);
      EQS("enum value title", x->titles[k], y->titles[k]);
    }
  }
  EQN("ndirections", a->ndirections, b->ndirections);
  for (uint32_t i = 0; i < a->ndirections; i++) {
    const DirectionDef *x = &a->directions[i], *y = &b->directions[i];
    EQS("direction name", x->name, y->name);
    EQS("direction title", x->title, y->title);
    EQN("direction entity", x->entity, y->entity);
    EQN("direction first_stage", x->first_stage, y->first_stage);
    EQN("direction nstages", x->nstages, y->nstages);
  }
  EQN("nstages", a->nstages, b->nstages);
  for (uint32_t i = 0; i < a->nstages; i++) {
    const StageDef *x = &a->stages[i], *y = &b->stages[i];
    EQS("stage name", x->name, y->name);
    EQS("stage title", x->title, y->title);
    EQN("stage kind", x->kind, y->kind);
    EQN("stage is_auto", x->is_auto, y->is_auto);
    EQN("stage direction", x->direction, y->direction);
    EQN("stage nrequired", x->nrequired, y->nrequired);
    EQA("stage required", x->required, y->required, x->nrequired);
    EQN("stage require_msg", x->require_msg, y->require_msg);
    EQN("stage naccess", x->naccess, y->naccess);
    EQA("stage access_roles", x->access_roles, y->access_roles, x->naccess);
    EQA("stage access_bits", x->access_bits, y->access_bits, x->naccess);
  }
  EQN("nhandlers", a->nhandlers, b->nhandlers);
  for (uint32_t i = 0; i < a->nhandlers; i++) {
    const HandlerDef *x = &a->handlers[i], *y = &b->handlers[i];
    EQN("handler when", x->when, y->when);
    EQN("handler scope", x->scope, y->scope);
    EQN("handler once", x->once, y->once);
    EQN("handler owner", x->owner, y->owner);
    EQN("handler event", x->event, y->event);
    EQN("handler calendar", x->calendar, y->calendar);
    EQN("handler timing", x->timing, y->timing);
    EQN("handler nfields", x->nfields, y->nfields);
    EQA("handler fields", x->fields, y->fields, x->nfields);
    EQN("handler body", x->body, y->body);
  }
  EQN("ntriggers", a->ntriggers, b->ntriggers);
  for (uint32_t i = 0; i < a->ntriggers; i++) {
    const TriggerDef *x = &a->triggers[i], *y = &b->triggers[i];
    EQN("trigger stage", x->stage, y->stage);
    EQN("trigger event", x->event, y->event);
    EQN("trigger cond", x->cond, y->cond);
    EQN("trigger may_move_back", x->may_move_back, y->may_move_back);
    EQN("trigger nfrom", x->nfrom, y->nfrom);
    EQA("trigger from", x->from, y->from, x->nfrom);
  }
  EQN("nguards", a->nguards, b->nguards);
  for (uint32_t i = 0; i < a->nguards; i++) {
    EQN("guard stage", a->guards[i].stage, b->guards[i].stage);
    EQN("guard cond", a->guards[i].cond, b->guards[i].cond);
    EQN("guard message", a->guards[i].message, b->guards[i].message);
  }
  EQN("nevents", a->nevents, b->nevents);
  for (uint32_t i = 0; i < a->nevents; i++) {
    const EventDefC *x = &a->events[i], *y = &b->events[i];
    EQS("event name", x->name, y->name);
    EQS("event title", x->title, y->title);
    EQN("event nfields", x->nfields, y->nfields);
    for (uint32_t k = 0; k < x->nfields; k++) {
      EQS("event field", x->fields[k], y->fields[k]);
      EQT("event field type", x->types[k], y->types[k]);
    }
  }
  EQN("nroles", a->nroles, b->nroles);
  for (uint32_t i = 0; i < a->nroles; i++) {
    EQS("role name", a->roles[i].name, b->roles[i].name);
    EQS("role title", a->roles[i].title, b->roles[i].title);
  }
  EQN("nusers", a->nusers, b->nusers);
  for (uint32_t i = 0; i < a->nusers; i++) {
    const UserDefC *x = &a->users[i], *y = &b->users[i];
    EQS("user name", x->name, y->name);
    EQS("user title", x->title, y->title);
    EQN("user supervisor", x->supervisor, y->supervisor);
    EQN("user nroles", x->nroles, y->nroles);
    EQA("user roles", x->roles, y->roles, x->nroles);
  }
  EQN("ncalendars", a->ncalendars, b->ncalendars);
  for (uint32_t i = 0; i < a->ncalendars; i++) {
    const CalendarDef *x = &a->calendars[i], *y = &b->calendars[i];
    EQS("calendar name", x->name, y->name);
    EQS("calendar title", x->title, y->title);
    EQS("calendar timezone", x->timezone, y->timezone);
    EQN("calendar is_default", x->is_default, y->is_default);
    EQN("calendar nhours", x->nhours, y->nhours);
    EQA("calendar hours_days", x->hours_days, y->hours_days, x->nhours);
    EQA("calendar hours_from", x->hours_from, y->hours_from, x->nhours);
    EQA("calendar hours_to", x->hours_to, y->hours_to, x->nhours);
    EQN("calendar nholidays", x->nholidays, y->nholidays);
    EQA("calendar holiday_from", x->holiday_from, y->holiday_from, x->nholidays);
    EQA("calendar holiday_to", x->holiday_to, y->holiday_to, x->nholidays);
    EQN("calendar nworkdays", x->nworkdays, y->nworkdays);
    EQA("calendar workdays", x->workdays, y->workdays, x->nworkdays);
  }
  EQN("nnatives", a->nnatives, b->nnatives);
  for (uint32_t i = 0; i < a->nnatives; i++) {
    const NativeDef *x = &a->natives[i], *y = &b->natives[i];
    EQS("native name", x->name, y->name);
    EQS("native library", x->library, y->library);
    EQN("native pure", x->pure, y->pure);
    EQN("native nparams", x->nparams, y->nparams);
    for (uint32_t k = 0; k < x->nparams; k++) EQT("native param", x->params[k], y->params[k]);
    EQT("native ret", x->ret, y->ret);
  }
  EQN("ntests", a->ntests, b->ntests);
  for (uint32_t i = 0; i < a->ntests; i++) {
    EQS("test title", a->tests[i].title, b->tests[i].title);
    EQN("test func", a->tests[i].func, b->tests[i].func);
  }
  return NULL;
}

/* ---- files in memory ---------------------------------------------------- */

typedef struct Bytes {
  uint8_t *p;
  size_t len;
} Bytes;

static Bytes write_chunk(const Chunk *c, bool strip) {
  char *p = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&p, &len);
  ck_assert_ptr_nonnull(f);
  int rc = bc_write(c, f, strip);
  fclose(f);
  ck_assert_int_eq(rc, 0);
  return (Bytes){(uint8_t *)p, len};
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t x) {
  p[0] = (uint8_t)x, p[1] = (uint8_t)(x >> 8), p[2] = (uint8_t)(x >> 16), p[3] = (uint8_t)(x >> 24);
}

static void fix_crc(Bytes b) { wr32(b.p + 16, bc_crc32(0, b.p + 20, b.len - 20)); }

/* The table entry of section id ("CODE"), or NULL. */
static uint8_t *section_entry(Bytes b, const char *id) {
  unsigned n = b.p[14] | b.p[15] << 8;
  for (unsigned i = 0; i < n; i++)
    if (!memcmp(b.p + BC_HEADER_SIZE + 12 * i, id, 4)) return b.p + BC_HEADER_SIZE + 12 * i;
  return NULL;
}

/* The file with one more section appended (id, bytes), table and CRC
** fixed. Frees the old bytes. */
static Bytes add_section(Bytes b, const char *id, const void *data, uint32_t len) {
  unsigned n = b.p[14] | b.p[15] << 8;
  size_t table_end = BC_HEADER_SIZE + 12u * n;
  Bytes r = {malloc(b.len + 12 + len), b.len + 12 + len};
  memcpy(r.p, b.p, table_end);
  for (unsigned i = 0; i < n; i++) {
    uint8_t *e = r.p + BC_HEADER_SIZE + 12 * i;
    wr32(e + 4, rd32(e + 4) + 12);
  }
  uint8_t *e = r.p + table_end;
  memcpy(e, id, 4);
  wr32(e + 4, (uint32_t)(b.len + 12));
  wr32(e + 8, len);
  memcpy(r.p + table_end + 12, b.p + table_end, b.len - table_end);
  memcpy(r.p + b.len + 12, data, len);
  r.p[14] = (uint8_t)(n + 1), r.p[15] = (uint8_t)((n + 1) >> 8);
  fix_crc(r);
  free(b.p);
  return r;
}

static char err[256];

/* Reads b and requires a failure whose message contains want. */
#define READ_FAILS(b, want)                                                                \
  do {                                                                                     \
    Chunk *rc_ = bc_read((b).p, (b).len, err, sizeof err);                                 \
    if (rc_) chunk_free(rc_);                                                              \
    ck_assert_msg(rc_ == NULL, "read succeeded, wanted '%s'", (want));                     \
    ck_assert_msg(strstr(err, (want)) != NULL, "got '%s', wanted '%s'", err, (want));      \
  } while (0)

/* Runs the disassembler into a heap string. */
static char *disasm_text(const Chunk *c, const SrcSet *srcs) {
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&s, &n);
  bc_disasm(f, c, srcs);
  fclose(f);
  return s;
}

/* ---- core ----------------------------------------------------------------- */

START_TEST(bcfile_1_1_crc32) {
  ck_assert_uint_eq(bc_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
  ck_assert_uint_eq(bc_crc32(0, NULL, 0), 0);
  /* in pieces, as one */
  uint32_t c1 = bc_crc32(0, (const uint8_t *)"1234", 4);
  ck_assert_uint_eq(bc_crc32(c1, (const uint8_t *)"56789", 5), 0xCBF43926u);
}
END_TEST

START_TEST(bcfile_1_2_op_tables) {
  ck_assert_str_eq(op_names[OP_MOVE], "MOVE");
  ck_assert_str_eq(op_names[OP_TUSER], "TUSER");
  ck_assert_int_eq(op_formats[OP_JMP], FMT_sJ);
  ck_assert_int_eq(op_formats[OP_LOADK], FMT_ABx);
  ck_assert_str_eq(op_synopses[OP_RET0], "return nothing");
  BcOpInfo o;
  bc_op_info(OP_LOADK, &o);
  ck_assert_int_eq(o.kind[0], OPK_REG);
  ck_assert_int_eq(o.kind[3], OPK_CONST);
  ck_assert(!o.is_jump);
  bc_op_info(OP_LOADI, &o);
  ck_assert_int_eq(o.kind[3], OPK_IMM);
  bc_op_info(OP_JMPIF, &o);
  ck_assert(o.is_jump);
  ck_assert_int_eq(o.kind[3], OPK_JUMP);
  bc_op_info(OP_JMP, &o);
  ck_assert_int_eq(o.kind[0], OPK_NONE);
  ck_assert_int_eq(o.kind[3], OPK_JUMP);
  bc_op_info(OP_RET0, &o);
  ck_assert_int_eq(o.kind[0], OPK_NONE);
  bc_op_info(OP_LOADBOOL, &o);
  ck_assert_int_eq(o.kind[1], OPK_IMM);
  ck_assert_int_eq(o.kind[2], OPK_NONE);
  bc_op_info(OP_TASK, &o);
  ck_assert_int_eq(o.kind[2], OPK_REG);
  ck_assert_int_eq(o.span[2], 1);
  bc_op_info(OP_ASK, &o);
  ck_assert_int_eq(o.span[0], 3);
  ck_assert_int_eq(o.kind[2], OPK_IMM);
  bc_op_info(OP_CALLB, &o);
  ck_assert_int_eq(o.kind[1], OPK_BUILTIN);
  ck_assert(o.var[0]);
  bc_op_info(OP_GETOBJ, &o);
  ck_assert_int_eq(o.const_shape, KS_TEXT);
  bc_op_info(OP_NEWOBJ, &o);
  ck_assert_int_eq(o.const_shape, KS_KEYS);
  ck_assert(o.var[0]);
  /* the verifier has a rule for every range of unknown length */
  for (int op = 0; op < OP__COUNT; op++) {
    bc_op_info((OpCode)op, &o);
    if (o.var[0] || o.var[1] || o.var[2])
      ck_assert_msg(op == OP_CALL || op == OP_CALLB || op == OP_CONCAT || op == OP_NEWLIST ||
                      op == OP_NEWOBJ || op == OP_CALLN /* natives (issue 5) */,
                    "%s has a register range the verifier does not know", op_names[op]);
  }
}
END_TEST

START_TEST(bcfile_1_3_sample_verifies) {
  Chunk *c = sample();
  ck_assert_msg(bc_verify(c, err, sizeof err), "%s", err);
  chunk_free(c);
  Chunk *e = chunk_new();
  ck_assert_msg(bc_verify(e, err, sizeof err), "%s", err);
  chunk_free(e);
}
END_TEST

START_TEST(bcfile_1_4_round_trip) {
  Chunk *c = sample();
  Bytes b = write_chunk(c, false);
  ck_assert(!memcmp(b.p, "\x1bPPC\x01\x00\x00\x00\x19\x93\r\n\x1a\n", 14));
  ck_assert_ptr_nonnull(section_entry(b, "LINE"));
  Chunk *r = bc_read(b.p, b.len, err, sizeof err);
  ck_assert_msg(r != NULL, "%s", err);
  const char *d = chunk_diff(c, r, true);
  ck_assert_msg(d == NULL, "%s", d);
  /* writing is deterministic */
  Bytes b2 = write_chunk(r, false);
  ck_assert_uint_eq(b.len, b2.len);
  ck_assert(!memcmp(b.p, b2.p, b.len));
  /* "amount" is stored once, though it is a constant, a key and a field */
  const uint8_t *strs = b.p + rd32(section_entry(b, "STRS") + 4);
  uint32_t slen = rd32(section_entry(b, "STRS") + 8);
  int count = 0;
  for (uint32_t i = 0; i + 6 <= slen; i++) count += !memcmp(strs + i, "amount", 6);
  ck_assert_int_eq(count, 1);
  free(b.p);
  free(b2.p);
  chunk_free(r);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_1_5_empty_round_trip) {
  Chunk *c = chunk_new();
  Bytes b = write_chunk(c, false);
  Chunk *r = bc_read(b.p, b.len, err, sizeof err);
  ck_assert_msg(r != NULL, "%s", err);
  const char *d = chunk_diff(c, r, true);
  ck_assert_msg(d == NULL, "%s", d);
  free(b.p);
  chunk_free(r);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_1_6_strip_debug) {
  Chunk *c = sample();
  Bytes full = write_chunk(c, false), b = write_chunk(c, true);
  ck_assert_uint_lt(b.len, full.len);
  ck_assert_int_eq(b.p[6] & 1, 1);
  ck_assert_ptr_null(section_entry(b, "LINE"));
  Chunk *r = bc_read(b.p, b.len, err, sizeof err);
  ck_assert_msg(r != NULL, "%s", err);
  const char *d = chunk_diff(c, r, false);
  ck_assert_msg(d == NULL, "%s", d);
  char *text = disasm_text(r, NULL);
  ck_assert_ptr_nonnull(strstr(text, "GETSELF"));
  ck_assert_ptr_nonnull(strstr(text, "     0     -  LOADK"));
  ck_assert_ptr_null(strstr(text, " | "));   /* no source lines */
  free(text);
  /* a file that is not stripped needs its LINE section */
  uint8_t *e = section_entry(full, "LINE");
  memcpy(e, "XINE", 4);
  fix_crc(full);
  READ_FAILS(full, "missing section LINE");
  free(b.p);
  free(full.p);
  chunk_free(r);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_1_7_disasm) {
  Chunk *c = sample();
  SrcSet srcs;
  srcset_init(&srcs);
  srcset_add(&srcs, "deals.pipe", "deals.pipe", SOURCE, strlen(SOURCE));
  char *text = disasm_text(c, &srcs);
  static const char *const want[] = {
    "pack sales \"Продажи\" version 1.0",
    "5 functions, 22 constants",
    "0 sales \"Продажи\" (deal): 0 new, 1 won (success) auto, 2 lost (failure)",
    "stage sales.new, on enter -> function 1 (stage new, on enter)",
    "direction sales, after once (timing: function 2)",
    "entity deal, on change",
    "top level, on event payment.received",
    "0 -> sales.won on payment.received when function 0 from sales.new (may move back)",
    "calendars: ru (default)",
    "natives: hash(libhash.so)",
    "\"оплата двигает сделку\" -> function 4 (test)",
    "1500.00 RUB",
    "-0.99 USD",
    "\"Привет, \\\"мир\\\"\\n\"",
    "[1, \"a\"]",
    "[[1], [1970-01-04]]",
    "deal.kind.bus",
    "role boss",
    "user \"ivanov\"",
    ("function 1 \"stage new, on enter\": handler, 1 params, 4 registers, entity deal, "
     "event payment.received, deals.pipe"),
    "; deals.pipe:5 | fn main(x) {",
    "; deals.pipe:6 |   let y = x + 1",
    "     2     6  JMPIFNOT   2 3          ; to 6",
    "    10    10  JMP        -10          ; to 1",
    "     4     7  CALL       3 1          ; function 1 (stage new, on enter)",
    "     0    11  GETSELF    0 1          ; deal.sum",
    "     8    15  MOVETO     0 1          ; sales.won",
    "     6    14  CALLB      2 0 1        ; count",
    "     7    14  CREATE     2 1          ; contact",
    "     0     1  TEMIT      0 0          ; event payment.received",
    "     0     3  LOADK      0 9          ; 3 workdays",
    "     8     9  LOADI      5 -7\n",
    "    13    17  RET0\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    ck_assert_msg(strstr(text, want[i]) != NULL, "no '%s' in:\n%s", want[i], text);
  free(text);
  /* without sources: the file is not on disk, so no source lines */
  text = disasm_text(c, NULL);
  ck_assert_ptr_null(strstr(text, " | "));
  free(text);
  srcset_free(&srcs);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_1_8_unknown_section_skipped) {
  Chunk *c = sample();
  Bytes b = add_section(write_chunk(c, false), "XTRA", "hello", 5);
  Chunk *r = bc_read(b.p, b.len, err, sizeof err);
  ck_assert_msg(r != NULL, "%s", err);
  const char *d = chunk_diff(c, r, true);
  ck_assert_msg(d == NULL, "%s", d);
  /* a newer minor version is read too */
  b.p[5] = 7;
  chunk_free(r);
  r = bc_read(b.p, b.len, err, sizeof err);
  ck_assert_msg(r != NULL, "%s", err);
  free(b.p);
  chunk_free(r);
  chunk_free(c);
}
END_TEST

/* ---- limits --------------------------------------------------------------- */

/* A small file: every damage below is tried at every offset or bit. */
static Chunk *small(void) {
  Chunk *c = chunk_new();
  Arena *a = &c->arena;
  c->pack_name = "p";
  static const char *files[] = {"a.pipe"};
  c->nfiles = 1;
  c->files = COPY(c, const char *, files, 1);
  c->nconsts = 3;
  c->consts = arena_alloc(a, 3 * sizeof(Value));
  c->consts[0] = v_money(100, 0);
  c->consts[1] = v_textv(a, "ok");
  List *l = list_new(a, 1);
  list_push(a, l, v_textv(a, "k"));
  c->consts[2] = v_list(l);
  static const EntityDef ents[] = {{"deal", "Сделка", 0, 1}};
  c->nentities = 1;
  c->entities = COPY(c, EntityDef, ents, 1);
  static const FieldDef fields[] = {{"sum", NULL, {V_MONEY, 0, 0}, 0, 0, -1, 0, 0, 0}};
  c->nfields = 1;
  c->fields = COPY(c, FieldDef, fields, 1);
  static const DirectionDef dirs[] = {{"d", NULL, 0, 0, 2}};
  c->ndirections = 1;
  c->directions = COPY(c, DirectionDef, dirs, 1);
  static const StageDef stages[] = {
    {"a", NULL, 0, 0, 0, 0, NULL, -1, 0, NULL, NULL},
    {"b", NULL, 1, 0, 0, 0, NULL, -1, 0, NULL, NULL},
  };
  c->nstages = 2;
  c->stages = COPY(c, StageDef, stages, 2);
  static const HandlerDef handlers[] = {{HW_ENTER, HS_STAGE, 0, 0, -1, -1, -1, 0, NULL, 0}};
  c->nhandlers = 1;
  c->handlers = COPY(c, HandlerDef, handlers, 1);
  c->nfuncs = 1;
  c->funcs = arena_alloc(a, sizeof(Func));
  c->funcs[0] = (Func){"on enter", FN_HANDLER, 0, 3, 0, -1, 0, 0, NULL, NULL};
  const Instr code[] = {
    MK_ABx(OP_GETSELF, 0, 0), MK_ABx(OP_LOADK, 1, 0), MK_ABC(OP_LT, 2, 0, 1),
    MK_AsBx(OP_JMPIFNOT, 2, 1), MK_ABx(OP_MOVETO, 0, 1), MK_ABC(OP_RET0, 0, 0, 0),
  };
  set_code(c, 0, code, 6, 3);
  return c;
}

START_TEST(bcfile_2_1_truncated_everywhere) {
  Chunk *c = small();
  Bytes b = write_chunk(c, false);
  for (size_t n = 0; n < b.len; n++) {
    /* a copy of exactly n bytes, so that ASan sees any read past it */
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, b.p, n);
    err[0] = '\0';
    Chunk *r = bc_read(p, n, err, sizeof err);
    ck_assert_msg(r == NULL, "a file cut at %zu bytes was read", n);
    ck_assert_msg(err[0] != '\0', "no message for a file cut at %zu bytes", n);
    if (n >= BC_HEADER_SIZE)
      ck_assert_msg(strstr(err, "truncated") != NULL, "cut at %zu: '%s'", n, err);
    free(p);
  }
  free(b.p);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_2_2_bit_flips_everywhere) {
  Chunk *c = small();
  Bytes b = write_chunk(c, false);
  int accepted = 0;
  for (size_t i = 0; i < b.len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      b.p[i] ^= (uint8_t)(1 << bit);
      err[0] = '\0';
      Chunk *r = bc_read(b.p, b.len, err, sizeof err);
      if (r) {
        /* only bytes the CRC does not cover may change unnoticed: the
        ** minor version and the flags, which the reader may ignore */
        ck_assert_msg(i == 5 || i == 6 || i == 7, "flip at byte %zu bit %d was accepted", i, bit);
        ck_assert(bc_verify(r, err, sizeof err));
        accepted++;
        chunk_free(r);
      } else {
        ck_assert_msg(err[0] != '\0', "no message for a flip at byte %zu bit %d", i, bit);
      }
      b.p[i] ^= (uint8_t)(1 << bit);
    }
  }
  ck_assert_int_le(accepted, 24);
  free(b.p);
  chunk_free(c);
}
END_TEST

/* Edits the bytes of section id at offset off (within it) and fixes the
** CRC, so that only the decoder can notice. */
static void poke32(Bytes b, const char *id, uint32_t off, uint32_t x) {
  uint8_t *e = section_entry(b, id);
  ck_assert_ptr_nonnull(e);
  ck_assert_uint_le(off + 4, rd32(e + 8));
  wr32(b.p + rd32(e + 4) + off, x);
  fix_crc(b);
}

START_TEST(bcfile_2_3_hostile_counts) {
  Chunk *c = small();
  static const char *const ids[] = {"STRS", "SRCN", "CNST", "FUNC", "TABL"};
  for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
    Bytes b = write_chunk(c, false);
    poke32(b, ids[i], 0, 0xFFFFFFFFu);
    char want[64];
    snprintf(want, sizeof want, "truncated section %s", ids[i]);
    READ_FAILS(b, want);
    free(b.p);
  }
  /* a function claiming more code than CODE holds */
  Bytes b = write_chunk(c, false);
  poke32(b, "FUNC", 4 + 4 + 3 + 2 + 4 + 4, 7);
  READ_FAILS(b, "section CODE: 24 bytes for 7 instructions");
  free(b.p);
  /* a string index past the table */
  b = write_chunk(c, false);
  poke32(b, "PACK", 0, 1000);
  READ_FAILS(b, "section PACK: string 1000 out of range");
  free(b.p);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_2_4_list_depth) {
  Chunk *c = small();
  Value v = v_int(1);
  for (int i = 0; i < 17; i++) {
    List *l = list_new(&c->arena, 1);
    list_push(&c->arena, l, v);
    v = v_list(l);
  }
  c->consts[0] = v;
  ck_assert(!bc_verify(c, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "constant 0: lists nested too deeply"));
  /* the writer refuses it too */
  FILE *f = fopen("/dev/null", "wb");
  ck_assert_int_eq(bc_write(c, f, false), -1);
  fclose(f);
  chunk_free(c);
}
END_TEST

/* Damage that the CRC cannot see (the CRC is fixed after each edit): at
** every byte behind the header, a few values. The decoder and the verifier
** must turn each into NULL with a message, or a chunk that verifies. */
static void damage_behind_crc(Chunk *c) {
  Bytes b = write_chunk(c, false);
  static const int edits[] = {0x00, 0xFF, 0x80, 0x01, -1};   /* -1: add one */
  int accepted = 0;
  for (size_t i = 20; i < b.len; i++) {
    uint8_t keep = b.p[i];
    for (size_t e = 0; e < sizeof edits / sizeof *edits; e++) {
      b.p[i] = edits[e] < 0 ? (uint8_t)(keep + 1) : edits[e] == 0x80 ? keep ^ 0x80 : (uint8_t)edits[e];
      if (b.p[i] == keep) continue;
      fix_crc(b);
      err[0] = '\0';
      Chunk *r = bc_read(b.p, b.len, err, sizeof err);
      if (r) {
        ck_assert_msg(bc_verify(r, err, sizeof err), "byte %zu: %s", i, err);
        /* what was read is written and read back the same */
        Bytes again = write_chunk(r, false);
        Chunk *r2 = bc_read(again.p, again.len, err, sizeof err);
        ck_assert_msg(r2 != NULL, "byte %zu: %s", i, err);
        const char *d = chunk_diff(r, r2, true);
        ck_assert_msg(d == NULL, "byte %zu: %s", i, d);
        chunk_free(r2);
        free(again.p);
        chunk_free(r);
        accepted++;
      } else {
        ck_assert_msg(err[0] != '\0', "no message for byte %zu", i);
      }
    }
    b.p[i] = keep;
  }
  /* some edits are harmless (a line number, a flag, an integer constant) */
  ck_assert_int_gt(accepted, 0);
  free(b.p);
}

START_TEST(bcfile_2_5_damage_behind_crc_small) {
  Chunk *c = small();
  damage_behind_crc(c);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_2_6_damage_behind_crc_sample) {
  Chunk *c = sample();
  damage_behind_crc(c);
  chunk_free(c);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(bcfile_3_1_not_a_pipec) {
  Bytes b = {(uint8_t *)"hello, world, this is some text and no bytecode", 47};
  READ_FAILS(b, "not a .pipec file");
  b.len = 2;
  READ_FAILS(b, "not a .pipec file");
  b.len = 0;
  READ_FAILS(b, "not a .pipec file");
}
END_TEST

START_TEST(bcfile_3_2_versions_and_guard) {
  Chunk *c = small();
  Bytes b = write_chunk(c, false);
  b.p[4] = 2;
  b.p[5] = 0;
  READ_FAILS(b, "format 2.0 is newer than this funnel (1.x)");
  b.p[4] = 0;
  b.p[5] = 3;
  READ_FAILS(b, "format 0.3 is older");
  b.p[4] = 1;
  b.p[5] = 0;
  b.p[10] = '\n';   /* \r\n became \n\n */
  READ_FAILS(b, "damaged");
  free(b.p);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_3_3_crc_damage) {
  Chunk *c = small();
  Bytes b = write_chunk(c, false);
  b.p[b.len - 3] ^= 0x40;
  READ_FAILS(b, "checksum mismatch: the file is damaged");
  b.p[b.len - 3] ^= 0x40;
  b.p[20] ^= 1;   /* the compiler version is covered too */
  READ_FAILS(b, "checksum mismatch");
  free(b.p);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_3_4_section_table) {
  Chunk *c = small();
  Bytes b = write_chunk(c, false);
  uint8_t *e = section_entry(b, "CODE");
  wr32(e + 8, rd32(e + 8) + 1000);
  fix_crc(b);
  READ_FAILS(b, "section CODE lies outside the file");
  free(b.p);
  b = write_chunk(c, false);
  e = section_entry(b, "CODE");
  wr32(e + 4, 8);   /* inside the header */
  fix_crc(b);
  READ_FAILS(b, "section CODE lies outside the file");
  free(b.p);
  b = write_chunk(c, false);
  memcpy(section_entry(b, "TABL"), "CODE", 4);
  fix_crc(b);
  READ_FAILS(b, "section CODE appears twice");
  free(b.p);
  b = write_chunk(c, false);
  memcpy(section_entry(b, "TABL"), "TABX", 4);
  fix_crc(b);
  READ_FAILS(b, "missing section TABL");
  free(b.p);
  /* a known section with bytes left over */
  b = write_chunk(c, false);
  e = section_entry(b, "PACK");
  wr32(e + 8, rd32(e + 8) - 4);   /* shorter: truncated */
  fix_crc(b);
  READ_FAILS(b, "truncated section PACK");
  wr32(e + 8, rd32(e + 8) + 5);   /* one byte of SRCN too many */
  fix_crc(b);
  READ_FAILS(b, "section PACK: 1 bytes left over");
  free(b.p);
  /* bad UTF-8 in the string table */
  b = write_chunk(c, false);
  e = section_entry(b, "STRS");
  uint8_t *s = b.p + rd32(e + 4);
  ck_assert_uint_eq(rd32(s + 4), 1);   /* string 0 is "p" */
  s[8] = 0xC0;
  fix_crc(b);
  READ_FAILS(b, "section STRS: string 0 is not valid UTF-8");
  s[8] = 0;
  fix_crc(b);
  READ_FAILS(b, "section STRS: string 0 contains a NUL byte");
  free(b.p);
  chunk_free(c);
}
END_TEST

/* One broken rule of the verifier: the edit and a part of the message. */
typedef struct Bad {
  const char *name;
  void (*edit)(Chunk *c);
  const char *want;
  bool unwritable;   /* an array is missing: bc_write would crash */
} Bad;

static Instr *code_of(Chunk *c, int f) { return c->funcs[f].code; }

#define BAD(id, body) static void bad_##id(Chunk *c) { body; }
BAD(opcode, code_of(c, F_MAIN)[0] = 0xFF)
BAD(reg_a, code_of(c, F_MAIN)[3] = MK_ABC(OP_MOVE, 6, 2, 0))
BAD(reg_b, code_of(c, F_MAIN)[3] = MK_ABC(OP_MOVE, 3, 6, 0))
BAD(reg_c, code_of(c, F_MAIN)[1] = MK_ABC(OP_ADDI, 2, 0, 200))
BAD(reg_setfield, code_of(c, F_ENTER)[5] = MK_ABx(OP_SETFIELD, 3, 0))
BAD(reg_call, code_of(c, F_MAIN)[4] = MK_ABx(OP_CALL, 5, F_ENTER); c->funcs[F_ENTER].nparams = 2)
BAD(reg_call0, code_of(c, F_MAIN)[4] = MK_ABx(OP_CALL, 6, F_TIMING))
BAD(reg_callb, code_of(c, F_ENTER)[6] = MK_ABC(OP_CALLB, 3, B_CONTAINS, 2))
BAD(callb_nargs, code_of(c, F_ENTER)[6] = MK_ABC(OP_CALLB, 0, B_COUNT, 2))
BAD(callb_builtin, code_of(c, F_ENTER)[6] = MK_ABC(OP_CALLB, 0, NBUILTINS, 1))
BAD(callb_tests_only, code_of(c, F_ENTER)[6] = MK_ABC(OP_CALLB, 2, B_NOTIFICATIONS, 1))
BAD(reg_newlist, code_of(c, F_MAIN)[6] = MK_ABC(OP_NEWLIST, 4, 3, 4))
BAD(reg_concat, code_of(c, F_MAIN)[7] = MK_ABC(OP_CONCAT, 5, 5, 2))
BAD(reg_newobj, code_of(c, F_ENTER)[3] = MK_ABx(OP_NEWOBJ, 2, K_KEYS))
BAD(reg_task, code_of(c, F_ENTER)[9] = MK_ABC(OP_TASK, 0, 1, 3))
BAD(reg_forlist, code_of(c, F_ENTER)[10] = MK_AsBx(OP_FORLIST, 2, -1))
BAD(reg_ask, code_of(c, F_ENTER)[11] = MK_ABC(OP_ASK, 1, 0, V_TEXT))
BAD(reg_convert, code_of(c, F_ENTER)[12] = MK_ABx(OP_CONVERT, 3, 2))
BAD(reg_texpect, code_of(c, F_TEST)[1] = MK_ABC(OP_TEXPECT, 3, 1, 0))
BAD(reg_temit, code_of(c, F_TEST)[0] = MK_ABx(OP_TEMIT, 4, 0))
BAD(reg_tanswer, code_of(c, F_TEST)[5] = MK_ABx(OP_TANSWER, 4, K_TEXT))
BAD(reg_tuser, code_of(c, F_TEST)[6] = MK_ABx(OP_TUSER, 4, K_USER))
BAD(const_index, code_of(c, F_MAIN)[0] = MK_ABx(OP_LOADK, 1, NCONSTS))
BAD(newobj_not_list, code_of(c, F_ENTER)[3] = MK_ABx(OP_NEWOBJ, 1, K_INT))
BAD(newobj_key_type, code_of(c, F_ENTER)[3] = MK_ABx(OP_NEWOBJ, 1, K_LIST))
BAD(getobj_not_text, code_of(c, F_ENTER)[4] = MK_ABx(OP_GETOBJ, 1, K_INT))
BAD(func_index, code_of(c, F_MAIN)[4] = MK_ABx(OP_CALL, 3, NFUNCS))
BAD(stage_index, code_of(c, F_ENTER)[8] = MK_ABx(OP_MOVETO, 0, 3))
BAD(entity_index, code_of(c, F_ENTER)[7] = MK_ABx(OP_CREATE, 2, 2))
BAD(field_index, code_of(c, F_ENTER)[0] = MK_ABx(OP_GETSELF, 0, 4))
BAD(event_index, code_of(c, F_TEST)[0] = MK_ABx(OP_TEMIT, 0, 1))
BAD(jump_forward, code_of(c, F_MAIN)[2] = MK_AsBx(OP_JMPIFNOT, 2, 8))
BAD(jump_backward, code_of(c, F_MAIN)[2] = MK_AsBx(OP_JMPIFNOT, 2, -4))
BAD(jump_sj, code_of(c, F_MAIN)[10] = MK_sJ(OP_JMP, 0))
BAD(falls_off, code_of(c, F_MAIN)[10] = MK_ABC(OP_MOVE, 0, 0, 0))
BAD(no_code, c->funcs[F_TIMING].ncode = 0)
BAD(nparams, c->funcs[F_TIMING].nparams = 3)
BAD(nregs, c->funcs[F_TIMING].nregs = 251)
BAD(func_entity, c->funcs[F_TIMING].entity = 2)
BAD(func_event, c->funcs[F_TIMING].event = 1)
BAD(func_file, c->funcs[F_TIMING].file = 2)
BAD(func_kind, c->funcs[F_TIMING].kind = 99)
BAD(func_name, c->funcs[F_TIMING].name = NULL)
BAD(const_enum, c->consts[K_ENUM].u.i = 2)
BAD(const_enum_id, c->consts[K_ENUM].aux = 1)
BAD(const_stage, c->consts[K_STAGE].u.i = 3)
BAD(const_bool, c->consts[K_TRUE].u.i = 2)
BAD(const_utf8, c->consts[K_TEXT] = v_textv(&c->arena, "\xD0"))
BAD(const_nul, c->consts[K_TEXT] = v_text(text_new(&c->arena, "a\0b", 3)))
BAD(const_obj, c->consts[K_NULL].type = V_OBJ)
BAD(const_type, c->consts[K_NULL].type = V__COUNT)
BAD(entity_fields, c->entities[1].nfields = 2)
BAD(field_entity, c->fields[3].entity = 2)
BAD(field_place, c->fields[1].index = 2)
BAD(field_computed, c->fields[2].computed = NFUNCS)
BAD(field_type_enum, c->fields[2].type.ref = 1)
BAD(field_type_rec, c->fields[3].type.ref = 5)
BAD(field_type_kind, c->fields[0].type.kind = V__COUNT)
BAD(enum_value_name, c->enums[0].values[1] = NULL)
BAD(direction_stages, c->directions[0].nstages = 4)
BAD(direction_entity, c->directions[0].entity = 2)
BAD(stage_direction, c->stages[2].direction = 1)
BAD(stage_outside, c->directions[0].nstages = 2)
BAD(stage_kind, c->stages[0].kind = 3)
BAD(stage_required, c->stages[1].required[0] = 4)
BAD(stage_msg, c->stages[1].require_msg = NFUNCS)
BAD(stage_role, c->stages[1].access_roles[1] = 2)
BAD(stage_bits, c->stages[1].access_bits[0] = 4)
BAD(stage_title_utf8, c->stages[0].title = "\xFF")
BAD(handler_stage, c->handlers[0].owner = 3)
BAD(handler_direction, c->handlers[1].owner = 1)
BAD(handler_entity, c->handlers[2].owner = 2)
BAD(handler_scope, c->handlers[0].scope = 4)
BAD(handler_when, c->handlers[0].when = HW_EVERY + 1)
BAD(handler_body, c->handlers[3].body = NFUNCS)
BAD(handler_timing, c->handlers[1].timing = NFUNCS)
BAD(handler_event, c->handlers[3].event = 1)
BAD(handler_calendar, c->handlers[1].calendar = 1)
BAD(handler_field, c->handlers[2].fields[1] = 4)
BAD(trigger_stage, c->triggers[0].stage = 3)
BAD(trigger_from, c->triggers[0].from[0] = 3)
BAD(trigger_cond, c->triggers[1].cond = NFUNCS)
BAD(trigger_event, c->triggers[0].event = 1)
BAD(guard_stage, c->guards[0].stage = 3)
BAD(guard_cond, c->guards[0].cond = NFUNCS)
BAD(guard_message, c->guards[0].message = NFUNCS)
BAD(event_type, c->events[0].types[1].ref = 2)
BAD(user_supervisor, c->users[1].supervisor = 2)
BAD(user_role, c->users[0].roles[1] = 2)
BAD(calendar_minutes, c->calendars[0].hours_to[1] = 1441)
BAD(calendar_days, c->calendars[0].hours_days[0] = 0x80)
BAD(calendar_array, c->calendars[0].workdays = NULL)
BAD(default_calendar, c->default_calendar = 1)
BAD(native_param, c->natives[0].params[1].elem = V__COUNT)
BAD(test_func, c->tests[0].func = NFUNCS)
/* natives (issue 5): CALLN's native and its registers, by the native's arity */
BAD(reg_calln, code_of(c, F_ENTER)[6] = MK_ABx(OP_CALLN, 3, 0))
BAD(calln_native, code_of(c, F_ENTER)[6] = MK_ABx(OP_CALLN, 0, 1))
BAD(file_name, c->files[1] = NULL)
#undef BAD

static const Bad BADS[] = {
  {"opcode", bad_opcode, "function 0: instruction 0: unknown opcode 255", false},
  {"reg_a", bad_reg_a, "function 0: instruction 3 (MOVE): register A = 6 out of range (6 registers)", false},
  {"reg_b", bad_reg_b, "instruction 3 (MOVE): register B = 6 out of range", false},
  {"reg_c", bad_reg_c, "instruction 1 (ADDI): register C = 200 out of range", false},
  {"reg_setfield", bad_reg_setfield, "(SETFIELD): register A+1 = 4 out of range (4 registers)", false},
  {"reg_call", bad_reg_call, "(CALL): registers 5..6 out of range (6 registers)", false},
  {"reg_call0", bad_reg_call0, "(CALL): register A = 6 out of range", false},
  {"reg_callb", bad_reg_callb, "(CALLB): registers 3..4 out of range (4 registers)", false},
  {"reg_calln", bad_reg_calln, "(CALLN): registers 3..4 out of range (4 registers)", false},
  {"calln_native", bad_calln_native, "(CALLN): native 1 out of range (1 natives)", false},
  {"callb_nargs", bad_callb_nargs, "builtin count takes 1 arguments, not 2", false},
  {"callb_builtin", bad_callb_builtin, " builtins)", false},
  {"callb_tests_only", bad_callb_tests_only, "builtin notifications is only for tests", false},
  {"reg_newlist", bad_reg_newlist, "(NEWLIST): registers 3..6 out of range (6 registers)", false},
  {"reg_concat", bad_reg_concat, "(CONCAT): registers 5..6 out of range", false},
  {"reg_newobj", bad_reg_newobj, "(NEWOBJ): registers 2..4 out of range (4 registers)", false},
  {"reg_task", bad_reg_task, "(TASK): register C+1 = 4 out of range", false},
  {"reg_forlist", bad_reg_forlist, "(FORLIST): register A+2 = 4 out of range", false},
  {"reg_ask", bad_reg_ask, "(ASK): register A+3 = 4 out of range", false},
  {"reg_convert", bad_reg_convert, "(CONVERT): register A+1 = 4 out of range", false},
  {"reg_texpect", bad_reg_texpect, "(TEXPECT): register A+2 = 5 out of range (5 registers)", false},
  {"reg_temit", bad_reg_temit, "(TEMIT): register A+1 = 5 out of range", false},
  {"reg_tanswer", bad_reg_tanswer, "(TANSWER): register A+1 = 5 out of range", false},
  {"reg_tuser", bad_reg_tuser, "(TUSER): register A+1 = 5 out of range", false},
  {"const_index", bad_const_index, "(LOADK): constant 22 out of range (22 constants)", false},
  {"newobj_not_list", bad_newobj_not_list, "(NEWOBJ): constant 2 is not a list of keys", false},
  {"newobj_key_type", bad_newobj_key_type, "(NEWOBJ): constant 12: key 0 is not a text", false},
  {"getobj_not_text", bad_getobj_not_text, "(GETOBJ): constant 2 is not a text", false},
  {"func_index", bad_func_index, "(CALL): function 5 out of range (5 functions)", false},
  {"stage_index", bad_stage_index, "(MOVETO): stage 3 out of range (3 stages)", false},
  {"entity_index", bad_entity_index, "(CREATE): entity 2 out of range (2 entities)", false},
  {"field_index", bad_field_index, "(GETSELF): field 4 out of range (4 fields)", false},
  {"event_index", bad_event_index, "(TEMIT): event 1 out of range (1 events)", false},
  {"jump_forward", bad_jump_forward, "function 0: instruction 2 (JMPIFNOT): jump target 11 out of range (0..10)", false},
  {"jump_backward", bad_jump_backward, "instruction 2 (JMPIFNOT): jump target -1 out of range", false},
  {"jump_sj", bad_jump_sj, "instruction 10 (JMP): jump target 11 out of range", false},
  {"falls_off", bad_falls_off, "function 0: the last instruction (10, MOVE) is not RET, RET0 or JMP", false},
  {"no_code", bad_no_code, "function 2: no instructions", false},
  {"nparams", bad_nparams, "function 2: 3 parameters but 2 registers", false},
  {"nregs", bad_nregs, "function 2: 251 registers, more than 250", false},
  {"func_entity", bad_func_entity, "function 2: entity 2 out of range (2 entities)", false},
  {"func_event", bad_func_event, "function 2: event 1 out of range", false},
  {"func_file", bad_func_file, "function 2: source file 2 out of range (2 files)", false},
  {"func_kind", bad_func_kind, "function 2: unknown kind 99", false},
  {"func_name", bad_func_name, "function 2: name missing", false},
  {"const_enum", bad_const_enum, "constant 15: enum value 2 out of range (2 values)", false},
  {"const_enum_id", bad_const_enum_id, "constant 15: enum 1 out of range (1 enums)", false},
  {"const_stage", bad_const_stage, "constant 16: stage 3 out of range", false},
  {"const_bool", bad_const_bool, "constant 1: bool 2", false},
  {"const_utf8", bad_const_utf8, "constant 11: text is not valid UTF-8", false},
  {"const_nul", bad_const_nul, "constant 11: text contains a NUL byte", false},
  {"const_obj", bad_const_obj, "constant 0: an object cannot be a constant", false},
  {"const_type", bad_const_type, "constant 0: unknown type", false},
  {"entity_fields", bad_entity_fields, "entity 1: fields 3..+2 out of range (4 fields)", false},
  {"field_entity", bad_field_entity, "field 3: entity 2 out of range", false},
  {"field_place", bad_field_place, "field 1: index 2 does not match its place in entity 0", false},
  {"field_computed", bad_field_computed, "field 2: computing function 5 out of range", false},
  {"field_type_enum", bad_field_type_enum, "field 2: enum 1 out of range", false},
  {"field_type_rec", bad_field_type_rec, "field 3: entity 5 out of range", false},
  {"field_type_kind", bad_field_type_kind, "field 0: type: unknown type", false},
  {"enum_value_name", bad_enum_value_name, "enum 0: value name missing", false},
  {"direction_stages", bad_direction_stages, "direction 0: stages 0..+4 out of range (3 stages)", false},
  {"direction_entity", bad_direction_entity, "direction 0: entity 2 out of range", false},
  {"stage_direction", bad_stage_direction, "stage 2: direction 1 out of range (1 directions)", false},
  {"stage_outside", bad_stage_outside, "stage 2: not among the stages of its direction 0", false},
  {"stage_kind", bad_stage_kind, "stage 0: unknown kind 3", false},
  {"stage_required", bad_stage_required, "stage 1: required field 4 out of range", false},
  {"stage_msg", bad_stage_msg, "stage 1: message function 5 out of range", false},
  {"stage_role", bad_stage_role, "stage 1: access role 2 out of range (2 roles)", false},
  {"stage_bits", bad_stage_bits, "stage 1: unknown access bits 0x4", false},
  {"stage_title_utf8", bad_stage_title_utf8, "stage 0: title is not valid UTF-8", false},
  {"handler_stage", bad_handler_stage, "handler 0: owner stage 3 out of range", false},
  {"handler_direction", bad_handler_direction, "handler 1: owner direction 1 out of range", false},
  {"handler_entity", bad_handler_entity, "handler 2: owner entity 2 out of range", false},
  {"handler_scope", bad_handler_scope, "handler 0: unknown scope 4", false},
  {"handler_when", bad_handler_when, "handler 0: unknown kind 8", false},
  {"handler_body", bad_handler_body, "handler 3: body function 5 out of range", false},
  {"handler_timing", bad_handler_timing, "handler 1: timing function 5 out of range", false},
  {"handler_event", bad_handler_event, "handler 3: event 1 out of range", false},
  {"handler_calendar", bad_handler_calendar, "handler 1: calendar 1 out of range (1 calendars)", false},
  {"handler_field", bad_handler_field, "handler 2: field 4 out of range", false},
  {"trigger_stage", bad_trigger_stage, "trigger 0: stage 3 out of range", false},
  {"trigger_from", bad_trigger_from, "trigger 0: from stage 3 out of range", false},
  {"trigger_cond", bad_trigger_cond, "trigger 1: condition function 5 out of range", false},
  {"trigger_event", bad_trigger_event, "trigger 0: event 1 out of range", false},
  {"guard_stage", bad_guard_stage, "guard 0: stage 3 out of range", false},
  {"guard_cond", bad_guard_cond, "guard 0: condition function 5 out of range", false},
  {"guard_message", bad_guard_message, "guard 0: message function 5 out of range", false},
  {"event_type", bad_event_type, "event 0: entity 2 out of range", false},
  {"user_supervisor", bad_user_supervisor, "user 1: supervisor 2 out of range (2 users)", false},
  {"user_role", bad_user_role, "user 0: role 2 out of range", false},
  {"calendar_minutes", bad_calendar_minutes, "calendar 0: hours 1: minute of the day out of range", false},
  {"calendar_days", bad_calendar_days, "calendar 0: hours 0: bad weekday mask 0x80", false},
  {"calendar_array", bad_calendar_array, "calendar 0: working days missing (2 expected)", true},
  {"default_calendar", bad_default_calendar, "pack: default calendar 1 out of range", false},
  {"native_param", bad_native_param, "native 0: parameter: bad list element type", false},
  {"test_func", bad_test_func, "test 0: function 5 out of range", false},
  {"file_name", bad_file_name, "source file 1: name missing", false},
};
#define NBADS ((int)(sizeof BADS / sizeof BADS[0]))

START_TEST(bcfile_3_5_verify_rejects) {
  const Bad *bad = &BADS[_i];
  Chunk *c = sample();
  bad->edit(c);
  bool ok = bc_verify(c, err, sizeof err);
  ck_assert_msg(!ok, "%s: verified", bad->name);
  ck_assert_msg(strstr(err, bad->want) != NULL, "%s: got '%s', wanted '%s'", bad->name, err,
                bad->want);
  /* a file holding it is refused as well, whatever the writer made of it */
  char *p = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&p, &len);
  int rc = bad->unwritable ? -1 : bc_write(c, f, false);
  fclose(f);
  if (rc == 0) {
    Chunk *r = bc_read((uint8_t *)p, len, err, sizeof err);
    ck_assert_msg(r == NULL, "%s: the file was read", bad->name);
    ck_assert(err[0] != '\0');
  }
  free(p);
  chunk_free(c);
}
END_TEST

START_TEST(bcfile_3_6_texpect_without_sides) {
  /* TEXPECT with B=0 uses R[A] only: the last register is fine */
  Chunk *c = sample();
  code_of(c, F_TEST)[2] = MK_ABC(OP_TEXPECT, 4, 0, 0);
  ck_assert_msg(bc_verify(c, err, sizeof err), "%s", err);
  code_of(c, F_TEST)[2] = MK_ABC(OP_TEXPECT, 4, 1, 0);
  ck_assert(!bc_verify(c, err, sizeof err));
  chunk_free(c);
}
END_TEST

static Suite *bcfile_suite(void) {
  Suite *s = suite_create("bcfile");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, bcfile_1_1_crc32);
  tcase_add_test(tc, bcfile_1_2_op_tables);
  tcase_add_test(tc, bcfile_1_3_sample_verifies);
  tcase_add_test(tc, bcfile_1_4_round_trip);
  tcase_add_test(tc, bcfile_1_5_empty_round_trip);
  tcase_add_test(tc, bcfile_1_6_strip_debug);
  tcase_add_test(tc, bcfile_1_7_disasm);
  tcase_add_test(tc, bcfile_1_8_unknown_section_skipped);
  suite_add_tcase(s, tc);
  tc = tcase_create("limits");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, bcfile_2_1_truncated_everywhere);
  tcase_add_test(tc, bcfile_2_2_bit_flips_everywhere);
  tcase_add_test(tc, bcfile_2_3_hostile_counts);
  tcase_add_test(tc, bcfile_2_4_list_depth);
  tcase_add_test(tc, bcfile_2_5_damage_behind_crc_small);
  tcase_add_test(tc, bcfile_2_6_damage_behind_crc_sample);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_test(tc, bcfile_3_1_not_a_pipec);
  tcase_add_test(tc, bcfile_3_2_versions_and_guard);
  tcase_add_test(tc, bcfile_3_3_crc_damage);
  tcase_add_test(tc, bcfile_3_4_section_table);
  tcase_add_loop_test(tc, bcfile_3_5_verify_rejects, 0, NBADS);
  tcase_add_test(tc, bcfile_3_6_texpect_without_sides);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(bcfile_suite());
  srunner_run_all(sr, CK_ENV);
  int nfailed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
