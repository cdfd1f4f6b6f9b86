/*
** bcfile.c: writing, reading and verifying .pipec files.
**
** The header is described in bcfile.h. The sections, each found through
** the section table (their order in the file does not matter; the writer
** puts them in this order):
**
**   STRS  u32 n; n * {u32 len, len bytes}: every name, title and text,
**         stored once, valid UTF-8 without NUL bytes
**   PACK  str name, str title, str version, i32 default calendar (-1: none)
**   SRCN  u32 n; n * str: the source file names (Func.file indexes them)
**   CNST  u32 n; n * value, where value is u8 ValueType then:
**           NULL -; BOOL u8; INT, DEC, DATE, DATETIME, STAGE, DIR, ROLE i64;
**           MONEY u16 currency, i64 minor units; DURATION u8 flags,
**           u16 months, i32 days, i64 seconds (as the Value's aux, aux32,
**           u.i); TEXT, USER str; ENUM u16 enum, i64 index; REC u16 entity,
**           i64 id; LIST u32 n, n * value (nested at most BC_MAX_DEPTH deep)
**   FUNC  u32 n; n * {str name, u8 kind, u8 nparams, u8 nregs, i16 entity,
**         i32 event, u32 file, u32 ncode}
**   CODE  the instructions of every function in order, u32 each; exactly
**         the sum of the functions' ncode
**   LINE  per function: u32 n (0: no lines, or ncode), then n line
**         numbers, each as the zigzag LEB128 of its difference from the
**         previous one (the first from 0). Absent when stripped.
**   TABL  the tables, each u32 count then the records:
**           entities    str name, str title, u32 first_field, u32 nfields
**           fields      str name, str title, type, u16 entity, u16 index,
**                       i32 computed, u8 required, u8 builtin, u8 readonly
**           enums       str name, str title, u32 n, n * {str value, str title}
**           directions  str name, str title, u16 entity, u32 first_stage,
**                       u32 nstages
**           stages      str name, str title, u8 kind, u8 is_auto,
**                       u16 direction, u32 n, n * u32 field, i32 require_msg,
**                       u32 n, n * {u32 role, u8 access bits}
**           handlers    u8 when, u8 scope, u8 once, u32 owner, i32 event,
**                       i32 calendar, i32 timing, u32 n, n * u32 field,
**                       u32 body
**           triggers    u32 stage, i32 event, i32 cond, u8 may_move_back,
**                       u32 n, n * u32 stage
**           guards      u32 stage, u32 cond, u32 message
**           events      str name, str title, u32 n, n * {str field, type}
**           roles       str name, str title
**           users       str name, str title, i32 supervisor, u32 n, n * u32 role
**           calendars   str name, str title, str timezone, u8 is_default,
**                       u32 n, n * {u8 days, u16 from, u16 to},
**                       u32 n, n * {i32 from, i32 to}, u32 n, n * i32 day
**           natives     str name, str library, u8 pure, u8 nparams,
**                       nparams * type, type ret
**           tests       str title, u32 func
**         where type is {u8 kind, u8 elem, u16 ref} (a TypeDesc).
**
** The reader never trusts a count: before it allocates n items it checks
** that the rest of the section could hold n of the smallest encoding, so a
** hostile count cannot make it allocate more than a small multiple of the
** file. Every read is bounds-checked; a short read sets a sticky flag that
** becomes "truncated section X".
*/
#include "bytecode/bcfile.h"

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

static const uint8_t MAGIC[4] = {0x1B, 'P', 'P', 'C'};
static const uint8_t GUARD[6] = {0x19, 0x93, '\r', '\n', 0x1A, '\n'};

/* Lists in constants nest at most this deep: deeper would be a compiler
** bug, and the limit keeps the recursive reader's stack small. */
#define BC_MAX_DEPTH 16
/* The number of StageKind values (SK_PROGRESS, SK_SUCCESS, SK_FAILURE in
** ast/ast.h, which the bytecode does not include). */
#define NSTAGE_KINDS 3
/* Minutes in a day: the bound of a working-hours range. */
#define DAY_MINUTES (24 * 60)

#define SECT_ID(a, b, c, d) \
  ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
enum {
  SEC_STRS = SECT_ID('S', 'T', 'R', 'S'),
  SEC_PACK = SECT_ID('P', 'A', 'C', 'K'),
  SEC_SRCN = SECT_ID('S', 'R', 'C', 'N'),
  SEC_CNST = SECT_ID('C', 'N', 'S', 'T'),
  SEC_FUNC = SECT_ID('F', 'U', 'N', 'C'),
  SEC_CODE = SECT_ID('C', 'O', 'D', 'E'),
  SEC_LINE = SECT_ID('L', 'I', 'N', 'E'),
  SEC_TABL = SECT_ID('T', 'A', 'B', 'L'),
};

/* ---- CRC-32 ------------------------------------------------------------ */

/* The reflected IEEE polynomial 0xEDB88320, four bits at a time: a
** 16-entry table, small enough to write out (no init, no race). */
static const uint32_t crc_nibble[16] = {
  0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
  0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
  0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t bc_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    crc = crc_nibble[crc & 0xF] ^ (crc >> 4);
    crc = crc_nibble[crc & 0xF] ^ (crc >> 4);
  }
  return ~crc;
}

/* ---- operand kinds from the synopses ---------------------------------- */

static BcOperandKind kind_of_letter(char ch) {
  switch (ch) {
  case 'R': return OPK_REG;
  case 'K': return OPK_CONST;
  case 'F': return OPK_FUNC;
  case 'S': return OPK_STAGE;
  case 'E': return OPK_ENTITY;
  case 'D': return OPK_FIELD;
  case 'N': return OPK_BUILTIN;
  case 'V': return OPK_EVENT;
  case 'T': return OPK_NATIVE;
  default: return OPK_NONE;
  }
}

static bool is_word_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_';
}

/* The operand slot named at s ("A", "B", "C" or "Bx"), -1 if none; *n gets
** the length of the name. */
static int slot_at(const char *s, int *n) {
  if (s[0] == 'B' && s[1] == 'x' && !is_word_char(s[2])) return *n = 2, 3;
  if (s[0] >= 'A' && s[0] <= 'C' && !is_word_char(s[1])) return *n = 1, s[0] - 'A';
  return -1;
}

/* Reads the synopsis of op: "X[slot]" and "X[slot+n]" give the slot a kind
** (and a register span); "X[slot+...]" of any other shape is a range of
** unknown length; a bare A, B or C word is an immediate. */
void bc_op_info(OpCode op, BcOpInfo *o) {
  memset(o, 0, sizeof *o);
  const char *s = op_synopses[op];
  OpFormat f = op_formats[op];
  o->is_jump = strstr(s, "pc +=") != NULL;
  o->const_shape = strstr(s, "a list of texts") ? KS_KEYS : strstr(s, "] a text") ? KS_TEXT : KS_ANY;
  for (size_t i = 0; s[i]; i++) {
    BcOperandKind k = kind_of_letter(s[i]);
    if (k == OPK_NONE || s[i + 1] != '[' || (i > 0 && is_word_char(s[i - 1]))) continue;
    int n, slot = slot_at(s + i + 2, &n);
    if (slot < 0) continue;
    o->kind[slot] = (uint8_t)k;
    const char *p = s + i + 2 + n;
    if (k != OPK_REG || *p == ']') continue;
    unsigned off = 0;
    if (p[0] == '+' && p[1] >= '0' && p[1] <= '9') {
      p++;
      while (*p >= '0' && *p <= '9') off = off * 10 + (unsigned)(*p++ - '0');
    }
    if (*p == ']') {
      if (off > o->span[slot]) o->span[slot] = (uint8_t)off;
    } else {
      o->var[slot] = true;
    }
  }
  for (size_t i = 0; s[i]; i++) {
    int n, slot;
    if ((i > 0 && (is_word_char(s[i - 1]) || s[i - 1] == '[')) || (slot = slot_at(s + i, &n)) < 0)
      continue;
    if (o->kind[slot] == OPK_NONE) o->kind[slot] = OPK_IMM;
  }
  /* what the format has no room for is unused; the wide operand of ABx,
  ** AsBx and sJ is always there */
  if (f == FMT_sJ) o->kind[0] = OPK_NONE;
  if (f != FMT_ABC) o->kind[1] = o->kind[2] = OPK_NONE;
  if (f == FMT_ABC) {
    o->kind[3] = OPK_NONE;
  } else if (o->is_jump) {
    o->kind[3] = OPK_JUMP;
  } else if (o->kind[3] == OPK_NONE) {
    o->kind[3] = OPK_IMM;
  }
}

/* ---- the verifier ------------------------------------------------------ */

typedef struct Ver {
  const Chunk *c;
  char *err;
  size_t errlen;
  char where[96];   /* "function 3: instruction 17 (JMP)", the message prefix */
} Ver;

static bool vfail(Ver *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool vfail(Ver *v, const char *fmt, ...) {
  if (!v->err || !v->errlen) return false;
  int k = snprintf(v->err, v->errlen, "%s: ", v->where);
  if (k < 0 || (size_t)k >= v->errlen) return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->err + k, v->errlen - (size_t)k, fmt, ap);
  va_end(ap);
  return false;
}

static void at(Ver *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void at(Ver *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->where, sizeof v->where, fmt, ap);
  va_end(ap);
}

