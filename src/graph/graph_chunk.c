/*
** graph_chunk.c: the diagram's description (graph_int.h) from a compiled
** pack, so that `funnel graph FILE.pipec` draws what `funnel graph
** FILE.pipe` draws, as far as the bytecode tells.
**
** Tables. Directions, stages, entities, fields, enums, events, roles and
** calendars come from the Chunk's tables. The compiler writes "" for a
** missing title and the name for a missing enum title; both read back as
** no title. The chunk keeps only value types, so the standard fields and
** events take their declared types (phone, email, file...) and their
** builtin flag from the standard catalogue, which an empty program's Model
** holds; a field declared in the pack as phone reads back as text.
**
** Arrows, in the order the Model's builder finds them (per direction: its
** handlers, then per stage its triggers and handlers; then entities, then
** the top level):
**   - triggers from TriggerDef: the event's name is the cause; a condition
**     is a function, not text, so it reads "when (condition)";
**   - robots, creates and converts from the bytecode of each handler's
**     body: MOVETO, CREATEIN and CONVERT name their target stage. A move
**     of the current record loads it with LOADSELF just before; any other
**     record makes the action "move FIELD" (a field of the current record)
**     or "move (record)". An instruction that some path from the entry to
**     a return avoids is under a branch: "if (condition)" (a loop's body
**     counts as run, as in the source's diagram).
**     Calls of user functions are followed one level deep; what they do
**     is marked "via fn NAME".
** The cause of a handler is built from HandlerDef (when, event, fields,
** calendar, once), and for after/at/every the timing's source text is
** taken from the body function's name ("stage sales.plan, after 3 days").
*/
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "graph/graph_int.h"
#include "util/strbuf.h"

/* A title from the chunk: "" means none. */
static const char *opt(const char *s) { return s && *s ? s : NULL; }

typedef VEC(int64_t) PcStack;

typedef struct Builder {
  const Chunk *c;
  Desc *d;
  size_t *stage_at;        /* by chunk stage id: its index in Desc.stages */
  GEnum **enum_at;         /* by chunk enum id, made on first use */
  uint8_t *seen;           /* scratch for is_branched, one byte per pc */
  size_t nseen;
  PcStack stack;
} Builder;

/* ---- tables --------------------------------------------------------------- */

static const GEnum *enum_of(Builder *b, uint32_t id) {
  const Chunk *c = b->c;
  if (id >= c->nenums) return NULL;
  if (b->enum_at[id]) return b->enum_at[id];
  const EnumDefC *e = &c->enums[id];
  GEnum *ge = ARENA_NEW(&b->d->arena, GEnum);
  ge->name = e->name;
  /* the compiler stores the name when there is no title */
  ge->title = e->title && strcmp(e->title, e->name) ? opt(e->title) : NULL;
  ge->nvalues = e->nvalues;
  ge->values = arena_alloc(&b->d->arena, (e->nvalues ? e->nvalues : 1) * sizeof *ge->values);
  for (uint32_t i = 0; i < e->nvalues; i++)
    ge->values[i] = (GEnumValue){e->values[i], opt(e->titles[i])};
  b->enum_at[id] = ge;
  return ge;
}

/* The name of a value type, as the checker's type_str writes it. */
static const char *vtype_name(Builder *b, uint8_t kind, uint16_t ref) {
  const Chunk *c = b->c;
  switch (kind) {
  case V_BOOL: return "bool";
  case V_INT: return "int";
  case V_DEC: return "decimal";
  case V_MONEY: return "money";
  case V_DATE: return "date";
  case V_DATETIME: return "datetime";
  case V_DURATION: return "duration";
  case V_TEXT: return "text";
  case V_USER: return "user";
  case V_STAGE: return "stage";
  case V_DIR: return "direction";
  case V_ROLE: return "role";
  case V_OBJ: return "event payload";
  case V_ENUM:
    return arena_printf(&b->d->arena, "enum %s", ref < c->nenums ? c->enums[ref].name : "");
  case V_REC: return ref < c->nentities ? c->entities[ref].name : "record";
  default: return NULL;
  }
}

