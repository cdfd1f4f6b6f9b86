/*
** ffi.c: binding natives to plugins and calling them through libffi.
**
** At bind time each native gets a Bound: its function pointer, the
** library's funnel_free (or free), and a prepared ffi_cif whose argument
** types are the declared parameters followed by `char **error`. At call
** time the VM's values are marshalled into C values in per-call slots
** (lists into arrays in the run's scratch arena), the call is made, and
** the result marshalled back into a Value in the scratch arena; whatever
** the plugin handed over (texts, enum names, list arrays, the error) is
** freed with the plugin's free function. The ABI: funnel_plugin.h and
** docs/plugins.md.
*/
#include "natives/ffi.h"

#include <dlfcn.h>
#include <ffi.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "natives/funnel_plugin.h"
#include "util/utf8.h"
#include "vm/vm_int.h"

#ifndef FUNNEL_PLUGIN_DIR
#define FUNNEL_PLUGIN_DIR "/usr/local/lib/funnel/plugins"
#endif

#define MAX_NATIVE_PARAMS 64

typedef struct Bound {
  void (*fn)(void);
  void (*release)(void *);    /* the plugin's funnel_free, or free */
  ffi_cif cif;
  ffi_type *atypes[MAX_NATIVE_PARAMS + 1];
} Bound;

struct NativeBinding {
  uint32_t nlibs;
  void **libs;
  Bound *natives;             /* one per Chunk.natives */
};

/* ---- C types of the language's types ----------------------------------- */

static ffi_type *money_elems[] = {&ffi_type_sint64, &ffi_type_sint8, &ffi_type_sint8,
                                  &ffi_type_sint8, &ffi_type_sint8, NULL};
static ffi_type money_type = {0, 0, FFI_TYPE_STRUCT, money_elems};
static ffi_type *duration_elems[] = {&ffi_type_sint32, &ffi_type_sint32, &ffi_type_sint64,
                                     &ffi_type_sint32, NULL};
static ffi_type duration_type = {0, 0, FFI_TYPE_STRUCT, duration_elems};
static ffi_type *list_elems[] = {&ffi_type_uint64, &ffi_type_pointer, NULL};
static ffi_type list_type = {0, 0, FFI_TYPE_STRUCT, list_elems};

_Static_assert(sizeof(size_t) == 8, "funnel_list.n is passed as a 64-bit integer");

static ffi_type *scalar_ffi(uint8_t kind) {
  switch (kind) {
  case V_INT: case V_DEC: case V_DATETIME: return &ffi_type_sint64;
  case V_BOOL: return &ffi_type_sint;
  case V_DATE: return &ffi_type_sint32;
  case V_TEXT: case V_ENUM: return &ffi_type_pointer;
  case V_MONEY: return &money_type;
  case V_DURATION: return &duration_type;
  default: return NULL;
  }
}

static ffi_type *type_ffi(TypeDesc t) {
  if (t.kind == V_NULL) return &ffi_type_void;
  if (t.kind == V_LIST) return scalar_ffi(t.elem) ? &list_type : NULL;
  return scalar_ffi(t.kind);
}

/* The size of one list item's C value. */
static size_t item_size(uint8_t kind) {
  switch (kind) {
  case V_BOOL: return sizeof(int);
  case V_DATE: return sizeof(int32_t);
  case V_TEXT: case V_ENUM: return sizeof(char *);
  case V_MONEY: return sizeof(funnel_money);
  case V_DURATION: return sizeof(funnel_duration);
  default: return sizeof(int64_t);
  }
}

/* The buffer's text, malloc'd, the buffer emptied. */
static char *take(StrBuf *b) {
  char *s = b->s ? b->s : xstrdup("");
  *b = (StrBuf){0};
  return s;
}

static const char *scalar_name(uint8_t kind) {
  switch (kind) {
  case V_INT: return "int";
  case V_DEC: return "decimal";
  case V_MONEY: return "money";
  case V_BOOL: return "bool";
  case V_TEXT: return "text";
  case V_DATE: return "date";
  case V_DATETIME: return "datetime";
  case V_DURATION: return "duration";
  case V_ENUM: return "enum";
  case V_NULL: return "void";
  default: return "?";
  }
}

static void type_name(StrBuf *b, TypeDesc t) {
  if (t.kind == V_LIST) sb_printf(b, "list<%s>", scalar_name(t.elem));
  else sb_puts(b, scalar_name(t.kind));
}