/* i < n, or a message "WHERE: WHAT i out of range (n NOUNS)". */
static bool idx(Ver *v, const char *what, uint64_t i, uint32_t n, const char *nouns) {
  if (i < n) return true;
  return vfail(v, "%s %llu out of range (%u %s)", what, (unsigned long long)i, n, nouns);
}

/* -1 or an index below n. */
static bool opt(Ver *v, const char *what, int64_t i, uint32_t n, const char *nouns) {
  if (i == -1) return true;
  if (i < 0) return vfail(v, "%s %lld out of range (%u %s)", what, (long long)i, n, nouns);
  return idx(v, what, (uint64_t)i, n, nouns);
}

/* An array that its count says is there. */
static bool arr(Ver *v, const char *what, const void *p, uint32_t n) {
  if (n == 0 || p) return true;
  return vfail(v, "%s missing (%u expected)", what, n);
}

/* A string: present if required, valid UTF-8 without NUL bytes. */
static bool str(Ver *v, const char *what, const char *s, bool required) {
  if (!s) return required ? vfail(v, "%s missing", what) : true;
  size_t n = strlen(s);
  if (utf8_check(s, n) != n) return vfail(v, "%s is not valid UTF-8", what);
  return true;
}

static bool type_ok(Ver *v, const char *what, TypeDesc t) {
  if (t.kind >= V__COUNT) return vfail(v, "%s: unknown type %u", what, t.kind);
  unsigned k = t.kind;
  if (k == V_LIST) {
    if (t.elem >= V__COUNT || t.elem == V_LIST)
      return vfail(v, "%s: bad list element type %u", what, t.elem);
    k = t.elem;
  }
  if (k == V_REC) return idx(v, "entity", t.ref, v->c->nentities, "entities");
  if (k == V_ENUM) return idx(v, "enum", t.ref, v->c->nenums, "enums");
  return true;
}

static bool const_ok(Ver *v, const Value *x, int depth) {
  const Chunk *c = v->c;
  switch (x->type) {
  case V_NULL: case V_INT: case V_DEC: case V_MONEY: case V_DATE: case V_DATETIME:
  case V_DURATION:
    return true;
  case V_BOOL:
    if (x->u.i != 0 && x->u.i != 1) return vfail(v, "bool %lld", (long long)x->u.i);
    return true;
  case V_TEXT: case V_USER:
    if (!x->u.t) return vfail(v, "text missing");
    if (memchr(x->u.t->s, 0, x->u.t->len)) return vfail(v, "text contains a NUL byte");
    if (utf8_check(x->u.t->s, x->u.t->len) != x->u.t->len)
      return vfail(v, "text is not valid UTF-8");
    return true;
  case V_ENUM:
    if (!idx(v, "enum", x->aux, c->nenums, "enums")) return false;
    if (x->u.i < 0 || x->u.i >= c->enums[x->aux].nvalues)
      return vfail(v, "enum value %lld out of range (%u values)", (long long)x->u.i,
                   c->enums[x->aux].nvalues);
    return true;
  case V_REC: return idx(v, "entity", x->aux, c->nentities, "entities");
  case V_STAGE: return idx(v, "stage", (uint64_t)x->u.i, c->nstages, "stages");
  case V_DIR: return idx(v, "direction", (uint64_t)x->u.i, c->ndirections, "directions");
  case V_ROLE: return idx(v, "role", (uint64_t)x->u.i, c->nroles, "roles");
  case V_LIST:
    if (depth >= BC_MAX_DEPTH) return vfail(v, "lists nested too deeply");
    if (!x->u.l) return vfail(v, "list missing");
    if (!arr(v, "list items", x->u.l->items, x->u.l->len)) return false;
    for (uint32_t i = 0; i < x->u.l->len; i++)
      if (!const_ok(v, &x->u.l->items[i], depth + 1)) return false;
    return true;
  case V_OBJ: return vfail(v, "an object cannot be a constant");
  default: return vfail(v, "unknown type %u", x->type);
  }
}

/* The builtins (N[x]), from builtins.def: CALLB passes exactly their
** number of arguments, and the tests-only ones are called from tests. */
typedef struct Builtin {
  const char *name;
  int nargs;
  bool tests_only;
} Builtin;

static const Builtin BUILTINS[] = {
#define BUILTIN(id, name, nargs, tests) {name, nargs, tests},
#include "bytecode/builtins.def"
#undef BUILTIN
};
#define NBUILTINS ((uint32_t)(sizeof BUILTINS / sizeof BUILTINS[0]))

void bc_operands(Instr ins, int64_t val[4]) {
  val[0] = GET_A(ins);
  val[1] = GET_B(ins);
  val[2] = GET_C(ins);
  val[3] = 0;
  switch (op_formats[GET_OP(ins)]) {
  case FMT_ABC: break;
  case FMT_ABx: val[3] = GET_Bx(ins); break;
  case FMT_AsBx: val[3] = GET_sBx(ins); break;
  case FMT_sJ: val[3] = GET_sJ(ins); break;
  }
}

/* Checks one instruction at pc of function fi. */
static bool instr_ok(Ver *v, const BcOpInfo *infos, uint32_t fi, uint32_t pc) {
  const Chunk *c = v->c;
  const Func *f = &c->funcs[fi];
  Instr ins = f->code[pc];
  if (GET_OP(ins) >= OP__COUNT) {
    at(v, "function %u: instruction %u", fi, pc);
    return vfail(v, "unknown opcode %u", (unsigned)GET_OP(ins));
  }
  OpCode op = GET_OP(ins);
  at(v, "function %u: instruction %u (%s)", fi, pc, op_names[op]);
  BcOpInfo o = infos[op];
  if (op == OP_TEXPECT && GET_B(ins) != 1) o.span[0] = 0;   /* R[A+1], R[A+2] only with B=1 */
  int64_t val[4];
  bc_operands(ins, val);
  static const char *const slot_names[4] = {"A", "B", "C", "Bx"};
  for (int s = 0; s < 4; s++) {
    int64_t x = val[s];
    switch ((BcOperandKind)o.kind[s]) {
    case OPK_NONE: case OPK_IMM: case OPK_BUILTIN:   /* builtins: below */
      break;
    case OPK_REG:
      if (x + o.span[s] >= f->nregs) {
        if (o.span[s])
          return vfail(v, "register %s+%u = %lld out of range (%u registers)", slot_names[s],
                       o.span[s], (long long)(x + o.span[s]), f->nregs);
        return vfail(v, "register %s = %lld out of range (%u registers)", slot_names[s],
                     (long long)x, f->nregs);
      }
      break;
    case OPK_CONST: if (!idx(v, "constant", (uint64_t)x, c->nconsts, "constants")) return false; break;
    case OPK_FUNC: if (!idx(v, "function", (uint64_t)x, c->nfuncs, "functions")) return false; break;
    case OPK_STAGE: if (!idx(v, "stage", (uint64_t)x, c->nstages, "stages")) return false; break;
    case OPK_ENTITY:
      if (!idx(v, "entity", (uint64_t)x, c->nentities, "entities")) return false;
      break;
    case OPK_FIELD: if (!idx(v, "field", (uint64_t)x, c->nfields, "fields")) return false; break;
    case OPK_EVENT: if (!idx(v, "event", (uint64_t)x, c->nevents, "events")) return false; break;
    case OPK_NATIVE: if (!idx(v, "native", (uint64_t)x, c->nnatives, "natives")) return false; break;
    case OPK_JUMP: {
      int64_t target = (int64_t)pc + 1 + x;
      if (target < 0 || target >= f->ncode)
        return vfail(v, "jump target %lld out of range (0..%u)", (long long)target, f->ncode - 1);
      break;
    }
    }
  }
  /* constants of a required shape, and builtins */
  int a = GET_A(ins), b = GET_B(ins), cc = GET_C(ins);
  uint32_t nkeys = 0;
  for (int s = 0; s < 4 && o.const_shape != KS_ANY; s++) {
    if (o.kind[s] != OPK_CONST) continue;
    const Value *k = &c->consts[val[s]];
    if (o.const_shape == KS_TEXT && k->type != V_TEXT)
      return vfail(v, "constant %lld is not a text", (long long)val[s]);
    if (o.const_shape == KS_KEYS) {
      if (k->type != V_LIST) return vfail(v, "constant %lld is not a list of keys", (long long)val[s]);
      nkeys = k->u.l->len;
      for (uint32_t i = 0; i < nkeys; i++)
        if (k->u.l->items[i].type != V_TEXT)
          return vfail(v, "constant %lld: key %u is not a text", (long long)val[s], i);
    }
  }
  for (int s = 0; s < 4; s++) {
    if (o.kind[s] != OPK_BUILTIN) continue;
    if (!idx(v, "builtin", (uint64_t)val[s], NBUILTINS, "builtins")) return false;
    const Builtin *bi = &BUILTINS[val[s]];
    if (op == OP_CALLB && cc != bi->nargs)
      return vfail(v, "builtin %s takes %d arguments, not %d", bi->name, bi->nargs, cc);
    if (bi->tests_only && f->kind != FN_TEST)
      return vfail(v, "builtin %s is only for tests", bi->name);
  }
  /* ranges of registers whose length the instruction gives */
  int64_t first = 0, count = 0;
  bool has_range = o.var[0] || o.var[1] || o.var[2];
  switch (op) {
  case OP_CALL: {
    uint32_t np = c->funcs[GET_Bx(ins)].nparams;
    first = a, count = np ? np : 1;
    break;
  }
  case OP_CALLB: first = a, count = cc ? cc : 1; break;
  case OP_CALLN: {   /* natives (issue 5): T[Bx] was checked above */
    uint32_t np = c->natives[GET_Bx(ins)].nparams;
    first = a, count = np ? np : 1;
    break;
  }
  case OP_CONCAT: case OP_NEWLIST: first = b, count = cc; break;
  case OP_NEWOBJ: first = a, count = 1 + (int64_t)nkeys; break;
  default:
    if (has_range) return vfail(v, "the verifier has no rule for this register range");
    break;
  }
  if (first + count > f->nregs)
    return vfail(v, "registers %lld..%lld out of range (%u registers)", (long long)first,
                 (long long)(first + count - 1), f->nregs);
  return true;
}