static const char *type_name(Builder *b, TypeDesc t) {
  if (t.kind != V_LIST) return vtype_name(b, t.kind, t.ref);
  const char *elem = vtype_name(b, t.elem, t.ref);
  return arena_printf(&b->d->arena, "list<%s>", elem ? elem : "?");
}

static GField field_of(Builder *b, const char *name, const char *title, TypeDesc t) {
  GField f = {name, opt(title), type_name(b, t), NULL, false, false, false, false};
  if (t.kind == V_ENUM) f.enm = enum_of(b, t.ref);
  return f;
}

/* The declared type of a standard field or payload field, from the
** standard catalogue; NULL when it has none. */
static const char *std_type(Builder *b, const Field *f) {
  return f && f->type ? type_str(&b->d->arena, f->type) : NULL;
}

static void entities_and_fields(Builder *b, Model *std) {
  const Chunk *c = b->c;
  for (uint32_t k = 0; k < c->nentities; k++) {
    const EntityDef *e = &c->entities[k];
    GEntity ge = {e->name, opt(e->title), {0}, false};
    Entity *se = model_entity(std, e->name);
    for (uint32_t i = e->first_field; i < e->first_field + e->nfields && i < c->nfields; i++) {
      const FieldDef *fd = &c->fields[i];
      GField f = field_of(b, fd->name, fd->title, fd->type);
      f.required = fd->required;
      f.computed = fd->computed >= 0;
      f.builtin = fd->builtin;
      f.readonly = fd->readonly;
      if (fd->builtin && se) {
        const char *t = std_type(b, entity_field(se, fd->name));
        if (t) f.type = t;
      }
      vec_push(&ge.fields, f);
    }
    vec_push(&b->d->entities, ge);
  }
}

static void events(Builder *b, Model *std) {
  const Chunk *c = b->c;
  for (uint32_t i = 0; i < c->nevents; i++) {
    const EventDefC *e = &c->events[i];
    EventDef *se = model_event(std, e->name);
    GEvent ge = {e->name, opt(e->title), se && se->builtin, {0}};
    for (uint32_t k = 0; k < e->nfields; k++) {
      GField f = field_of(b, e->fields[k], NULL, e->types[k]);
      if (ge.builtin) {
        for (size_t j = 0; j < se->fields.len; j++) {
          if (!strcmp(se->fields.items[j]->name, e->fields[k])) {
            const char *t = std_type(b, se->fields.items[j]);
            if (t) f.type = t;
          }
        }
      }
      vec_push(&ge.payload, f);
    }
    vec_push(&b->d->events, ge);
  }
}

static void tables(Builder *b) {
  const Chunk *c = b->c;
  Desc *d = b->d;
  if (opt(c->pack_name)) {
    d->has_pack = true;
    d->pack_name = c->pack_name;
    d->pack_title = opt(c->pack_title);
    d->pack_version = opt(c->pack_version);
  }
  for (uint32_t i = 0; i < c->ndirections; i++) {
    const DirectionDef *dir = &c->directions[i];
    GDirection gd = {dir->name, opt(dir->title),
                     dir->entity < c->nentities ? c->entities[dir->entity].name : NULL,
                     d->stages.len, 0, false};
    for (uint32_t j = 0; j < dir->nstages; j++) {
      uint32_t id = dir->first_stage + j;
      if (id >= c->nstages) break;
      const StageDef *s = &c->stages[id];
      GStage gs = {s->name, opt(s->title), s->kind, s->is_auto != 0, i, j};
      b->stage_at[id] = d->stages.len;
      vec_push(&d->stages, gs);
      gd.nstages++;
    }
    vec_push(&d->dirs, gd);
  }

  /* the standard catalogue: what an empty program knows */
  Program p;
  program_init(&p);
  Model *std = check_program(&p);
  entities_and_fields(b, std);
  events(b, std);
  model_free(std);
  program_free(&p);

  /* named enums: an inline enum is named after its owner, "deal.kind" */
  for (uint32_t i = 0; i < c->nenums; i++)
    if (!strchr(c->enums[i].name, '.')) vec_push(&d->enums, enum_of(b, i));
  for (uint32_t i = 0; i < c->nroles; i++) {
    GNamed r = {c->roles[i].name, opt(c->roles[i].title)};
    vec_push(&d->roles, r);
  }
  for (uint32_t i = 0; i < c->ncalendars; i++) {
    const CalendarDef *cal = &c->calendars[i];
    GCalendar gc = {cal->name, opt(cal->title), opt(cal->timezone), cal->is_default != 0};
    vec_push(&d->calendars, gc);
  }
}

