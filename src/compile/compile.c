/*
** compile.c: from the checked AST and its model to a Chunk.
**
** The design, in Lua's manner: one pass over each body, emitting 32-bit
** register instructions as it goes. Every body becomes a Func: handlers,
** guards and their messages, trigger conditions, computed fields, timer
** moments and delays, functions and tests. Locals live in fixed registers
** (parameters first); temporaries are allocated above them and released at
** the end of each statement, so a function needs as many registers as its
** deepest expression. Jumps are emitted with a placeholder and patched
** once the target is known (patch_here).
**
** The checker has done all the thinking about names and types: the
** compiler reads Node.sym/symk and Node.type, and never reports a user
** mistake except limits of the VM (registers, constants, jump distances).
** Static types choose the instructions: int arithmetic gets ADDI and the
** like, everything else the generic ADD, which knows decimals, money,
** dates and durations. A numeric literal next to money or a decimal is
** turned into that type here, as the checker's rule says.
*/
#include "compile/compile.h"

#include <stdlib.h>
#include <string.h>

#include "util/tz.h"
#include "util/vec.h"

_Static_assert((int)STAGE_SUCCESS == (int)SK_SUCCESS && (int)STAGE_FAILURE == (int)SK_FAILURE, "stage kinds agree");
_Static_assert((int)ENT_DEAL == (int)E_DEAL && (int)ENT_LEAD == (int)E_LEAD && (int)ENT__COUNT == (int)E__COUNT, "entity kinds agree");

typedef struct Compiler {
  Program *p;
  Model *m;
  Chunk *ch;
  Diag *d;
  bool failed;
  uint32_t first_field[E__COUNT];
  VEC(Value) consts;
  VEC(Func) funcs;
  VEC(const EnumDef *) enums;
  uint32_t *user_func;      /* FuncDef index -> Func index (FK_USER only) */
  const char *zone;         /* for date-times written without an offset */
} Compiler;

typedef struct LocalReg {
  const Node *decl;
  int reg;
} LocalReg;

typedef struct FS {
  Compiler *C;
  VEC(Instr) code;
  VEC(uint32_t) lines;
  int free, maxreg;
  LocalReg locals[MAX_REGS];
  int nlocals;
  uint32_t line;
  uint32_t file;
  const char *name;
  Entity *self;             /* the current record's entity, or NULL */
  bool failed;
} FS;

/* ---- limits and errors ---------------------------------------------------------- */

static void limit_error(FS *fs, Span at, const char *what) {
  if (!fs->failed)
    diag_error(fs->C->d, at, D_TOO_DEEP, "%s is too large for the VM: %s", fs->name, what);
  fs->failed = true;
  fs->C->failed = true;
}

/* ---- emitting ---------------------------------------------------------------- */

static void at(FS *fs, const Node *n) {
  if (!n) return;
  const SrcFile *f = srcset_get(&fs->C->p->srcs, n->span.file);
  if (!f) return;
  size_t line, col;
  src_line_col(f, n->span.start, &line, &col);
  fs->line = (uint32_t)line;
  fs->file = n->span.file;
}

static int emit(FS *fs, Instr i) {
  vec_push(&fs->code, i);
  vec_push(&fs->lines, fs->line);
  return (int)fs->code.len - 1;
}

static int here(FS *fs) { return (int)fs->code.len; }

/* Points the jump at `pc` to the next instruction to be emitted. */
static void patch_to(FS *fs, int pc, int target) {
  Instr i = fs->code.items[pc];
  OpCode op = GET_OP(i);
  int off = target - (pc + 1);
  if (op == OP_JMP) {
    fs->code.items[pc] = MK_sJ(OP_JMP, off);
  } else {
    if (off > MAX_sBx || off < -MAX_sBx) {
      Span none = {fs->file, 0, 0};
      limit_error(fs, none, "a jump is too long (split the handler into functions)");
      return;
    }
    fs->code.items[pc] = MK_AsBx(op, GET_A(i), off);
  }
}

static void patch_here(FS *fs, int pc) { patch_to(fs, pc, here(fs)); }

static int jump(FS *fs) { return emit(fs, MK_sJ(OP_JMP, 0)); }

static int cjump(FS *fs, OpCode op, int reg) { return emit(fs, MK_AsBx(op, reg, 0)); }

static void jump_back(FS *fs, int target) { emit(fs, MK_sJ(OP_JMP, target - (here(fs) + 1))); }

/* ---- registers ----------------------------------------------------------------- */

static int alloc(FS *fs, int n, const Node *where) {
  int r = fs->free;
  if (r + n > MAX_REGS) {
    limit_error(fs, where ? where->span : (Span){0, 0, 0}, "it needs more than 250 registers");
    return 0;
  }
  fs->free += n;
  if (fs->free > fs->maxreg) fs->maxreg = fs->free;
  return r;
}

static void bind(FS *fs, const Node *decl, int reg) {
  if (fs->nlocals < MAX_REGS) fs->locals[fs->nlocals++] = (LocalReg){decl, reg};
}

static int local_reg(FS *fs, const Node *decl) {
  for (int i = fs->nlocals; i-- > 0;)
    if (fs->locals[i].decl == decl) return fs->locals[i].reg;
  return -1;
}

/* ---- constants --------------------------------------------------------------- */

static int add_const(FS *fs, Value v, const Node *where) {
  Compiler *C = fs->C;
  for (size_t i = 0; i < C->consts.len; i++) {
    Value *k = &C->consts.items[i];
    if (k->type != v.type || k->aux != v.aux || k->aux32 != v.aux32 || k->flags != v.flags) continue;
    if (v.type == V_TEXT || v.type == V_USER) {
      if (k->u.t->len == v.u.t->len && !memcmp(k->u.t->s, v.u.t->s, v.u.t->len)) return (int)i;
    } else if (v.type != V_LIST && k->u.i == v.u.i) {
      return (int)i;
    }
  }
  if (C->consts.len > MAX_Bx) {
    limit_error(fs, where ? where->span : (Span){0, 0, 0}, "the pack has more than 65536 constants");
    return 0;
  }
  vec_push(&C->consts, v);
  return (int)C->consts.len - 1;
}

static Value text_value(Compiler *C, const char *s) {
  return v_text(text_new(&C->ch->arena, s, strlen(s)));
}

static void load_const(FS *fs, int r, Value v, const Node *where) {
  if (v.type == V_INT && v.u.i >= -MAX_sBx && v.u.i <= MAX_sBx) {
    emit(fs, MK_AsBx(OP_LOADI, r, (int)v.u.i));
    return;
  }
  if (v.type == V_NULL) {
    emit(fs, MK_ABC(OP_LOADNULL, r, 0, 0));
    return;
  }
  emit(fs, MK_ABx(OP_LOADK, r, add_const(fs, v, where)));
}

static void load_text(FS *fs, int r, const char *s, const Node *where) {
  load_const(fs, r, text_value(fs->C, s), where);
}

/* ---- ids ----------------------------------------------------------------------- */

static uint32_t field_id(Compiler *C, const Field *f) {
  return C->first_field[f->owner->kind] + (uint32_t)f->index;
}

static uint16_t enum_id(Compiler *C, const EnumDef *e) {
  for (size_t i = 0; i < C->enums.len; i++)
    if (C->enums.items[i] == e) return (uint16_t)i;
  vec_push(&C->enums, e);
  return (uint16_t)(C->enums.len - 1);
}

static uint8_t vtype_of(TypeKind k) {
  switch (k) {
  case T_TEXT: case T_FILE: case T_ADDRESS: case T_PHONE: case T_EMAIL: return V_TEXT;
  case T_INT: return V_INT;
  case T_DECIMAL: return V_DEC;
  case T_MONEY: return V_MONEY;
  case T_BOOL: return V_BOOL;
  case T_DATE: return V_DATE;
  case T_DATETIME: return V_DATETIME;
  case T_DURATION: return V_DURATION;
  case T_USER: return V_USER;
  case T_ROLE: return V_ROLE;
  case T_STAGE: return V_STAGE;
  case T_DIRECTION: return V_DIR;
  case T_ENUM: return V_ENUM;
  case T_LIST: return V_LIST;
  case T_RECORD: return V_REC;
  case T_EVENT: case T_EFFECT: return V_OBJ;
  default: return V_NULL;
  }
}