static bool funcs_ok(Ver *v) {
  const Chunk *c = v->c;
  for (uint32_t i = 0; i < c->nfuncs; i++) {
    const Func *f = &c->funcs[i];
    at(v, "function %u", i);
    if (!str(v, "name", f->name, true)) return false;
    if (f->kind > FN_MESSAGE) return vfail(v, "unknown kind %u", f->kind);
    if (f->nregs > MAX_REGS)
      return vfail(v, "%u registers, more than %d", f->nregs, MAX_REGS);
    if (f->nparams > f->nregs)
      return vfail(v, "%u parameters but %u registers", f->nparams, f->nregs);
    if (!opt(v, "entity", f->entity, c->nentities, "entities")) return false;
    if (!opt(v, "event", f->event, c->nevents, "events")) return false;
    if (c->nfiles ? f->file >= c->nfiles : f->file != 0)
      return vfail(v, "source file %u out of range (%u files)", f->file, c->nfiles);
    if (f->ncode == 0) return vfail(v, "no instructions");
    if (!arr(v, "code", f->code, f->ncode)) return false;
  }
  return true;
}

static bool code_ok(Ver *v) {
  const Chunk *c = v->c;
  BcOpInfo infos[OP__COUNT];
  for (int op = 0; op < OP__COUNT; op++) bc_op_info((OpCode)op, &infos[op]);
  for (uint32_t i = 0; i < c->nfuncs; i++) {
    const Func *f = &c->funcs[i];
    for (uint32_t pc = 0; pc < f->ncode; pc++)
      if (!instr_ok(v, infos, i, pc)) return false;
    OpCode last = GET_OP(f->code[f->ncode - 1]);
    if (last != OP_RET && last != OP_RET0 && last != OP_JMP) {
      at(v, "function %u", i);
      return vfail(v, "the last instruction (%u, %s) is not RET, RET0 or JMP: it falls off the end",
                   f->ncode - 1, op_names[last]);
    }
  }
  return true;
}

static bool tables_ok(Ver *v) {
  const Chunk *c = v->c;
  for (uint32_t i = 0; i < c->nentities; i++) {
    const EntityDef *e = &c->entities[i];
    at(v, "entity %u", i);
    if (!str(v, "name", e->name, true) || !str(v, "title", e->title, false)) return false;
    if ((uint64_t)e->first_field + e->nfields > c->nfields)
      return vfail(v, "fields %u..+%u out of range (%u fields)", e->first_field, e->nfields,
                   c->nfields);
  }
  for (uint32_t i = 0; i < c->nfields; i++) {
    const FieldDef *fd = &c->fields[i];
    at(v, "field %u", i);
    if (!str(v, "name", fd->name, true) || !str(v, "title", fd->title, false)) return false;
    if (!type_ok(v, "type", fd->type)) return false;
    if (!idx(v, "entity", fd->entity, c->nentities, "entities")) return false;
    const EntityDef *e = &c->entities[fd->entity];
    if (i < e->first_field || i - e->first_field != fd->index || fd->index >= e->nfields)
      return vfail(v, "index %u does not match its place in entity %u (fields %u..+%u)",
                   fd->index, fd->entity, e->first_field, e->nfields);
    if (!opt(v, "computing function", fd->computed, c->nfuncs, "functions")) return false;
  }
  for (uint32_t i = 0; i < c->nenums; i++) {
    const EnumDefC *en = &c->enums[i];
    at(v, "enum %u", i);
    if (!str(v, "name", en->name, true) || !str(v, "title", en->title, false)) return false;
    if (!arr(v, "values", en->values, en->nvalues) || !arr(v, "titles", en->titles, en->nvalues))
      return false;
    for (uint32_t k = 0; k < en->nvalues; k++)
      if (!str(v, "value name", en->values[k], true) || !str(v, "value title", en->titles[k], false))
        return false;
  }
  for (uint32_t i = 0; i < c->ndirections; i++) {
    const DirectionDef *d = &c->directions[i];
    at(v, "direction %u", i);
    if (!str(v, "name", d->name, true) || !str(v, "title", d->title, false)) return false;
    if (!idx(v, "entity", d->entity, c->nentities, "entities")) return false;
    if ((uint64_t)d->first_stage + d->nstages > c->nstages)
      return vfail(v, "stages %u..+%u out of range (%u stages)", d->first_stage, d->nstages,
                   c->nstages);
  }
  for (uint32_t i = 0; i < c->nstages; i++) {
    const StageDef *s = &c->stages[i];
    at(v, "stage %u", i);
    if (!str(v, "name", s->name, true) || !str(v, "title", s->title, false)) return false;
    if (s->kind >= NSTAGE_KINDS) return vfail(v, "unknown kind %u", s->kind);
    if (!idx(v, "direction", s->direction, c->ndirections, "directions")) return false;
    const DirectionDef *d = &c->directions[s->direction];
    if (i < d->first_stage || i - d->first_stage >= d->nstages)
      return vfail(v, "not among the stages of its direction %u (%u..+%u)", s->direction,
                   d->first_stage, d->nstages);
    if (!arr(v, "required fields", s->required, s->nrequired)) return false;
    for (uint32_t k = 0; k < s->nrequired; k++)
      if (!idx(v, "required field", s->required[k], c->nfields, "fields")) return false;
    if (!opt(v, "message function", s->require_msg, c->nfuncs, "functions")) return false;
    if (!arr(v, "access roles", s->access_roles, s->naccess) ||
        !arr(v, "access bits", s->access_bits, s->naccess))
      return false;
    for (uint32_t k = 0; k < s->naccess; k++) {
      if (!idx(v, "access role", s->access_roles[k], c->nroles, "roles")) return false;
      if (s->access_bits[k] & ~(ACC_VIEW | ACC_MOVE))
        return vfail(v, "unknown access bits 0x%x", s->access_bits[k]);
    }
  }
  for (uint32_t i = 0; i < c->nhandlers; i++) {
    const HandlerDef *h = &c->handlers[i];
    at(v, "handler %u", i);
    if (h->when > HW_EVERY) return vfail(v, "unknown kind %u", h->when);
    bool ok = true;
    switch (h->scope) {
    case HS_STAGE: ok = idx(v, "owner stage", h->owner, c->nstages, "stages"); break;
    case HS_DIRECTION: ok = idx(v, "owner direction", h->owner, c->ndirections, "directions"); break;
    case HS_ENTITY: ok = idx(v, "owner entity", h->owner, c->nentities, "entities"); break;
    case HS_TOP: break;
    default: return vfail(v, "unknown scope %u", h->scope);
    }
    if (!ok || !opt(v, "event", h->event, c->nevents, "events") ||
        !opt(v, "calendar", h->calendar, c->ncalendars, "calendars") ||
        !opt(v, "timing function", h->timing, c->nfuncs, "functions") ||
        !arr(v, "fields", h->fields, h->nfields))
      return false;
    for (uint32_t k = 0; k < h->nfields; k++)
      if (!idx(v, "field", h->fields[k], c->nfields, "fields")) return false;
    if (!idx(v, "body function", h->body, c->nfuncs, "functions")) return false;
  }
  for (uint32_t i = 0; i < c->ntriggers; i++) {
    const TriggerDef *t = &c->triggers[i];
    at(v, "trigger %u", i);
    if (!idx(v, "stage", t->stage, c->nstages, "stages") ||
        !opt(v, "event", t->event, c->nevents, "events") ||
        !opt(v, "condition function", t->cond, c->nfuncs, "functions") ||
        !arr(v, "from stages", t->from, t->nfrom))
      return false;
    for (uint32_t k = 0; k < t->nfrom; k++)
      if (!idx(v, "from stage", t->from[k], c->nstages, "stages")) return false;
  }
  for (uint32_t i = 0; i < c->nguards; i++) {
    const GuardDef *g = &c->guards[i];
    at(v, "guard %u", i);
    if (!idx(v, "stage", g->stage, c->nstages, "stages") ||
        !idx(v, "condition function", g->cond, c->nfuncs, "functions") ||
        !idx(v, "message function", g->message, c->nfuncs, "functions"))
      return false;
  }
  for (uint32_t i = 0; i < c->nevents; i++) {
    const EventDefC *e = &c->events[i];
    at(v, "event %u", i);
    if (!str(v, "name", e->name, true) || !str(v, "title", e->title, false) ||
        !arr(v, "fields", e->fields, e->nfields) || !arr(v, "types", e->types, e->nfields))
      return false;
    for (uint32_t k = 0; k < e->nfields; k++)
      if (!str(v, "field name", e->fields[k], true) || !type_ok(v, "field type", e->types[k]))
        return false;
  }
  for (uint32_t i = 0; i < c->nroles; i++) {
    at(v, "role %u", i);
    if (!str(v, "name", c->roles[i].name, true) || !str(v, "title", c->roles[i].title, false))
      return false;
  }
  for (uint32_t i = 0; i < c->nusers; i++) {
    const UserDefC *u = &c->users[i];
    at(v, "user %u", i);
    if (!str(v, "name", u->name, true) || !str(v, "title", u->title, false) ||
        !opt(v, "supervisor", u->supervisor, c->nusers, "users") ||
        !arr(v, "roles", u->roles, u->nroles))
      return false;
    for (uint32_t k = 0; k < u->nroles; k++)
      if (!idx(v, "role", u->roles[k], c->nroles, "roles")) return false;
  }
  for (uint32_t i = 0; i < c->ncalendars; i++) {
    const CalendarDef *cal = &c->calendars[i];
    at(v, "calendar %u", i);
    if (!str(v, "name", cal->name, true) || !str(v, "title", cal->title, false) ||
        !str(v, "time zone", cal->timezone, false) ||
        !arr(v, "hours", cal->hours_days, cal->nhours) ||
        !arr(v, "hours", cal->hours_from, cal->nhours) ||
        !arr(v, "hours", cal->hours_to, cal->nhours) ||
        !arr(v, "holidays", cal->holiday_from, cal->nholidays) ||
        !arr(v, "holidays", cal->holiday_to, cal->nholidays) ||
        !arr(v, "working days", cal->workdays, cal->nworkdays))
      return false;
    for (uint32_t k = 0; k < cal->nhours; k++) {
      if (cal->hours_days[k] > 0x7F) return vfail(v, "hours %u: bad weekday mask 0x%x", k,
                                                  cal->hours_days[k]);
      if (cal->hours_from[k] > DAY_MINUTES || cal->hours_to[k] > DAY_MINUTES)
        return vfail(v, "hours %u: minute of the day out of range", k);
    }
  }
  at(v, "pack");
  if (!opt(v, "default calendar", c->default_calendar, c->ncalendars, "calendars")) return false;
  for (uint32_t i = 0; i < c->nnatives; i++) {
    const NativeDef *n = &c->natives[i];
    at(v, "native %u", i);
    if (!str(v, "name", n->name, true) || !str(v, "library", n->library, false) ||
        !arr(v, "parameters", n->params, n->nparams))
      return false;
    for (uint32_t k = 0; k < n->nparams; k++)
      if (!type_ok(v, "parameter", n->params[k])) return false;
    if (!type_ok(v, "result", n->ret)) return false;
  }
  for (uint32_t i = 0; i < c->ntests; i++) {
    at(v, "test %u", i);
    if (!str(v, "title", c->tests[i].title, false) ||
        !idx(v, "function", c->tests[i].func, c->nfuncs, "functions"))
      return false;
  }
  return true;
}

