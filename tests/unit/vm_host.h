/*
** vm_host.h: an in-memory VmHost (src/vm/vm.h) for the VM's tests and
** benchmarks. Self-contained: every function is static, so a program
** includes this header once and links libfunnel.
**
** The host keeps records (entity kind, id, stage, field values by global
** field id) and users in memory, applies every effect at once and logs
** it. It is deliberately dumb: no guards, no required fields, no handlers,
** no triggers. A test that wants a refusal says so (vh_refuse_move), one
** that wants a store failure too (vh_fail_field).
**
**   VhHost h;
**   vh_init(&h, chunk, clock);                  the chunk's users are known
**   Value d = vh_record(&h, "deal", "sales.new");
**   vh_set(&h, d, vh_field(chunk, "deal", "sum"), v_money(150000, 0));
**   Vm vm;
**   vm_init(&vm, chunk, &h.host);
**   vm_run(&vm, vh_func(chunk, "stage sales.new, on enter"), NULL, 0, d,
**          v_null(), h.clock, &result);
**   char *log = vh_log_text(&h);                one line per effect (heap)
**   vm_free(&vm);
**   vh_free(&h);
**
** Memory: values the host keeps are deep-copied into its own arena; values
** it hands the VM are copied into the run's scratch arena (so they count
** against the run's memory limit and the VM may do what it likes with
** them).
**
** Effects: SETFIELD, MOVETO, CREATE, CREATEIN (with the fields of the
** creation's object), DELETE and CONVERT change the records (a move sets
** the stage and its entry time); NOTIFY, TASK, MESSAGE, DOCUMENT, WEBHOOK
** and TEMIT are only logged; ASK is answered from vh_answer, matched by
** the question's variable name or a substring of its text, or waits
** (HOST_WAIT, also when nothing matches); TCLOCK and TADVANCE move the
** host's clock and give the new moment as the effect's result; TUSER
** declares a user; TANSWER is logged and stored as an answer under its
** name. effects_of builds the lists tests read (notifications(u),
** tasks(u), questions(u), messages(rec), documents(rec), webhooks()):
** objects with the keys "kind", "text", "user", "at", and "due",
** "channel", "title" where they apply; a notification or task for a role
** counts for every user with that role.
**
** The log line of an effect, as vh_log_text writes it:
**   set deal#1.n = 5                    move deal#1 to sales.won
**   create deal#2 in sales.new {sum: 100.00 RUB}
**   create contact#3 {name: "x"}        delete deal#1
**   notify ivanov "text"                notify role manager "text"
**   task ivanov "text" due 2 hours      message email to contact#1 "text"
**   document invoice "tmpl" {a: 1}      webhook "https://..." {x: 1}
**   convert lead#1 into sales.new with contact
**   ask ivanov "Agree?" -> true         ask ivanov "Agree?" (waits)
**   refused move deal#1 to sales.won: message
**   clock 2026-01-12 07:00              advance 3 days
**   emit email.read to deal#1 {subject: "x"}
**   answer deal#1 split = true          user boss [role head] supervisor petrov
** each followed by "  @ FUNCTION:LINE". Stages print as dir.stage, enum
** values by name, datetimes in UTC.
*/
#ifndef FUNNEL_VM_HOST_H
#define FUNNEL_VM_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytecode/chunk.h"
#include "util/arena.h"
#include "util/strbuf.h"
#include "util/tz.h"
#include "vm/value.h"
#include "vm/vm.h"

/* Builtin ids (builtins.def), for effects_of. */
enum {
#define BUILTIN(id, name, nargs, test) VH_B_##id,
#include "bytecode/builtins.def"
#undef BUILTIN
  VH_B__COUNT
};

typedef struct VhRec {
  uint16_t kind;       /* entity */
  int64_t id;          /* 1, 2, ... across all entities */
  int32_t stage;       /* stage id, -1 for none */
  bool deleted;
  int64_t created, entered;
  Value *vals;         /* by global field id (Chunk.nfields entries) */
} VhRec;

typedef struct VhUser {
  const char *name, *title;
  const char *supervisor;  /* a user name or NULL */
  const char *email, *phone;
  uint32_t nroles;
  uint32_t roles[16];
} VhUser;

typedef struct VhEntry {
  OpCode op;
  Value rec;
  uint32_t index;
  Value a, b, c, d;
  Value result;        /* a created record, an answer */
  HostStatus status;   /* what the host said */
  const char *msg;     /* the refusal's message */
  int64_t at;          /* the host's clock then */
  const char *func;
  uint32_t line;
} VhEntry;

