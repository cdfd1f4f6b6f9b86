/*
** run.c: `funnel run --db FILE PACK`, the scriptable batch interface.
**
** Commands come as JSON lines on the input; each gets exactly one result
** line, {"ok":true,...} or {"ok":false,"error":"..."}, printed after the
** effect lines it caused (moves, creations, notifications... as the
** engine reports them after its commit). A bad line (not JSON, an unknown
** op, key, ref, field, stage, role or enum value, a value of the wrong
** type) is answered with an error before the engine sees it, so it
** changes nothing, and the run goes on. Everything lives in the database:
** records, users, timers, the event log, the outbox and the virtual clock
** (meta key "clock"), so the next run on the same database continues
** where this one stopped.
**
** Names: directions, stages, fields, roles, events and enum values are
** accepted by id or by title (ids are tried first); records are named by
** their refs ("d1", "@d1" where a value is a record). Values: see
** docs/runtime.md ("Values").
**
** Group commit (--batch N, default 64): the lines already available on
** the input (complete lines, read without waiting), up to N, run in one
** transaction, each command in a savepoint of its own (engine_group_*);
** their effect and result lines are held back and printed, in input
** order, only after the group's COMMIT. A command is thus acknowledged
** only once it is durable, and commands that arrive faster than commits
** share one. --batch 1: one transaction per command, as before.
*/
#include "cli/run.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/engine_int.h"
#include "store/store.h"
#include "util/tz.h"

/* host.c: a value as JSON (money and decimals as exact strings, dates as
** ISO text, enum values by id, records as "@ref"). */
json_t *eng_value_json(Engine *e, const Value *v);

typedef struct Run {
  const Chunk *ch;
  Store *st;
  Engine *e;
  FILE *out;
  Arena a;             /* per line: the command's values */
  bool virtual_clock;  /* a clock was set, in this run or an earlier one */
  int batch;           /* group commit: at most this many commands per transaction */
  const char *zone;    /* the default calendar's time zone */
  char err[600];
} Run;

static int fail(Run *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Run *R, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(R->err, sizeof R->err, fmt, ap);
  va_end(ap);
  return -1;
}

/* Puts "what: " before the message already in R->err. */
static int prefixed(Run *R, const char *what) {
  char tmp[sizeof R->err];
  snprintf(tmp, sizeof tmp, "%s", R->err);
  return fail(R, "%s: %s", what, tmp);
}

/* An engine command's verdict: 0, 1 (refused) or -1, with its message. */
static int verdict(Run *R, int rc) {
  if (rc != 0) snprintf(R->err, sizeof R->err, "%s", engine_error(R->e));
  if (rc != 0 && !R->err[0]) snprintf(R->err, sizeof R->err, "the command failed");
  return rc;
}

/* ---- names --------------------------------------------------------------------- */

/* pass 0 matches ids, pass 1 titles */
static bool named(int pass, const char *key, const char *name, const char *title) {
  return pass == 0 ? !strcmp(key, name) : title && !strcmp(key, title);
}

static int entity_lookup(const Chunk *ch, const char *key) {
  for (int pass = 0; pass < 2; pass++)
    for (uint32_t i = 0; i < ch->nentities; i++)
      if (named(pass, key, ch->entities[i].name, ch->entities[i].title)) return (int)i;
  return -1;
}

/* A field of `entity`, by id or title; -1 if none. */
static int field_lookup(const Chunk *ch, int entity, const char *key) {
  const EntityDef *ed = &ch->entities[entity];
  for (int pass = 0; pass < 2; pass++)
    for (uint32_t k = 0; k < ed->nfields; k++) {
      const FieldDef *f = &ch->fields[ed->first_field + k];
      if (named(pass, key, f->name, f->title)) return (int)(ed->first_field + k);
    }
  return -1;
}

static int field_named(const Chunk *ch, int entity, const char *name) {
  const EntityDef *ed = &ch->entities[entity];
  for (uint32_t k = 0; k < ed->nfields; k++)
    if (!strcmp(ch->fields[ed->first_field + k].name, name)) return (int)(ed->first_field + k);
  return -1;
}

static int direction_lookup(const Chunk *ch, const char *key) {
  for (int pass = 0; pass < 2; pass++)
    for (uint32_t i = 0; i < ch->ndirections; i++)
      if (named(pass, key, ch->directions[i].name, ch->directions[i].title)) return (int)i;
  return -1;
}

static int32_t stage_in(const Chunk *ch, uint32_t d, const char *key, int pass) {
  const DirectionDef *dd = &ch->directions[d];
  for (uint32_t k = 0; k < dd->nstages; k++) {
    const StageDef *s = &ch->stages[dd->first_stage + k];
    if (named(pass, key, s->name, s->title)) return (int32_t)(dd->first_stage + k);
  }
  return -1;
}

/* A stage of `entity` (-1: any) by id, title or "direction.stage". With
** dir >= 0 only that direction is searched; else a match in `prefer` (the
** record's current direction) wins, and a name found in several other
** directions is ambiguous. -1 with the reason in R->err. */
static int32_t stage_lookup(Run *R, const char *key, int dir, int entity, int prefer) {
  const Chunk *ch = R->ch;
  if (dir < 0) {
    /* "direction.stage": the direction part may be an id or a title */
    for (const char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.')) {
      char *dname = arena_strndup(&R->a, key, (size_t)(dot - key));
      int d = direction_lookup(ch, dname);
      if (d < 0 || (entity >= 0 && ch->directions[d].entity != entity)) continue;
      for (int pass = 0; pass < 2; pass++) {
        int32_t s = stage_in(ch, (uint32_t)d, dot + 1, pass);
        if (s >= 0) return s;
      }
    }
  }
  if (dir < 0 && prefer >= 0)
    for (int pass = 0; pass < 2; pass++) {
      int32_t s = stage_in(ch, (uint32_t)prefer, key, pass);
      if (s >= 0) return s;
    }
  for (int pass = 0; pass < 2; pass++) {
    int32_t found = -1;
    int nfound = 0;
    StrBuf dirs = {0};
    for (uint32_t d = 0; d < ch->ndirections; d++) {
      if ((dir >= 0 && (int)d != dir) || (entity >= 0 && ch->directions[d].entity != entity)) continue;
      int32_t s = stage_in(ch, d, key, pass);
      if (s < 0) continue;
      sb_printf(&dirs, "%s%s", nfound ? ", " : "", ch->directions[d].name);
      found = s;
      nfound++;
    }
    if (nfound > 1) {
      fail(R, "stage '%s' is in several directions (%s): give \"direction\" or write DIRECTION.%s", key,
           sb_str(&dirs), key);
      sb_free(&dirs);
      return -1;
    }
    sb_free(&dirs);
    if (nfound == 1) return found;
  }
  if (dir >= 0) fail(R, "no stage '%s' in direction '%s'", key, ch->directions[dir].name);
  else fail(R, "no stage '%s'", key);
  return -1;
}

static int enum_value_lookup(const Chunk *ch, uint16_t en, const char *key) {
  if (en >= ch->nenums) return -1;
  const EnumDefC *e = &ch->enums[en];
  for (int pass = 0; pass < 2; pass++)
    for (uint32_t k = 0; k < e->nvalues; k++)
      if (named(pass, key, e->values[k], e->titles ? e->titles[k] : NULL)) return (int)k;
  return -1;
}

static int role_lookup(const Chunk *ch, const char *key) {
  for (int pass = 0; pass < 2; pass++)
    for (uint32_t i = 0; i < ch->nroles; i++)
      if (named(pass, key, ch->roles[i].name, ch->roles[i].title)) return (int)i;
  return -1;
}

static int event_lookup(const Chunk *ch, const char *key) {
  for (int pass = 0; pass < 2; pass++)
    for (uint32_t i = 0; i < ch->nevents; i++)
      if (named(pass, key, ch->events[i].name, ch->events[i].title)) return (int)i;
  return -1;
}

