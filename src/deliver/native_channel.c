/*
** native_channel.c: effectful natives, called after the commit. The engine
** records each call of a native that is not `pure` as an outbox row of
** kind "native" with its exact arguments ("call"); this channel makes the
** call through a runner over the pack named by [natives] pack (loaded once,
** on the first such row). The native's own failure is retried with the
** usual back-off; a call the pack cannot make (no such native, arguments
** that do not fit) is dead at once. A plugin gets no idempotency key: a
** crash between the call and its mark calls it again (docs/delivery.md).
*/
#include <stdlib.h>
#include <string.h>

#include "deliver/channel.h"
#include "natives/runner.h"

static NativeRunner *runner;

void chan_native_shutdown(void) {
  native_runner_close(runner);
  runner = NULL;
}

Verdict chan_native(Job *j) {
  const DeliverConfig *c = j->cfg;
  if (!c->natives_pack)
    return job_fail(j, V_DEAD, "native: no [natives] pack in %s: nothing to call natives with", c->path);
  if (!runner) {
    char err[1024];
    runner = native_runner_open(c->natives_pack, err, sizeof err);
    if (!runner) return job_fail(j, V_RETRY, "native: %s", err);
  }
  const char *name = effect_text(j->effect, "native");
  json_t *call = json_object_get(j->effect, "call");
  if (!*name || !call) return job_fail(j, V_DEAD, "native: the effect names no native or call");
  bool permanent;
  char err[600];
  if (native_runner_call(runner, name, call, &permanent, err, sizeof err) == 0) return V_DELIVERED;
  if (!permanent) return job_fail(j, V_RETRY, "%s", err);   /* "native NAME failed: ..." */
  return job_fail(j, V_DEAD, "native %s: %s", name, err);
}