/* The rules, in the order they are checked:
**  - the pack's strings, the source names, every constant (types known,
**    indices of enums, stages, directions, roles in range, texts UTF-8,
**    lists nested at most BC_MAX_DEPTH, no objects);
**  - every function's header: kind, nparams <= nregs <= MAX_REGS, entity,
**    event and file in range, at least one instruction;
**  - every table's indices (see tables_ok) and strings;
**  - every instruction: a known opcode; each operand that the synopsis
**    names as R/K/F/S/E/D/V/T in range, with R[x+n] spans and the ranges
**    of CALL (nparams), CALLB (C), NEWLIST and CONCAT (B+C), NEWOBJ
**    (1 + the keys) and TEXPECT (A+2 when B=1); jump targets inside the
**    function; a constant that the synopsis calls "a text" or "a list of
**    texts" is one; N[x] names a builtin of builtins.def, CALLB passes
**    it its number of arguments and only tests call the tests-only ones;
**    and the last instruction is RET, RET0 or JMP, so that no function
**    runs off its end. */
bool bc_verify(const Chunk *c, char *err, size_t errlen) {
  Ver v = {c, err, errlen, "pack"};
  if (err && errlen) err[0] = '\0';
  if (!str(&v, "name", c->pack_name, false) || !str(&v, "title", c->pack_title, false) ||
      !str(&v, "version", c->pack_version, false))
    return false;
  if (!arr(&v, "source files", c->files, c->nfiles) || !arr(&v, "constants", c->consts, c->nconsts) ||
      !arr(&v, "functions", c->funcs, c->nfuncs) || !arr(&v, "entities", c->entities, c->nentities) ||
      !arr(&v, "fields", c->fields, c->nfields) || !arr(&v, "enums", c->enums, c->nenums) ||
      !arr(&v, "directions", c->directions, c->ndirections) ||
      !arr(&v, "stages", c->stages, c->nstages) || !arr(&v, "handlers", c->handlers, c->nhandlers) ||
      !arr(&v, "triggers", c->triggers, c->ntriggers) || !arr(&v, "guards", c->guards, c->nguards) ||
      !arr(&v, "events", c->events, c->nevents) || !arr(&v, "roles", c->roles, c->nroles) ||
      !arr(&v, "users", c->users, c->nusers) || !arr(&v, "calendars", c->calendars, c->ncalendars) ||
      !arr(&v, "natives", c->natives, c->nnatives) || !arr(&v, "tests", c->tests, c->ntests))
    return false;
  for (uint32_t i = 0; i < c->nfiles; i++) {
    at(&v, "source file %u", i);
    if (!str(&v, "name", c->files[i], true)) return false;
  }
  for (uint32_t i = 0; i < c->nconsts; i++) {
    at(&v, "constant %u", i);
    if (!const_ok(&v, &c->consts[i], 0)) return false;
  }
  return funcs_ok(&v) && tables_ok(&v) && code_ok(&v);
}

/* ---- the writer -------------------------------------------------------- */

typedef struct Buf {
  uint8_t *p;
  size_t len, cap;
} Buf;