/* A user the store knows (the user command) or the pack declares. */
static bool user_known(Run *R, const char *id) {
  UserRow u;
  if (R->st->ops->get_user(R->st, id, &u, &R->a) == ST_OK) return true;
  for (uint32_t i = 0; i < R->ch->nusers; i++)
    if (!strcmp(R->ch->users[i].name, id)) return true;
  return false;
}

/* A record by ref ("d1" or "@d1"); `live`: a deleted one is an error. */
static int record(Run *R, const char *ref, bool live, RecordInfo *ri) {
  if (ref[0] == '@') ref++;
  int rc = R->st->ops->find(R->st, ref, ri, &R->a);
  if (rc == ST_NOTFOUND) return fail(R, "no record '%s'", ref);
  if (rc != ST_OK) return fail(R, "%s", store_error(R->st));
  if (live && ri->deleted) return fail(R, "record '%s' was deleted", ref);
  return 0;
}

static Value read_field(Run *R, int64_t id, int field) {
  Value v = v_null();
  if (field >= 0 && R->st->ops->get(R->st, id, (uint32_t)field, &v, &R->a) != ST_OK) v = v_null();
  return v;
}

/* ---- values ----------------------------------------------------------------------- */

/* "-1500.5" as an integer scaled by 10^places; digits past `places` must
** be zeros. NULL on success, else what is wrong. */
static const char *parse_fixed(const char *s, size_t n, int places, int64_t *out) {
  size_t i = 0;
  bool neg = false, digits = false;
  if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  __int128 v = 0;
  int frac = -1;
  for (; i < n; i++) {
    char c = s[i];
    if (c == '.' && frac < 0) {
      frac = 0;
      continue;
    }
    if (c == '_' && digits) continue;
    if (c < '0' || c > '9') return "not a number";
    digits = true;
    if (frac >= 0 && frac >= places) {
      if (c != '0') return places == 2 ? "more than two digits after the point" : "more than six digits after the point";
      continue;
    }
    v = v * 10 + (c - '0');
    if (frac >= 0) frac++;
    if (v > INT64_MAX) return "too large";
  }
  if (!digits) return "not a number";
  for (int k = frac < 0 ? 0 : frac; k < places; k++)
    if ((v *= 10) > INT64_MAX) return "too large";
  *out = (int64_t)(neg ? -v : v);
  return NULL;
}

/* A JSON number as a fixed-point integer; *text is the number as text
** (in the arena). */
static const char *fixed_of(Arena *a, json_t *j, int places, int64_t *out, const char **text) {
  char buf[64];
  const char *s;
  if (json_is_integer(j)) {
    snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    s = buf;
  } else if (json_is_real(j)) {
    snprintf(buf, sizeof buf, "%.15g", json_real_value(j));
    s = buf;
  } else {
    s = json_string_value(j);
  }
  *text = arena_strdup(a, s);
  if (strchr(s, 'e')) return "too large or too small for a number: write it as a string";
  return parse_fixed(s, strlen(s), places, out);
}

static int days_in_month(int64_t y, unsigned m) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return dm[m - 1];
}

static bool digits_at(const char *s, int n) {
  for (int i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

static int num_at(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
  return v;
}

/* "2026-01-12": days since the epoch; the length it read, 0 if none. */
static int parse_date(const char *s, int64_t *days) {
  if (strlen(s) < 10 || !digits_at(s, 4) || s[4] != '-' || !digits_at(s + 5, 2) || s[7] != '-' ||
      !digits_at(s + 8, 2))
    return 0;
  int y = num_at(s, 4), m = num_at(s + 5, 2), d = num_at(s + 8, 2);
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, (unsigned)m)) return 0;
  *days = days_from_civil(y, (unsigned)m, (unsigned)d);
  return 10;
}

/* "2026-01-12T10:00:00+03:00" (seconds, the offset and the T optional;
** "Z" for UTC; a date alone is its midnight): the UTC moment. A time
** without an offset is in the pack's default calendar's zone. */
static bool parse_datetime(Run *R, const char *s, int64_t *utc) {
  int64_t days;
  int n = parse_date(s, &days);
  if (!n) return false;
  const char *p = s + n;
  int h = 0, mi = 0, sec = 0;
  if (*p == 'T' || *p == ' ') {
    p++;
    if (!digits_at(p, 2) || p[2] != ':' || !digits_at(p + 3, 2)) return false;
    h = num_at(p, 2);
    mi = num_at(p + 3, 2);
    p += 5;
    if (*p == ':') {
      if (!digits_at(p + 1, 2)) return false;
      sec = num_at(p + 1, 2);
      p += 3;
      if (*p == '.') /* fractions of a second are dropped */
        for (p++; *p >= '0' && *p <= '9'; p++) {}
    }
    if (h > 23 || mi > 59 || sec > 59) return false;
  }
  int64_t local = days * 86400 + h * 3600 + mi * 60 + sec;
  if (!*p) return tz_local_to_utc(R->zone, local, utc);
  if (*p == 'Z' && !p[1]) {
    *utc = local;
    return true;
  }
  if (*p != '+' && *p != '-') return false;
  int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
  if (!digits_at(p, 2)) return false;
  oh = num_at(p, 2);
  p += 2;
  if (*p == ':') p++;
  if (*p) {
    if (!digits_at(p, 2) || p[2]) return false;
    om = num_at(p, 2);
  }
  if (oh > 18 || om > 59) return false;
  *utc = local - sign * (oh * 3600 + om * 60);
  return true;
}

/* A duration: ISO-8601 ("P3DT2H", "P1M", "PT30M", "P2W") or the
** language's words ("3 days", "2 hours 30 minutes", "3 workdays",
** "4 workhours"). */
static bool parse_duration(const char *s, Value *out) {
  Value v = {0};
  v.type = V_DURATION;
  int64_t months = 0, days = 0, secs = 0, wdays = 0, wmins = 0;
  bool any = false, work = false, cal = false;
  if (*s == 'P') {
    bool time = false;
    for (const char *p = s + 1; *p;) {
      if (*p == 'T') {
        if (time) return false;
        time = true;
        p++;
        continue;
      }
      char *end;
      long long n = strtoll(p, &end, 10);
      if (end == p || n < 0 || n > 100000 || !*end) return false;
      switch (*end) {
      case 'Y': if (time) return false; months += n * 12; break;
      case 'M': if (time) secs += n * 60; else months += n; break;
      case 'W': if (time) return false; days += n * 7; break;
      case 'D': if (time) return false; days += n; break;
      case 'H': if (!time) return false; secs += n * 3600; break;
      case 'S': if (!time) return false; secs += n; break;
      default: return false;
      }
      any = true;
      p = end + 1;
    }
    cal = true;
  } else {
    static const struct { const char *unit; int kind; int64_t mult; } units[] = {
      {"year", 0, 12}, {"month", 0, 1}, {"week", 1, 7}, {"day", 1, 1}, {"hour", 2, 3600},
      {"minute", 3, 60}, {"second", 2, 1}, {"workday", 4, 1}, {"workhour", 5, 60},
    };
    const char *p = s;
    for (;;) {
      while (*p == ' ' || *p == ',') p++;
      if (!*p) break;
      char *end;
      long long n = strtoll(p, &end, 10);
      if (end == p || n < 0 || n > 100000 || *end != ' ') return false;
      p = end;
      while (*p == ' ') p++;
      size_t len = strcspn(p, " ,");
      if (len > 1 && p[len - 1] == 's') len--;
      int k = -1;
      for (int u = 0; u < (int)(sizeof units / sizeof *units); u++)
        if (strlen(units[u].unit) == len && !strncmp(p, units[u].unit, len)) k = u;
      if (k < 0) return false;
      p += strcspn(p, " ,");
      switch (units[k].kind) {
      case 0: months += n * units[k].mult; cal = true; break;
      case 1: days += n * units[k].mult; cal = true; break;
      case 2: secs += n * units[k].mult; cal = true; break;
      case 3: secs += n * 60; wmins += n; break; /* minutes: either kind */
      case 4: wdays += n; work = true; break;
      case 5: wmins += n * 60; work = true; break;
      }
      any = true;
    }
  }
  if (!any || (work && cal) || months > INT16_MAX || days > INT32_MAX || wdays > INT32_MAX) return false;
  if (work) {
    v.flags = VF_WORK;
    v.aux32 = (int32_t)wdays;
    v.u.i = wmins;
  } else {
    v.aux = (uint16_t)(int16_t)months;
    v.aux32 = (int32_t)days;
    v.u.i = secs;
  }
  *out = v;
  return true;
}