static TypeDesc type_desc(Compiler *C, const Type *t) {
  TypeDesc d = {vtype_of(t->kind), 0, 0};
  if (t->kind == T_ENUM) d.ref = enum_id(C, t->enm);
  if (t->kind == T_RECORD) d.ref = (uint16_t)t->entity->kind;
  if (t->kind == T_LIST) {
    d.elem = vtype_of(t->elem->kind);
    if (t->elem->kind == T_ENUM) d.ref = enum_id(C, t->elem->enm);
    if (t->elem->kind == T_RECORD) d.ref = (uint16_t)t->elem->entity->kind;
  }
  return d;
}

/* ---- literals -------------------------------------------------------------------- */

/* "1500.5" -> 1500500000 at scale 10^places; false on overflow. */
static bool parse_fixed(const char *s, int places, int64_t *out) {
  bool neg = *s == '-';
  if (neg) s++;
  __int128 v = 0;
  int frac = -1;
  for (; *s; s++) {
    if (*s == '.') {
      frac = 0;
      continue;
    }
    if (frac >= 0 && frac == places) continue; /* the lexer bounds the digits */
    v = v * 10 + (*s - '0');
    if (frac >= 0) frac++;
    if (v > INT64_MAX) return false;
  }
  for (int k = frac < 0 ? 0 : frac; k < places; k++) {
    v *= 10;
    if (v > INT64_MAX) return false;
  }
  *out = (int64_t)(neg ? -v : v);
  return true;
}

static Value duration_value(const Node *e) {
  Value v = {0};
  v.type = V_DURATION;
  int64_t n = e->ival;
  switch ((DurUnit)e->op) {
  case DU_MINUTE: v.u.i = n * 60; break;
  case DU_HOUR: v.u.i = n * 3600; break;
  case DU_DAY: v.aux32 = (int32_t)n; break;
  case DU_WEEK: v.aux32 = (int32_t)(n * 7); break;
  case DU_MONTH: v.aux = (uint16_t)(int16_t)n; break;
  case DU_YEAR: v.aux = (uint16_t)(int16_t)(n * 12); break;
  case DU_WORKDAY: v.flags = VF_WORK; v.aux32 = (int32_t)n; break;
  case DU_WORKHOUR: v.flags = VF_WORK; v.u.i = n * 60; break;
  }
  return v;
}

/* "2026-01-12 10:00", "2026-01-12T10:00:30+03:00": the UTC moment. A
** time without an offset is in the pack's default calendar's zone. */
static bool datetime_value(Compiler *C, const char *s, int64_t days, Value *out) {
  int h = 0, mi = 0, sec = 0;
  sscanf(s + 11, "%2d:%2d:%2d", &h, &mi, &sec);
  int64_t local = days * 86400 + h * 3600 + mi * 60 + sec;
  const char *z = s + 16;
  if (*z == ':') z += 3;
  int64_t utc;
  if (*z == 'Z') {
    utc = local;
  } else if (*z == '+' || *z == '-') {
    int zh = 0, zm = 0;
    sscanf(z + 1, "%2d:%2d", &zh, &zm);
    int64_t off = (zh * 3600 + zm * 60) * (*z == '-' ? -1 : 1);
    utc = local - off;
  } else if (!tz_local_to_utc(C->zone, local, &utc)) {
    utc = local;
  }
  *out = v_datetime(utc);
  return true;
}

/* The constant a literal node stands for, or false if e is no literal. */
static bool literal_value(FS *fs, const Node *e, Value *out) {
  switch (e->kind) {
  case N_INT: *out = v_int(e->ival); return true;
  case N_DECIMAL: {
    int64_t x;
    if (!parse_fixed(e->text, 6, &x)) {
      limit_error(fs, e->span, "a decimal literal is out of range");
      x = 0;
    }
    *out = v_dec(x);
    return true;
  }
  case N_MONEY: {
    int64_t x;
    if (!parse_fixed(e->text, 2, &x)) {
      limit_error(fs, e->span, "a money literal is out of range");
      x = 0;
    }
    uint16_t cur = currency_index(e->name);
    *out = v_money(x, cur == UINT16_MAX ? 0 : cur);
    return true;
  }
  case N_BOOL: *out = v_bool(e->ival != 0); return true;
  case N_NUL: *out = v_null(); return true;
  case N_DATE: *out = v_date(e->ival); return true;
  case N_DATETIME: return datetime_value(fs->C, e->text, e->ival, out);
  case N_DURATION: *out = duration_value(e); return true;
  case N_STRING:
    if (e->list) return false;
    *out = text_value(fs->C, e->text ? e->text : "");
    return true;
  default: return false;
  }
}

/* ---- expressions ------------------------------------------------------------------- */

static void expr_to(FS *fs, Node *e, int r);
static void block(FS *fs, Node *b);

/* A register holding e: a local's own register, or a new temporary. */
static int expr_reg(FS *fs, Node *e) {
  if (e->kind == N_NAME && e->symk == SYM_LOCAL) {
    int r = local_reg(fs, e->sym);
    if (r >= 0) return r;
  }
  int r = alloc(fs, 1, e);
  expr_to(fs, e, r);
  return r;
}

static bool is_int(const Node *e) { return e->type && e->type->kind == T_INT; }

/* Evaluates an operand. A numeric literal next to money stays a number:
** the VM's generic operations read a number next to money as an amount in
** that money's currency, which is the checker's literal rule. */
static int operand(FS *fs, Node *e, const Node *other) {
  (void)other;
  return expr_reg(fs, e);
}

static void compare(FS *fs, Node *e, int r) {
  Node *l = e->a, *rr = e->b;
  bool ints = is_int(l) && is_int(rr);
  int a = operand(fs, l, rr), b = operand(fs, rr, l);
  switch (e->op) {
  case AOP_EQ: emit(fs, MK_ABC(OP_EQ, r, a, b)); break;
  case AOP_NE: emit(fs, MK_ABC(OP_NE, r, a, b)); break;
  case AOP_LT: emit(fs, MK_ABC(ints ? OP_LTI : OP_LT, r, a, b)); break;
  case AOP_LE: emit(fs, MK_ABC(ints ? OP_LEI : OP_LE, r, a, b)); break;
  case AOP_GT: emit(fs, MK_ABC(ints ? OP_LTI : OP_LT, r, b, a)); break;
  case AOP_GE: emit(fs, MK_ABC(ints ? OP_LEI : OP_LE, r, b, a)); break;
  default: break;
  }
}