/* ---- arrows ------------------------------------------------------------------ */

/* Can the code of f get from its entry to a return without passing the
** instruction at target? Then that instruction runs only on some paths: it
** is under a branch. A loop's body is taken as run, as the source's
** diagram draws it: a move in a `for` is drawn without a condition (the
** paths through a loop around target enter its body once, then leave). */
/* Is target in the body of the loop whose FORLIST is at pc? */
static bool in_loop(const Func *f, int64_t pc, uint32_t target) {
  return pc < target && target < pc + 1 + GET_sBx(f->code[pc]);
}

static bool is_branched(Builder *b, const Func *f, uint32_t target) {
  if (f->ncode > b->nseen) {
    b->nseen = f->ncode;
    b->seen = xrealloc(b->seen, b->nseen);
  }
  memset(b->seen, 0, f->ncode);
  b->stack.len = 0;
  vec_push(&b->stack, 0);
  while (b->stack.len) {
    int64_t pc = b->stack.items[--b->stack.len];
    if (pc < 0 || pc >= (int64_t)f->ncode) return true;   /* ran off the end: returned */
    if (pc == target || b->seen[pc]) continue;
    b->seen[pc] = 1;
    Instr ins = f->code[pc];
    switch (GET_OP(ins)) {
    case OP_RET: case OP_RET0: return true;
    case OP_JMP: {
      /* the jump back to a loop around target leaves the loop instead */
      int64_t to = pc + 1 + GET_sJ(ins);
      if (to < pc && to >= 0 && GET_OP(f->code[to]) == OP_FORLIST && in_loop(f, to, target))
        to = to + 1 + GET_sBx(f->code[to]);
      vec_push(&b->stack, to);
      break;
    }
    case OP_FORLIST:
      /* a loop around target runs its body at least once */
      vec_push(&b->stack, pc + 1);
      if (!in_loop(f, pc, target)) vec_push(&b->stack, pc + 1 + GET_sBx(ins));
      break;
    case OP_JMPIF: case OP_JMPIFNOT: case OP_JMPNULL: case OP_JMPNOTNULL: case OP_TREFUSE:
      vec_push(&b->stack, pc + 1);
      vec_push(&b->stack, pc + 1 + GET_sBx(ins));
      break;
    default: vec_push(&b->stack, pc + 1); break;
    }
  }
  return false;
}

/* Which record a MOVETO at pc moves: NULL for the current one, else the
** action's text. */
static const char *moved_record(Builder *b, const Func *f, uint32_t pc) {
  int r = GET_A(f->code[pc]);
  if (pc == 0) return "move (record)";
  Instr prev = f->code[pc - 1];
  if (GET_A(prev) != r) return "move (record)";
  switch (GET_OP(prev)) {
  case OP_LOADSELF: return NULL;
  case OP_GETSELF: {
    uint32_t fid = (uint32_t)GET_Bx(prev);
    if (fid < b->c->nfields) return arena_printf(&b->d->arena, "move %s", b->c->fields[fid].name);
    return "move (record)";
  }
  default: return "move (record)";
  }
}

/* The action of a CONVERT at pc: its flags are loaded just before. */
static const char *convert_action(Builder *b, const Func *f, uint32_t pc) {
  enum { WITH_CONTACT = CONV_CONTACT, WITH_COMPANY = CONV_COMPANY };  /* chunk.h */
  if (pc == 0 || GET_OP(f->code[pc - 1]) != OP_LOADI) return "convert";
  int flags = GET_sBx(f->code[pc - 1]);
  if (!(flags & (WITH_CONTACT | WITH_COMPANY))) return "convert";
  return arena_printf(&b->d->arena, "convert with %s%s%s", flags & WITH_CONTACT ? "contact" : "",
                      (flags & WITH_CONTACT) && (flags & WITH_COMPANY) ? ", " : "",
                      flags & WITH_COMPANY ? "company" : "");
}