static const char *kind_name(uint8_t kind) {
  switch (kind) {
  case V_TEXT: return "text";
  case V_INT: return "int";
  case V_DEC: return "decimal";
  case V_MONEY: return "money";
  case V_BOOL: return "bool";
  case V_DATE: return "date";
  case V_DATETIME: return "datetime";
  case V_DURATION: return "duration";
  case V_USER: return "user";
  case V_ENUM: return "enum";
  case V_LIST: return "list";
  case V_REC: return "record";
  case V_STAGE: return "stage";
  case V_DIR: return "direction";
  case V_ROLE: return "role";
  default: return "value";
  }
}

/* A type as the schema shows it: "money", "list<text>", "contact". */
static char *type_name(Run *R, TypeDesc t) {
  if (t.kind == V_REC && t.ref < R->ch->nentities) return arena_strdup(&R->a, R->ch->entities[t.ref].name);
  if (t.kind == V_LIST) {
    if (t.elem == V_REC && t.ref < R->ch->nentities)
      return arena_printf(&R->a, "list<%s>", R->ch->entities[t.ref].name);
    return arena_printf(&R->a, "list<%s>", kind_name(t.elem));
  }
  return arena_strdup(&R->a, kind_name(t.kind));
}

static const char *kind_wanted(uint8_t kind) {
  switch (kind) {
  case V_TEXT: return "a string";
  case V_INT: return "an integer";
  case V_DEC: return "a number (or a string: \"0.15\")";
  case V_MONEY: return "an amount (\"1500.00 RUB\" or a number)";
  case V_BOOL: return "true or false";
  case V_DATE: return "a date (\"2026-01-12\")";
  case V_DATETIME: return "a date-time (\"2026-01-12T10:00:00+03:00\")";
  case V_DURATION: return "a duration (\"P3D\" or \"3 days\")";
  case V_USER: return "a user's id";
  case V_ENUM: return "a value's id or title";
  case V_REC: return "a record (\"@ref\")";
  case V_LIST: return "a list";
  case V_STAGE: return "a stage";
  case V_DIR: return "a direction";
  case V_ROLE: return "a role";
  default: return "a value";
  }
}

static const char *json_kind(json_t *j) {
  switch (json_typeof(j)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "a list";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: case JSON_REAL: return "a number";
  case JSON_TRUE: case JSON_FALSE: return "true or false";
  default: return "null";
  }
}

/* The JSON value j as a Value of type (kind, ref); `cur` is the currency of
** a plain number given for money; `what` names the place for errors. */
static int to_value(Run *R, json_t *j, uint8_t kind, uint8_t elem, uint16_t ref, uint16_t cur, const char *what,
                    Value *out) {
  const Chunk *ch = R->ch;
  const char *s = json_string_value(j), *why, *text;
  if (json_is_null(j)) {
    *out = v_null();
    return 0;
  }
  switch (kind) {
  case V_TEXT:
    if (!s) break;
    *out = v_text(text_new(&R->a, s, strlen(s)));
    return 0;
  case V_INT:
    if (!json_is_integer(j)) break;
    *out = v_int(json_integer_value(j));
    return 0;
  case V_DEC:
  case V_MONEY: {
    if (!s && !json_is_number(j)) break;
    size_t n = s ? strlen(s) : 0;
    uint16_t c = cur;
    int64_t x;
    if (kind == V_MONEY && s) {
      /* "1500.00 RUB": the currency after the last space */
      const char *sp = strrchr(s, ' ');
      if (sp) {
        c = currency_index(sp + 1);
        if (c == UINT16_MAX) return fail(R, "%s: unknown currency '%s'", what, sp + 1);
        n = (size_t)(sp - s);
        while (n && s[n - 1] == ' ') n--;
      }
      why = parse_fixed(s, n, 2, &x);
      text = s;
    } else if (s) {
      why = parse_fixed(s, n, 6, &x);
      text = s;
    } else {
      why = fixed_of(&R->a, j, kind == V_MONEY ? 2 : 6, &x, &text);
    }
    if (why) return fail(R, "%s: '%s' is %s", what, text, why);
    *out = kind == V_MONEY ? v_money(x, c) : v_dec(x);
    return 0;
  }
  case V_BOOL:
    if (!json_is_boolean(j)) break;
    *out = v_bool(json_is_true(j));
    return 0;
  case V_DATE: {
    int64_t d;
    if (!s) break;
    if (parse_date(s, &d) != 10 || s[10]) return fail(R, "%s: '%s' is not a date (2026-01-12)", what, s);
    *out = v_date(d);
    return 0;
  }
  case V_DATETIME: {
    int64_t t;
    if (!s) break;
    if (!parse_datetime(R, s, &t))
      return fail(R, "%s: '%s' is not a date-time (2026-01-12T10:00:00+03:00)", what, s);
    *out = v_datetime(t);
    return 0;
  }
  case V_DURATION:
    if (!s) break;
    if (!parse_duration(s, out)) return fail(R, "%s: '%s' is not a duration (P3DT2H or \"3 days\")", what, s);
    return 0;
  case V_ENUM: {
    if (!s) break;
    int k = enum_value_lookup(ch, ref, s);
    if (k < 0) {
      StrBuf b = {0};
      if (ref < ch->nenums)
        for (uint32_t i = 0; i < ch->enums[ref].nvalues; i++)
          sb_printf(&b, "%s%s", i ? ", " : "", ch->enums[ref].values[i]);
      fail(R, "%s: no value '%s' (one of: %s)", what, s, sb_str(&b));
      sb_free(&b);
      return -1;
    }
    *out = v_tagged(V_ENUM, k);
    out->aux = ref;
    return 0;
  }
  case V_USER:
    if (!s) break;
    if (!user_known(R, s)) return fail(R, "%s: no user '%s' (add it with the user command)", what, s);
    *out = v_text(text_new(&R->a, s, strlen(s)));
    out->type = V_USER;
    return 0;
  case V_REC: {
    if (!s) break;
    RecordInfo ri;
    if (record(R, s, true, &ri) != 0) return prefixed(R, what);
    if (ref < ch->nentities && ri.entity != ref)
      return fail(R, "%s: '%s' is a %s, not a %s", what, s, ch->entities[ri.entity].name, ch->entities[ref].name);
    *out = eng_rec(ri.entity, ri.id);
    return 0;
  }
  case V_STAGE: {
    if (!s) break;
    int32_t st = stage_lookup(R, s, -1, -1, -1);
    if (st < 0) return prefixed(R, what);
    *out = v_tagged(V_STAGE, st);
    return 0;
  }
  case V_DIR: {
    if (!s) break;
    int d = direction_lookup(ch, s);
    if (d < 0) return fail(R, "%s: no direction '%s'", what, s);
    *out = v_tagged(V_DIR, d);
    return 0;
  }
  case V_ROLE: {
    if (!s) break;
    int r = role_lookup(ch, s);
    if (r < 0) return fail(R, "%s: no role '%s'", what, s);
    *out = v_tagged(V_ROLE, r);
    return 0;
  }
  case V_LIST: {
    if (!json_is_array(j)) break;
    size_t n = json_array_size(j);
    List *l = list_new(&R->a, (uint32_t)(n ? n : 1));
    for (size_t i = 0; i < n; i++) {
      Value x;
      const char *w = arena_printf(&R->a, "%s[%zu]", what, i);
      if (to_value(R, json_array_get(j, i), elem, 0, ref, cur, w, &x) != 0) return -1;
      if (x.type == V_NULL) return fail(R, "%s: a list cannot hold null", w);
      list_push(&R->a, l, x);
    }
    *out = v_list(l);
    return 0;
  }
  default: return fail(R, "%s: values of this type cannot be given", what);
  }
  return fail(R, "%s: expected %s, got %s", what, kind_wanted(kind), json_kind(j));
}