static void put(Buf *b, const void *s, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void put_u8(Buf *b, uint8_t x) { put(b, &x, 1); }

static void put_u16(Buf *b, uint16_t x) {
  uint8_t s[2] = {(uint8_t)x, (uint8_t)(x >> 8)};
  put(b, s, 2);
}

static void put_u32(Buf *b, uint32_t x) {
  uint8_t s[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
  put(b, s, 4);
}

static void put_u64(Buf *b, uint64_t x) {
  put_u32(b, (uint32_t)x);
  put_u32(b, (uint32_t)(x >> 32));
}

static void put_i32(Buf *b, int32_t x) { put_u32(b, (uint32_t)x); }

static void put_uleb(Buf *b, uint64_t x) {
  do {
    uint8_t byte = x & 0x7F;
    x >>= 7;
    put_u8(b, (uint8_t)(byte | (x ? 0x80 : 0)));
  } while (x);
}

static void patch_u32(Buf *b, size_t at, uint32_t x) {
  uint8_t s[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
  memcpy(b->p + at, s, 4);
}

/* The string table being built: the bytes in `strs` and an open-addressing
** hash from content to index. */
typedef struct StrSlot {
  uint32_t hash, index;   /* index + 1; 0: empty */
  size_t off, len;        /* the bytes in W.data */
} StrSlot;

typedef struct W {
  Buf strs;               /* the STRS section after its count */
  Buf data;               /* the strings' bytes, for comparisons */
  uint32_t nstrs;
  StrSlot *slots;
  size_t nslots;
  bool bad;               /* something cannot be stored */
} W;

static uint32_t fnv1a(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static uint32_t intern(W *w, const char *s, size_t n) {
  if (n > UINT32_MAX) {
    w->bad = true;
    return 0;
  }
  if (w->nstrs * 2 >= w->nslots) {
    size_t ncap = w->nslots ? w->nslots * 2 : 256;
    StrSlot *ns = xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < w->nslots; i++) {
      if (!w->slots[i].index) continue;
      size_t j = w->slots[i].hash & (ncap - 1);
      while (ns[j].index) j = (j + 1) & (ncap - 1);
      ns[j] = w->slots[i];
    }
    free(w->slots);
    w->slots = ns;
    w->nslots = ncap;
  }
  uint32_t h = fnv1a(s, n);
  size_t j = h & (w->nslots - 1);
  for (; w->slots[j].index; j = (j + 1) & (w->nslots - 1)) {
    StrSlot *e = &w->slots[j];
    if (e->hash == h && e->len == n && (n == 0 || !memcmp(w->data.p + e->off, s, n))) return e->index - 1;
  }
  w->slots[j] = (StrSlot){h, ++w->nstrs, w->data.len, n};
  put(&w->data, s, n);
  put_u32(&w->strs, (uint32_t)n);
  put(&w->strs, s, n);
  return w->nstrs - 1;
}

static void put_str(W *w, Buf *b, const char *s) {
  put_u32(b, s ? intern(w, s, strlen(s)) : BC_NO_STRING);
}

static void put_type(Buf *b, TypeDesc t) {
  put_u8(b, t.kind);
  put_u8(b, t.elem);
  put_u16(b, t.ref);
}

static void put_value(W *w, Buf *b, const Value *x, int depth) {
  put_u8(b, x->type);
  switch (x->type) {
  case V_NULL: break;
  case V_BOOL: put_u8(b, (uint8_t)x->u.i); break;
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_STAGE: case V_DIR: case V_ROLE:
    put_u64(b, (uint64_t)x->u.i);
    break;
  case V_MONEY: case V_ENUM: case V_REC:
    put_u16(b, x->aux);
    put_u64(b, (uint64_t)x->u.i);
    break;
  case V_DURATION:
    put_u8(b, x->flags);
    put_u16(b, x->aux);
    put_i32(b, x->aux32);
    put_u64(b, (uint64_t)x->u.i);
    break;
  case V_TEXT: case V_USER:
    if (!x->u.t) {
      w->bad = true;
      break;
    }
    put_u32(b, intern(w, x->u.t->s, x->u.t->len));
    break;
  case V_LIST:
    if (!x->u.l || depth >= BC_MAX_DEPTH) {
      w->bad = true;
      break;
    }
    put_u32(b, x->u.l->len);
    for (uint32_t i = 0; i < x->u.l->len && !w->bad; i++) put_value(w, b, &x->u.l->items[i], depth + 1);
    break;
  default:
    w->bad = true;   /* objects and unknown types have no encoding */
    break;
  }
}

static void write_tables(W *w, Buf *b, const Chunk *c) {
  put_u32(b, c->nentities);
  for (uint32_t i = 0; i < c->nentities; i++) {
    const EntityDef *e = &c->entities[i];
    put_str(w, b, e->name);
    put_str(w, b, e->title);
    put_u32(b, e->first_field);
    put_u32(b, e->nfields);
  }
  put_u32(b, c->nfields);
  for (uint32_t i = 0; i < c->nfields; i++) {
    const FieldDef *f = &c->fields[i];
    put_str(w, b, f->name);
    put_str(w, b, f->title);
    put_type(b, f->type);
    put_u16(b, f->entity);
    put_u16(b, f->index);
    put_i32(b, f->computed);
    put_u8(b, f->required);
    put_u8(b, f->builtin);
    put_u8(b, f->readonly);
  }
  put_u32(b, c->nenums);
  for (uint32_t i = 0; i < c->nenums; i++) {
    const EnumDefC *e = &c->enums[i];
    put_str(w, b, e->name);
    put_str(w, b, e->title);
    put_u32(b, e->nvalues);
    for (uint32_t k = 0; k < e->nvalues; k++) {
      put_str(w, b, e->values[k]);
      put_str(w, b, e->titles ? e->titles[k] : NULL);
    }
  }
  put_u32(b, c->ndirections);
  for (uint32_t i = 0; i < c->ndirections; i++) {
    const DirectionDef *d = &c->directions[i];
    put_str(w, b, d->name);
    put_str(w, b, d->title);
    put_u16(b, d->entity);
    put_u32(b, d->first_stage);
    put_u32(b, d->nstages);
  }
  put_u32(b, c->nstages);
  for (uint32_t i = 0; i < c->nstages; i++) {
    const StageDef *s = &c->stages[i];
    put_str(w, b, s->name);
    put_str(w, b, s->title);
    put_u8(b, s->kind);
    put_u8(b, s->is_auto);
    put_u16(b, s->direction);
    put_u32(b, s->nrequired);
    for (uint32_t k = 0; k < s->nrequired; k++) put_u32(b, s->required[k]);
    put_i32(b, s->require_msg);
    put_u32(b, s->naccess);
    for (uint32_t k = 0; k < s->naccess; k++) {
      put_u32(b, s->access_roles[k]);
      put_u8(b, s->access_bits[k]);
    }
  }
  put_u32(b, c->nhandlers);
  for (uint32_t i = 0; i < c->nhandlers; i++) {
    const HandlerDef *h = &c->handlers[i];
    put_u8(b, h->when);
    put_u8(b, h->scope);
    put_u8(b, h->once);
    put_u32(b, h->owner);
    put_i32(b, h->event);
    put_i32(b, h->calendar);
    put_i32(b, h->timing);
    put_u32(b, h->nfields);
    for (uint32_t k = 0; k < h->nfields; k++) put_u32(b, h->fields[k]);
    put_u32(b, h->body);
  }
  put_u32(b, c->ntriggers);
  for (uint32_t i = 0; i < c->ntriggers; i++) {
    const TriggerDef *t = &c->triggers[i];
    put_u32(b, t->stage);
    put_i32(b, t->event);
    put_i32(b, t->cond);
    put_u8(b, t->may_move_back);
    put_u32(b, t->nfrom);
    for (uint32_t k = 0; k < t->nfrom; k++) put_u32(b, t->from[k]);
  }
  put_u32(b, c->nguards);
  for (uint32_t i = 0; i < c->nguards; i++) {
    put_u32(b, c->guards[i].stage);
    put_u32(b, c->guards[i].cond);
    put_u32(b, c->guards[i].message);
  }
  put_u32(b, c->nevents);
  for (uint32_t i = 0; i < c->nevents; i++) {
    const EventDefC *e = &c->events[i];
    put_str(w, b, e->name);
    put_str(w, b, e->title);
    put_u32(b, e->nfields);
    for (uint32_t k = 0; k < e->nfields; k++) {
      put_str(w, b, e->fields[k]);
      put_type(b, e->types[k]);
    }
  }
  put_u32(b, c->nroles);
  for (uint32_t i = 0; i < c->nroles; i++) {
    put_str(w, b, c->roles[i].name);
    put_str(w, b, c->roles[i].title);
  }
  put_u32(b, c->nusers);
  for (uint32_t i = 0; i < c->nusers; i++) {
    const UserDefC *u = &c->users[i];
    put_str(w, b, u->name);
    put_str(w, b, u->title);
    put_i32(b, u->supervisor);
    put_u32(b, u->nroles);
    for (uint32_t k = 0; k < u->nroles; k++) put_u32(b, u->roles[k]);
  }
  put_u32(b, c->ncalendars);
  for (uint32_t i = 0; i < c->ncalendars; i++) {
    const CalendarDef *cal = &c->calendars[i];
    put_str(w, b, cal->name);
    put_str(w, b, cal->title);
    put_str(w, b, cal->timezone);
    put_u8(b, cal->is_default);
    put_u32(b, cal->nhours);
    for (uint32_t k = 0; k < cal->nhours; k++) {
      put_u8(b, cal->hours_days[k]);
      put_u16(b, cal->hours_from[k]);
      put_u16(b, cal->hours_to[k]);
    }
    put_u32(b, cal->nholidays);
    for (uint32_t k = 0; k < cal->nholidays; k++) {
      put_i32(b, cal->holiday_from[k]);
      put_i32(b, cal->holiday_to[k]);
    }
    put_u32(b, cal->nworkdays);
    for (uint32_t k = 0; k < cal->nworkdays; k++) put_i32(b, cal->workdays[k]);
  }
  put_u32(b, c->nnatives);
  for (uint32_t i = 0; i < c->nnatives; i++) {
    const NativeDef *n = &c->natives[i];
    put_str(w, b, n->name);
    put_str(w, b, n->library);
    put_u8(b, n->pure);
    put_u8(b, n->nparams);
    for (uint32_t k = 0; k < n->nparams; k++) put_type(b, n->params[k]);
    put_type(b, n->ret);
  }
  put_u32(b, c->ntests);
  for (uint32_t i = 0; i < c->ntests; i++) {
    put_str(w, b, c->tests[i].title);
    put_u32(b, c->tests[i].func);
  }
}

/* The compiler's version as major << 16 | minor << 8 | patch, from
** PACKAGE_VERSION ("0.1.0") when configure made one. */
static uint32_t compiler_version(void) {
#ifdef PACKAGE_VERSION
  const char *s = PACKAGE_VERSION;
  uint32_t part[3] = {0, 0, 0};
  for (int k = 0; k < 3 && *s; k++) {
    while (*s >= '0' && *s <= '9') part[k] = part[k] * 10 + (uint32_t)(*s++ - '0');
    if (*s == '.') s++;
    else break;
  }
  return (part[0] & 0xFF) << 16 | (part[1] & 0xFF) << 8 | (part[2] & 0xFF);
#else
  return 0;
#endif
}

enum { NSECT_MAX = 8 };

int bc_write(const Chunk *c, FILE *out, bool strip_debug) {
  W w = {0};
  put_u32(&w.strs, 0);   /* the count, patched at the end */
  struct { uint32_t id; Buf b; } sec[NSECT_MAX];
  int ns = 0;
  memset(sec, 0, sizeof sec);
#define SECTION(ID) (sec[ns].id = (ID), &sec[ns++].b)
  Buf *strs_slot = SECTION(SEC_STRS);   /* filled in last */

  Buf *b = SECTION(SEC_PACK);
  put_str(&w, b, c->pack_name);
  put_str(&w, b, c->pack_title);
  put_str(&w, b, c->pack_version);
  put_i32(b, c->default_calendar);

  b = SECTION(SEC_SRCN);
  put_u32(b, c->nfiles);
  for (uint32_t i = 0; i < c->nfiles; i++) put_str(&w, b, c->files[i]);

  b = SECTION(SEC_CNST);
  put_u32(b, c->nconsts);
  for (uint32_t i = 0; i < c->nconsts; i++) put_value(&w, b, &c->consts[i], 0);

  b = SECTION(SEC_FUNC);
  put_u32(b, c->nfuncs);
  for (uint32_t i = 0; i < c->nfuncs; i++) {
    const Func *f = &c->funcs[i];
    put_str(&w, b, f->name);
    put_u8(b, f->kind);
    put_u8(b, f->nparams);
    put_u8(b, f->nregs);
    put_u16(b, (uint16_t)f->entity);
    put_i32(b, f->event);
    put_u32(b, f->file);
    put_u32(b, f->ncode);
  }

  b = SECTION(SEC_CODE);
  for (uint32_t i = 0; i < c->nfuncs; i++)
    for (uint32_t pc = 0; pc < c->funcs[i].ncode; pc++) put_u32(b, c->funcs[i].code[pc]);

  if (!strip_debug) {
    b = SECTION(SEC_LINE);
    for (uint32_t i = 0; i < c->nfuncs; i++) {
      const Func *f = &c->funcs[i];
      if (!f->lines) {
        put_u32(b, 0);
        continue;
      }
      put_u32(b, f->ncode);
      int64_t prev = 0;
      for (uint32_t pc = 0; pc < f->ncode; pc++) {
        int64_t d = (int64_t)f->lines[pc] - prev;
        prev = f->lines[pc];
        put_uleb(b, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));   /* zigzag */
      }
    }
  }

  b = SECTION(SEC_TABL);
  write_tables(&w, b, c);
#undef SECTION

  patch_u32(&w.strs, 0, w.nstrs);
  *strs_slot = w.strs;
  w.strs = (Buf){0};

  /* the header, the section table, then the sections */
  Buf file = {0};
  put(&file, MAGIC, 4);
  put_u8(&file, BC_FORMAT_MAJOR);
  put_u8(&file, BC_FORMAT_MINOR);
  put_u16(&file, strip_debug ? BC_FLAG_STRIPPED : 0);
  put(&file, GUARD, 6);
  put_u16(&file, (uint16_t)ns);
  put_u32(&file, 0);   /* the CRC, patched below */
  put_u32(&file, compiler_version());
  put_u64(&file, c->source_hash);
  uint64_t off = BC_HEADER_SIZE + 12u * (uint64_t)ns;
  for (int i = 0; i < ns; i++) {
    put_u32(&file, sec[i].id);
    put_u32(&file, (uint32_t)off);
    put_u32(&file, (uint32_t)sec[i].b.len);
    if (sec[i].b.len > UINT32_MAX) w.bad = true;
    off += sec[i].b.len;
  }
  if (off > UINT32_MAX) w.bad = true;
  for (int i = 0; i < ns; i++) {
    put(&file, sec[i].b.p, sec[i].b.len);
    free(sec[i].b.p);
  }
  patch_u32(&file, 16, bc_crc32(0, file.p + 20, file.len - 20));

  int rc = -1;
  if (!w.bad && fwrite(file.p, 1, file.len, out) == file.len && !ferror(out)) rc = 0;
  free(file.p);
  free(w.data.p);
  free(w.slots);
  return rc;
}

/* ---- the reader -------------------------------------------------------- */

typedef struct Rd {
  Chunk *c;
  const uint8_t *p;     /* the section being decoded */
  size_t len, pos;
  bool short_read;      /* a read went past the section's end */
  const char *sect;     /* its name, for messages */
  const char **strs;    /* the string table */
  uint32_t *strlens;
  uint32_t nstrs;
  char *err;
  size_t errlen;
  bool failed;          /* err holds a message */
} Rd;

static void rfail(Rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rfail(Rd *r, const char *fmt, ...) {
  if (r->failed) return;
  r->failed = true;
  if (!r->err || !r->errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, r->errlen, fmt, ap);
  va_end(ap);
}

/* Fails and leaves the void reader function it is used in. */
#define RFAIL_RETURN(...) \
  do {                    \
    rfail(__VA_ARGS__);   \
    return;               \
  } while (0)

static bool rd_ok(const Rd *r) { return !r->short_read && !r->failed; }

static const uint8_t *take(Rd *r, size_t n) {
  if (r->short_read || r->len - r->pos < n) {
    r->short_read = true;
    return NULL;
  }
  const uint8_t *s = r->p + r->pos;
  r->pos += n;
  return s;
}

static uint8_t get_u8(Rd *r) {
  const uint8_t *s = take(r, 1);
  return s ? s[0] : 0;
}

static uint16_t get_u16(Rd *r) {
  const uint8_t *s = take(r, 2);
  return s ? (uint16_t)(s[0] | s[1] << 8) : 0;
}

static uint32_t le32(const uint8_t *s) {
  return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

static uint32_t get_u32(Rd *r) {
  const uint8_t *s = take(r, 4);
  return s ? le32(s) : 0;
}

static uint64_t get_u64(Rd *r) {
  uint64_t lo = get_u32(r);
  return lo | (uint64_t)get_u32(r) << 32;
}

static int32_t get_i32(Rd *r) { return (int32_t)get_u32(r); }

/* A count of items whose encodings take at least `min` bytes each: more
** than the rest of the section can hold is a truncation. */
static uint32_t get_count(Rd *r, size_t min) {
  uint32_t n = get_u32(r);
  if (r->short_read) return 0;
  if (min && n > (r->len - r->pos) / min) {
    r->short_read = true;
    return 0;
  }
  return n;
}

static const char *get_str(Rd *r) {
  uint32_t i = get_u32(r);
  if (!rd_ok(r) || i == BC_NO_STRING) return NULL;
  if (i >= r->nstrs) {
    rfail(r, "section %s: string %u out of range (%u strings)", r->sect, i, r->nstrs);
    return NULL;
  }
  return r->strs[i];
}

static TypeDesc get_type(Rd *r) {
  TypeDesc t;
  t.kind = get_u8(r);
  t.elem = get_u8(r);
  t.ref = get_u16(r);
  return t;
}

static void *alloc_n(Rd *r, uint32_t n, size_t size) {
  return n ? arena_alloc(&r->c->arena, (size_t)n * size) : NULL;
}

static Value get_value(Rd *r, int depth) {
  Value x = {0};
  x.type = get_u8(r);
  switch (x.type) {
  case V_NULL: break;
  case V_BOOL: x.u.i = get_u8(r); break;
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: case V_STAGE: case V_DIR: case V_ROLE:
    x.u.i = (int64_t)get_u64(r);
    break;
  case V_MONEY: case V_ENUM: case V_REC:
    x.aux = get_u16(r);
    x.u.i = (int64_t)get_u64(r);
    break;
  case V_DURATION:
    x.flags = get_u8(r);
    x.aux = get_u16(r);
    x.aux32 = get_i32(r);
    x.u.i = (int64_t)get_u64(r);
    break;
  case V_TEXT: case V_USER: {
    uint32_t i = get_u32(r);
    if (!rd_ok(r)) break;
    if (i >= r->nstrs) {
      rfail(r, "section CNST: string %u out of range (%u strings)", i, r->nstrs);
      break;
    }
    Text *t = arena_alloc(&r->c->arena, sizeof(Text) + r->strlens[i] + 1);
    t->len = r->strlens[i];
    memcpy(t->s, r->strs[i], t->len);
    x.u.t = t;
    break;
  }
  case V_LIST: {
    if (depth >= BC_MAX_DEPTH) {
      rfail(r, "section CNST: lists nested deeper than %d", BC_MAX_DEPTH);
      break;
    }
    uint32_t n = get_count(r, 1);
    List *l = arena_alloc(&r->c->arena, sizeof(List));
    l->items = alloc_n(r, n, sizeof(Value));
    for (uint32_t i = 0; i < n && rd_ok(r); i++) l->items[l->len++] = get_value(r, depth + 1);
    l->cap = n;
    x.u.l = l;
    break;
  }
  default:
    if (rd_ok(r)) rfail(r, "section CNST: a constant of unknown type %u", x.type);
    break;
  }
  return x;
}

static void read_strs(Rd *r) {
  uint32_t n = get_count(r, 4);
  r->strs = xcalloc(n ? n : 1, sizeof *r->strs);
  r->strlens = xcalloc(n ? n : 1, sizeof *r->strlens);
  for (uint32_t i = 0; i < n && rd_ok(r); i++) {
    uint32_t len = get_u32(r);
    const uint8_t *s = take(r, len);
    if (!s) break;
    if (memchr(s, 0, len)) RFAIL_RETURN(r, "section STRS: string %u contains a NUL byte", i);
    if (utf8_check((const char *)s, len) != len)
      RFAIL_RETURN(r, "section STRS: string %u is not valid UTF-8", i);
    r->strs[i] = arena_strndup(&r->c->arena, (const char *)s, len);
    r->strlens[i] = len;
    r->nstrs = i + 1;
  }
}

static void read_pack(Rd *r) {
  Chunk *c = r->c;
  c->pack_name = get_str(r);
  c->pack_title = get_str(r);
  c->pack_version = get_str(r);
  c->default_calendar = get_i32(r);
}

static void read_srcn(Rd *r) {
  Chunk *c = r->c;
  c->nfiles = get_count(r, 4);
  c->files = alloc_n(r, c->nfiles, sizeof *c->files);
  for (uint32_t i = 0; i < c->nfiles && rd_ok(r); i++) c->files[i] = get_str(r);
}

static void read_cnst(Rd *r) {
  Chunk *c = r->c;
  uint32_t n = get_count(r, 1);
  c->consts = alloc_n(r, n, sizeof *c->consts);
  for (uint32_t i = 0; i < n && rd_ok(r); i++) c->consts[c->nconsts++] = get_value(r, 0);
}

/* name 4, kind/nparams/nregs 3, entity 2, event 4, file 4, ncode 4 */
#define FUNC_SIZE 21

static void read_func(Rd *r) {
  Chunk *c = r->c;
  c->nfuncs = get_count(r, FUNC_SIZE);
  c->funcs = alloc_n(r, c->nfuncs, sizeof *c->funcs);
  for (uint32_t i = 0; i < c->nfuncs && rd_ok(r); i++) {
    Func *f = &c->funcs[i];
    f->name = get_str(r);
    f->kind = get_u8(r);
    f->nparams = get_u8(r);
    f->nregs = get_u8(r);
    f->entity = (int16_t)get_u16(r);
    f->event = get_i32(r);
    f->file = get_u32(r);
    f->ncode = get_u32(r);
  }
}

static void read_code(Rd *r) {
  Chunk *c = r->c;
  uint64_t total = 0;
  for (uint32_t i = 0; i < c->nfuncs; i++) total += c->funcs[i].ncode;
  if (r->len % 4 || r->len / 4 != total)
    RFAIL_RETURN(r, "section CODE: %zu bytes for %llu instructions", r->len,
                 (unsigned long long)total);
  for (uint32_t i = 0; i < c->nfuncs; i++) {
    Func *f = &c->funcs[i];
    f->code = alloc_n(r, f->ncode, sizeof(Instr));
    for (uint32_t pc = 0; pc < f->ncode; pc++) f->code[pc] = get_u32(r);
  }
}

static void read_line(Rd *r) {
  Chunk *c = r->c;
  for (uint32_t i = 0; i < c->nfuncs && rd_ok(r); i++) {
    Func *f = &c->funcs[i];
    uint32_t n = get_u32(r);
    if (!rd_ok(r) || n == 0) continue;
    if (n != f->ncode)
      RFAIL_RETURN(r, "section LINE: function %u has %u lines for %u instructions", i, n, f->ncode);
    if (n > r->len - r->pos) {   /* each takes a byte at least */
      r->short_read = true;
      return;
    }
    f->lines = alloc_n(r, n, sizeof(uint32_t));
    int64_t line = 0;
    for (uint32_t pc = 0; pc < n && rd_ok(r); pc++) {
      uint64_t zz = 0;
      int shift = 0;
      uint8_t byte;
      do {
        byte = get_u8(r);
        if (shift > 28) RFAIL_RETURN(r, "section LINE: function %u: a number too long", i);
        zz |= (uint64_t)(byte & 0x7F) << shift;
        shift += 7;
      } while ((byte & 0x80) && rd_ok(r));
      line += (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
      if (line < 0 || line > UINT32_MAX)
        RFAIL_RETURN(r, "section LINE: function %u: line out of range", i);
      f->lines[pc] = (uint32_t)line;
    }
  }
}

/* Reads a count-prefixed list of u32 (or i32) into the arena. */
static uint32_t *get_u32s(Rd *r, uint32_t *n) {
  *n = get_count(r, 4);
  uint32_t *a = alloc_n(r, *n, sizeof *a);
  for (uint32_t i = 0; i < *n && rd_ok(r); i++) a[i] = get_u32(r);
  return a;
}

static void read_tabl(Rd *r) {
  Chunk *c = r->c;
  c->nentities = get_count(r, 16);
  c->entities = alloc_n(r, c->nentities, sizeof *c->entities);
  for (uint32_t i = 0; i < c->nentities && rd_ok(r); i++) {
    EntityDef *e = &c->entities[i];
    e->name = get_str(r);
    e->title = get_str(r);
    e->first_field = get_u32(r);
    e->nfields = get_u32(r);
  }
  c->nfields = get_count(r, 23);
  c->fields = alloc_n(r, c->nfields, sizeof *c->fields);
  for (uint32_t i = 0; i < c->nfields && rd_ok(r); i++) {
    FieldDef *f = &c->fields[i];
    f->name = get_str(r);
    f->title = get_str(r);
    f->type = get_type(r);
    f->entity = get_u16(r);
    f->index = get_u16(r);
    f->computed = get_i32(r);
    f->required = get_u8(r);
    f->builtin = get_u8(r);
    f->readonly = get_u8(r);
  }
  c->nenums = get_count(r, 12);
  c->enums = alloc_n(r, c->nenums, sizeof *c->enums);
  for (uint32_t i = 0; i < c->nenums && rd_ok(r); i++) {
    EnumDefC *e = &c->enums[i];
    e->name = get_str(r);
    e->title = get_str(r);
    e->nvalues = get_count(r, 8);
    e->values = alloc_n(r, e->nvalues, sizeof *e->values);
    e->titles = alloc_n(r, e->nvalues, sizeof *e->titles);
    for (uint32_t k = 0; k < e->nvalues && rd_ok(r); k++) {
      e->values[k] = get_str(r);
      e->titles[k] = get_str(r);
    }
  }
  c->ndirections = get_count(r, 18);
  c->directions = alloc_n(r, c->ndirections, sizeof *c->directions);
  for (uint32_t i = 0; i < c->ndirections && rd_ok(r); i++) {
    DirectionDef *d = &c->directions[i];
    d->name = get_str(r);
    d->title = get_str(r);
    d->entity = get_u16(r);
    d->first_stage = get_u32(r);
    d->nstages = get_u32(r);
  }
  c->nstages = get_count(r, 24);
  c->stages = alloc_n(r, c->nstages, sizeof *c->stages);
  for (uint32_t i = 0; i < c->nstages && rd_ok(r); i++) {
    StageDef *s = &c->stages[i];
    s->name = get_str(r);
    s->title = get_str(r);
    s->kind = get_u8(r);
    s->is_auto = get_u8(r);
    s->direction = get_u16(r);
    s->required = get_u32s(r, &s->nrequired);
    s->require_msg = get_i32(r);
    s->naccess = get_count(r, 5);
    s->access_roles = alloc_n(r, s->naccess, sizeof *s->access_roles);
    s->access_bits = alloc_n(r, s->naccess, sizeof *s->access_bits);
    for (uint32_t k = 0; k < s->naccess && rd_ok(r); k++) {
      s->access_roles[k] = get_u32(r);
      s->access_bits[k] = get_u8(r);
    }
  }
  c->nhandlers = get_count(r, 27);
  c->handlers = alloc_n(r, c->nhandlers, sizeof *c->handlers);
  for (uint32_t i = 0; i < c->nhandlers && rd_ok(r); i++) {
    HandlerDef *h = &c->handlers[i];
    h->when = get_u8(r);
    h->scope = get_u8(r);
    h->once = get_u8(r);
    h->owner = get_u32(r);
    h->event = get_i32(r);
    h->calendar = get_i32(r);
    h->timing = get_i32(r);
    h->fields = get_u32s(r, &h->nfields);
    h->body = get_u32(r);
  }
  c->ntriggers = get_count(r, 17);
  c->triggers = alloc_n(r, c->ntriggers, sizeof *c->triggers);
  for (uint32_t i = 0; i < c->ntriggers && rd_ok(r); i++) {
    TriggerDef *t = &c->triggers[i];
    t->stage = get_u32(r);
    t->event = get_i32(r);
    t->cond = get_i32(r);
    t->may_move_back = get_u8(r);
    t->from = get_u32s(r, &t->nfrom);
  }
  c->nguards = get_count(r, 12);
  c->guards = alloc_n(r, c->nguards, sizeof *c->guards);
  for (uint32_t i = 0; i < c->nguards && rd_ok(r); i++) {
    c->guards[i].stage = get_u32(r);
    c->guards[i].cond = get_u32(r);
    c->guards[i].message = get_u32(r);
  }
  c->nevents = get_count(r, 12);
  c->events = alloc_n(r, c->nevents, sizeof *c->events);
  for (uint32_t i = 0; i < c->nevents && rd_ok(r); i++) {
    EventDefC *e = &c->events[i];
    e->name = get_str(r);
    e->title = get_str(r);
    e->nfields = get_count(r, 8);
    e->fields = alloc_n(r, e->nfields, sizeof *e->fields);
    e->types = alloc_n(r, e->nfields, sizeof *e->types);
    for (uint32_t k = 0; k < e->nfields && rd_ok(r); k++) {
      e->fields[k] = get_str(r);
      e->types[k] = get_type(r);
    }
  }
  c->nroles = get_count(r, 8);
  c->roles = alloc_n(r, c->nroles, sizeof *c->roles);
  for (uint32_t i = 0; i < c->nroles && rd_ok(r); i++) {
    c->roles[i].name = get_str(r);
    c->roles[i].title = get_str(r);
  }
  c->nusers = get_count(r, 16);
  c->users = alloc_n(r, c->nusers, sizeof *c->users);
  for (uint32_t i = 0; i < c->nusers && rd_ok(r); i++) {
    UserDefC *u = &c->users[i];
    u->name = get_str(r);
    u->title = get_str(r);
    u->supervisor = get_i32(r);
    u->roles = get_u32s(r, &u->nroles);
  }
  c->ncalendars = get_count(r, 25);
  c->calendars = alloc_n(r, c->ncalendars, sizeof *c->calendars);
  for (uint32_t i = 0; i < c->ncalendars && rd_ok(r); i++) {
    CalendarDef *cal = &c->calendars[i];
    cal->name = get_str(r);
    cal->title = get_str(r);
    cal->timezone = get_str(r);
    cal->is_default = get_u8(r);
    cal->nhours = get_count(r, 5);
    cal->hours_days = alloc_n(r, cal->nhours, sizeof *cal->hours_days);
    cal->hours_from = alloc_n(r, cal->nhours, sizeof *cal->hours_from);
    cal->hours_to = alloc_n(r, cal->nhours, sizeof *cal->hours_to);
    for (uint32_t k = 0; k < cal->nhours && rd_ok(r); k++) {
      cal->hours_days[k] = get_u8(r);
      cal->hours_from[k] = get_u16(r);
      cal->hours_to[k] = get_u16(r);
    }
    cal->nholidays = get_count(r, 8);
    cal->holiday_from = alloc_n(r, cal->nholidays, sizeof *cal->holiday_from);
    cal->holiday_to = alloc_n(r, cal->nholidays, sizeof *cal->holiday_to);
    for (uint32_t k = 0; k < cal->nholidays && rd_ok(r); k++) {
      cal->holiday_from[k] = get_i32(r);
      cal->holiday_to[k] = get_i32(r);
    }
    cal->workdays = (int32_t *)get_u32s(r, &cal->nworkdays);
  }
  c->nnatives = get_count(r, 14);
  c->natives = alloc_n(r, c->nnatives, sizeof *c->natives);
  for (uint32_t i = 0; i < c->nnatives && rd_ok(r); i++) {
    NativeDef *n = &c->natives[i];
    n->name = get_str(r);
    n->library = get_str(r);
    n->pure = get_u8(r);
    n->nparams = get_u8(r);
    n->params = alloc_n(r, n->nparams, sizeof *n->params);
    for (uint32_t k = 0; k < n->nparams && rd_ok(r); k++) n->params[k] = get_type(r);
    n->ret = get_type(r);
  }
  c->ntests = get_count(r, 8);
  c->tests = alloc_n(r, c->ntests, sizeof *c->tests);
  for (uint32_t i = 0; i < c->ntests && rd_ok(r); i++) {
    c->tests[i].title = get_str(r);
    c->tests[i].func = get_u32(r);
  }
}

/* The sections the reader knows, in the order it decodes them (STRS
** first: the others refer to it; FUNC before CODE and LINE). */
static const struct {
  uint32_t id;
  const char *name;
  bool optional;     /* LINE: absent when stripped */
  void (*read)(Rd *);
} KNOWN[] = {
  {SEC_STRS, "STRS", false, read_strs}, {SEC_PACK, "PACK", false, read_pack},
  {SEC_SRCN, "SRCN", false, read_srcn}, {SEC_CNST, "CNST", false, read_cnst},
  {SEC_FUNC, "FUNC", false, read_func}, {SEC_CODE, "CODE", false, read_code},
  {SEC_LINE, "LINE", true, read_line},  {SEC_TABL, "TABL", false, read_tabl},
};
#define NKNOWN (sizeof KNOWN / sizeof KNOWN[0])

/* A section id for messages: its four letters, or hex if not printable. */
static void id_name(uint32_t id, char out[12]) {
  char s[4] = {(char)id, (char)(id >> 8), (char)(id >> 16), (char)(id >> 24)};
  for (int i = 0; i < 4; i++)
    if (s[i] < 0x21 || s[i] > 0x7E) {
      snprintf(out, 12, "0x%08x", id);
      return;
    }
  memcpy(out, s, 4);
  out[4] = '\0';
}

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Checks, in this order: the size and the magic, the major version, the
** guard, the CRC (a mismatch where the section table reaches past the end
** is reported as a truncation), the section table (every section inside
** the file, behind the table; no known section twice; none missing), then
** decodes each known section with bounds checks, and runs bc_verify. */
Chunk *bc_read(const uint8_t *data, size_t len, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (len < 4 || memcmp(data, MAGIC, 4)) {
    errf(err, errlen, "not a .pipec file");
    return NULL;
  }
  if (len < BC_HEADER_SIZE) {
    errf(err, errlen, "truncated file: %zu bytes, shorter than the header (%d)", len,
         BC_HEADER_SIZE);
    return NULL;
  }
  unsigned major = data[4], minor = data[5];
  if (major > BC_FORMAT_MAJOR) {
    errf(err, errlen, "format %u.%u is newer than this funnel (%d.x): rebuild the pack", major,
         minor, BC_FORMAT_MAJOR);
    return NULL;
  }
  if (major < BC_FORMAT_MAJOR) {
    errf(err, errlen, "format %u.%u is older than this funnel reads (%d.x): rebuild the pack",
         major, minor, BC_FORMAT_MAJOR);
    return NULL;
  }
  if (memcmp(data + 8, GUARD, 6)) {
    errf(err, errlen, "the file is damaged (its line endings were converted as text?)");
    return NULL;
  }
  unsigned nsect = data[14] | data[15] << 8;
  size_t table_end = BC_HEADER_SIZE + 12u * (size_t)nsect;
  if (bc_crc32(0, data + 20, len - 20) != le32(data + 16)) {
    /* say "truncated" when the section table shows it */
    if (table_end > len) {
      errf(err, errlen, "truncated section table (the file has %zu bytes)", len);
      return NULL;
    }
    for (unsigned i = 0; i < nsect; i++) {
      const uint8_t *e = data + BC_HEADER_SIZE + 12 * i;
      if ((uint64_t)le32(e + 4) + le32(e + 8) > len) {
        char nm[12];
        id_name(le32(e), nm);
        errf(err, errlen, "truncated section %s (it ends at byte %llu, the file at %zu)", nm,
             (unsigned long long)le32(e + 4) + le32(e + 8), len);
        return NULL;
      }
    }
    errf(err, errlen, "checksum mismatch: the file is damaged");
    return NULL;
  }
  if (table_end > len) {
    errf(err, errlen, "truncated section table");
    return NULL;
  }
  struct { const uint8_t *p; uint32_t len; bool present; } found[NKNOWN];
  memset(found, 0, sizeof found);
  for (unsigned i = 0; i < nsect; i++) {
    const uint8_t *e = data + BC_HEADER_SIZE + 12 * i;
    uint32_t id = le32(e), off = le32(e + 4), slen = le32(e + 8);
    char nm[12];
    id_name(id, nm);
    if (off < table_end || (uint64_t)off + slen > len) {
      errf(err, errlen, "section %s lies outside the file (bytes %u..+%u of %zu)", nm, off, slen,
           len);
      return NULL;
    }
    for (size_t k = 0; k < NKNOWN; k++) {
      if (KNOWN[k].id != id) continue;
      if (found[k].present) {
        errf(err, errlen, "section %s appears twice", nm);
        return NULL;
      }
      found[k].p = data + off;
      found[k].len = slen;
      found[k].present = true;
    }
  }
  bool stripped = (data[6] | data[7] << 8) & BC_FLAG_STRIPPED;
  for (size_t k = 0; k < NKNOWN; k++) {
    if (!found[k].present && !(KNOWN[k].optional && stripped)) {
      errf(err, errlen, "missing section %s", KNOWN[k].name);
      return NULL;
    }
  }

  Rd r = {0};
  r.c = chunk_new();
  r.err = err;
  r.errlen = errlen;
  r.c->source_hash = (uint64_t)le32(data + 24) | (uint64_t)le32(data + 28) << 32;
  for (size_t k = 0; k < NKNOWN && !r.failed; k++) {
    if (!found[k].present) continue;
    r.p = found[k].p;
    r.len = found[k].len;
    r.pos = 0;
    r.short_read = false;
    r.sect = KNOWN[k].name;
    KNOWN[k].read(&r);
    if (r.failed) break;
    if (r.short_read) rfail(&r, "truncated section %s", KNOWN[k].name);
    else if (r.pos != r.len)
      rfail(&r, "section %s: %zu bytes left over", KNOWN[k].name, r.len - r.pos);
  }
  free(r.strs);
  free(r.strlens);
  if (r.failed || !bc_verify(r.c, err, errlen)) {
    chunk_free(r.c);
    return NULL;
  }
  return r.c;
}

/* ---- files ---------------------------------------------------------------------------------- */

bool bc_is_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  unsigned char m[4] = {0};
  size_t n = fread(m, 1, 4, f);
  fclose(f);
  return n == 4 && !memcmp(m, "\x1bPPC", 4);
}

Chunk *bc_read_file(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = xmalloc(cap);
  for (size_t n; (n = fread(buf + len, 1, cap - len, f)) > 0;) {
    len += n;
    if (len == cap) buf = xrealloc(buf, cap *= 2);
  }
  fclose(f);
  char why[256];
  Chunk *c = bc_read(buf, len, why, sizeof why);
  free(buf);
  if (!c) snprintf(err, errlen, "%s: error: %s", path, why);
  return c;
}
