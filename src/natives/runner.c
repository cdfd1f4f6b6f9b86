/*
** runner.c: calling an effectful native after the commit (runner.h). The
** pack is loaded as the other commands load it (a .pipec is read and
** verified, a .pipe checked and compiled), its natives bound to their
** plugins, and each call made through a VM of its own: the arguments
** read back from the outbox by the native's declared types, then
** natives_invoke.
*/
#include "natives/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytecode/bcfile.h"
#include "check/check.h"
#include "compile/compile.h"
#include "natives/ffi.h"
#include "parse/loader.h"
#include "vm/vm_int.h"

struct NativeRunner {
  Chunk *ch;
  Vm vm;
};

static Chunk *compile_pack(const char *path, char *err, size_t errlen) {
  Program p;
  program_init(&p);
  LoadOpts lo = {0};
  Chunk *c = NULL;
  if (program_load(&p, path, &lo)) {
    Model *m = check_program(&p);
    if (!p.diag.nerrors) c = compile_program(&p, m);
    model_free(m);
  }
  if (!c) snprintf(err, errlen, "%s does not compile (run funnel check on it)", path);
  program_free(&p);
  return c;
}

static HostStatus no_effect(void *ud, const VmEffect *ef, Value *result, const char **msg, Arena *a) {
  *msg = "natives called from the outbox have no record to act on";
  return HOST_ERROR;
}

NativeRunner *native_runner_open(const char *pack, char *err, size_t errlen) {
  Chunk *c = bc_is_file(pack) ? bc_read_file(pack, err, errlen) : compile_pack(pack, err, errlen);
  if (!c) return NULL;
  if (!natives_bind(c, pack, err, errlen)) {
    chunk_free(c);
    return NULL;
  }
  NativeRunner *r = xcalloc(1, sizeof *r);
  r->ch = c;
  VmHost host = {.ud = r, .effect = no_effect};
  vm_init(&r->vm, c, &host);
  return r;
}

void native_runner_close(NativeRunner *r) {
  if (!r) return;
  vm_free(&r->vm);
  chunk_free(r->ch);
  free(r);
}

int native_runner_call(NativeRunner *r, const char *name, const json_t *call, bool *permanent,
                       char *err, size_t errlen) {
  *permanent = true;
  uint32_t idx = 0;
  while (idx < r->ch->nnatives && strcmp(r->ch->natives[idx].name, name)) idx++;
  if (idx == r->ch->nnatives) {
    snprintf(err, errlen, "the pack has no native '%s'", name);
    return -1;
  }
  const NativeDef *n = &r->ch->natives[idx];
  if (n->pure) {
    snprintf(err, errlen, "native '%s' is pure: the engine calls it, not the outbox", name);
    return -1;
  }
  arena_reset(&r->vm.scratch);
  Value args[256];   /* nparams is a uint8_t */
  if (!natives_args_from_json(&r->vm, idx, call, args)) {
    snprintf(err, errlen, "%s", r->vm.error.message);
    return -1;
  }
  if (!natives_invoke(&r->vm, idx, args)) {
    *permanent = false;
    snprintf(err, errlen, "%s", r->vm.error.message);
    return -1;
  }
  return 0;
}