/* What a handler's arrows share. */
typedef struct Walk {
  GSource from;
  const char *cause;
  const char *event;
} Walk;

static void add(Builder *b, const Walk *w, ArrowKind kind, uint32_t stage, const char *action,
                bool branched, const char *via) {
  if (stage >= b->c->nstages) return;
  if (via)
    action = arena_printf(&b->d->arena, "%s via %s", action ? action : "move", via);
  GArrow a = {kind, w->from, b->stage_at[stage], w->cause, action,
              branched ? "if (condition)" : NULL, w->event, false};
  graph_add_arrow(b->d, a);
}

/* Finds moves, creates and converts in function fi; via names the user
** function when this is a call from a handler (which is not followed
** further), and outer says the call itself is under a branch. */
static void scan(Builder *b, const Walk *w, uint32_t fi, const char *via, bool outer) {
  const Chunk *c = b->c;
  if (fi >= c->nfuncs) return;
  const Func *f = &c->funcs[fi];
  for (uint32_t pc = 0; pc < f->ncode; pc++) {
    Instr ins = f->code[pc];
    uint32_t bx = (uint32_t)GET_Bx(ins);
    switch (GET_OP(ins)) {
    case OP_MOVETO:
      add(b, w, AK_ROBOT, bx, moved_record(b, f, pc), outer || is_branched(b, f, pc), via);
      break;
    case OP_CREATEIN: {
      const char *ent = "record";
      if (bx < c->nstages && c->stages[bx].direction < c->ndirections &&
          c->directions[c->stages[bx].direction].entity < c->nentities)
        ent = c->entities[c->directions[c->stages[bx].direction].entity].name;
      add(b, w, AK_CREATE, bx, arena_printf(&b->d->arena, "create %s", ent),
          outer || is_branched(b, f, pc), via);
      break;
    }
    case OP_CONVERT:
      add(b, w, AK_CONVERT, bx, convert_action(b, f, pc), outer || is_branched(b, f, pc), via);
      break;
    case OP_CALL:
      if (!via && bx < c->nfuncs && c->funcs[bx].kind == FN_USER) {
        const char *name = c->funcs[bx].name ? c->funcs[bx].name : "fn ?";
        scan(b, w, bx, name, outer || is_branched(b, f, pc));
      }
      break;
    default: break;
    }
  }
}

/* The timing of an after/at/every handler as written: the part of its
** body's name after "WHERE, ". */
static const char *timing_text(const Chunk *c, const HandlerDef *h) {
  static const char *const words[] = {[HW_AFTER] = "after", [HW_AT] = "at", [HW_EVERY] = "every"};
  const char *name = h->body < c->nfuncs ? c->funcs[h->body].name : NULL;
  const char *word = words[h->when];
  char pat[16];
  snprintf(pat, sizeof pat, ", %s ", word);
  const char *p = name ? strstr(name, pat) : NULL;
  return p ? p + 2 : word;
}

static const char *handler_cause(Builder *b, const HandlerDef *h) {
  const Chunk *c = b->c;
  Arena *ar = &b->d->arena;
  switch ((HandlerWhen)h->when) {
  case HW_ENTER: return "on enter";
  case HW_LEAVE: return "on leave";
  case HW_CREATE: return "on create";
  case HW_CHANGE: {
    StrBuf sb = {0};
    sb_puts(&sb, "on change ");
    for (uint32_t i = 0; i < h->nfields; i++)
      sb_printf(&sb, "%s%s", h->fields[i] < c->nfields ? c->fields[h->fields[i]].name : "?",
                i + 1 < h->nfields ? ", " : "");
    const char *s = arena_strdup(ar, sb_str(&sb));
    sb_free(&sb);
    return s;
  }
  case HW_EVENT:
    return arena_printf(ar, "on %s",
                        (uint32_t)h->event < c->nevents ? c->events[h->event].name : "?");
  case HW_AFTER: case HW_AT: case HW_EVERY: {
    const char *cal = (uint32_t)h->calendar < c->ncalendars
                          ? arena_printf(ar, " in %s", c->calendars[h->calendar].name) : "";
    const char *once = h->once && h->when != HW_EVERY ? " once" : "";
    return arena_printf(ar, "%s%s%s", timing_text(c, h), cal, once);
  }
  }
  return "?";
}