/* "(int,money,text)->money", as a plugin's funnel_sig_NAME must say. */
static char *signature(const NativeDef *n) {
  StrBuf b = {0};
  sb_putc(&b, '(');
  for (uint32_t i = 0; i < n->nparams; i++) {
    if (i) sb_putc(&b, ',');
    type_name(&b, n->params[i]);
  }
  sb_puts(&b, ")->");
  type_name(&b, n->ret);
  return take(&b);
}

/* s without blanks, for comparing signatures. */
static bool same_signature(const char *s, const char *want) {
  for (;;) {
    while (*s == ' ' || *s == '\t') s++;
    if (*s != *want) return false;
    if (!*s) return true;
    s++, want++;
  }
}

/* ---- binding ------------------------------------------------------------ */

static bool bind_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool bind_fail(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* The directory of path, malloc'd ("." for a bare name). */
static char *dir_of(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  if (!slash) return xstrdup(".");
  if (slash == path) return xstrdup("/");
  size_t n = (size_t)(slash - path);
  char *d = xmalloc(n + 1);
  memcpy(d, path, n);
  d[n] = '\0';
  return d;
}

/* Finds the library `name` (see natives_bind); a malloc'd path, or NULL
** with the places looked at in *tried. */
static char *find_library(const char *name, const char *pack_dir, StrBuf *tried) {
  StrBuf p = {0};
  if (strchr(name, '/')) {
    if (name[0] == '/') sb_puts(&p, name);
    else sb_printf(&p, "%s/%s", pack_dir, name);
    char *path = take(&p);
    if (access(path, R_OK) == 0) return path;
    sb_puts(tried, path);
    free(path);
    return NULL;
  }
  size_t n = strlen(name);
  bool has_so = n > 3 && !strcmp(name + n - 3, ".so");
  const char *env = getenv("FUNNEL_PLUGIN_PATH");
  const char *dirs[3] = {env ? env : "", pack_dir, FUNNEL_PLUGIN_DIR};
  for (int k = 0; k < 3; k++) {
    const char *s = dirs[k];
    while (*s) {
      size_t len = k == 0 ? strcspn(s, ":") : strlen(s);
      if (len) {
        p = (StrBuf){0};
        sb_printf(&p, "%.*s/%s%s", (int)len, s, name, has_so ? "" : ".so");
        char *path = take(&p);
        if (access(path, R_OK) == 0) return path;
        if (tried->len) sb_puts(tried, ", ");
        sb_puts(tried, path);
        free(path);
      }
      s += len;
      if (*s == ':') s++;
    }
  }
  return NULL;
}

static bool bind_one(Chunk *c, struct NativeBinding *nb, uint32_t i, const char *file,
                     const char *pack_dir, char *err, size_t errlen) {
  const NativeDef *n = &c->natives[i];
  Bound *b = &nb->natives[i];
  const char *lib = n->library && *n->library ? n->library : "";
  if (!*lib) return bind_fail(err, errlen, "%s: extern %s: no library named", file, n->name);
  if (n->nparams > MAX_NATIVE_PARAMS)
    return bind_fail(err, errlen, "%s: extern %s: more than %d parameters", file, n->name,
                     MAX_NATIVE_PARAMS);
  StrBuf tried = {0};
  char *path = find_library(lib, pack_dir, &tried);
  if (!path) {
    bind_fail(err, errlen, "%s: extern %s: library '%s' not found (looked for %s)", file,
              n->name, lib, tried.len ? tried.s : "nothing");
    sb_free(&tried);
    return false;
  }
  sb_free(&tried);
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    bind_fail(err, errlen, "%s: extern %s: cannot load '%s': %s", file, n->name, path, dlerror());
    free(path);
    return false;
  }
  /* one handle per library: dlopen counts references, so a second dlopen
  ** of the same file is the same library; keep each for dlclose */
  nb->libs = xrealloc(nb->libs, (nb->nlibs + 1) * sizeof *nb->libs);
  nb->libs[nb->nlibs++] = h;
  char sym[300], sigsym[300];
  snprintf(sym, sizeof sym, "funnel_%s", n->name);
  snprintf(sigsym, sizeof sigsym, "funnel_sig_%s", n->name);
  void *fn = dlsym(h, sym);
  if (!fn) {
    bind_fail(err, errlen, "%s: extern %s: '%s' has no function %s", file, n->name, path, sym);
    free(path);
    return false;
  }
  const char *sig = dlsym(h, sigsym);
  char *want = signature(n);
  if (!sig) {
    bind_fail(err, errlen,
              "%s: extern %s: '%s' does not declare its signature: expected "
              "const char %s[] = \"%s\"",
              file, n->name, path, sigsym, want);
    free(want);
    free(path);
    return false;
  }
  if (!same_signature(sig, want)) {
    bind_fail(err, errlen,
              "%s: extern %s: signature mismatch: the pack declares %s, '%s' has %.80s",
              file, n->name, want, path, sig);
    free(want);
    free(path);
    return false;
  }
  free(want);
  void *rel = dlsym(h, "funnel_free");
  free(path);
  *(void **)&b->fn = fn;
  if (rel) *(void **)&b->release = rel;
  else b->release = free;
  for (uint32_t k = 0; k < n->nparams; k++) {
    b->atypes[k] = type_ffi(n->params[k]);
    if (!b->atypes[k] || b->atypes[k] == &ffi_type_void)
      return bind_fail(err, errlen, "%s: extern %s: parameter %u cannot cross to C", file, n->name,
                       k + 1);
  }
  b->atypes[n->nparams] = &ffi_type_pointer;   /* char **error */
  ffi_type *rt = type_ffi(n->ret);
  if (!rt)
    return bind_fail(err, errlen, "%s: extern %s: the result cannot cross to C", file, n->name);
  if (ffi_prep_cif(&b->cif, FFI_DEFAULT_ABI, n->nparams + 1u, rt, b->atypes) != FFI_OK)
    return bind_fail(err, errlen, "%s: extern %s: libffi cannot prepare the call", file, n->name);
  return true;
}