typedef struct VhAnswer {
  const char *question;  /* a substring of the question, or (TANSWER) a name */
  Value value;
  bool wait;             /* say HOST_WAIT */
} VhAnswer;

typedef struct VhRefusal {
  int32_t stage;       /* moves into this stage are refused */
  const char *msg;
} VhRefusal;

typedef struct VhHost {
  const Chunk *ch;
  Arena arena;         /* every value and string the host keeps */
  VhRec *recs;
  size_t nrecs, caprecs;
  VhUser *users;
  size_t nusers, capusers;
  VhEntry *log;
  size_t nlog, caplog;
  VhAnswer *answers;
  size_t nanswers, capanswers;
  VhRefusal refusals[8];
  int nrefusals;
  int64_t fail_field;  /* get_field of this field id fails (HOST_ERROR); -1 none */
  int64_t clock;       /* seconds since the epoch, UTC */
  VmHost host;         /* the interface to hand vm_init; ud = this */
} VhHost;

/* ---- growing arrays -------------------------------------------------------- */

#define VH_GROW(arr, n, cap)                                             \
  do {                                                                   \
    if ((n) == (cap)) {                                                  \
      (cap) = (cap) ? 2 * (cap) : 16;                                    \
      (arr) = xrealloc((arr), (cap) * sizeof *(arr));                    \
    }                                                                    \
  } while (0)

/* ---- lookups in the chunk --------------------------------------------------- */

/* The global id of field `name` of entity `entity`, or -1. */
static inline int32_t vh_field(const Chunk *ch, const char *entity, const char *name) {
  for (uint32_t k = 0; k < ch->nentities; k++) {
    const EntityDef *e = &ch->entities[k];
    if (strcmp(e->name, entity)) continue;
    for (uint32_t i = 0; i < e->nfields; i++)
      if (!strcmp(ch->fields[e->first_field + i].name, name)) return (int32_t)(e->first_field + i);
  }
  return -1;
}

/* The id of stage "dir.stage", or -1. */
static inline int32_t vh_stage(const Chunk *ch, const char *path) {
  const char *dot = strchr(path, '.');
  if (!dot) return -1;
  size_t dl = (size_t)(dot - path);
  for (uint32_t s = 0; s < ch->nstages; s++) {
    const char *dn = ch->directions[ch->stages[s].direction].name;
    if (strlen(dn) == dl && !strncmp(dn, path, dl) && !strcmp(ch->stages[s].name, dot + 1))
      return (int32_t)s;
  }
  return -1;
}

/* The index of the function named `name` ("fn f", "computed deal.x",
** "stage sales.new, on enter", "test \"title\""), or -1. */
static inline int32_t vh_func(const Chunk *ch, const char *name) {
  for (uint32_t f = 0; f < ch->nfuncs; f++)
    if (ch->funcs[f].name && !strcmp(ch->funcs[f].name, name)) return (int32_t)f;
  return -1;
}

static inline int32_t vh_entity(const Chunk *ch, const char *name) {
  for (uint32_t k = 0; k < ch->nentities; k++)
    if (!strcmp(ch->entities[k].name, name)) return (int32_t)k;
  return -1;
}

/* ---- records and users -------------------------------------------------------- */

static inline VhRec *vh_find(VhHost *h, Value rec) {
  if (rec.type != V_REC || rec.u.i < 1 || (size_t)rec.u.i > h->nrecs) return NULL;
  VhRec *r = &h->recs[rec.u.i - 1];
  return r->kind == rec.aux ? r : NULL;
}

static inline Value vh_rec_value(const VhRec *r) {
  Value v = {0};
  v.type = V_REC;
  v.aux = r->kind;
  v.u.i = r->id;
  return v;
}

static inline VhRec *vh_new_rec(VhHost *h, uint16_t kind, int32_t stage) {
  VH_GROW(h->recs, h->nrecs, h->caprecs);
  VhRec *r = &h->recs[h->nrecs++];
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->id = (int64_t)h->nrecs;
  r->stage = stage;
  r->created = r->entered = h->clock;
  r->vals = arena_alloc(&h->arena, (h->ch->nfields ? h->ch->nfields : 1) * sizeof(Value));
  return r;
}

/* A new record of `entity`, in stage "dir.stage" (or NULL), made directly
** (not an effect: not logged). */
static inline Value vh_record(VhHost *h, const char *entity, const char *stage) {
  int32_t k = vh_entity(h->ch, entity);
  int32_t s = stage ? vh_stage(h->ch, stage) : -1;
  if (k < 0 || (stage && s < 0)) {
    fprintf(stderr, "vh_record: no %s %s\n", entity, stage ? stage : "");
    abort();
  }
  return vh_rec_value(vh_new_rec(h, (uint16_t)k, s));
}