static void binary(FS *fs, Node *e, int r) {
  int save = fs->free;
  switch (e->op) {
  case AOP_AND:
  case AOP_OR: {
    /* the result is a bool even when a side is empty (empty is not true) */
    bool and_ = e->op == AOP_AND;
    OpCode out = and_ ? OP_JMPIFNOT : OP_JMPIF;
    expr_to(fs, e->a, r);
    int j1 = cjump(fs, out, r);
    expr_to(fs, e->b, r);
    int j2 = cjump(fs, out, r);
    emit(fs, MK_ABC(OP_LOADBOOL, r, and_, 0));
    int end = jump(fs);
    patch_here(fs, j1);
    patch_here(fs, j2);
    emit(fs, MK_ABC(OP_LOADBOOL, r, !and_, 0));
    patch_here(fs, end);
    break;
  }
  case AOP_COALESCE: {
    expr_to(fs, e->a, r);
    int j = cjump(fs, OP_JMPNOTNULL, r);
    expr_to(fs, e->b, r);
    patch_here(fs, j);
    break;
  }
  case AOP_IN: {
    int x = expr_reg(fs, e->a);
    int t = alloc(fs, 1, e);
    VEC(int) exits = {0};
    for (Node *el = e->b->list; el; el = el->next) {
      expr_to(fs, el, t);
      emit(fs, MK_ABC(OP_EQ, r, x, t));
      vec_push(&exits, cjump(fs, OP_JMPIF, r));
    }
    if (!e->b->list) emit(fs, MK_ABC(OP_LOADBOOL, r, 0, 0));
    for (size_t i = 0; i < exits.len; i++) patch_here(fs, exits.items[i]);
    vec_free(&exits);
    break;
  }
  case AOP_EQ: case AOP_NE: case AOP_LT: case AOP_LE: case AOP_GT: case AOP_GE:
    compare(fs, e, r);
    break;
  default: {
    bool ints = is_int(e->a) && is_int(e->b);
    bool scale = e->op == AOP_MUL || e->op == AOP_DIV; /* money * 2: the 2 stays a number */
    int a = scale ? expr_reg(fs, e->a) : operand(fs, e->a, e->b);
    int b = scale ? expr_reg(fs, e->b) : operand(fs, e->b, e->a);
    OpCode op = OP_ADD;
    switch (e->op) {
    case AOP_ADD: op = ints ? OP_ADDI : OP_ADD; break;
    case AOP_SUB: op = ints ? OP_SUBI : OP_SUB; break;
    case AOP_MUL: op = ints ? OP_MULI : OP_MUL; break;
    case AOP_DIV: op = OP_DIV; break;
    case AOP_MOD: op = OP_MODI; break;
    default: break;
    }
    emit(fs, MK_ABC(op, r, a, b));
  }
  }
  fs->free = save;
}

/* Evaluates a list of expressions into n consecutive new registers. */
static int args(FS *fs, Node *list, int n, const Node *where) {
  int base = alloc(fs, n, where);
  int i = 0;
  for (Node *a = list; a; a = a->next) expr_to(fs, a, base + i++);
  return base;
}

/* An object from `name = expr` inits: R[r] = {...}. */
static void object(FS *fs, Node *inits, int r, const Node *where) {
  int n = (int)ast_list_len(inits);
  int save = fs->free;
  int base = alloc(fs, 1 + n, where);
  List *keys = list_new(&fs->C->ch->arena, (uint32_t)n);
  int i = 0;
  for (Node *it = inits; it; it = it->next, i++) {
    list_push(&fs->C->ch->arena, keys, text_value(fs->C, it->name));
    expr_to(fs, it->a, base + 1 + i);
  }
  emit(fs, MK_ABx(OP_NEWOBJ, base, add_const(fs, v_list(keys), where)));
  emit(fs, MK_ABC(OP_MOVE, r, base, 0));
  fs->free = save;
}

/* R[r] = a new record; its fields go with the creation (an object in
** R[base+1]), so that its handlers see them when it enters its stage. */
static void create(FS *fs, Node *e, int r) {
  Compiler *C = fs->C;
  Entity *ent = model_entity(C->m, e->name);
  int save = fs->free;
  int base = alloc(fs, 2, e);
  object(fs, e->list, base + 1, e);
  at(fs, e);
  if (e->sym) emit(fs, MK_ABx(OP_CREATEIN, base, ((Stage *)e->sym)->id));
  else emit(fs, MK_ABx(OP_CREATE, base, ent ? ent->kind : 0));
  if (r != base) emit(fs, MK_ABC(OP_MOVE, r, base, 0));
  fs->free = save;
}

static void ask(FS *fs, Node *e, int r) {
  int save = fs->free;
  int base = alloc(fs, 4, e);
  load_text(fs, base + 3, e->text ? e->text : "answer", e);  /* the variable it answers */
  int q = alloc(fs, 1, e);
  expr_to(fs, e->a, base);
  expr_to(fs, e->b, q);
  if (e->d) expr_to(fs, e->d, base + 1);
  else emit(fs, MK_ABC(OP_LOADNULL, base + 1, 0, 0));
  if (e->list) expr_to(fs, e->list, base + 2);
  else emit(fs, MK_ABC(OP_LOADNULL, base + 2, 0, 0));
  Type *t = e->type;
  int code = t && t->kind == T_ENUM ? 1 + enum_id(fs->C, t->enm) : 0;
  if (code > 255) limit_error(fs, e->span, "too many enums to ask about");
  emit(fs, MK_ABC(OP_ASK, base, q, code));
  if (r != base) emit(fs, MK_ABC(OP_MOVE, r, base, 0));
  fs->free = save;
}

static void comprehension(FS *fs, Node *e, int r) {
  int save = fs->free;
  int it = alloc(fs, 3, e);
  int out = alloc(fs, 1, e);
  emit(fs, MK_ABC(OP_NEWLIST, out, 0, 0));
  expr_to(fs, e->b, it);
  emit(fs, MK_AsBx(OP_LOADI, it + 1, 0));
  int nl = fs->nlocals;
  bind(fs, e, it + 2);
  int top = here(fs);
  int exit = cjump(fs, OP_FORLIST, it);
  int skip = -1;
  int inner = fs->free;
  if (e->c) {
    int c = expr_reg(fs, e->c);
    skip = cjump(fs, OP_JMPIFNOT, c);
  }
  int v = expr_reg(fs, e->a);
  emit(fs, MK_ABC(OP_APPEND, out, v, 0));
  fs->free = inner;
  if (skip >= 0) patch_here(fs, skip);
  jump_back(fs, top);
  patch_here(fs, exit);
  fs->nlocals = nl;
  emit(fs, MK_ABC(OP_MOVE, r, out, 0));
  fs->free = save;
}

static void name(FS *fs, Node *e, int r) {
  Compiler *C = fs->C;
  switch (e->symk) {
  case SYM_LOCAL: {
    int l = local_reg(fs, e->sym);
    if (l >= 0 && l != r) emit(fs, MK_ABC(OP_MOVE, r, l, 0));
    break;
  }
  case SYM_FIELD: {
    Field *f = e->sym;
    if (f->backref_of) {
      emit(fs, MK_ABC(OP_LOADSELF, r, 0, 0));
      emit(fs, MK_ABx(OP_BACKREF, r, field_id(C, f->backref_of)));
    } else {
      emit(fs, MK_ABx(OP_GETSELF, r, field_id(C, f)));
    }
    break;
  }
  case SYM_SELF: emit(fs, MK_ABC(OP_LOADSELF, r, 0, 0)); break;
  case SYM_USER: {
    Value v = text_value(C, ((UserDef *)e->sym)->name);
    v.type = V_USER;
    load_const(fs, r, v, e);
    break;
  }
  case SYM_ENUMVAL: {
    const EnumValue *ev = e->sym;
    const EnumDef *en = e->type && e->type->kind == T_ENUM ? e->type->enm : NULL;
    Value v = v_tagged(V_ENUM, 0);
    if (en) {
      v.aux = enum_id(C, en);
      v.u.i = ev - en->values;
    }
    load_const(fs, r, v, e);
    break;
  }
  case SYM_STAGE: load_const(fs, r, v_tagged(V_STAGE, ((Stage *)e->sym)->id), e); break;
  case SYM_DIRECTION: load_const(fs, r, v_tagged(V_DIR, ((Direction *)e->sym)->index), e); break;
  case SYM_ROLE: load_const(fs, r, v_tagged(V_ROLE, ((Role *)e->sym)->index), e); break;
  default: emit(fs, MK_ABC(OP_LOADNULL, r, 0, 0)); break;
  }
}

static int user_member(const char *m) {
  if (!strcmp(m, "supervisor")) return 1;
  if (!strcmp(m, "email")) return 2;
  if (!strcmp(m, "phone")) return 3;
  return 0; /* name, title */
}