bool natives_bind(Chunk *c, const char *pack_file, char *err, size_t errlen) {
  natives_unbind(c);
  if (!c->nnatives) return true;
  struct NativeBinding *nb = xcalloc(1, sizeof *nb);
  nb->natives = xcalloc(c->nnatives, sizeof *nb->natives);
  c->bound = nb;
  char *dir = dir_of(pack_file);
  const char *file = pack_file ? pack_file : "pack";
  bool ok = true;
  for (uint32_t i = 0; i < c->nnatives && ok; i++)
    ok = bind_one(c, nb, i, file, dir, err, errlen);
  free(dir);
  if (!ok) natives_unbind(c);
  return ok;
}

void natives_unbind(Chunk *c) {
  struct NativeBinding *nb = c ? c->bound : NULL;
  if (!nb) return;
  /* under AddressSanitizer, keep the libraries mapped so that leak
  ** reports can still name their functions */
#if !defined(__SANITIZE_ADDRESS__)
  for (uint32_t i = 0; i < nb->nlibs; i++) dlclose(nb->libs[i]);
#endif
  free(nb->libs);
  free(nb->natives);
  free(nb);
  c->bound = NULL;
}

/* ---- marshalling -------------------------------------------------------- */

/* One argument's C value. */
typedef union Slot {
  int64_t i64;
  int32_t i32;
  int i;
  const char *s;
  funnel_money m;
  funnel_duration d;
  funnel_list l;
  char **errp;
} Slot;

/* The C value of v (of kind `kind`, an element when in a list) at p. */
static bool to_c(Vm *vm, const char *nm, uint8_t kind, const Value *v, void *p, const char *what) {
  if (v->type == V_NULL) return vm_fail(vm, RE_NATIVE, "native %s: %s is empty", nm, what);
  switch (kind) {
  case V_INT: case V_DEC: case V_DATETIME: *(int64_t *)p = v->u.i; return true;
  case V_BOOL: *(int *)p = v->u.i != 0; return true;
  case V_DATE: *(int32_t *)p = (int32_t)v->u.i; return true;
  case V_TEXT:
    if (v->type != V_TEXT && v->type != V_USER)
      return vm_fail(vm, RE_TYPE, "native %s: %s is not a text", nm, what);
    *(const char **)p = v->u.t->s;
    return true;
  case V_ENUM: {
    const Chunk *ch = vm->ch;
    if (v->type != V_ENUM || v->aux >= ch->nenums || v->u.i < 0 ||
        (uint64_t)v->u.i >= ch->enums[v->aux].nvalues)
      return vm_fail(vm, RE_TYPE, "native %s: %s is not an enum value", nm, what);
    *(const char **)p = ch->enums[v->aux].values[v->u.i];
    return true;
  }
  case V_MONEY: {
    funnel_money m = {0};
    m.minor = v->u.i;
    const char *cur = currency_code(v->aux);
    snprintf(m.currency, sizeof m.currency, "%s", cur ? cur : "RUB");
    memcpy(p, &m, sizeof m);
    return true;
  }
  case V_DURATION: {
    funnel_duration d = {0};
    d.months = (int16_t)v->aux;
    d.days = v->aux32;
    d.seconds = v->u.i;
    d.work = (v->flags & VF_WORK) != 0;
    memcpy(p, &d, sizeof d);
    return true;
  }
  default: return vm_fail(vm, RE_TYPE, "native %s: %s cannot cross to C", nm, what);
  }
}