/* Sets a stored field directly (not logged). */
static inline void vh_set(VhHost *h, Value rec, int32_t field, Value v) {
  VhRec *r = vh_find(h, rec);
  if (!r || field < 0 || (uint32_t)field >= h->ch->nfields) {
    fprintf(stderr, "vh_set: no record or field %d\n", (int)field);
    abort();
  }
  r->vals[field] = value_copy(&h->arena, &v);
}

/* A stored field as the host keeps it (null for none). */
static inline Value vh_get(VhHost *h, Value rec, int32_t field) {
  VhRec *r = vh_find(h, rec);
  if (!r || field < 0 || (uint32_t)field >= h->ch->nfields) return v_null();
  return r->vals[field];
}

static inline Value vh_text(VhHost *h, const char *s) {
  return v_text(text_new(&h->arena, s, strlen(s)));
}

static inline Value vh_user_value(Arena *a, const char *name) {
  Value v = v_text(text_new(a, name, strlen(name)));
  v.type = V_USER;
  return v;
}

static inline VhUser *vh_user(VhHost *h, const char *name) {
  for (size_t i = 0; i < h->nusers; i++)
    if (!strcmp(h->users[i].name, name)) return &h->users[i];
  return NULL;
}

/* Declares (or redeclares) a user; returns it for roles, e-mail, phone. */
static inline VhUser *vh_add_user(VhHost *h, const char *name, const char *title,
                                  const char *supervisor) {
  VhUser *u = vh_user(h, name);
  if (!u) {
    VH_GROW(h->users, h->nusers, h->capusers);
    u = &h->users[h->nusers++];
  }
  memset(u, 0, sizeof *u);
  u->name = arena_strdup(&h->arena, name);
  u->title = title ? arena_strdup(&h->arena, title) : NULL;
  u->supervisor = supervisor ? arena_strdup(&h->arena, supervisor) : NULL;
  return u;
}

static inline void vh_user_role(VhUser *u, uint32_t role) {
  if (u->nroles < sizeof u->roles / sizeof *u->roles) u->roles[u->nroles++] = role;
}

/* ---- configuration ------------------------------------------------------------- */

/* Moves into "dir.stage" are refused with `msg`. */
static inline void vh_refuse_move(VhHost *h, const char *stage, const char *msg) {
  if (h->nrefusals >= (int)(sizeof h->refusals / sizeof *h->refusals)) return;
  h->refusals[h->nrefusals].stage = vh_stage(h->ch, stage);
  h->refusals[h->nrefusals++].msg = arena_strdup(&h->arena, msg);
}

/* A question containing `question` is answered with v. */
static inline void vh_answer(VhHost *h, const char *question, Value v) {
  VH_GROW(h->answers, h->nanswers, h->capanswers);
  h->answers[h->nanswers++] =
      (VhAnswer){arena_strdup(&h->arena, question), value_copy(&h->arena, &v), false};
}

/* A question containing `question` has no answer yet: the run suspends. */
static inline void vh_wait(VhHost *h, const char *question) {
  VH_GROW(h->answers, h->nanswers, h->capanswers);
  h->answers[h->nanswers++] = (VhAnswer){arena_strdup(&h->arena, question), v_null(), true};
}

/* Reading this field fails as a broken store would (HOST_ERROR). */
static inline void vh_fail_field(VhHost *h, int32_t field) { h->fail_field = field; }

/* ---- formatting ------------------------------------------------------------------ */

static inline void vh_format(const VhHost *h, StrBuf *b, const Value *v) {
  const Chunk *ch = h->ch;
  switch (v->type) {
  case V_STAGE:
    if ((uint64_t)v->u.i < ch->nstages) {
      const StageDef *s = &ch->stages[v->u.i];
      sb_printf(b, "%s.%s", ch->directions[s->direction].name, s->name);
      return;
    }
    break;
  case V_DIR:
    if ((uint64_t)v->u.i < ch->ndirections) {
      sb_puts(b, ch->directions[v->u.i].name);
      return;
    }
    break;
  case V_ROLE:
    if ((uint64_t)v->u.i < ch->nroles) {
      sb_printf(b, "role %s", ch->roles[v->u.i].name);
      return;
    }
    break;
  case V_ENUM:
    if (v->aux < ch->nenums && (uint64_t)v->u.i < ch->enums[v->aux].nvalues) {
      sb_puts(b, ch->enums[v->aux].values[v->u.i]);
      return;
    }
    break;
  case V_TEXT:
    sb_putc(b, '"');
    value_format(b, v);
    sb_putc(b, '"');
    return;
  case V_LIST:
    sb_putc(b, '[');
    for (uint32_t i = 0; i < v->u.l->len; i++) {
      if (i) sb_puts(b, ", ");
      vh_format(h, b, &v->u.l->items[i]);
    }
    sb_putc(b, ']');
    return;
  case V_OBJ:
    sb_putc(b, '{');
    for (uint32_t i = 0; i < v->u.o->len; i++) {
      sb_printf(b, "%s%s: ", i ? ", " : "", v->u.o->keys[i]);
      vh_format(h, b, &v->u.o->vals[i]);
    }
    sb_putc(b, '}');
    return;
  case V_NULL: sb_puts(b, "null"); return;
  default: break;
  }
  value_format(b, v);
}