/* The currency of a record: its `currency` field when that names a known
** one, else RUB. */
static uint16_t currency_of(Run *R, int entity, int64_t id, json_t *fields) {
  int f = field_named(R->ch, entity, "currency");
  if (f < 0) return 0;
  const char *code = NULL;
  if (fields) {
    json_t *v = json_object_get(fields, "currency");
    if (!v) v = json_object_get(fields, R->ch->fields[f].title);
    code = json_string_value(v);
  }
  if (!code && id) {
    Value v = read_field(R, id, f);
    if (v.type == V_TEXT) code = v.u.t->s;
  }
  uint16_t c = code ? currency_index(code) : 0;
  return c == UINT16_MAX ? 0 : c;
}

/* The object `fields` ({field id or title: value}) as FieldSets of
** `entity`, with `extra` free slots after them. */
static int fields_of(Run *R, json_t *fields, int entity, uint16_t cur, FieldSet **out, size_t *n, size_t extra) {
  const Chunk *ch = R->ch;
  *n = 0;
  if (fields && !json_is_object(fields)) return fail(R, "\"fields\" must be an object");
  size_t cap = (fields ? json_object_size(fields) : 0) + extra + 1;
  FieldSet *fs = arena_alloc(&R->a, cap * sizeof *fs);
  const char *key;
  json_t *v;
  if (fields)
    json_object_foreach(fields, key, v) {
      int f = field_lookup(ch, entity, key);
      if (f < 0) return fail(R, "a %s has no field '%s'", ch->entities[entity].name, key);
      const FieldDef *fd = &ch->fields[f];
      if (fd->computed >= 0) return fail(R, "'%s' is computed: it cannot be set", fd->name);
      if (fd->readonly)
        return fail(R, "'%s' is read-only%s", fd->name, !strcmp(fd->name, "stage") ? " (use move)" : "");
      for (size_t i = 0; i < *n; i++)
        if (fs[i].field == (uint32_t)f) return fail(R, "field '%s' is given twice", fd->name);
      Value x;
      if (to_value(R, v, fd->type.kind, fd->type.elem, fd->type.ref, cur, fd->name, &x) != 0) return -1;
      if (x.type == V_NULL && fd->required) return fail(R, "'%s' is required: it cannot be emptied", fd->name);
      fs[(*n)++] = (FieldSet){(uint32_t)f, x};
    }
  *out = fs;
  return 0;
}

/* ---- command plumbing --------------------------------------------------------------- */

static int only_keys(Run *R, json_t *cmd, const char *op, const char *const *keys) {
  const char *k;
  json_t *v;
  json_object_foreach(cmd, k, v) {
    if (!strcmp(k, "op")) continue;
    bool ok = false;
    for (const char *const *p = keys; *p && !ok; p++) ok = !strcmp(*p, k);
    if (ok) continue;
    StrBuf b = {0};
    for (const char *const *p = keys; *p; p++) sb_printf(&b, "%s%s", p == keys ? "" : ", ", *p);
    fail(R, "unknown key '%s' (%s takes %s)", k, op, b.len ? sb_str(&b) : "nothing else");
    sb_free(&b);
    return -1;
  }
  return 0;
}

/* The string member `key` (NULL when absent and optional). */
static int str_member(Run *R, json_t *cmd, const char *op, const char *key, bool required, const char **out) {
  json_t *v = json_object_get(cmd, key);
  *out = NULL;
  if (!v || json_is_null(v)) return required ? fail(R, "\"%s\" is missing", key) : 0;
  if (!json_is_string(v)) return fail(R, "\"%s\" must be a string", key);
  *out = json_string_value(v);
  return 0;
}

/* Who acts: "by" when given (null: the system, to which access rules do
** not apply), else the record's owner. */
static int actor(Run *R, json_t *cmd, const char *op, const char *owner, const char **by) {
  json_t *b = json_object_get(cmd, "by");
  *by = owner;
  if (!b) return 0;
  *by = NULL;
  if (json_is_null(b)) return 0;
  if (!json_is_string(b)) return fail(R, "\"by\" must be a user's id or null");
  if (!user_known(R, json_string_value(b))) return fail(R, "no user '%s'", json_string_value(b));
  *by = json_string_value(b);
  return 0;
}

static const char *owner_of(Run *R, const RecordInfo *ri) {
  Value v = read_field(R, ri->id, field_named(R->ch, ri->entity, "owner"));
  return v.type == V_USER ? v.u.t->s : NULL;
}

static json_t *id_title(const char *id, const char *title) {
  return json_pack("{s:s,s:s}", "id", id, "title", title ? title : id);
}

static json_t *iso_json(Run *R, int64_t t) { return json_string(eng_iso(R->e, t)); }

/* Keeps the virtual clock for the next run. */
static int save_clock(Run *R) {
  Store *st = R->st;
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)engine_now(R->e));
  if (engine_in_group(R->e)) {
    /* group commit: kept with the group (never outside a lost one) */
    if (R->e->group_lost) return fail(R, "the group's transaction was lost");
    return st->ops->meta_put(st, "clock", buf) == ST_OK ? 0 : fail(R, "%s", store_error(st));
  }
  if (st->ops->begin(st) != ST_OK) return fail(R, "%s", store_error(st));
  if (st->ops->meta_put(st, "clock", buf) != ST_OK || st->ops->commit(st) != ST_OK) {
    fail(R, "%s", store_error(st));
    st->ops->rollback(st);
    return -1;
  }
  return 0;
}

/* ---- the commands ----------------------------------------------------------------------- */

static int op_user(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"id", "name", "roles", "supervisor", "email", "phone", NULL};
  UserRow u = {0};
  if (only_keys(R, cmd, "user", keys) || str_member(R, cmd, "user", "id", true, &u.id) ||
      str_member(R, cmd, "user", "name", false, &u.name) ||
      str_member(R, cmd, "user", "supervisor", false, &u.supervisor) ||
      str_member(R, cmd, "user", "email", false, &u.email) || str_member(R, cmd, "user", "phone", false, &u.phone))
    return -1;
  if (!u.id[0]) return fail(R, "\"id\" is empty");
  if (!u.name) u.name = u.id;
  if (u.supervisor && !strcmp(u.supervisor, u.id)) return fail(R, "'%s' cannot supervise themself", u.id);
  if (u.supervisor && !user_known(R, u.supervisor))
    return fail(R, "no user '%s' to be the supervisor (add the supervisor first)", u.supervisor);
  json_t *roles = json_object_get(cmd, "roles");
  if (roles && !json_is_null(roles)) {
    if (!json_is_array(roles)) return fail(R, "\"roles\" must be a list");
    u.roles = arena_alloc(&R->a, (json_array_size(roles) + 1) * sizeof *u.roles);
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r) {
      const char *s = json_string_value(r);
      if (!s) return fail(R, "\"roles\" must list role ids");
      int k = role_lookup(R->ch, s);
      if (k < 0) return fail(R, "no role '%s'", s);
      u.roles[u.nroles++] = R->ch->roles[k].name;
    }
  }
  (void)res;
  return verdict(R, engine_user(R->e, &u));
}

static int op_clock(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"at", NULL};
  const char *at;
  int64_t t;
  if (only_keys(R, cmd, "clock", keys) || str_member(R, cmd, "clock", "at", true, &at)) return -1;
  if (!parse_datetime(R, at, &t)) return fail(R, "'%s' is not a date-time (2026-01-12T10:00:00+03:00)", at);
  if (R->virtual_clock && t < engine_now(R->e))
    return fail(R, "the clock only goes forward: it is %s", eng_iso(R->e, engine_now(R->e)));
  if (!R->virtual_clock) engine_set_clock(R->e, t);
  R->virtual_clock = true;
  int rc = engine_advance(R->e, t);
  if (save_clock(R) != 0) return -1;
  if (rc != 0) return verdict(R, rc);
  json_object_set_new(res, "now", iso_json(R, engine_now(R->e)));
  return 0;
}

