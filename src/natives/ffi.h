/*
** ffi.h: natives, the pack's `extern fn` functions, bound to C functions
** of plugins (shared libraries) and called through libffi. The plugin ABI
** is in funnel_plugin.h and docs/plugins.md.
**
** Binding happens once, when a pack is loaded to run, before anything
** runs: every native's library is found and opened, its function and
** signature string looked up, the signature compared with the pack's, and
** a libffi call interface prepared. Whatever is missing or does not match
** is an error then, never at call time.
*/
#ifndef FUNNEL_NATIVES_FFI_H
#define FUNNEL_NATIVES_FFI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "bytecode/chunk.h"

struct Vm;

/* Binds every native of c (c->bound). pack_file is the pack's file (.pipe
** or .pipec): libraries are looked for in $FUNNEL_PLUGIN_PATH, then in its
** directory, then in the installed plugin directory. False with a message
** in err ("FILE: extern NAME: ...") if any native cannot be bound. A chunk
** without natives binds trivially. */
bool natives_bind(Chunk *c, const char *pack_file, char *err, size_t errlen);

/* Closes the libraries; chunk_free calls it. */
void natives_unbind(Chunk *c);

/* CALLN A Bx: calls native Bx with the registers R[A] .. R[A+n-1] of the
** frame at base and stores its result in R[A]. A native that is not pure
** is first handed to the host as an effect (VmEffect op OP_CALLN). False
** after vm_fail (R0109) when the native fails or its result cannot cross. */
bool natives_call(struct Vm *vm, Instr ins, Value *base);

/* Calls native idx now, with its declared parameters in args[0 .. n-1];
** the result replaces args[0]. False after vm_fail (R0109). The engine
** calls effectful natives this way from the outbox, after the commit. */
bool natives_invoke(struct Vm *vm, uint32_t idx, Value *args);

/* The arguments of a call of native idx as exact JSON, by the declared
** types (money as [minor units, "RUB"], decimals scaled by 10^6, dates as
** days, date-times as seconds, durations as [months, days, seconds,
** flags], enum values by name), and back into args (in vm's scratch
** arena; false after vm_fail when the JSON does not fit the types). */
json_t *natives_args_to_json(const Chunk *ch, uint32_t idx, const Value *args);
bool natives_args_from_json(struct Vm *vm, uint32_t idx, const json_t *j, Value *args);

#endif