static inline void vh_stage_name(const VhHost *h, StrBuf *b, uint32_t stage) {
  vh_format(h, b, &(Value){.type = V_STAGE, .u.i = stage});
}

static inline void vh_entry_text(const VhHost *h, StrBuf *b, const VhEntry *e) {
  const Chunk *ch = h->ch;
  if (e->status == HOST_REFUSED) sb_puts(b, "refused ");
  switch (e->op) {
  case OP_SETFIELD:
    sb_puts(b, "set ");
    vh_format(h, b, &e->rec);
    sb_printf(b, ".%s = ", e->index < ch->nfields ? ch->fields[e->index].name : "?");
    vh_format(h, b, &e->a);
    break;
  case OP_MOVETO:
    sb_puts(b, "move ");
    vh_format(h, b, &e->rec);
    sb_puts(b, " to ");
    vh_stage_name(h, b, e->index);
    break;
  case OP_CREATE:
  case OP_CREATEIN:
    sb_puts(b, "create ");
    vh_format(h, b, &e->result);
    if (e->op == OP_CREATEIN) {
      sb_puts(b, " in ");
      vh_stage_name(h, b, e->index);
    }
    if (e->a.type == V_OBJ) {
      sb_putc(b, ' ');
      vh_format(h, b, &e->a);
    }
    break;
  case OP_DELETE:
    sb_puts(b, "delete ");
    vh_format(h, b, &e->rec);
    break;
  case OP_NOTIFY:
    sb_puts(b, "notify ");
    vh_format(h, b, &e->a);
    sb_putc(b, ' ');
    vh_format(h, b, &e->b);
    break;
  case OP_TASK:
    sb_puts(b, "task ");
    vh_format(h, b, &e->a);
    sb_putc(b, ' ');
    vh_format(h, b, &e->b);
    if (e->c.type != V_NULL) {
      sb_puts(b, " due ");
      vh_format(h, b, &e->c);
    }
    if (e->d.type == V_INT && (uint64_t)e->d.u.i < ch->ncalendars)
      sb_printf(b, " in %s", ch->calendars[e->d.u.i].name);
    break;
  case OP_MESSAGE:
    sb_puts(b, "message ");
    value_format(b, &e->a);
    if (e->b.type != V_NULL) {
      sb_puts(b, " to ");
      vh_format(h, b, &e->b);
    }
    sb_putc(b, ' ');
    vh_format(h, b, &e->c);
    break;
  case OP_DOCUMENT:
    sb_puts(b, "document ");
    value_format(b, &e->a);
    sb_putc(b, ' ');
    vh_format(h, b, &e->b);
    sb_putc(b, ' ');
    vh_format(h, b, &e->c);
    break;
  case OP_WEBHOOK:
    sb_puts(b, "webhook ");
    vh_format(h, b, &e->a);
    sb_putc(b, ' ');
    vh_format(h, b, &e->b);
    break;
  case OP_CONVERT:
    sb_puts(b, "convert ");
    vh_format(h, b, &e->rec);
    sb_puts(b, " into ");
    vh_stage_name(h, b, e->index);
    if (e->a.type == V_INT && (e->a.u.i & CONV_CONTACT)) sb_puts(b, " with contact");
    if (e->a.type == V_INT && (e->a.u.i & CONV_COMPANY)) sb_puts(b, " with company");
    break;
  case OP_ASK:
    sb_puts(b, "ask ");
    vh_format(h, b, &e->a);
    sb_putc(b, ' ');
    vh_format(h, b, &e->b);
    if (e->status == HOST_WAIT) {
      sb_puts(b, " (waits)");
    } else {
      sb_puts(b, " -> ");
      vh_format(h, b, &e->result);
    }
    break;
  case OP_TCLOCK:
    sb_puts(b, "clock ");
    vh_format(h, b, &e->a);
    break;
  case OP_TADVANCE:
    sb_puts(b, e->index ? "advance to " : "advance ");
    vh_format(h, b, &e->a);
    break;
  case OP_TEMIT:
    sb_printf(b, "emit %s", e->index < ch->nevents ? ch->events[e->index].name : "?");
    if (e->rec.type != V_NULL) {
      sb_puts(b, " to ");
      vh_format(h, b, &e->rec);
    }
    sb_putc(b, ' ');
    vh_format(h, b, &e->a);
    break;
  case OP_TANSWER:
    sb_puts(b, "answer ");
    vh_format(h, b, &e->rec);
    sb_putc(b, ' ');
    value_format(b, &e->b);
    sb_puts(b, " = ");
    vh_format(h, b, &e->a);
    break;
  case OP_TUSER:
    sb_puts(b, "user ");
    value_format(b, &e->c);
    sb_putc(b, ' ');
    vh_format(h, b, &e->a);
    if (e->b.type != V_NULL) {
      sb_puts(b, " supervisor ");
      value_format(b, &e->b);
    }
    break;
  default: sb_printf(b, "op %d", (int)e->op); break;
  }
  if (e->status == HOST_REFUSED) sb_printf(b, ": %s", e->msg ? e->msg : "");
  sb_printf(b, "  @ %s:%u", e->func ? e->func : "?", e->line);
}