static int op_advance(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"by", "to", NULL};
  const char *by, *to;
  if (only_keys(R, cmd, "advance", keys) || str_member(R, cmd, "advance", "by", false, &by) ||
      str_member(R, cmd, "advance", "to", false, &to))
    return -1;
  if (!by == !to) return fail(R, "give \"by\" (a duration) or \"to\" (a moment)");
  int64_t now = engine_now(R->e), target;
  if (by) {
    Value d, t = v_datetime(now), r;
    if (!parse_duration(by, &d)) return fail(R, "'%s' is not a duration (P3DT2H or \"3 days\")", by);
    if (!vm_arith(&R->e->vm, OP_ADD, &t, &d, &r) || r.type != V_DATETIME)
      return fail(R, "%s", R->e->vm.error.message[0] ? R->e->vm.error.message : "the duration cannot be counted");
    target = r.u.i;
  } else if (!parse_datetime(R, to, &target)) {
    return fail(R, "'%s' is not a date-time (2026-01-12T10:00:00+03:00)", to);
  }
  if (target < now) return fail(R, "the clock only goes forward: it is %s", eng_iso(R->e, now));
  if (!R->virtual_clock) engine_set_clock(R->e, now);
  R->virtual_clock = true;
  int rc = engine_advance(R->e, target);
  if (save_clock(R) != 0) return -1;
  if (rc != 0) return verdict(R, rc);
  json_object_set_new(res, "now", iso_json(R, engine_now(R->e)));
  return 0;
}

static int first_direction(const Chunk *ch, int entity) {
  for (uint32_t d = 0; d < ch->ndirections; d++)
    if (ch->directions[d].entity == entity) return (int)d;
  return -1;
}

static int op_create(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"entity", "ref", "direction", "stage", "owner", "fields", "by", NULL};
  const Chunk *ch = R->ch;
  const char *ent_s, *ref, *dir_s, *stage_s, *owner;
  if (only_keys(R, cmd, "create", keys) || str_member(R, cmd, "create", "entity", false, &ent_s) ||
      str_member(R, cmd, "create", "ref", false, &ref) || str_member(R, cmd, "create", "direction", false, &dir_s) ||
      str_member(R, cmd, "create", "stage", false, &stage_s) || str_member(R, cmd, "create", "owner", false, &owner))
    return -1;
  int entity = -1, dir = -1;
  if (ent_s && (entity = entity_lookup(ch, ent_s)) < 0)
    return fail(R, "no entity '%s' (deal, contact, company or lead)", ent_s);
  if (dir_s) {
    if ((dir = direction_lookup(ch, dir_s)) < 0) return fail(R, "no direction '%s'", dir_s);
    if (entity >= 0 && ch->directions[dir].entity != entity)
      return fail(R, "direction '%s' holds %ss, not %ss", dir_s, ch->entities[ch->directions[dir].entity].name,
                  ch->entities[entity].name);
    entity = ch->directions[dir].entity;
  }
  int32_t stage = -1;
  if (stage_s) {
    if ((stage = stage_lookup(R, stage_s, dir, entity, -1)) < 0) return -1;
    entity = ch->directions[ch->stages[stage].direction].entity;
  } else if (dir >= 0) {
    stage = (int32_t)ch->directions[dir].first_stage;
  }
  if (entity < 0) return fail(R, "say which \"entity\" (or \"direction\")");
  if (stage < 0 && (dir = first_direction(ch, entity)) >= 0) stage = (int32_t)ch->directions[dir].first_stage;
  if (ref && (!ref[0] || ref[0] == '@'))
    return fail(R, "\"ref\" is a plain name (\"d1\"); \"@d1\" is how a field refers to it");
  json_t *fields = json_object_get(cmd, "fields");
  FieldSet *fs;
  size_t n;
  if (fields_of(R, json_is_null(fields) ? NULL : fields, entity, currency_of(R, entity, 0, fields), &fs, &n, 1) != 0)
    return -1;
  int of = field_named(ch, entity, "owner");
  for (size_t i = 0; i < n; i++)
    if ((int)fs[i].field == of) {
      if (owner) return fail(R, "the owner is given twice (\"owner\" and in \"fields\")");
      owner = fs[i].value.type == V_USER ? fs[i].value.u.t->s : NULL;
      of = -1;
    }
  if (owner && of >= 0) {
    Value u;
    if (to_value(R, json_object_get(cmd, "owner"), V_USER, 0, 0, 0, "owner", &u) != 0)
      return -1;
    fs[n++] = (FieldSet){(uint32_t)of, u};
  }
  const char *by, *made = NULL;
  if (actor(R, cmd, "create", owner, &by) != 0) return -1;
  int rc = engine_create(R->e, entity, ref, stage, fs, n, by, &made);
  if (rc != 0) return verdict(R, rc);
  json_object_set_new(res, "ref", json_string(made ? made : ref ? ref : ""));
  return 0;
}

static int op_update(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"ref", "fields", "by", NULL};
  const char *ref, *by;
  RecordInfo ri;
  if (only_keys(R, cmd, "update", keys) || str_member(R, cmd, "update", "ref", true, &ref)) return -1;
  if (record(R, ref, true, &ri) != 0) return -1;
  json_t *fields = json_object_get(cmd, "fields");
  if (!json_is_object(fields)) return fail(R, "\"fields\" must be an object");
  FieldSet *fs;
  size_t n;
  if (fields_of(R, fields, ri.entity, currency_of(R, ri.entity, ri.id, fields), &fs, &n, 0) != 0)
    return -1;
  if (actor(R, cmd, "update", owner_of(R, &ri), &by) != 0) return -1;
  (void)res;
  return verdict(R, engine_update(R->e, ri.ref, fs, n, by));
}

static int op_move(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"ref", "stage", "direction", "by", NULL};
  const Chunk *ch = R->ch;
  const char *ref, *stage_s, *dir_s, *by;
  RecordInfo ri;
  if (only_keys(R, cmd, "move", keys) || str_member(R, cmd, "move", "ref", true, &ref) ||
      str_member(R, cmd, "move", "stage", true, &stage_s) || str_member(R, cmd, "move", "direction", false, &dir_s))
    return -1;
  if (record(R, ref, true, &ri) != 0) return -1;
  if (first_direction(ch, ri.entity) < 0) return fail(R, "a %s has no stages", ch->entities[ri.entity].name);
  int dir = -1;
  if (dir_s) {
    if ((dir = direction_lookup(ch, dir_s)) < 0) return fail(R, "no direction '%s'", dir_s);
    if (ch->directions[dir].entity != ri.entity)
      return fail(R, "direction '%s' holds %ss, not %ss", dir_s, ch->entities[ch->directions[dir].entity].name,
                  ch->entities[ri.entity].name);
  }
  int prefer = ri.stage >= 0 ? ch->stages[ri.stage].direction : -1;
  int32_t stage = stage_lookup(R, stage_s, dir, ri.entity, prefer);
  if (stage < 0) return -1;
  if (actor(R, cmd, "move", owner_of(R, &ri), &by) != 0) return -1;
  (void)res;
  return verdict(R, engine_move(R->e, ri.ref, stage, by));
}

