/*
** runner.h: a pack loaded only to call its natives. The engine does not
** call an effectful native inside a command: it records the call in the
** outbox (kind "native", the arguments as exact JSON) and the outbox
** worker makes it after the commit, through a runner over the same pack.
*/
#ifndef FUNNEL_NATIVES_RUNNER_H
#define FUNNEL_NATIVES_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct NativeRunner NativeRunner;

/* Loads the pack (.pipe, checked and compiled, or .pipec) and binds its
** natives; NULL with the reason in err. */
NativeRunner *native_runner_open(const char *pack, char *err, size_t errlen);
void native_runner_close(NativeRunner *r);

/* Calls native `name` with the arguments `call` recorded by the engine.
** 0 when it ran; -1 with the reason in err, *permanent set when trying
** again cannot help (no such native in the pack, arguments that do not
** fit its declaration) and clear when the native itself failed. */
int native_runner_call(NativeRunner *r, const char *name, const json_t *call, bool *permanent,
                       char *err, size_t errlen);

#endif
