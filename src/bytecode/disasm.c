/*
** disasm.c: the listing of a Chunk.
**
**   pack sales "Продажи" version 1.0
**   ...tables...
**   function 3 "stage new, on enter": handler, 0 params, 4 registers, entity deal
**               ; deals.pipe:12 |   move to qualified when score > 50
**        0    12  GETSELF    0 5          ; deal.score
**        1    12  LOADK      1 2          ; 50
**
** Columns: pc, source line ("-" when stripped), opcode, the operands the
** synopsis uses (A B C, or A Bx, or sJ), and a comment resolving them:
** constants as values, functions, stages (dir.stage), entities, fields
** (entity.field), events, builtins by name, jumps as absolute pcs. What an
** operand means comes from bc_op_info, i.e. from opcodes.def.
*/
#include "bytecode/disasm.h"

#include <stdlib.h>
#include <string.h>

#include "bytecode/bcfile.h"
#include "util/strbuf.h"

/* Texts in comments are cut after this many bytes, lists after this many
** items: a comment is a hint, not a dump. */
#define TEXT_SHOWN 48
#define ITEMS_SHOWN 8

static const char *const BUILTIN_NAMES[] = {
#define BUILTIN(id, name, nargs, tests) name,
#include "bytecode/builtins.def"
#undef BUILTIN
};
#define NBUILTIN_NAMES (sizeof BUILTIN_NAMES / sizeof BUILTIN_NAMES[0])

static const char *const FUNC_KINDS[] = {
  "function", "handler", "guard", "trigger", "computed", "moment", "test", "message",
};
static const char *const STAGE_KINDS[] = {"", " (success)", " (failure)"};
static const char *const WHEN_NAMES[] = {
  "on enter", "on leave", "on change", "on event", "on create", "after", "at", "every",
};

static const char *nz(const char *s) { return s ? s : "?"; }

/* Appends s quoted, escaped, cut after TEXT_SHOWN bytes (at a character
** boundary). */
static void quote(StrBuf *b, const char *s, size_t n) {
  size_t shown = n;
  if (shown > TEXT_SHOWN) {
    shown = TEXT_SHOWN;
    while (shown > 0 && ((unsigned char)s[shown] & 0xC0) == 0x80) shown--;
  }
  sb_putc(b, '"');
  for (size_t i = 0; i < shown; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\') sb_printf(b, "\\%c", ch);
    else if (ch == '\n') sb_puts(b, "\\n");
    else if (ch == '\t') sb_puts(b, "\\t");
    else if (ch < 0x20 || ch == 0x7F) sb_printf(b, "\\x%02x", ch);
    else sb_putc(b, (char)ch);
  }
  sb_putc(b, '"');
  if (shown < n) sb_puts(b, "...");
}

static void stage_name(StrBuf *b, const Chunk *c, uint64_t s) {
  if (s >= c->nstages) {
    sb_printf(b, "stage ?%llu", (unsigned long long)s);
    return;
  }
  const StageDef *st = &c->stages[s];
  if (st->direction < c->ndirections) sb_printf(b, "%s.", nz(c->directions[st->direction].name));
  sb_puts(b, nz(st->name));
}

static void field_name(StrBuf *b, const Chunk *c, uint64_t f) {
  if (f >= c->nfields) {
    sb_printf(b, "field ?%llu", (unsigned long long)f);
    return;
  }
  const FieldDef *fd = &c->fields[f];
  if (fd->entity < c->nentities) sb_printf(b, "%s.", nz(c->entities[fd->entity].name));
  sb_puts(b, nz(fd->name));
}

#define NAME_OF(table, n, i) ((uint64_t)(i) < (n) ? nz((table)[i].name) : "?")

static void func_name(StrBuf *b, const Chunk *c, uint64_t f) {
  sb_printf(b, "function %llu", (unsigned long long)f);
  if (f < c->nfuncs) sb_printf(b, " (%s)", nz(c->funcs[f].name));
}