static int op_event(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"ref", "name", "data", NULL};
  const Chunk *ch = R->ch;
  const char *ref, *name;
  RecordInfo ri = {0};
  if (only_keys(R, cmd, "event", keys) || str_member(R, cmd, "event", "ref", false, &ref) ||
      str_member(R, cmd, "event", "name", true, &name))
    return -1;
  int ev = event_lookup(ch, name);
  if (ev < 0) return fail(R, "no event '%s'", name);
  if (ref && record(R, ref, true, &ri) != 0) return -1;
  const EventDefC *ed = &ch->events[ev];
  json_t *data = json_object_get(cmd, "data");
  if (data && !json_is_null(data) && !json_is_object(data)) return fail(R, "\"data\" must be an object");
  Obj *o = arena_alloc(&R->a, sizeof *o);
  o->len = ed->nfields;
  o->keys = arena_alloc(&R->a, (ed->nfields + 1) * sizeof *o->keys);
  o->vals = arena_alloc(&R->a, (ed->nfields + 1) * sizeof *o->vals);
  for (uint32_t k = 0; k < ed->nfields; k++) o->keys[k] = ed->fields[k];
  uint16_t cur = ref ? currency_of(R, ri.entity, ri.id, NULL) : 0;
  const char *key;
  json_t *v;
  if (json_is_object(data))
    json_object_foreach(data, key, v) {
      uint32_t k = 0;
      while (k < ed->nfields && strcmp(ed->fields[k], key)) k++;
      if (k == ed->nfields) {
        StrBuf b = {0};
        for (uint32_t i = 0; i < ed->nfields; i++) sb_printf(&b, "%s%s", i ? ", " : "", ed->fields[i]);
        fail(R, "%s has no field '%s' (%s%s)", ed->name, key, ed->nfields ? "it has: " : "it has none",
             sb_str(&b));
        sb_free(&b);
        return -1;
      }
      const TypeDesc *t = &ed->types[k];
      if (to_value(R, v, t->kind, t->elem, t->ref, cur, arena_printf(&R->a, "event.%s", key), &o->vals[k]) != 0)
        return -1;
    }
  Value payload = {0};
  payload.type = V_OBJ;
  payload.u.o = o;
  (void)res;
  return verdict(R, engine_event(R->e, ref ? ri.ref : NULL, ev, payload));
}

/* The enum an open question is answered with, from its `ask` effect in
** the outbox ("enum"), or -1 when it does not say. */
static int question_enum(Run *R, const RecordInfo *ri, const char *question) {
  OutboxRow *rows;
  size_t n;
  if (R->st->ops->outbox_list(R->st, ri->id, "ask", &rows, &n, &R->a) != ST_OK) return -1;
  for (size_t i = n; i-- > 0;) {
    json_t *j = json_loads(rows[i].json, 0, NULL);
    if (!j) continue;
    const char *q = json_string_value(json_object_get(j, "question"));
    const char *en = json_string_value(json_object_get(j, "enum"));
    int found = -2;
    if (q && !strcmp(q, question)) {
      found = -1;
      for (uint32_t k = 0; en && k < R->ch->nenums; k++)
        if (!strcmp(R->ch->enums[k].name, en)) found = (int)k;
    }
    json_decref(j);
    if (found > -2) return found;
  }
  return -1;
}

static int op_answer(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"ref", "question", "value", NULL};
  const char *ref, *question;
  RecordInfo ri;
  if (only_keys(R, cmd, "answer", keys) || str_member(R, cmd, "answer", "ref", true, &ref) ||
      str_member(R, cmd, "answer", "question", true, &question))
    return -1;
  if (record(R, ref, true, &ri) != 0) return -1;
  json_t *v = json_object_get(cmd, "value");
  Value a;
  if (json_is_boolean(v)) {
    a = v_bool(json_is_true(v));
  } else if (json_is_string(v)) {
    /* a choice: the question's enum if the outbox says, else the first
    ** enum of the pack that has this value */
    const char *s = json_string_value(v);
    int en = question_enum(R, &ri, question), k = -1;
    if (en >= 0) {
      k = enum_value_lookup(R->ch, (uint16_t)en, s);
    } else {
      for (uint32_t i = 0; i < R->ch->nenums && k < 0; i++)
        if ((k = enum_value_lookup(R->ch, (uint16_t)i, s)) >= 0) en = (int)i;
    }
    if (k < 0) return fail(R, "'%s' is not one of the choices", s);
    a = v_tagged(V_ENUM, k);
    a.aux = (uint16_t)en;
  } else {
    return fail(R, "\"value\" must be true, false or a choice's id");
  }
  (void)res;
  return verdict(R, engine_answer(R->e, ri.ref, question, a));
}

static json_t *stage_pair(const Chunk *ch, int32_t s, bool direction) {
  if (s < 0 || (uint32_t)s >= ch->nstages) return json_null();
  if (direction) {
    const DirectionDef *d = &ch->directions[ch->stages[s].direction];
    return id_title(d->name, d->title);
  }
  return id_title(ch->stages[s].name, ch->stages[s].title);
}

static int op_get(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"ref", NULL};
  const Chunk *ch = R->ch;
  Engine *e = R->e;
  const char *ref;
  RecordInfo ri;
  if (only_keys(R, cmd, "get", keys) || str_member(R, cmd, "get", "ref", true, &ref)) return -1;
  if (record(R, ref, false, &ri) != 0) return -1;
  /* a read in a transaction of its own, rolled back: a consistent view
  ** (in a group, the group's transaction, which sees the commands before) */
  bool own = !engine_in_group(e);
  if (own && R->st->ops->begin(R->st) != ST_OK) return fail(R, "%s", store_error(R->st));
  arena_reset(&e->cmd);
  const char *owner = owner_of(R, &ri);
  json_object_set_new(res, "ref", json_string(ri.ref));
  json_object_set_new(res, "entity", json_string(ch->entities[ri.entity].name));
  json_object_set_new(res, "deleted", json_boolean(ri.deleted));
  json_object_set_new(res, "direction", stage_pair(ch, ri.stage, true));
  json_object_set_new(res, "stage", stage_pair(ch, ri.stage, false));
  json_object_set_new(res, "owner", owner ? json_string(owner) : json_null());
  json_t *fields = json_object(), *errors = NULL;
  const EntityDef *ed = &ch->entities[ri.entity];
  Value self = eng_rec(ri.entity, ri.id);
  for (uint32_t k = 0; k < ed->nfields; k++) {
    uint32_t f = ed->first_field + k;
    const FieldDef *fd = &ch->fields[f];
    if (fd->readonly || !strcmp(fd->name, "owner")) continue;
    Value v;
    if (fd->computed >= 0) {
      if (vm_run(&e->vm, (uint32_t)fd->computed, NULL, 0, self, v_null(), engine_now(e), &v) != VM_OK) {
        if (!errors) errors = json_object();
        json_object_set_new(errors, fd->name, json_string(e->vm.error.message));
        v = v_null();
      }
    } else {
      v = read_field(R, ri.id, (int)f);
    }
    json_object_set_new(fields, fd->name, eng_value_json(e, &v));
  }
  if (own) R->st->ops->rollback(R->st);
  json_object_set_new(res, "fields", fields);
  if (errors) json_object_set_new(res, "errors", errors);
  return 0;
}

static json_t *type_json(Run *R, json_t *o, TypeDesc t) {
  const Chunk *ch = R->ch;
  json_object_set_new(o, "type", json_string(type_name(R, t)));
  if ((t.kind == V_ENUM || (t.kind == V_LIST && t.elem == V_ENUM)) && t.ref < ch->nenums) {
    const EnumDefC *en = &ch->enums[t.ref];
    json_t *vals = json_array();
    for (uint32_t i = 0; i < en->nvalues; i++)
      json_array_append_new(vals, id_title(en->values[i], en->titles ? en->titles[i] : NULL));
    json_object_set_new(o, "enum", json_string(en->name));
    json_object_set_new(o, "values", vals);
  }
  return o;
}