static void member(FS *fs, Node *e, int r) {
  Compiler *C = fs->C;
  if (e->symk == SYM_STAGE) {
    load_const(fs, r, v_tagged(V_STAGE, ((Stage *)e->sym)->id), e);
    return;
  }
  expr_to(fs, e->a, r);
  Type *ot = e->a->type;
  if (e->symk == SYM_FIELD) {
    Field *f = e->sym;
    if (f->backref_of) emit(fs, MK_ABx(OP_BACKREF, r, field_id(C, f->backref_of)));
    else emit(fs, MK_ABx(OP_GETFIELD, r, field_id(C, f)));
    return;
  }
  if (!ot) return;
  switch (ot->kind) {
  case T_USER: emit(fs, MK_ABC(OP_GETUSER, r, user_member(e->name), 0)); break;
  case T_EVENT:
  case T_EFFECT: emit(fs, MK_ABx(OP_GETOBJ, r, add_const(fs, text_value(C, e->name), e))); break;
  case T_STAGE:
  case T_DIRECTION:
  case T_ENUM: emit(fs, MK_ABC(OP_TITLE, r, r, !strcmp(e->name, "name"))); break;
  default: break;
  }
}

static int builtin_index(const char *name) {
  static const char *const names[] = {
#define BUILTIN(id, name, nargs, test) name,
#include "bytecode/builtins.def"
#undef BUILTIN
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(names[i], name)) return (int)i;
  return -1;
}

static void call(FS *fs, Node *e, int r) {
  int save = fs->free;
  int n = (int)ast_list_len(e->list);
  int b = builtin_index(e->name);
  if (b >= 0) {
    int base = args(fs, e->list, n > 0 ? n : 1, e);
    emit(fs, MK_ABC(OP_CALLB, base, b, n));
    /* total() of an empty list is a plain 0; of money, make it money (a
    ** zero takes the currency of whatever it meets) */
    if (!strcmp(e->name, "total") && e->type && e->type->kind == T_MONEY) {
      int z = alloc(fs, 1, e);
      load_const(fs, z, v_money(0, 0), e);
      emit(fs, MK_ABC(OP_ADD, base, base, z));
    }
    if (r != base) emit(fs, MK_ABC(OP_MOVE, r, base, 0));
  } else if (e->symk == SYM_FUNC && ((FuncDef *)e->sym)->kind == FK_USER) {
    FuncDef *f = e->sym;
    int base = args(fs, e->list, n > 0 ? n : 1, e);
    emit(fs, MK_ABx(OP_CALL, base, fs->C->user_func[f->index]));
    if (r != base) emit(fs, MK_ABC(OP_MOVE, r, base, 0));
  } else if (e->symk == SYM_FUNC && ((FuncDef *)e->sym)->kind == FK_EXTERN) {
    /* natives (issue 5): CALLN through libffi, see natives_table() */
    FuncDef *f = e->sym;
    int base = args(fs, e->list, n > 0 ? n : 1, e);
    emit(fs, MK_ABx(OP_CALLN, base, fs->C->user_func[f->index]));
    if (r != base) emit(fs, MK_ABC(OP_MOVE, r, base, 0));
  }
  fs->free = save;
}

static void expr_to(FS *fs, Node *e, int r) {
  if (!e || fs->failed) return;
  at(fs, e);
  Value k;
  if (literal_value(fs, e, &k)) {
    load_const(fs, r, k, e);
    return;
  }
  int save = fs->free;
  switch (e->kind) {
  case N_STRING: {
    int n = (int)ast_list_len(e->list);
    int base = alloc(fs, n, e);
    int i = 0;
    for (Node *p = e->list; p; p = p->next, i++) {
      if (p->kind == N_STR_PART) load_text(fs, base + i, p->text, p);
      else expr_to(fs, p, base + i);
    }
    emit(fs, MK_ABC(OP_CONCAT, r, base, n));
    break;
  }
  case N_NAME: name(fs, e, r); break;
  case N_MEMBER: member(fs, e, r); break;
  case N_CALL: call(fs, e, r); break;
  case N_UNARY: {
    int a = expr_reg(fs, e->a);
    emit(fs, MK_ABC(e->op == AOP_NOT ? OP_NOT : OP_NEG, r, a, 0));
    break;
  }
  case N_BINARY: binary(fs, e, r); break;
  case N_LIST: {
    int n = (int)ast_list_len(e->list);
    if (n <= 64) {
      int base = args(fs, e->list, n ? n : 1, e);
      emit(fs, MK_ABC(OP_NEWLIST, r, base, n));
    } else {
      emit(fs, MK_ABC(OP_NEWLIST, r, 0, 0));
      int t = alloc(fs, 1, e);
      for (Node *x = e->list; x; x = x->next) {
        expr_to(fs, x, t);
        emit(fs, MK_ABC(OP_APPEND, r, t, 0));
      }
    }
    break;
  }
  case N_COMPREHEND: comprehension(fs, e, r); break;
  case N_CREATE: create(fs, e, r); break;
  case N_ASK: ask(fs, e, r); break;
  case N_SUPERVISOR: {
    /* the supervisor of the current record's owner */
    Field *owner = fs->self ? entity_field(fs->self, "owner") : NULL;
    if (!owner) {
      emit(fs, MK_ABC(OP_LOADNULL, r, 0, 0));
      break;
    }
    emit(fs, MK_ABx(OP_GETSELF, r, field_id(fs->C, owner)));
    emit(fs, MK_ABC(OP_GETUSER, r, 1, 0));
    break;
  }
  case N_EVENT_DATA: emit(fs, MK_ABC(OP_LOADEVENT, r, 0, 0)); break;
  case N_ROLE_TARGET:
    load_const(fs, r, v_tagged(V_ROLE, e->sym ? ((Role *)e->sym)->index : 0), e);
    break;
  default: emit(fs, MK_ABC(OP_LOADNULL, r, 0, 0)); break;
  }
  fs->free = save;
}

/* ---- statements ---------------------------------------------------------------------- */

static void stmt(FS *fs, Node *s);

static void block(FS *fs, Node *b) {
  if (!b) return;
  int save = fs->free, nl = fs->nlocals;
  for (Node *s = b->list; s && !fs->failed; s = s->next) stmt(fs, s);
  fs->free = save;
  fs->nlocals = nl;
}

static void set_stmt(FS *fs, Node *s) {
  Compiler *C = fs->C;
  Node *t = s->a;
  if (t->kind == N_NAME && t->symk == SYM_LOCAL) {
    int l = local_reg(fs, t->sym);
    if (l >= 0) expr_to(fs, s->b, l);
    return;
  }
  if (t->symk != SYM_FIELD || !t->sym) return;
  int base = alloc(fs, 2, s);
  if (t->kind == N_NAME) emit(fs, MK_ABC(OP_LOADSELF, base, 0, 0));
  else expr_to(fs, t->a, base);
  expr_to(fs, s->b, base + 1);
  at(fs, s);
  emit(fs, MK_ABx(OP_SETFIELD, base, field_id(C, t->sym)));
}

static void if_stmt(FS *fs, Node *s) {
  int c = expr_reg(fs, s->a);
  int j = cjump(fs, OP_JMPIFNOT, c);
  block(fs, s->b);
  if (s->c) {
    int end = jump(fs);
    patch_here(fs, j);
    if (s->c->kind == N_IF) if_stmt(fs, s->c);
    else block(fs, s->c);
    patch_here(fs, end);
  } else {
    patch_here(fs, j);
  }
}

static void for_stmt(FS *fs, Node *s) {
  int nl = fs->nlocals;
  int it = alloc(fs, 3, s);
  expr_to(fs, s->a, it);
  emit(fs, MK_AsBx(OP_LOADI, it + 1, 0));
  bind(fs, s, it + 2);
  int top = here(fs);
  int exit = cjump(fs, OP_FORLIST, it);
  block(fs, s->b);
  jump_back(fs, top);
  patch_here(fs, exit);
  fs->nlocals = nl;
}

static void self_or(FS *fs, Node *rec, int r) {
  if (rec) expr_to(fs, rec, r);
  else emit(fs, MK_ABC(OP_LOADSELF, r, 0, 0));
}