/* The log, one line per effect (heap; free it). */
static inline char *vh_log_text(const VhHost *h) {
  StrBuf b = {0};
  for (size_t i = 0; i < h->nlog; i++) {
    vh_entry_text(h, &b, &h->log[i]);
    sb_putc(&b, '\n');
  }
  char *s = xstrdup(sb_str(&b));
  sb_free(&b);
  return s;
}

/* ---- time -------------------------------------------------------------------------- */

static inline const char *vh_zone(const VhHost *h) {
  const Chunk *ch = h->ch;
  return ch->default_calendar >= 0 ? ch->calendars[ch->default_calendar].timezone : "Europe/Moscow";
}

/* The UTC moment of local midnight of `day` in the pack's zone. */
static inline int64_t vh_day_start(const VhHost *h, int64_t day) {
  int64_t utc;
  if (!tz_local_to_utc(vh_zone(h), day * 86400, &utc)) utc = day * 86400;
  return utc;
}

/* t plus a calendar duration, in the pack's zone (working time counts as
** calendar time here: the test host has no calendars). */
static inline int64_t vh_add(const VhHost *h, int64_t t, const Value *d) {
  int32_t off = 0;
  if (!tz_offset_at(vh_zone(h), t, &off)) off = 0;
  int64_t local = t + off;
  int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400), sod = local - day * 86400;
  if (d->flags & VF_WORK) return t + (int64_t)d->aux32 * 86400 + d->u.i * 60;
  day = date_add_months(day, (int16_t)d->aux) + d->aux32;
  int64_t utc;
  if (!tz_local_to_utc(vh_zone(h), day * 86400 + sod, &utc)) utc = day * 86400 + sod - off;
  return utc + d->u.i;
}

/* A moment from a date (local midnight), a datetime, or a duration from now. */
static inline Value vh_moment(const VhHost *h, const Value *v, int64_t now) {
  switch (v->type) {
  case V_DATE: return v_datetime(vh_day_start(h, v->u.i));
  case V_DATETIME: return *v;
  case V_DURATION: return v_datetime(vh_add(h, now, v));
  default: return v_null();
  }
}

/* ---- the interface ------------------------------------------------------------------ */

static inline HostStatus vh_get_field(void *ud, Value rec, uint32_t field, Value *out, Arena *a) {
  VhHost *h = ud;
  VhRec *r = vh_find(h, rec);
  if (!r || field >= h->ch->nfields || (int64_t)field == h->fail_field) return HOST_ERROR;
  const FieldDef *fd = &h->ch->fields[field];
  if (fd->builtin && fd->readonly) {
    const char *n = fd->name;
    const StageDef *s = r->stage >= 0 ? &h->ch->stages[r->stage] : NULL;
    if (!strcmp(n, "id")) {
      char buf[32];
      snprintf(buf, sizeof buf, "%lld", (long long)r->id);
      *out = v_text(text_new(a, buf, strlen(buf)));
    } else if (!strcmp(n, "created")) {
      *out = v_datetime(r->created);
    } else if (!strcmp(n, "stage")) {
      *out = s ? v_tagged(V_STAGE, r->stage) : v_null();
    } else if (!strcmp(n, "direction")) {
      *out = s ? v_tagged(V_DIR, s->direction) : v_null();
    } else if (!strcmp(n, "entered")) {
      *out = s ? v_datetime(r->entered) : v_null();
    } else if (!strcmp(n, "won")) {
      *out = v_bool(s && s->kind == STAGE_SUCCESS);
    } else if (!strcmp(n, "lost")) {
      *out = v_bool(s && s->kind == STAGE_FAILURE);
    } else if (!strcmp(n, "closed")) {
      *out = v_bool(s && s->kind != STAGE_PROGRESS);
    } else {
      *out = value_copy(a, &r->vals[field]);
    }
    return HOST_OK;
  }
  *out = value_copy(a, &r->vals[field]);
  return HOST_OK;
}