static int op_schema(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {NULL};
  static const char *const kinds[] = {"progress", "success", "failure"};
  const Chunk *ch = R->ch;
  if (only_keys(R, cmd, "schema", keys)) return -1;
  json_object_set_new(res, "pack", json_pack("{s:s,s:s,s:s}", "id", ch->pack_name ? ch->pack_name : "",
                                             "title", ch->pack_title ? ch->pack_title : "",
                                             "version", ch->pack_version ? ch->pack_version : ""));
  json_t *ents = json_array();
  for (uint32_t i = 0; i < ch->nentities; i++) {
    const EntityDef *ed = &ch->entities[i];
    json_t *fs = json_array();
    for (uint32_t k = 0; k < ed->nfields; k++) {
      const FieldDef *fd = &ch->fields[ed->first_field + k];
      json_t *f = id_title(fd->name, fd->title);
      type_json(R, f, fd->type);
      if (fd->required && !fd->readonly) json_object_set_new(f, "required", json_true());
      if (fd->computed >= 0) json_object_set_new(f, "computed", json_true());
      else if (fd->readonly) json_object_set_new(f, "readonly", json_true());
      json_array_append_new(fs, f);
    }
    json_t *en = id_title(ed->name, ed->title);
    json_object_set_new(en, "fields", fs);
    json_array_append_new(ents, en);
  }
  json_object_set_new(res, "entities", ents);
  json_t *dirs = json_array();
  for (uint32_t d = 0; d < ch->ndirections; d++) {
    const DirectionDef *dd = &ch->directions[d];
    json_t *ss = json_array();
    for (uint32_t k = 0; k < dd->nstages; k++) {
      const StageDef *sd = &ch->stages[dd->first_stage + k];
      json_t *s = id_title(sd->name, sd->title);
      json_object_set_new(s, "kind", json_string(kinds[sd->kind < 3 ? sd->kind : 0]));
      json_array_append_new(ss, s);
    }
    json_t *dj = id_title(dd->name, dd->title);
    json_object_set_new(dj, "entity", json_string(ch->entities[dd->entity].name));
    json_object_set_new(dj, "stages", ss);
    json_array_append_new(dirs, dj);
  }
  json_object_set_new(res, "directions", dirs);
  json_t *roles = json_array();
  for (uint32_t i = 0; i < ch->nroles; i++) json_array_append_new(roles, id_title(ch->roles[i].name, ch->roles[i].title));
  json_object_set_new(res, "roles", roles);
  json_t *users = json_array();
  for (uint32_t i = 0; i < ch->nusers; i++) {
    const UserDefC *u = &ch->users[i];
    json_t *uj = id_title(u->name, u->title), *ur = json_array();
    for (uint32_t k = 0; k < u->nroles; k++)
      if (u->roles[k] < ch->nroles) json_array_append_new(ur, json_string(ch->roles[u->roles[k]].name));
    json_object_set_new(uj, "roles", ur);
    if (u->supervisor >= 0 && (uint32_t)u->supervisor < ch->nusers)
      json_object_set_new(uj, "supervisor", json_string(ch->users[u->supervisor].name));
    json_array_append_new(users, uj);
  }
  json_object_set_new(res, "users", users);
  json_t *evs = json_array();
  for (uint32_t i = 0; i < ch->nevents; i++) {
    const EventDefC *ed = &ch->events[i];
    json_t *pl = json_array();
    for (uint32_t k = 0; k < ed->nfields; k++) {
      /* the chunk keeps no titles for payload fields: the id stands in */
      json_t *f = id_title(ed->fields[k], NULL);
      type_json(R, f, ed->types[k]);
      json_array_append_new(pl, f);
    }
    json_t *ej = id_title(ed->name, ed->title);
    json_object_set_new(ej, "payload", pl);
    json_array_append_new(evs, ej);
  }
  json_object_set_new(res, "events", evs);
  return 0;
}

/* ---- inspection: the outbox and the event log (read-only) ----------------------------------- */

/* {"op":"outbox"} [ref, kind]: the outbox rows, oldest first, each with
** its idempotency key, record, kind, status and the effect as stored. */
static int op_outbox(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"ref", "kind", NULL};
  const char *ref, *kind;
  RecordInfo ri = {0};
  if (only_keys(R, cmd, "outbox", keys) || str_member(R, cmd, "outbox", "ref", false, &ref) ||
      str_member(R, cmd, "outbox", "kind", false, &kind))
    return -1;
  if (ref && record(R, ref, false, &ri) != 0) return -1;
  OutboxRow *rows;
  size_t n;
  if (R->st->ops->outbox_list(R->st, ref ? ri.id : 0, kind, &rows, &n, &R->a) != ST_OK)
    return fail(R, "%s", store_error(R->st));
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) {
    RecordInfo rr;
    const char *rref = rows[i].record && R->st->ops->info(R->st, rows[i].record, &rr, &R->a) == ST_OK
                           ? rr.ref : NULL;
    json_t *o = json_pack("{s:I,s:s,s:s?,s:s,s:s,s:o}", "id", (json_int_t)rows[i].id, "key",
                          rows[i].key ? rows[i].key : "", "ref", rref, "kind", rows[i].kind, "status",
                          rows[i].status ? rows[i].status : "", "created", iso_json(R, rows[i].created));
    json_t *ef = json_loads(rows[i].json, 0, NULL);
    if (ef) {
      json_object_del(ef, "key"); /* shown above */
      json_object_del(ef, "at_ts");
      json_object_del(ef, "at"); /* "created" */
      json_object_set_new(o, "effect", ef);
    }
    json_array_append_new(list, o);
  }
  json_object_set_new(res, "outbox", list);
  return 0;
}

/* {"op":"log"} [after, limit]: the event log, oldest first: each entry's
** number (seq), time and what it says. */
static int op_log(Run *R, json_t *cmd, json_t *res) {
  static const char *const keys[] = {"after", "limit", NULL};
  if (only_keys(R, cmd, "log", keys)) return -1;
  json_t *after = json_object_get(cmd, "after"), *limit = json_object_get(cmd, "limit");
  if ((after && !json_is_integer(after)) || (limit && !json_is_integer(limit)))
    return fail(R, "\"after\" (an entry's seq) and \"limit\" are integers");
  EventRow *rows;
  size_t n;
  if (R->st->ops->log_list(R->st, after ? json_integer_value(after) : 0, limit ? json_integer_value(limit) : 0,
                           &rows, &n, &R->a) != ST_OK)
    return fail(R, "%s", store_error(R->st));
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *ent = json_loads(rows[i].json, 0, NULL);
    json_array_append_new(list, json_pack("{s:I,s:o,s:o}", "seq", (json_int_t)rows[i].seq, "at",
                                          iso_json(R, rows[i].at), "entry", ent ? ent : json_string(rows[i].json)));
  }
  json_object_set_new(res, "log", list);
  return 0;
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* An effect line, as the engine made it: "effect", "ref" and "at" first,
** then the rest, without its internal timestamps (engine.h). */
static void on_effect(void *ud, const EngineEffect *ef) {
  Run *R = ud;
  fprintf(R->out, "%s\n", ef->json ? ef->json : "{}");
}

/* A message as a JSON string; one cut short inside a UTF-8 sequence
** loses the broken tail. */
static json_t *text_json(char *s) {
  json_t *j = json_string(s);
  for (size_t n = strlen(s); !j && n > 0; n--) {
    s[n - 1] = '\0';
    j = json_string(s);
  }
  return j ? j : json_string("");
}

typedef int (*OpFn)(Run *R, json_t *cmd, json_t *res);

static const struct {
  const char *name;
  OpFn fn;
} ops[] = {
  {"user", op_user}, {"clock", op_clock}, {"advance", op_advance}, {"create", op_create},
  {"update", op_update}, {"move", op_move}, {"event", op_event}, {"answer", op_answer},
  {"get", op_get}, {"schema", op_schema}, {"outbox", op_outbox}, {"log", op_log},
};

/* "user, clock, ...": the ops, from the table, for error messages. */
static const char *op_names_list(Run *R) {
  StrBuf b = {0};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) sb_printf(&b, "%s%s", i ? ", " : "", ops[i].name);
  const char *s = arena_strdup(&R->a, sb_str(&b));
  sb_free(&b);
  return s;
}