static void expect_stmt(FS *fs, Node *s) {
  Node *c = s->a;
  bool cmp = c->kind == N_BINARY && c->op >= AOP_EQ && c->op <= AOP_GE;
  int base = alloc(fs, 3, s);
  if (cmp) {
    /* keep both sides, so that a failure can show them */
    bool ints = is_int(c->a) && is_int(c->b);
    expr_to(fs, c->a, base + 1);
    expr_to(fs, c->b, base + 2);
    int a = base + 1, b = base + 2;
    switch (c->op) {
    case AOP_EQ: emit(fs, MK_ABC(OP_EQ, base, a, b)); break;
    case AOP_NE: emit(fs, MK_ABC(OP_NE, base, a, b)); break;
    case AOP_LT: emit(fs, MK_ABC(ints ? OP_LTI : OP_LT, base, a, b)); break;
    case AOP_LE: emit(fs, MK_ABC(ints ? OP_LEI : OP_LE, base, a, b)); break;
    case AOP_GT: emit(fs, MK_ABC(ints ? OP_LTI : OP_LT, base, b, a)); break;
    case AOP_GE: emit(fs, MK_ABC(ints ? OP_LEI : OP_LE, base, b, a)); break;
    default: break;
    }
  } else {
    expr_to(fs, c, base);
  }
  at(fs, s);
  emit(fs, MK_ABC(OP_TEXPECT, base, cmp, 0));
}

static void stmt(FS *fs, Node *s) {
  Compiler *C = fs->C;
  int save = fs->free;
  at(fs, s);
  switch (s->kind) {
  case N_LET: {
    int r = alloc(fs, 1, s);
    if (s->a->kind == N_ASK) s->a->text = s->name; /* `answer d NAME = ...` finds it by name */
    expr_to(fs, s->a, r);
    bind(fs, s, r);
    save = fs->free; /* the local stays */
    break;
  }
  case N_SET: set_stmt(fs, s); break;
  case N_IF: if_stmt(fs, s); break;
  case N_FOR: for_stmt(fs, s); break;
  case N_RETURN:
    if (s->a) emit(fs, MK_ABC(OP_RET, expr_reg(fs, s->a), 0, 0));
    else emit(fs, MK_ABC(OP_RET0, 0, 0, 0));
    break;
  case N_EXPR_STMT: expr_to(fs, s->a, alloc(fs, 1, s)); break;
  case N_MOVE: {
    int r = alloc(fs, 1, s);
    self_or(fs, s->a, r);
    at(fs, s);
    if (s->sym) emit(fs, MK_ABx(OP_MOVETO, r, ((Stage *)s->sym)->id));
    break;
  }
  case N_DELETE: {
    int r = alloc(fs, 1, s);
    emit(fs, MK_ABC(OP_LOADSELF, r, 0, 0));
    emit(fs, MK_ABC(OP_DELETE, r, 0, 0));
    break;
  }
  case N_NOTIFY: {
    int b = alloc(fs, 2, s);
    expr_to(fs, s->a, b);
    expr_to(fs, s->b, b + 1);
    at(fs, s);
    emit(fs, MK_ABC(OP_NOTIFY, b, b + 1, 0));
    break;
  }
  case N_TASK: {
    int b = alloc(fs, 4, s);
    expr_to(fs, s->a, b);
    expr_to(fs, s->b, b + 1);
    if (s->c) expr_to(fs, s->c, b + 2);
    else emit(fs, MK_ABC(OP_LOADNULL, b + 2, 0, 0));
    if (s->d && s->d->sym) load_const(fs, b + 3, v_int(((Calendar *)s->d->sym)->index), s);
    else emit(fs, MK_ABC(OP_LOADNULL, b + 3, 0, 0));
    at(fs, s);
    emit(fs, MK_ABC(OP_TASK, b, b + 1, b + 2));
    break;
  }
  case N_MESSAGE: {
    int b = alloc(fs, 3, s);
    load_text(fs, b, s->name, s);
    if (s->a) expr_to(fs, s->a, b + 1);
    else emit(fs, MK_ABC(OP_LOADNULL, b + 1, 0, 0));
    expr_to(fs, s->b, b + 2);
    at(fs, s);
    emit(fs, MK_ABC(OP_MESSAGE, b, b + 1, b + 2));
    break;
  }
  case N_DOCUMENT: {
    int b = alloc(fs, 3, s);
    load_text(fs, b, s->name, s);
    expr_to(fs, s->b, b + 1);
    object(fs, s->list, b + 2, s);
    at(fs, s);
    emit(fs, MK_ABC(OP_DOCUMENT, b, b + 1, b + 2));
    break;
  }
  case N_WEBHOOK: {
    int b = alloc(fs, 2, s);
    expr_to(fs, s->b, b);
    object(fs, s->list, b + 1, s);
    at(fs, s);
    emit(fs, MK_ABC(OP_WEBHOOK, b, b + 1, 0));
    break;
  }
  case N_CONVERT: {
    int b = alloc(fs, 2, s);
    emit(fs, MK_ABC(OP_LOADSELF, b, 0, 0));
    int flags = (s->flags & F_WITH_CONTACT ? CONV_CONTACT : 0) | (s->flags & F_WITH_COMPANY ? CONV_COMPANY : 0);
    emit(fs, MK_AsBx(OP_LOADI, b + 1, flags));
    if (s->sym) emit(fs, MK_ABx(OP_CONVERT, b, ((Stage *)s->sym)->id));
    break;
  }
  case N_USER: {
    int b = alloc(fs, 2, s);
    int nroles = (int)ast_list_len(s->list);
    int rb = alloc(fs, nroles ? nroles : 1, s);
    int i = 0;
    for (Node *r = s->list; r; r = r->next, i++)
      load_const(fs, rb + i, v_tagged(V_ROLE, r->sym ? ((Role *)r->sym)->index : 0), r);
    emit(fs, MK_ABC(OP_NEWLIST, b, rb, nroles));
    if (s->a) {
      Value sup = text_value(C, s->a->name);
      sup.type = V_USER;
      load_const(fs, b + 1, sup, s->a);
    } else {
      emit(fs, MK_ABC(OP_LOADNULL, b + 1, 0, 0));
    }
    emit(fs, MK_ABx(OP_TUSER, b, add_const(fs, text_value(C, s->name), s)));
    fs->free = save;
    int r = alloc(fs, 1, s);
    Value u = text_value(C, s->name);
    u.type = V_USER;
    load_const(fs, r, u, s);
    bind(fs, s, r);
    save = fs->free;
    break;
  }
  case N_CLOCK: {
    int r = alloc(fs, 1, s);
    expr_to(fs, s->a, r);
    emit(fs, MK_ABC(OP_TCLOCK, r, 0, 0));
    break;
  }
  case N_ADVANCE: {
    int r = alloc(fs, 1, s);
    expr_to(fs, s->a, r);
    emit(fs, MK_ABC(OP_TADVANCE, r, (s->flags & F_TO) != 0, 0));
    break;
  }
  case N_EMIT: {
    int b = alloc(fs, 2, s);
    if (s->b) expr_to(fs, s->b, b);
    else emit(fs, MK_ABC(OP_LOADNULL, b, 0, 0));
    object(fs, s->list, b + 1, s);
    at(fs, s);
    if (s->a->sym) emit(fs, MK_ABx(OP_TEMIT, b, ((EventDef *)s->a->sym)->index));
    break;
  }
  case N_EXPECT: expect_stmt(fs, s); break;
  case N_REFUSED: {
    int r = alloc(fs, 1, s);
    if (s->c) expr_to(fs, s->c, r);
    else emit(fs, MK_ABC(OP_LOADNULL, r, 0, 0));
    int j = cjump(fs, OP_TREFUSE, r);
    block(fs, s->b);
    at(fs, s);
    emit(fs, MK_ABC(OP_TREFUSED, 0, 0, 0));
    patch_here(fs, j);
    break;
  }
  case N_ANSWER: {
    int b = alloc(fs, 2, s);
    expr_to(fs, s->a, b);
    expr_to(fs, s->b, b + 1);
    emit(fs, MK_ABx(OP_TANSWER, b, add_const(fs, text_value(C, s->name), s)));
    break;
  }
  default: break;
  }
  fs->free = save;
}

/* ---- functions ------------------------------------------------------------------------- */

typedef enum BodyKind { BODY_BLOCK, BODY_EXPR } BodyKind;