static inline HostStatus vh_backref(void *ud, Value target, uint32_t src_field, Value *out,
                                    Arena *a) {
  VhHost *h = ud;
  if (src_field >= h->ch->nfields) return HOST_ERROR;
  uint16_t kind = h->ch->fields[src_field].entity;
  List *l = list_new(a, 4);
  for (size_t i = 0; i < h->nrecs; i++) {
    VhRec *r = &h->recs[i];
    if (r->deleted || r->kind != kind) continue;
    const Value *v = &r->vals[src_field];
    if (v->type == V_REC && v->aux == target.aux && v->u.i == target.u.i)
      list_push(a, l, vh_rec_value(r));
  }
  *out = v_list(l);
  return HOST_OK;
}

static inline HostStatus vh_user_member(void *ud, Value user, int which, Value *out, Arena *a) {
  VhHost *h = ud;
  if (user.type != V_USER) return HOST_ERROR;
  VhUser *u = vh_user(h, user.u.t->s);
  const char *s = NULL;
  switch (which) {
  case 0: s = u && u->title ? u->title : user.u.t->s; break;
  case 1:
    *out = u && u->supervisor ? vh_user_value(a, u->supervisor) : v_null();
    return HOST_OK;
  case 2: s = u ? u->email : NULL; break;
  case 3: s = u ? u->phone : NULL; break;
  default: return HOST_ERROR;
  }
  *out = s ? v_text(text_new(a, s, strlen(s))) : v_null();
  return HOST_OK;
}

static inline bool vh_has_role(void *ud, Value user, uint32_t role) {
  VhHost *h = ud;
  VhUser *u = user.type == V_USER ? vh_user(h, user.u.t->s) : NULL;
  for (uint32_t i = 0; u && i < u->nroles; i++)
    if (u->roles[i] == role) return true;
  return false;
}

static inline VhEntry *vh_log(VhHost *h, const VmEffect *e) {
  VH_GROW(h->log, h->nlog, h->caplog);
  VhEntry *x = &h->log[h->nlog++];
  memset(x, 0, sizeof *x);
  x->op = e->op;
  x->rec = value_copy(&h->arena, &e->rec);
  x->index = e->index;
  x->a = value_copy(&h->arena, &e->a);
  x->b = value_copy(&h->arena, &e->b);
  x->c = value_copy(&h->arena, &e->c);
  x->d = value_copy(&h->arena, &e->d);
  x->at = h->clock;
  x->func = e->func ? arena_strdup(&h->arena, e->func) : NULL;
  x->line = e->line;
  x->status = HOST_OK;
  return x;
}