static void run_line(Run *R, const char *line) {
  arena_reset(&R->a);
  R->err[0] = '\0';
  json_error_t je;
  json_t *cmd = json_loads(line, JSON_REJECT_DUPLICATES, &je);
  json_t *res = json_object();
  json_object_set_new(res, "ok", json_true());
  int rc;
  if (!cmd) {
    rc = fail(R, "not JSON: %s", je.text);
  } else if (!json_is_object(cmd)) {
    rc = fail(R, "a command is a JSON object with an \"op\"");
  } else {
    const char *op = json_string_value(json_object_get(cmd, "op"));
    size_t i = 0;
    while (op && i < sizeof ops / sizeof *ops && strcmp(ops[i].name, op)) i++;
    if (!op && json_object_get(cmd, "op")) rc = fail(R, "\"op\" must be a string");
    else if (!op) rc = fail(R, "no \"op\" (one of %s)", op_names_list(R));
    else if (i == sizeof ops / sizeof *ops) rc = fail(R, "unknown op '%s' (one of %s)", op, op_names_list(R));
    else rc = ops[i].fn(R, cmd, res);
  }
  if (rc != 0) {
    json_decref(res);
    res = json_object();
    json_object_set_new(res, "ok", json_false());
    json_object_set_new(res, "error", text_json(R->err));
    if (rc == 1) json_object_set_new(res, "refused", json_true());
  }
  char *s = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
  fprintf(R->out, "%s\n", s ? s : "{\"ok\":false,\"error\":\"out of memory\"}");
  fflush(R->out);
  free(s);
  json_decref(res);
  json_decref(cmd);
}

/* ---- input: the lines available now -------------------------------------------------------- */

/* The input is read with read(2), not stdio, so that a group can take the
** lines already there without waiting: a line is available once its
** newline has arrived (a line still being written is not); at the end of
** the input, an unterminated last line counts too. */
typedef struct Input {
  int fd;
  char *buf;
  size_t start, len, cap;
  bool eof;
} Input;

/* Reads more: waiting for it when `wait`, else only what is there now.
** 1 read some, 0 nothing (or the end: in->eof), -1 an error (as the end). */
static int input_fill(Input *in, bool wait) {
  if (in->eof) return 0;
  if (!wait) {
    struct pollfd p = {.fd = in->fd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR) {}
    if (r <= 0) return 0;
  }
  if (in->start > 0) {
    memmove(in->buf, in->buf + in->start, in->len - in->start);
    in->len -= in->start;
    in->start = 0;
  }
  if (in->cap - in->len < 4096) {
    in->cap = in->cap ? in->cap * 2 : 65536;
    in->buf = xrealloc(in->buf, in->cap);
  }
  ssize_t n;
  while ((n = read(in->fd, in->buf + in->len, in->cap - in->len)) < 0 && errno == EINTR) {}
  if (n <= 0) {
    in->eof = true;
    return n < 0 ? -1 : 0;
  }
  in->len += (size_t)n;
  return 1;
}

/* The next line (malloc'd, without its newline and a CR before it); NULL
** when none is complete yet and `wait` is false, or at the end. */
static char *next_line(Input *in, bool wait) {
  for (;;) {
    char *p = in->buf + in->start, *nl = in->len > in->start ? memchr(p, '\n', in->len - in->start) : NULL;
    if (nl || (in->eof && in->len > in->start)) {
      size_t n = nl ? (size_t)(nl - p) : in->len - in->start;
      in->start += n + (nl ? 1 : 0);
      while (n > 0 && p[n - 1] == '\r') n--;
      char *line = xmalloc(n + 1);
      memcpy(line, p, n);
      line[n] = '\0';
      return line;
    }
    if (in->eof) return NULL;
    if (input_fill(in, wait) <= 0 && !in->eof) return NULL;
  }
}

/* One line on its own: its own transaction(s), answered at once. */
static void run_one(Run *R, const char *line) {
  /* on the wall clock, timers that fell due meanwhile fire first */
  if (!R->virtual_clock) engine_advance(R->e, (int64_t)time(NULL));
  run_line(R, line);
}

/* A group: one transaction, the output held back until the COMMIT, then
** printed in input order. First without savepoints (engine.h: an
** optimistic group); if a command fails, that attempt is rolled back,
** its output dropped, the clock put back, and the group run again with a
** savepoint per command (and per due timer), so that a refused or failed
** command undoes only itself. If the commit fails, nothing of the group
** was kept: each line is answered with the error, and no effect is shown.
** Returns false when the optimistic attempt was spoiled. */
static bool run_group_once(Run *R, char **lines, size_t n, bool optimistic) {
  int rc = optimistic ? engine_group_begin_optimistic(R->e) : engine_group_begin(R->e);
  if (rc != 0) {
    if (optimistic) return false;
    for (size_t i = 0; i < n; i++) run_one(R, lines[i]);
    return true;
  }
  FILE *real = R->out;
  char *held = NULL;
  size_t held_len = 0;
  FILE *mem = open_memstream(&held, &held_len);
  if (!mem) {
    engine_group_rollback(R->e);
    if (optimistic) return false;
    for (size_t i = 0; i < n; i++) run_one(R, lines[i]);
    return true;
  }
  int64_t clock0 = engine_now(R->e);
  bool vc0 = R->virtual_clock, evc0 = R->e->virtual_clock;
  R->out = mem;
  for (size_t i = 0; i < n && !(optimistic && engine_group_spoiled(R->e)); i++) run_one(R, lines[i]);
  R->out = real;
  fclose(mem);
  if (optimistic && engine_group_spoiled(R->e)) {
    engine_group_rollback(R->e);
    free(held);
    R->virtual_clock = vc0;
    R->e->virtual_clock = evc0;
    if (evc0) engine_set_clock(R->e, clock0);
    return false;
  }
  if (engine_group_commit(R->e) == 0) {
    fwrite(held, 1, held_len, real);
  } else {
    json_t *res = json_pack("{s:b,s:o}", "ok", 0, "error", text_json(R->e->err));
    char *s = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
    for (size_t i = 0; i < n; i++) fprintf(real, "%s\n", s ? s : "{\"ok\":false,\"error\":\"commit\"}");
    free(s);
    json_decref(res);
    /* the clock moved by the group is back where the database has it */
    const char *clock = NULL;
    arena_reset(&R->a);
    if (R->st->ops->meta_get(R->st, "clock", &clock, &R->a) == ST_OK && clock) {
      engine_set_clock(R->e, strtoll(clock, NULL, 10));
    } else {
      R->virtual_clock = false;
      R->e->virtual_clock = false;
    }
  }
  fflush(real);
  free(held);
  return true;
}

static void run_group(Run *R, char **lines, size_t n) {
  if (n == 1) {
    run_one(R, lines[0]);
    return;
  }
  if (!run_group_once(R, lines, n, true)) run_group_once(R, lines, n, false);
}

int run_batch(const Chunk *ch, const char *db, int batch, FILE *in, FILE *out) {
  char err[512];
  Store *st = store_open_sqlite(ch, db, err, sizeof err);
  if (!st) {
    fprintf(stderr, "funnel: %s: %s\n", db, err);
    return 1;
  }
  Run R = {0};
  R.ch = ch;
  R.st = st;
  R.out = out;
  R.zone = ch->default_calendar >= 0 ? ch->calendars[ch->default_calendar].timezone : "Europe/Moscow";
  arena_init(&R.a);
  R.e = engine_new(ch, st);
  engine_set_sink(R.e, on_effect, &R);
  const char *clock;
  if (st->ops->meta_get(st, "clock", &clock, &R.a) == ST_OK && clock) {
    engine_set_clock(R.e, strtoll(clock, NULL, 10));
    R.virtual_clock = true;
  }
  R.batch = batch > 0 ? batch : 1;
  Input inp = {.fd = fileno(in)};
  char **lines = xcalloc((size_t)R.batch, sizeof *lines);
  for (;;) {
    /* wait for one line, then take those already there, up to the cap */
    size_t n = 0;
    if (!(lines[n] = next_line(&inp, true))) break;
    for (n = 1; n < (size_t)R.batch && (lines[n] = next_line(&inp, false)); n++) {}
    run_group(&R, lines, n);
    for (size_t i = 0; i < n; i++) free(lines[i]);
  }
  free(lines);
  free(inp.buf);
  engine_free(R.e);
  st->ops->close(st);
  arena_free(&R.a);
  return 0;
}