/* A text the plugin handed over: copied into the run's arena, checked. */
static bool take_text(Vm *vm, const char *nm, const char *s, Value *out) {
  size_t n = strlen(s);
  if (utf8_check(s, n) != n)
    return vm_fail(vm, RE_NATIVE, "native %s returned text that is not UTF-8", nm);
  *out = v_text(text_new(&vm->scratch, s, n));
  return true;
}

/* The Value of the C value at p; frees what the plugin handed over with
** rel (texts and enum names; the caller frees list arrays). */
static bool from_c(Vm *vm, const char *nm, uint8_t kind, uint16_t ref, void *p,
                   void (*rel)(void *), Value *out) {
  switch (kind) {
  case V_INT: *out = v_int(*(int64_t *)p); return true;
  case V_DEC: *out = v_dec(*(int64_t *)p); return true;
  case V_DATETIME: *out = v_datetime(*(int64_t *)p); return true;
  case V_BOOL: *out = v_bool(*(int *)p != 0); return true;
  case V_DATE: *out = v_date(*(int32_t *)p); return true;
  case V_MONEY: {
    funnel_money m;
    memcpy(&m, p, sizeof m);
    m.currency[3] = '\0';
    uint16_t cur = m.currency[0] ? currency_index(m.currency) : 0;
    if (cur == UINT16_MAX)
      return vm_fail(vm, RE_NATIVE, "native %s returned money in an unknown currency '%s'", nm,
                     m.currency);
    *out = v_money(m.minor, cur);
    return true;
  }
  case V_DURATION: {
    funnel_duration d;
    memcpy(&d, p, sizeof d);
    if (d.months < INT16_MIN || d.months > INT16_MAX)
      return vm_fail(vm, RE_NATIVE, "native %s returned a duration of %d months", nm, d.months);
    Value v = {0};
    v.type = V_DURATION;
    v.aux = (uint16_t)(int16_t)d.months;
    v.aux32 = d.days;
    v.u.i = d.seconds;
    if (d.work) v.flags = VF_WORK;
    *out = v;
    return true;
  }
  case V_TEXT: case V_ENUM: {
    char *s = *(char **)p;
    if (!s) {
      *out = v_null();
      return true;
    }
    bool ok;
    if (kind == V_TEXT) {
      ok = take_text(vm, nm, s, out);
    } else {
      const Chunk *ch = vm->ch;
      ok = false;
      if (ref < ch->nenums) {
        const EnumDefC *e = &ch->enums[ref];
        for (uint32_t k = 0; k < e->nvalues; k++)
          if (!strcmp(e->values[k], s)) {
            Value v = {0};
            v.type = V_ENUM;
            v.aux = ref;
            v.u.i = k;
            *out = v;
            ok = true;
            break;
          }
        if (!ok)
          vm_fail(vm, RE_NATIVE, "native %s returned '%.60s', not a value of %s", nm, s, e->name);
      }
    }
    rel(s);
    return ok;
  }
  default: return vm_fail(vm, RE_NATIVE, "native %s: its result cannot cross from C", nm);
  }
}

/* Frees what a returned list of n items at p holds (texts, enum names). */
static void release_items(uint8_t kind, const void *items, size_t from, size_t n,
                          void (*rel)(void *)) {
  if (kind != V_TEXT && kind != V_ENUM) return;
  for (size_t k = from; k < n; k++) rel(((char **)items)[k]);
}

bool natives_call(Vm *vm, Instr ins, Value *base) {
  const Chunk *ch = vm->ch;
  uint32_t idx = (uint32_t)GET_Bx(ins);
  const NativeDef *n = &ch->natives[idx];
  Value *args = base + GET_A(ins);
  /* effectful natives: only from handlers, tests and their functions;
  ** the host records each call as an effect, and either defers it (the
  ** engine: the call is made from the outbox after the commit) or lets
  ** it be made now */
  if (!n->pure) {
    uint8_t root = vm->nframes > 0 ? ch->funcs[vm->frames[0].func].kind : FN_HANDLER;
    if (root == FN_GUARD || root == FN_TRIGGER || root == FN_COMPUTED || root == FN_MOMENT ||
        root == FN_MESSAGE)
      return vm_fail(vm, RE_NATIVE,
                     "native %s is not pure: it cannot run in a condition or a computed field",
                     n->name);
    int st = vm_effect(vm, ins, base);
    if (st == HOST_DEFERRED) {
      *args = v_null();
      return true;
    }
    if (st != HOST_OK) {
      if (st == HOST_REFUSED)
        return vm_fail(vm, RE_NATIVE, "native %s: the host refused the call", n->name);
      return vm_fail(vm, RE_HOST, "native %s: the host could not record the call", n->name);
    }
  }
  return natives_invoke(vm, idx, args);
}