/* A constant as the listing shows it: texts quoted, enum values, stages,
** directions and roles by name, the rest as value_format prints it. */
static void const_text(StrBuf *b, const Chunk *c, const Value *v, int depth) {
  switch (v->type) {
  case V_NULL: sb_puts(b, "null"); return;
  case V_TEXT:
    if (v->u.t) quote(b, v->u.t->s, v->u.t->len);
    return;
  case V_USER:
    sb_puts(b, "user ");
    if (v->u.t) quote(b, v->u.t->s, v->u.t->len);
    return;
  case V_ENUM:
    if (v->aux < c->nenums && v->u.i >= 0 && v->u.i < c->enums[v->aux].nvalues) {
      sb_printf(b, "%s.%s", nz(c->enums[v->aux].name), nz(c->enums[v->aux].values[v->u.i]));
      return;
    }
    break;
  case V_STAGE: stage_name(b, c, (uint64_t)v->u.i); return;
  case V_DIR: sb_printf(b, "direction %s", NAME_OF(c->directions, c->ndirections, v->u.i)); return;
  case V_ROLE: sb_printf(b, "role %s", NAME_OF(c->roles, c->nroles, v->u.i)); return;
  case V_LIST:
    if (!v->u.l || depth > 4) {
      sb_puts(b, "[...]");
      return;
    }
    sb_putc(b, '[');
    for (uint32_t i = 0; i < v->u.l->len; i++) {
      if (i) sb_puts(b, ", ");
      if (i == ITEMS_SHOWN) {
        sb_printf(b, "... %u in all", v->u.l->len);
        break;
      }
      const_text(b, c, &v->u.l->items[i], depth + 1);
    }
    sb_putc(b, ']');
    return;
  case V_OBJ: sb_puts(b, "{...}"); return;
  default: break;
  }
  value_format(b, v);
}

/* The operand comment of slot s (kind k, value x) of the instruction at pc. */
static void operand_note(StrBuf *b, const Chunk *c, BcOperandKind k, int64_t x, uint32_t pc) {
  switch (k) {
  case OPK_CONST:
    if ((uint64_t)x < c->nconsts) const_text(b, c, &c->consts[x], 0);
    else sb_printf(b, "constant ?%lld", (long long)x);
    break;
  case OPK_FUNC: func_name(b, c, (uint64_t)x); break;
  case OPK_STAGE: stage_name(b, c, (uint64_t)x); break;
  case OPK_ENTITY: sb_puts(b, NAME_OF(c->entities, c->nentities, x)); break;
  case OPK_FIELD: field_name(b, c, (uint64_t)x); break;
  case OPK_EVENT: sb_printf(b, "event %s", NAME_OF(c->events, c->nevents, x)); break;
  case OPK_NATIVE: sb_printf(b, "native %s", NAME_OF(c->natives, c->nnatives, x)); break;
  case OPK_BUILTIN:
    sb_puts(b, (uint64_t)x < NBUILTIN_NAMES ? BUILTIN_NAMES[x] : "builtin ?");
    break;
  case OPK_JUMP: sb_printf(b, "to %lld", (long long)pc + 1 + x); break;
  default: break;
  }
}

static void print_instr(FILE *out, const Chunk *c, const Func *f, uint32_t pc) {
  Instr ins = f->code[pc];
  char line[16] = "-";
  if (f->lines) snprintf(line, sizeof line, "%u", f->lines[pc]);
  OpCode op = GET_OP(ins);
  if (op >= OP__COUNT) {
    fprintf(out, "%6u %5s  ?%-9u  0x%08x\n", pc, line, (unsigned)op, ins);
    return;
  }
  BcOpInfo o;
  bc_op_info(op, &o);
  int64_t val[4];
  bc_operands(ins, val);
  StrBuf ops = {0}, note = {0};
  for (int s = 0; s < 4; s++) {
    if (o.kind[s] == OPK_NONE) continue;
    sb_printf(&ops, "%s%lld", ops.len ? " " : "", (long long)val[s]);
    size_t before = note.len;
    if (note.len) sb_puts(&note, ", ");
    size_t mark = note.len;
    operand_note(&note, c, (BcOperandKind)o.kind[s], val[s], pc);
    if (note.len == mark) {   /* nothing to say about this one */
      note.len = before;
      if (note.s) note.s[note.len] = '\0';
    }
  }
  if (note.len)
    fprintf(out, "%6u %5s  %-10s %-12s ; %s\n", pc, line, op_names[op], sb_str(&ops), sb_str(&note));
  else if (ops.len)
    fprintf(out, "%6u %5s  %-10s %s\n", pc, line, op_names[op], sb_str(&ops));
  else
    fprintf(out, "%6u %5s  %s\n", pc, line, op_names[op]);
  sb_free(&ops);
  sb_free(&note);
}