/* Compiles one body into a new Func; returns its index, or -1. */
static int32_t function(Compiler *C, FnKind kind, const char *fname, Entity *self, EventDef *ev,
                        Node *params, Node *body, BodyKind bk) {
  FS fs = {0};
  fs.C = C;
  fs.name = fname;
  fs.self = self;
  for (Node *p = params; p; p = p->next) bind(&fs, p, alloc(&fs, 1, p));
  at(&fs, body);
  if (bk == BODY_EXPR) {
    int r = expr_reg(&fs, body);
    emit(&fs, MK_ABC(OP_RET, r, 0, 0));
  } else {
    block(&fs, body);
    emit(&fs, MK_ABC(OP_RET0, 0, 0, 0));
  }
  if (fs.failed) {
    vec_free(&fs.code);
    vec_free(&fs.lines);
    return -1;
  }
  Func f = {0};
  f.name = arena_strdup(&C->ch->arena, fname);
  f.kind = (uint8_t)kind;
  f.nparams = (uint8_t)ast_list_len(params);
  f.nregs = (uint8_t)(fs.maxreg > 0 ? fs.maxreg : 1);
  f.entity = self ? (int16_t)self->kind : -1;
  f.event = ev ? ev->index : -1;
  f.file = fs.file;
  f.ncode = (uint32_t)fs.code.len;
  f.code = arena_alloc(&C->ch->arena, fs.code.len * sizeof(Instr));
  memcpy(f.code, fs.code.items, fs.code.len * sizeof(Instr));
  f.lines = arena_alloc(&C->ch->arena, fs.lines.len * sizeof(uint32_t));
  memcpy(f.lines, fs.lines.items, fs.lines.len * sizeof(uint32_t));
  vec_free(&fs.code);
  vec_free(&fs.lines);
  vec_push(&C->funcs, f);
  return (int32_t)C->funcs.len - 1;
}

/* Reserves Func slots for user functions first, so calls know their index
** before the callee is compiled. */
static void reserve_user_functions(Compiler *C) {
  C->user_func = xcalloc(C->m->funcs.len + 1, sizeof *C->user_func);
  for (size_t i = 0; i < C->m->funcs.len; i++) {
    FuncDef *f = C->m->funcs.items[i];
    if (f->kind != FK_USER) continue;
    Func empty = {0};
    vec_push(&C->funcs, empty);
    C->user_func[i] = (uint32_t)C->funcs.len - 1;
  }
}

static void user_functions(Compiler *C) {
  for (size_t i = 0; i < C->m->funcs.len; i++) {
    FuncDef *f = C->m->funcs.items[i];
    if (f->kind != FK_USER) continue;
    char *nm = arena_printf(&C->ch->arena, "fn %s", f->name);
    int32_t k = function(C, FN_USER, nm, NULL, NULL, f->decl->list, f->decl->b,
                         (f->decl->flags & F_EXPR_BODY) ? BODY_EXPR : BODY_BLOCK);
    if (k < 0) continue;
    /* move the compiled body into its reserved slot */
    C->funcs.items[C->user_func[i]] = C->funcs.items[k];
    C->funcs.len--;
  }
}

/* ---- tables ------------------------------------------------------------------------------ */

/* natives (issue 5): the chunk's natives table, one entry per extern
** function in the model's order; user_func maps an extern's FuncDef index
** to its entry, for CALLN. Bound to plugins at load (natives/ffi.h). */
static void natives_table(Compiler *C) {
  Chunk *ch = C->ch;
  size_t n = 0;
  for (size_t i = 0; i < C->m->funcs.len; i++) n += C->m->funcs.items[i]->kind == FK_EXTERN;
  ch->nnatives = (uint32_t)n;
  ch->natives = arena_alloc(&ch->arena, (n ? n : 1) * sizeof *ch->natives);
  uint32_t k = 0;
  for (size_t i = 0; i < C->m->funcs.len; i++) {
    FuncDef *f = C->m->funcs.items[i];
    if (f->kind != FK_EXTERN) continue;
    NativeDef *d = &ch->natives[k];
    memset(d, 0, sizeof *d);
    d->name = arena_strdup(&ch->arena, f->name);
    d->library = arena_strdup(&ch->arena, f->decl->text ? f->decl->text : "");
    d->pure = f->pure;
    d->nparams = (uint8_t)f->nparams;
    d->params = arena_alloc(&ch->arena, (f->nparams ? f->nparams : 1) * sizeof *d->params);
    for (size_t j = 0; j < f->nparams; j++) d->params[j] = type_desc(C, f->params[j]);
    d->ret = f->ret ? type_desc(C, f->ret) : (TypeDesc){0, 0, 0};
    C->user_func[i] = k++;
  }
}
/* end natives_table */

/* Allocates table `tbl` of the chunk with `count` entries (at least one
** byte, so that an empty table is still a valid pointer). */
#define TABLE(chk, tbl, count) ((chk)->n##tbl = (uint32_t)(count), \
  (chk)->tbl = arena_alloc(&(chk)->arena, ((count) ? (count) : 1) * sizeof *(chk)->tbl))

static const char *cstr(Compiler *C, const char *s) { return arena_strdup(&C->ch->arena, s ? s : ""); }

static void entities_and_fields(Compiler *C) {
  Chunk *ch = C->ch;
  size_t total = 0;
  for (int k = 0; k < E__COUNT; k++) {
    C->first_field[k] = (uint32_t)total;
    total += C->m->entities[k].fields.len;
  }
  TABLE(ch, entities, E__COUNT);
  TABLE(ch, fields, total);
  for (int k = 0; k < E__COUNT; k++) {
    Entity *e = &C->m->entities[k];
    ch->entities[k] = (EntityDef){cstr(C, e->name), cstr(C, e->title), C->first_field[k],
                                  (uint32_t)e->fields.len};
    for (size_t i = 0; i < e->fields.len; i++) {
      Field *f = e->fields.items[i];
      FieldDef *d = &ch->fields[C->first_field[k] + i];
      d->name = cstr(C, f->name);
      d->title = cstr(C, f->title);
      d->type = type_desc(C, f->type);
      d->entity = (uint16_t)k;
      d->index = (uint16_t)i;
      d->computed = -1;
      d->required = f->required;
      d->builtin = f->builtin;
      d->readonly = f->readonly;
    }
  }
}

static void computed_fields(Compiler *C) {
  for (int k = 0; k < E__COUNT; k++) {
    Entity *e = &C->m->entities[k];
    for (size_t i = 0; i < e->fields.len; i++) {
      Field *f = e->fields.items[i];
      if (!f->computed) continue;
      char *nm = arena_printf(&C->ch->arena, "computed %s.%s", e->name, f->name);
      C->ch->fields[field_id(C, f)].computed = function(C, FN_COMPUTED, nm, e, NULL, NULL, f->computed, BODY_EXPR);
    }
  }
}

static const char *hk_word(int hk) {
  static const char *w[] = {"on enter", "on leave", "on change", "on event", "on create",
                            "after", "at", "every"};
  return w[hk];
}

/* Self fields a moment expression reads: the timer is re-planned when
** one of them changes. */
typedef VEC(uint32_t) U32Vec;

static void moment_fields(Compiler *C, Node *e, U32Vec *out) {
  for (; e; e = e->next) {
    if ((e->kind == N_NAME || e->kind == N_MEMBER) && e->symk == SYM_FIELD && e->sym &&
        (e->kind == N_NAME))
      vec_push(out, field_id(C, e->sym));
    moment_fields(C, e->a, out);
    moment_fields(C, e->b, out);
    moment_fields(C, e->c, out);
    if (e->kind == N_CALL || e->kind == N_LIST) moment_fields(C, e->list, out);
  }
}

typedef VEC(HandlerDef) HandlerVec;