bool natives_invoke(Vm *vm, uint32_t idx, Value *args) {
  const Chunk *ch = vm->ch;
  const NativeDef *n = &ch->natives[idx];
  if (!ch->bound)
    return vm_fail(vm, RE_NATIVE, "native %s is not bound: the pack was loaded without its plugins",
                   n->name);
  const Bound *b = &ch->bound->natives[idx];
  Slot slots[MAX_NATIVE_PARAMS + 1];
  void *avalues[MAX_NATIVE_PARAMS + 1];
  char what[48];
  for (uint32_t k = 0; k < n->nparams; k++) {
    TypeDesc t = n->params[k];
    const Value *v = &args[k];
    avalues[k] = &slots[k];
    snprintf(what, sizeof what, "argument %u", k + 1);
    if (t.kind != V_LIST) {
      if (!to_c(vm, n->name, t.kind, v, &slots[k], what)) return false;
      continue;
    }
    if (v->type != V_LIST) return vm_fail(vm, RE_NATIVE, "native %s: %s is empty", n->name, what);
    size_t len = v->u.l->len, sz = item_size(t.elem);
    char *items = arena_alloc(&vm->scratch, (len ? len : 1) * sz);
    for (size_t j = 0; j < len; j++) {
      snprintf(what, sizeof what, "item %zu of argument %u", j + 1, k + 1);
      if (!to_c(vm, n->name, t.elem, &v->u.l->items[j], items + j * sz, what)) return false;
    }
    slots[k].l = (funnel_list){len, items};
  }
  char *error = NULL;
  slots[n->nparams].errp = &error;
  avalues[n->nparams] = &slots[n->nparams];
  union {
    ffi_arg a;
    ffi_sarg sa;
    int64_t i64;
    funnel_money m;
    funnel_duration d;
    funnel_list l;
    char *s;
    char buf[64];
  } r;
  memset(&r, 0, sizeof r);
  ffi_call((ffi_cif *)&b->cif, b->fn, &r, avalues);
  if (error) {
    vm_fail(vm, RE_NATIVE, "native %s failed: %.200s", n->name, error);
    b->release(error);
    /* a failed call's result is ignored, but what it handed over is freed */
    if (n->ret.kind == V_TEXT || n->ret.kind == V_ENUM) {
      if (r.s) b->release(r.s);
    } else if (n->ret.kind == V_LIST && r.l.items) {
      release_items(n->ret.elem, r.l.items, 0, r.l.n, b->release);
      b->release((void *)r.l.items);
    }
    return false;
  }
  Value *out = args;
  switch (n->ret.kind) {
  case V_NULL: *out = v_null(); return true;
  case V_BOOL: { int x = (int)r.sa; return from_c(vm, n->name, V_BOOL, 0, &x, b->release, out); }
  case V_DATE: {
    int32_t x = (int32_t)r.sa;
    return from_c(vm, n->name, V_DATE, 0, &x, b->release, out);
  }
  case V_LIST: {
    uint8_t ek = n->ret.elem;
    size_t len = r.l.n, sz = item_size(ek);
    const char *items = r.l.items;
    if (len && !items)
      return vm_fail(vm, RE_NATIVE, "native %s returned %zu list items but no array", n->name, len);
    if (len > UINT32_MAX / 2) {
      release_items(ek, items, 0, len, b->release);
      b->release((void *)items);
      return vm_fail(vm, RE_NATIVE, "native %s returned a list of %zu items", n->name, len);
    }
    List *l = list_new(&vm->scratch, (uint32_t)(len ? len : 1));
    bool ok = true;
    size_t j = 0;
    for (; j < len && ok; j++) {
      Value v;
      ok = from_c(vm, n->name, ek, n->ret.ref, (void *)(items + j * sz), b->release, &v);
      if (ok) list_push(&vm->scratch, l, v);
    }
    release_items(ek, items, j, len, b->release);
    if (items) b->release((void *)items);
    if (!ok) return false;
    *out = v_list(l);
    return vm_check_memory(vm);
  }
  default: return from_c(vm, n->name, n->ret.kind, n->ret.ref, &r, b->release, out);
  }
}