static void handler_arrows(Builder *b, const HandlerDef *h) {
  const Chunk *c = b->c;
  Walk w = {{SRC_STAGE, 0, NULL}, handler_cause(b, h), NULL};
  if (h->when == HW_EVENT && (uint32_t)h->event < c->nevents) w.event = c->events[h->event].name;
  switch ((HandlerScope)h->scope) {
  case HS_STAGE:
    if (h->owner >= c->nstages) return;
    w.from = (GSource){SRC_STAGE, b->stage_at[h->owner], NULL};
    break;
  case HS_DIRECTION:
    if (h->owner >= c->ndirections) return;
    w.from = (GSource){SRC_DIRECTION, h->owner, NULL};
    break;
  case HS_ENTITY:
    if (h->owner >= c->nentities) return;
    w.from = (GSource){SRC_ENTITY, h->owner, NULL};
    break;
  case HS_TOP:
    if (!w.event) return;   /* only `on event` is top level */
    w.from = (GSource){SRC_EVENT, 0, w.event};
    break;
  default: return;
  }
  scan(b, &w, h->body, NULL, false);
}

static void trigger_arrows(Builder *b, const TriggerDef *t) {
  const Chunk *c = b->c;
  const char *event = (uint32_t)t->event < c->nevents ? c->events[t->event].name : NULL;
  GArrow a = {AK_TRIGGER, {SRC_STAGE, 0, NULL}, b->stage_at[t->stage], event, NULL,
              t->cond >= 0 ? "when (condition)" : NULL, event, t->may_move_back != 0};
  if (t->nfrom) {
    for (uint32_t i = 0; i < t->nfrom; i++) {
      if (t->from[i] >= c->nstages) continue;
      a.from = (GSource){SRC_STAGE, b->stage_at[t->from[i]], NULL};
      graph_add_arrow(b->d, a);
    }
  } else if (event) {
    a.from = (GSource){SRC_EVENT, 0, event};
    graph_add_arrow(b->d, a);
  } else {
    a.from = (GSource){SRC_DIRECTION, c->stages[t->stage].direction, NULL};
    graph_add_arrow(b->d, a);
  }
}

static void handlers_of(Builder *b, HandlerScope scope, uint32_t owner) {
  for (uint32_t i = 0; i < b->c->nhandlers; i++) {
    const HandlerDef *h = &b->c->handlers[i];
    if (h->scope == scope && (scope == HS_TOP || h->owner == owner)) handler_arrows(b, h);
  }
}

static void arrows(Builder *b) {
  const Chunk *c = b->c;
  for (uint32_t i = 0; i < c->ndirections; i++) {
    handlers_of(b, HS_DIRECTION, i);
    const DirectionDef *dir = &c->directions[i];
    uint32_t end = dir->first_stage + dir->nstages;
    for (uint32_t s = dir->first_stage; s < end && s < c->nstages; s++) {
      for (uint32_t k = 0; k < c->ntriggers; k++)
        if (c->triggers[k].stage == s) trigger_arrows(b, &c->triggers[k]);
      handlers_of(b, HS_STAGE, s);
    }
  }
  for (uint32_t e = 0; e < c->nentities; e++) handlers_of(b, HS_ENTITY, e);
  handlers_of(b, HS_TOP, 0);
}

void graph_desc_from_chunk(Desc *d, const Chunk *c) {
  Builder b = {0};
  b.c = c;
  b.d = d;
  b.stage_at = xcalloc(c->nstages + 1, sizeof *b.stage_at);
  b.enum_at = xcalloc(c->nenums + 1, sizeof *b.enum_at);
  tables(&b);
  arrows(&b);
  free(b.stage_at);
  free(b.enum_at);
  free(b.seen);
  vec_free(&b.stack);
}