static void handler(Compiler *C, HandlerVec *out, Node *h, HandlerScope scope, uint32_t owner,
                    Entity *self, const char *where) {
  HandlerDef d = {0};
  d.when = (uint8_t)h->op;
  d.scope = (uint8_t)scope;
  d.once = (h->flags & F_ONCE) != 0;
  d.owner = owner;
  d.event = -1;
  d.calendar = h->c && h->c->sym ? ((Calendar *)h->c->sym)->index : -1;
  d.timing = -1;
  EventDef *ev = NULL;
  const char *what = hk_word(h->op);
  if (h->op == HK_EVENT && h->a && h->a->sym) {
    ev = h->a->sym;
    d.event = ev->index;
    what = arena_printf(&C->ch->arena, "on event %s", ev->name);
  }
  U32Vec fields = {0};
  if (h->op == HK_CHANGE)
    for (Node *n = h->a; n; n = n->next)
      if (n->sym) vec_push(&fields, field_id(C, n->sym));
  if (h->op == HK_AFTER || h->op == HK_AT || h->op == HK_EVERY) {
    const SrcFile *f = srcset_get(&C->p->srcs, h->a->span.file);
    int len = (int)(h->a->span.end - h->a->span.start);
    what = arena_printf(&C->ch->arena, "%s %.*s", hk_word(h->op), len, f ? f->text + h->a->span.start : "");
    d.timing = function(C, FN_MOMENT, arena_printf(&C->ch->arena, "%s, %s (moment)", where, what), self,
                        NULL, NULL, h->a, BODY_EXPR);
    if (h->op == HK_AT) moment_fields(C, h->a, &fields);
  }
  d.nfields = (uint32_t)fields.len;
  d.fields = arena_alloc(&C->ch->arena, (fields.len ? fields.len : 1) * sizeof(uint32_t));
  if (fields.len) memcpy(d.fields, fields.items, fields.len * sizeof(uint32_t));
  vec_free(&fields);
  int32_t body = function(C, FN_HANDLER, arena_printf(&C->ch->arena, "%s, %s", where, what), self, ev,
                          NULL, h->b, BODY_BLOCK);
  if (body < 0) return;
  d.body = (uint32_t)body;
  vec_push(out, d);
}

static void directions_and_stages(Compiler *C, HandlerVec *handlers) {
  Chunk *ch = C->ch;
  Model *m = C->m;
  TABLE(ch, directions, m->directions.len);
  TABLE(ch, stages, m->stages.len);
  VEC(TriggerDef) triggers = {0};
  VEC(GuardDef) guards = {0};
  for (size_t i = 0; i < m->directions.len; i++) {
    Direction *d = m->directions.items[i];
    ch->directions[i] = (DirectionDef){cstr(C, d->name), cstr(C, d->title), (uint16_t)d->entity->kind,
                                       d->stages.len ? (uint32_t)d->stages.items[0]->id : 0,
                                       (uint32_t)d->stages.len};
    for (size_t k = 0; k < d->handlers.len; k++)
      handler(C, handlers, d->handlers.items[k], HS_DIRECTION, (uint32_t)d->index, d->entity, d->name);
  }
  for (size_t i = 0; i < m->stages.len; i++) {
    Stage *s = m->stages.items[i];
    StageDef *sd = &ch->stages[i];
    const char *where = arena_printf(&ch->arena, "stage %s.%s", s->dir->name, s->name);
    sd->name = cstr(C, s->name);
    sd->title = cstr(C, s->title);
    sd->kind = (uint8_t)s->kind;
    sd->is_auto = s->is_auto;
    sd->direction = (uint16_t)s->dir->index;
    sd->require_msg = -1;
    VEC(uint32_t) req = {0};
    for (size_t k = 0; k < s->requires.len; k++) {
      Node *r = s->requires.items[k];
      for (Node *n = r->list; n; n = n->next)
        if (n->sym) vec_push(&req, field_id(C, n->sym));
      if (r->b && sd->require_msg < 0)
        sd->require_msg = function(C, FN_MESSAGE, arena_printf(&ch->arena, "%s, require message", where),
                                   s->dir->entity, NULL, NULL, r->b, BODY_EXPR);
    }
    sd->nrequired = (uint32_t)req.len;
    sd->required = arena_alloc(&ch->arena, (req.len ? req.len : 1) * sizeof(uint32_t));
    if (req.len) memcpy(sd->required, req.items, req.len * sizeof(uint32_t));
    vec_free(&req);
    size_t nacc = 0;
    for (size_t k = 0; k < s->access.len; k++) nacc += ast_list_len(s->access.items[k]->list);
    sd->access_roles = arena_alloc(&ch->arena, (nacc ? nacc : 1) * sizeof(uint32_t));
    sd->access_bits = arena_alloc(&ch->arena, nacc ? nacc : 1);
    for (size_t k = 0; k < s->access.len; k++) {
      Node *a = s->access.items[k];
      uint8_t bits = a->op == AC_VIEW ? ACC_VIEW : a->op == AC_MOVE ? ACC_MOVE : ACC_VIEW | ACC_MOVE;
      for (Node *n = a->list; n; n = n->next) {
        if (!n->sym) continue;
        sd->access_roles[sd->naccess] = (uint32_t)((Role *)n->sym)->index;
        sd->access_bits[sd->naccess++] = bits;
      }
    }
    for (size_t k = 0; k < s->handlers.len; k++)
      handler(C, handlers, s->handlers.items[k], HS_STAGE, (uint32_t)s->id, s->dir->entity, where);
    for (size_t k = 0; k < s->triggers.len; k++) {
      Node *t = s->triggers.items[k];
      TriggerDef td = {0};
      td.stage = (uint32_t)s->id;
      EventDef *ev = t->a ? t->a->sym : NULL;
      td.event = ev ? ev->index : -1;
      td.cond = t->b ? function(C, FN_TRIGGER, arena_printf(&ch->arena, "trigger into %s.%s", s->dir->name, s->name),
                                s->dir->entity, ev, NULL, t->b, BODY_EXPR)
                     : -1;
      td.may_move_back = (t->flags & F_BACK) != 0;
      td.nfrom = (uint32_t)ast_list_len(t->list);
      td.from = arena_alloc(&ch->arena, (td.nfrom ? td.nfrom : 1) * sizeof(uint32_t));
      uint32_t j = 0;
      for (Node *r = t->list; r; r = r->next)
        if (r->sym) td.from[j++] = (uint32_t)((Stage *)r->sym)->id;
      td.nfrom = j;
      vec_push(&triggers, td);
    }
    for (size_t k = 0; k < s->guards.len; k++) {
      Node *g = s->guards.items[k];
      int32_t cond = function(C, FN_GUARD, arena_printf(&ch->arena, "guard of %s.%s", s->dir->name, s->name),
                              s->dir->entity, NULL, NULL, g->a, BODY_EXPR);
      int32_t msg = function(C, FN_MESSAGE, arena_printf(&ch->arena, "guard message of %s.%s", s->dir->name, s->name),
                             s->dir->entity, NULL, NULL, g->b, BODY_EXPR);
      if (cond >= 0 && msg >= 0) {
        GuardDef gd = {(uint32_t)s->id, (uint32_t)cond, (uint32_t)msg};
        vec_push(&guards, gd);
      }
    }
  }
  TABLE(ch, triggers, triggers.len);
  if (triggers.len) memcpy(ch->triggers, triggers.items, triggers.len * sizeof *ch->triggers);
  TABLE(ch, guards, guards.len);
  if (guards.len) memcpy(ch->guards, guards.items, guards.len * sizeof *ch->guards);
  vec_free(&triggers);
  vec_free(&guards);
}