static inline HostStatus vh_effect(void *ud, const VmEffect *e, Value *result, const char **msg,
                                   Arena *a) {
  VhHost *h = ud;
  const Chunk *ch = h->ch;
  VhEntry *x = vh_log(h, e);
  switch (e->op) {
  case OP_SETFIELD: {
    VhRec *r = vh_find(h, e->rec);
    if (!r || e->index >= ch->nfields || ch->fields[e->index].entity != r->kind) {
      *msg = "set: no such record or field";
      return x->status = HOST_ERROR;
    }
    r->vals[e->index] = x->a;
    break;
  }
  case OP_MOVETO: {
    VhRec *r = vh_find(h, e->rec);
    if (!r || e->index >= ch->nstages) {
      *msg = "move: no such record or stage";
      return x->status = HOST_ERROR;
    }
    for (int k = 0; k < h->nrefusals; k++)
      if (h->refusals[k].stage == (int32_t)e->index) {
        *msg = x->msg = h->refusals[k].msg;
        return x->status = HOST_REFUSED;
      }
    r->stage = (int32_t)e->index;
    r->entered = h->clock;
    break;
  }
  case OP_CREATE:
  case OP_CREATEIN: {
    uint16_t kind;
    int32_t stage = -1;
    if (e->op == OP_CREATE) {
      if (e->index >= ch->nentities) return x->status = HOST_ERROR;
      kind = (uint16_t)e->index;
    } else {
      if (e->index >= ch->nstages) return x->status = HOST_ERROR;
      stage = (int32_t)e->index;
      kind = ch->directions[ch->stages[stage].direction].entity;
    }
    VhRec *r = vh_new_rec(h, kind, stage);
    if (e->a.type == V_OBJ)
      for (uint32_t i = 0; i < e->a.u.o->len; i++) {
        int32_t f = vh_field(ch, ch->entities[kind].name, e->a.u.o->keys[i]);
        if (f < 0) {
          *msg = "create: no such field";
          return x->status = HOST_ERROR;
        }
        r->vals[f] = value_copy(&h->arena, &e->a.u.o->vals[i]);
      }
    x->result = vh_rec_value(r);
    *result = x->result;
    break;
  }
  case OP_DELETE: {
    VhRec *r = vh_find(h, e->rec);
    if (!r) return x->status = HOST_ERROR;
    r->deleted = true;
    break;
  }
  case OP_CONVERT: {
    VhRec *r = vh_find(h, e->rec);
    if (!r || e->index >= ch->nstages) return x->status = HOST_ERROR;
    uint16_t kind = ch->directions[ch->stages[e->index].direction].entity;
    x->result = vh_rec_value(vh_new_rec(h, kind, (int32_t)e->index));
    int32_t ck = vh_entity(ch, "contact"), co = vh_entity(ch, "company");
    if (e->a.type == V_INT && (e->a.u.i & CONV_CONTACT) && ck >= 0) vh_new_rec(h, (uint16_t)ck, -1);
    if (e->a.type == V_INT && (e->a.u.i & CONV_COMPANY) && co >= 0) vh_new_rec(h, (uint16_t)co, -1);
    *result = x->result;
    break;
  }
  case OP_ASK: {
    /* by the variable's name (`answer d NAME = ...`), or by the question */
    const char *q = e->b.type == V_TEXT ? e->b.u.t->s : "";
    const char *name = e->rec.type == V_TEXT ? e->rec.u.t->s : "";
    for (size_t i = 0; i < h->nanswers; i++) {
      const VhAnswer *an = &h->answers[i];
      if (strcmp(name, an->question) && !strstr(q, an->question)) continue;
      if (an->wait) break;
      x->result = an->value;
      *result = value_copy(a, &an->value);
      return HOST_OK;
    }
    return x->status = HOST_WAIT;
  }
  case OP_TCLOCK: {
    Value m = vh_moment(h, &e->a, h->clock);
    if (m.type != V_DATETIME) return x->status = HOST_ERROR;
    h->clock = m.u.i;
    *result = m;
    break;
  }
  case OP_TADVANCE: {
    /* by a duration, or (B=1) to a moment */
    Value m = e->index || e->a.type == V_DURATION ? vh_moment(h, &e->a, h->clock) : v_null();
    if (m.type != V_DATETIME) return x->status = HOST_ERROR;
    h->clock = m.u.i;
    *result = m;
    break;
  }
  case OP_TANSWER:
    if (e->b.type == V_TEXT) {
      VH_GROW(h->answers, h->nanswers, h->capanswers);
      h->answers[h->nanswers++] = (VhAnswer){arena_strdup(&h->arena, e->b.u.t->s), x->a, false};
    }
    break;
  case OP_TUSER: {
    if (e->c.type != V_TEXT) return x->status = HOST_ERROR;
    VhUser *u = vh_add_user(h, e->c.u.t->s, NULL,
                            e->b.type == V_USER ? e->b.u.t->s : NULL);
    if (e->a.type == V_LIST)
      for (uint32_t i = 0; i < e->a.u.l->len; i++)
        if (e->a.u.l->items[i].type == V_ROLE) vh_user_role(u, (uint32_t)e->a.u.l->items[i].u.i);
    break;
  }
  case OP_NOTIFY: case OP_TASK: case OP_MESSAGE: case OP_DOCUMENT: case OP_WEBHOOK: case OP_TEMIT:
    break;
  default:
    *msg = "the test host does not know this effect";
    return x->status = HOST_ERROR;
  }
  return HOST_OK;
}