static void print_tables(FILE *out, const Chunk *c) {
  if (c->nfiles) {
    fprintf(out, "files:");
    for (uint32_t i = 0; i < c->nfiles; i++) fprintf(out, " %s", nz(c->files[i]));
    fprintf(out, "\n");
  }
  StrBuf b = {0};
  if (c->nentities) fprintf(out, "entities:\n");
  for (uint32_t i = 0; i < c->nentities; i++) {
    const EntityDef *e = &c->entities[i];
    fprintf(out, "  %u %s", i, nz(e->name));
    if (e->title) fprintf(out, " \"%s\"", e->title);
    if (e->nfields) fprintf(out, ": fields %u..%u\n", e->first_field, e->first_field + e->nfields - 1);
    else fprintf(out, ": no fields\n");
  }
  if (c->ndirections) fprintf(out, "directions:\n");
  for (uint32_t i = 0; i < c->ndirections; i++) {
    const DirectionDef *d = &c->directions[i];
    fprintf(out, "  %u %s", i, nz(d->name));
    if (d->title) fprintf(out, " \"%s\"", d->title);
    fprintf(out, " (%s):", NAME_OF(c->entities, c->nentities, d->entity));
    for (uint32_t k = 0; k < d->nstages; k++) {
      uint64_t s = (uint64_t)d->first_stage + k;
      if (s >= c->nstages) break;
      const StageDef *st = &c->stages[s];
      fprintf(out, "%s %llu %s%s%s", k ? "," : "", (unsigned long long)s, nz(st->name),
              st->kind < 3 ? STAGE_KINDS[st->kind] : "", st->is_auto ? " auto" : "");
    }
    fprintf(out, "\n");
  }
  if (c->nhandlers) fprintf(out, "handlers:\n");
  for (uint32_t i = 0; i < c->nhandlers; i++) {
    const HandlerDef *h = &c->handlers[i];
    sb_clear(&b);
    switch (h->scope) {
    case HS_STAGE: sb_puts(&b, "stage "); stage_name(&b, c, h->owner); break;
    case HS_DIRECTION:
      sb_printf(&b, "direction %s", NAME_OF(c->directions, c->ndirections, h->owner));
      break;
    case HS_ENTITY: sb_printf(&b, "entity %s", NAME_OF(c->entities, c->nentities, h->owner)); break;
    default: sb_puts(&b, "top level"); break;
    }
    fprintf(out, "  %u %s, %s", i, sb_str(&b), h->when <= HW_EVERY ? WHEN_NAMES[h->when] : "?");
    if (h->event >= 0) fprintf(out, " %s", NAME_OF(c->events, c->nevents, h->event));
    if (h->once) fprintf(out, " once");
    if (h->timing >= 0) fprintf(out, " (timing: function %d)", h->timing);
    sb_clear(&b);
    func_name(&b, c, h->body);
    fprintf(out, " -> %s\n", sb_str(&b));
  }
  if (c->ntriggers) fprintf(out, "triggers:\n");
  for (uint32_t i = 0; i < c->ntriggers; i++) {
    const TriggerDef *t = &c->triggers[i];
    sb_clear(&b);
    stage_name(&b, c, t->stage);
    fprintf(out, "  %u -> %s", i, sb_str(&b));
    if (t->event >= 0) fprintf(out, " on %s", NAME_OF(c->events, c->nevents, t->event));
    if (t->cond >= 0) fprintf(out, " when function %d", t->cond);
    if (t->nfrom) {
      fprintf(out, " from");
      for (uint32_t k = 0; k < t->nfrom; k++) {
        sb_clear(&b);
        stage_name(&b, c, t->from[k]);
        fprintf(out, "%s %s", k ? "," : "", sb_str(&b));
      }
    }
    fprintf(out, "%s\n", t->may_move_back ? " (may move back)" : "");
  }
  if (c->nguards) fprintf(out, "guards:\n");
  for (uint32_t i = 0; i < c->nguards; i++) {
    sb_clear(&b);
    stage_name(&b, c, c->guards[i].stage);
    fprintf(out, "  %u %s: function %u, message function %u\n", i, sb_str(&b), c->guards[i].cond,
            c->guards[i].message);
  }
  if (c->nevents) fprintf(out, "events:");
  for (uint32_t i = 0; i < c->nevents; i++) fprintf(out, " %s", nz(c->events[i].name));
  if (c->nevents) fprintf(out, "\n");
  if (c->nroles) fprintf(out, "roles:");
  for (uint32_t i = 0; i < c->nroles; i++) fprintf(out, " %s", nz(c->roles[i].name));
  if (c->nroles) fprintf(out, "\n");
  if (c->nusers) fprintf(out, "users:");
  for (uint32_t i = 0; i < c->nusers; i++) fprintf(out, " %s", nz(c->users[i].name));
  if (c->nusers) fprintf(out, "\n");
  if (c->ncalendars) fprintf(out, "calendars:");
  for (uint32_t i = 0; i < c->ncalendars; i++)
    fprintf(out, " %s%s", nz(c->calendars[i].name),
            (int64_t)i == c->default_calendar ? " (default)" : "");
  if (c->ncalendars) fprintf(out, "\n");
  if (c->nnatives) fprintf(out, "natives:");
  for (uint32_t i = 0; i < c->nnatives; i++)
    fprintf(out, " %s(%s)", nz(c->natives[i].name), c->natives[i].library ? c->natives[i].library : "");
  if (c->nnatives) fprintf(out, "\n");
  if (c->ntests) fprintf(out, "tests:\n");
  for (uint32_t i = 0; i < c->ntests; i++) {
    sb_clear(&b);
    func_name(&b, c, c->tests[i].func);
    fprintf(out, "  %u \"%s\" -> %s\n", i, c->tests[i].title ? c->tests[i].title : "", sb_str(&b));
  }
  if (c->nconsts) fprintf(out, "constants:\n");
  for (uint32_t i = 0; i < c->nconsts; i++) {
    sb_clear(&b);
    const_text(&b, c, &c->consts[i], 0);
    fprintf(out, "  %u %s\n", i, sb_str(&b));
  }
  sb_free(&b);
}