static void people_and_events(Compiler *C) {
  Chunk *ch = C->ch;
  Model *m = C->m;
  TABLE(ch, roles, m->roles.len);
  for (size_t i = 0; i < m->roles.len; i++)
    ch->roles[i] = (RoleDef){cstr(C, m->roles.items[i]->name), cstr(C, m->roles.items[i]->title)};
  TABLE(ch, users, m->users.len);
  for (size_t i = 0; i < m->users.len; i++) {
    UserDef *u = m->users.items[i];
    UserDefC *d = &ch->users[i];
    d->name = cstr(C, u->name);
    d->title = cstr(C, u->title);
    d->supervisor = u->supervisor ? u->supervisor->index : -1;
    d->nroles = (uint32_t)u->roles.len;
    d->roles = arena_alloc(&ch->arena, (u->roles.len ? u->roles.len : 1) * sizeof(uint32_t));
    for (size_t k = 0; k < u->roles.len; k++) d->roles[k] = (uint32_t)u->roles.items[k]->index;
  }
  TABLE(ch, events, m->events.len);
  for (size_t i = 0; i < m->events.len; i++) {
    EventDef *ev = m->events.items[i];
    EventDefC *d = &ch->events[i];
    d->name = cstr(C, ev->name);
    d->title = cstr(C, ev->title);
    d->nfields = (uint32_t)ev->fields.len;
    d->fields = arena_alloc(&ch->arena, (ev->fields.len ? ev->fields.len : 1) * sizeof(char *));
    d->types = arena_alloc(&ch->arena, (ev->fields.len ? ev->fields.len : 1) * sizeof(TypeDesc));
    for (size_t k = 0; k < ev->fields.len; k++) {
      d->fields[k] = cstr(C, ev->fields.items[k]->name);
      d->types[k] = type_desc(C, ev->fields.items[k]->type);
    }
  }
}

static uint8_t weekday_bit(const char *d) {
  static const char *days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (int i = 0; i < 7; i++)
    if (!strcmp(d, days[i])) return (uint8_t)i;
  return 0;
}

static void calendars(Compiler *C) {
  Chunk *ch = C->ch;
  Model *m = C->m;
  TABLE(ch, calendars, m->calendars.len);
  ch->default_calendar = m->default_calendar ? m->default_calendar->index : -1;
  for (size_t i = 0; i < m->calendars.len; i++) {
    Calendar *cal = m->calendars.items[i];
    CalendarDef *d = &ch->calendars[i];
    d->name = cstr(C, cal->name);
    d->title = cstr(C, cal->title);
    d->timezone = cstr(C, cal->timezone ? cal->timezone : "UTC");
    d->is_default = cal->is_default;
    size_t nh = 0, nhol = 0, nw = 0;
    for (Node *it = cal->decl->list; it; it = it->next) {
      if (it->flags & F_INVALID) continue;
      nh += it->kind == N_CAL_HOURS;
      nhol += it->kind == N_CAL_HOLIDAY;
      nw += it->kind == N_CAL_WORKDAY;
    }
    d->hours_days = arena_alloc(&ch->arena, nh ? nh : 1);
    d->hours_from = arena_alloc(&ch->arena, (nh ? nh : 1) * sizeof(uint16_t));
    d->hours_to = arena_alloc(&ch->arena, (nh ? nh : 1) * sizeof(uint16_t));
    d->holiday_from = arena_alloc(&ch->arena, (nhol ? nhol : 1) * sizeof(int32_t));
    d->holiday_to = arena_alloc(&ch->arena, (nhol ? nhol : 1) * sizeof(int32_t));
    d->workdays = arena_alloc(&ch->arena, (nw ? nw : 1) * sizeof(int32_t));
    for (Node *it = cal->decl->list; it; it = it->next) {
      if (it->flags & F_INVALID) continue;
      if (it->kind == N_CAL_HOURS) {
        uint8_t a = weekday_bit(it->name), b = weekday_bit(it->text ? it->text : it->name), mask = 0;
        for (uint8_t k = a; k <= b; k++) mask |= (uint8_t)(1u << k);
        d->hours_days[d->nhours] = mask;
        d->hours_from[d->nhours] = (uint16_t)it->ival;
        d->hours_to[d->nhours++] = (uint16_t)it->ival2;
      } else if (it->kind == N_CAL_HOLIDAY) {
        d->holiday_from[d->nholidays] = (int32_t)it->a->ival;
        d->holiday_to[d->nholidays++] = (int32_t)(it->b ? it->b->ival : it->a->ival);
      } else if (it->kind == N_CAL_WORKDAY) {
        d->workdays[d->nworkdays++] = (int32_t)it->a->ival;
      }
    }
  }
}

static void enums_table(Compiler *C) {
  Chunk *ch = C->ch;
  TABLE(ch, enums, C->enums.len);
  for (size_t i = 0; i < C->enums.len; i++) {
    const EnumDef *e = C->enums.items[i];
    EnumDefC *d = &ch->enums[i];
    d->name = cstr(C, e->owner);
    d->title = cstr(C, e->title ? e->title : e->owner);
    d->nvalues = (uint32_t)e->nvalues;
    d->values = arena_alloc(&ch->arena, (e->nvalues ? e->nvalues : 1) * sizeof(char *));
    d->titles = arena_alloc(&ch->arena, (e->nvalues ? e->nvalues : 1) * sizeof(char *));
    for (size_t k = 0; k < e->nvalues; k++) {
      d->values[k] = cstr(C, e->values[k].name);
      d->titles[k] = cstr(C, e->values[k].title);
    }
  }
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

Chunk *compile_program(Program *p, Model *m) {
  Compiler C = {0};
  C.p = p;
  C.m = m;
  C.d = &p->diag;
  C.ch = chunk_new();
  Chunk *ch = C.ch;
  C.zone = m->default_calendar && m->default_calendar->timezone ? m->default_calendar->timezone
                                                                 : "Europe/Moscow";
  Node *pk = m->pack;
  ch->pack_name = cstr(&C, pk ? pk->name : "");
  ch->pack_title = cstr(&C, pk && pk->title ? pk->title : "");
  ch->pack_version = cstr(&C, pk && pk->text ? pk->text : "");
  ch->nfiles = (uint32_t)p->srcs.len;
  ch->files = arena_alloc(&ch->arena, (p->srcs.len ? p->srcs.len : 1) * sizeof(char *));
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < p->srcs.len; i++) {
    ch->files[i] = cstr(&C, p->srcs.files[i]->name);
    h = fnv1a(h, p->srcs.files[i]->text, p->srcs.files[i]->len);
  }
  ch->source_hash = h;
  entities_and_fields(&C);
  reserve_user_functions(&C);
  natives_table(&C);   /* natives (issue 5) */
  user_functions(&C);
  computed_fields(&C);
  HandlerVec handlers = {0};
  directions_and_stages(&C, &handlers);
  for (int k = 0; k < E__COUNT; k++) {
    Entity *e = &m->entities[k];
    for (size_t i = 0; i < e->handlers.len; i++)
      handler(&C, &handlers, e->handlers.items[i], HS_ENTITY, (uint32_t)k, e, e->name);
  }
  for (size_t i = 0; i < m->top_handlers.len; i++)
    handler(&C, &handlers, m->top_handlers.items[i], HS_TOP, 0, NULL, "top level");
  TABLE(ch, handlers, handlers.len);
  if (handlers.len) memcpy(ch->handlers, handlers.items, handlers.len * sizeof *ch->handlers);
  vec_free(&handlers);
  people_and_events(&C);
  calendars(&C);
  /* tests: only the main file's */
  size_t ntests = 0;
  for (size_t i = 0; i < m->tests.len; i++) ntests += m->tests.items[i]->span.file == p->main_file;
  TABLE(ch, tests, ntests);
  ch->ntests = 0;
  for (size_t i = 0; i < m->tests.len; i++) {
    Node *t = m->tests.items[i];
    if (t->span.file != p->main_file) continue;
    int32_t f = function(&C, FN_TEST, arena_printf(&ch->arena, "test \"%s\"", t->title ? t->title : ""),
                         NULL, NULL, NULL, t->b, BODY_BLOCK);
    if (f >= 0) ch->tests[ch->ntests++] = (TestDef){cstr(&C, t->title), (uint32_t)f};
  }
  enums_table(&C);
  TABLE(ch, consts, C.consts.len);
  if (C.consts.len) memcpy(ch->consts, C.consts.items, C.consts.len * sizeof(Value));
  TABLE(ch, funcs, C.funcs.len);
  if (C.funcs.len) memcpy(ch->funcs, C.funcs.items, C.funcs.len * sizeof(Func));
  vec_free(&C.consts);
  vec_free(&C.funcs);
  vec_free(&C.enums);
  free(C.user_func);
  if (C.failed) {
    chunk_free(ch);
    return NULL;
  }
  return ch;
}