/* An effect as an object for notifications() and the like. */
static inline Value vh_effect_obj(VhHost *h, const VhEntry *x, Arena *a) {
  const char *keys[7];
  Value vals[7];
  uint32_t n = 0;
#define VH_KEY(k, v) (keys[n] = (k), vals[n] = (v), n++)
  const char *kind = x->op == OP_NOTIFY    ? "notify"
                     : x->op == OP_TASK    ? "task"
                     : x->op == OP_ASK     ? "ask"
                     : x->op == OP_MESSAGE ? "message"
                     : x->op == OP_WEBHOOK ? "webhook"
                                           : NULL;
  if (x->op == OP_DOCUMENT) VH_KEY("kind", x->a);
  else VH_KEY("kind", v_text(text_new(a, kind ? kind : "", kind ? strlen(kind) : 0)));
  switch (x->op) {
  case OP_NOTIFY: VH_KEY("text", x->b); VH_KEY("user", x->a); break;
  case OP_TASK:
    VH_KEY("text", x->b);
    VH_KEY("title", x->b);
    VH_KEY("user", x->a);
    VH_KEY("due", vh_moment(h, &x->c, x->at));
    break;
  case OP_ASK: VH_KEY("text", x->b); VH_KEY("user", x->a); break;
  case OP_MESSAGE: VH_KEY("text", x->c); VH_KEY("channel", x->a); break;
  case OP_DOCUMENT: VH_KEY("text", x->b); VH_KEY("title", x->b); break;
  case OP_WEBHOOK: VH_KEY("text", x->a); break;
  default: break;
  }
  VH_KEY("at", v_datetime(x->at));
#undef VH_KEY
  Obj *o = arena_alloc(a, sizeof *o);
  o->len = n;
  o->keys = arena_alloc(a, n * sizeof *o->keys);
  o->vals = arena_alloc(a, n * sizeof *o->vals);
  for (uint32_t i = 0; i < n; i++) {
    o->keys[i] = arena_strdup(a, keys[i]);
    o->vals[i] = value_copy(a, &vals[i]);
  }
  Value v = {0};
  v.type = V_OBJ;
  v.u.o = o;
  return v;
}

/* Is the target of an effect (a user or a role) the user u? */
static inline bool vh_reaches(VhHost *h, const Value *target, const Value *u) {
  if (target->type == V_USER) return value_eq(target, u);
  if (target->type == V_ROLE) return vh_has_role(h, *u, (uint32_t)target->u.i);
  return false;
}

static inline HostStatus vh_effects_of(void *ud, int builtin, Value arg, Value *out, Arena *a) {
  VhHost *h = ud;
  List *l = list_new(a, 4);
  for (size_t i = 0; i < h->nlog; i++) {
    const VhEntry *x = &h->log[i];
    if (x->status != HOST_OK && !(x->op == OP_ASK && x->status == HOST_WAIT)) continue;
    bool take = false;
    switch (builtin) {
    case VH_B_NOTIFICATIONS: take = x->op == OP_NOTIFY && vh_reaches(h, &x->a, &arg); break;
    case VH_B_TASKS: take = x->op == OP_TASK && vh_reaches(h, &x->a, &arg); break;
    case VH_B_QUESTIONS: take = x->op == OP_ASK && vh_reaches(h, &x->a, &arg); break;
    case VH_B_MESSAGES:
      take = x->op == OP_MESSAGE && (value_eq(&x->rec, &arg) || value_eq(&x->b, &arg));
      break;
    case VH_B_DOCUMENTS: take = x->op == OP_DOCUMENT && value_eq(&x->rec, &arg); break;
    case VH_B_WEBHOOKS: take = x->op == OP_WEBHOOK; break;
    default: return HOST_ERROR;
    }
    if (take) list_push(a, l, vh_effect_obj(h, x, a));
  }
  *out = v_list(l);
  return HOST_OK;
}

/* ---- life ----------------------------------------------------------------------------- */

/* A host for `ch` with its declared users, the clock at `clock`. */
static inline void vh_init(VhHost *h, const Chunk *ch, int64_t clock) {
  memset(h, 0, sizeof *h);
  h->ch = ch;
  arena_init(&h->arena);
  h->clock = clock;
  h->fail_field = -1;
  for (uint32_t i = 0; i < ch->nusers; i++) {
    const UserDefC *d = &ch->users[i];
    VhUser *u = vh_add_user(h, d->name, d->title,
                            d->supervisor >= 0 ? ch->users[d->supervisor].name : NULL);
    for (uint32_t k = 0; k < d->nroles; k++) vh_user_role(u, d->roles[k]);
  }
  h->host = (VmHost){h,           vh_get_field, vh_backref,   vh_user_member,
                     vh_has_role, vh_effect,    vh_effects_of};
}

static inline void vh_free(VhHost *h) {
  free(h->recs);
  free(h->users);
  free(h->log);
  free(h->answers);
  arena_free(&h->arena);
  memset(h, 0, sizeof *h);
}

#endif