/* The source text of chunk file i: from srcs by name, else from disk
** (loaded into own), else NULL. */
static const SrcFile *find_source(const Chunk *c, uint32_t i, const SrcSet *srcs, SrcSet *own) {
  if (i >= c->nfiles || !c->files[i]) return NULL;
  const char *name = c->files[i];
  for (size_t k = 0; srcs && k < srcs->len; k++) {
    const SrcFile *f = srcs->files[k];
    if ((f->name && !strcmp(f->name, name)) || (f->path && !strcmp(f->path, name))) return f;
  }
  for (size_t k = 0; k < own->len; k++)
    if (!strcmp(own->files[k]->name, name)) return own->files[k];
  int id = srcset_load(own, name, name);
  return id < 0 ? NULL : srcset_get(own, (uint32_t)id);
}

void bc_disasm(FILE *out, const Chunk *c, const SrcSet *srcs) {
  fprintf(out, "pack %s", c->pack_name ? c->pack_name : "(unnamed)");
  if (c->pack_title) fprintf(out, " \"%s\"", c->pack_title);
  if (c->pack_version) fprintf(out, " version %s", c->pack_version);
  fprintf(out, "\n  %u functions, %u constants, %u entities, %u fields, %u enums, "
               "%u directions, %u stages, %u handlers, %u triggers, %u guards, %u events, "
               "%u roles, %u users, %u calendars, %u natives, %u tests\n",
          c->nfuncs, c->nconsts, c->nentities, c->nfields, c->nenums, c->ndirections, c->nstages,
          c->nhandlers, c->ntriggers, c->nguards, c->nevents, c->nroles, c->nusers, c->ncalendars,
          c->nnatives, c->ntests);
  print_tables(out, c);

  SrcSet own;
  srcset_init(&own);
  /* sources are looked up once per chunk file, lazily */
  const SrcFile **src = xcalloc(c->nfiles ? c->nfiles : 1, sizeof *src);
  bool *tried = xcalloc(c->nfiles ? c->nfiles : 1, sizeof *tried);
  for (uint32_t i = 0; i < c->nfuncs; i++) {
    const Func *f = &c->funcs[i];
    fprintf(out, "\nfunction %u \"%s\": %s, %u params, %u registers", i, nz(f->name),
            f->kind < sizeof FUNC_KINDS / sizeof FUNC_KINDS[0] ? FUNC_KINDS[f->kind] : "?",
            f->nparams, f->nregs);
    if (f->entity >= 0) fprintf(out, ", entity %s", NAME_OF(c->entities, c->nentities, f->entity));
    if (f->event >= 0) fprintf(out, ", event %s", NAME_OF(c->events, c->nevents, f->event));
    if (f->file < c->nfiles) fprintf(out, ", %s", nz(c->files[f->file]));
    fprintf(out, "\n");
    const SrcFile *sf = NULL;
    if (f->lines && f->file < c->nfiles) {
      if (!tried[f->file]) {
        tried[f->file] = true;
        src[f->file] = find_source(c, f->file, srcs, &own);
      }
      sf = src[f->file];
    }
    uint32_t shown = 0;   /* the last source line printed */
    for (uint32_t pc = 0; pc < f->ncode && f->code; pc++) {
      if (sf && f->lines[pc] && f->lines[pc] <= sf->nlines && f->lines[pc] != shown) {
        size_t n;
        const char *text = src_line_text(sf, f->lines[pc], &n);
        fprintf(out, "              ; %s:%u | %.*s\n", sf->name, f->lines[pc], (int)n, text);
        shown = f->lines[pc];
      }
      print_instr(out, c, f, pc);
    }
  }
  free(src);
  free(tried);
  srcset_free(&own);
}
