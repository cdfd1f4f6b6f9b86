/*
** native_args.c: the arguments of an effectful native's call as exact
** JSON. The engine defers such a call: it writes the arguments into the
** outbox within the command's transaction and makes the call after the
** commit, from there (runtime/natives_out.c). The JSON follows the
** native's declared parameter types, so it needs no tags and loses
** nothing: money in minor units with its currency, decimals scaled,
** dates and date-times as numbers, enum values by name (a newer pack that
** reorders an enum still reads them).
*/
#include <string.h>

#include "natives/ffi.h"
#include "vm/vm_int.h"

static json_t *one_to_json(const Chunk *ch, uint8_t kind, uint16_t ref, const Value *v) {
  if (v->type == V_NULL) return json_null();
  switch (kind) {
  case V_BOOL: return json_boolean(v->u.i);
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME: return json_integer(v->u.i);
  case V_MONEY: return json_pack("[Is]", (json_int_t)v->u.i, currency_code(v->aux));
  case V_DURATION:
    return json_pack("[iiIi]", (int)(int16_t)v->aux, (int)v->aux32, (json_int_t)v->u.i, (int)v->flags);
  case V_TEXT: return json_stringn(v->u.t->s, v->u.t->len);
  case V_ENUM:
    if (ref < ch->nenums && (uint64_t)v->u.i < ch->enums[ref].nvalues)
      return json_string(ch->enums[ref].values[v->u.i]);
    return json_null();
  default: return json_null();
  }
}

json_t *natives_args_to_json(const Chunk *ch, uint32_t idx, const Value *args) {
  const NativeDef *n = &ch->natives[idx];
  json_t *a = json_array();
  for (uint32_t k = 0; k < n->nparams; k++) {
    TypeDesc t = n->params[k];
    if (t.kind != V_LIST || args[k].type != V_LIST) {
      json_array_append_new(a, one_to_json(ch, t.kind, t.ref, &args[k]));
      continue;
    }
    json_t *l = json_array();
    for (uint32_t j = 0; j < args[k].u.l->len; j++)
      json_array_append_new(l, one_to_json(ch, t.elem, t.ref, &args[k].u.l->items[j]));
    json_array_append_new(a, l);
  }
  return a;
}

static bool bad(Vm *vm, const NativeDef *n, uint32_t k, const char *want) {
  return vm_fail(vm, RE_NATIVE, "native %s: the recorded argument %u is not %s", n->name, k + 1, want);
}

static bool one_from_json(Vm *vm, const NativeDef *n, uint32_t k, uint8_t kind, uint16_t ref,
                          const json_t *j, Value *out) {
  const Chunk *ch = vm->ch;
  *out = v_null();
  if (json_is_null(j)) return true;
  switch (kind) {
  case V_BOOL:
    if (!json_is_boolean(j)) return bad(vm, n, k, "a bool");
    *out = v_bool(json_is_true(j));
    return true;
  case V_INT: case V_DEC: case V_DATE: case V_DATETIME:
    if (!json_is_integer(j)) return bad(vm, n, k, "a number");
    *out = v_tagged((ValueType)kind, json_integer_value(j));
    return true;
  case V_MONEY: {
    json_int_t minor;
    const char *cur;
    if (json_unpack((json_t *)j, "[Is]", &minor, &cur) != 0) return bad(vm, n, k, "money");
    uint16_t c = currency_index(cur);
    if (c == UINT16_MAX) return bad(vm, n, k, "money in a known currency");
    *out = v_money(minor, c);
    return true;
  }
  case V_DURATION: {
    int months, days, flags;
    json_int_t secs;
    if (json_unpack((json_t *)j, "[iiIi]", &months, &days, &secs, &flags) != 0)
      return bad(vm, n, k, "a duration");
    Value v = v_tagged(V_DURATION, secs);
    v.aux = (uint16_t)(int16_t)months;
    v.aux32 = days;
    v.flags = (uint8_t)flags;
    *out = v;
    return true;
  }
  case V_TEXT:
    if (!json_is_string(j)) return bad(vm, n, k, "text");
    *out = v_text(text_new(&vm->scratch, json_string_value(j), json_string_length(j)));
    return true;
  case V_ENUM:
    if (json_is_string(j) && ref < ch->nenums) {
      const EnumDefC *en = &ch->enums[ref];
      for (uint32_t i = 0; i < en->nvalues; i++) {
        if (strcmp(en->values[i], json_string_value(j))) continue;
        Value v = v_tagged(V_ENUM, i);
        v.aux = ref;
        *out = v;
        return true;
      }
    }
    return bad(vm, n, k, "a value of its enum");
  default: return bad(vm, n, k, "of a type that crosses");
  }
}

bool natives_args_from_json(Vm *vm, uint32_t idx, const json_t *j, Value *args) {
  const NativeDef *n = &vm->ch->natives[idx];
  if (!json_is_array(j) || json_array_size(j) != n->nparams)
    return vm_fail(vm, RE_NATIVE, "native %s: the recorded call has %zu arguments, not %u", n->name,
                   json_is_array(j) ? json_array_size(j) : 0, (unsigned)n->nparams);
  for (uint32_t k = 0; k < n->nparams; k++) {
    TypeDesc t = n->params[k];
    const json_t *a = json_array_get(j, k);
    if (t.kind != V_LIST || json_is_null(a)) {
      if (!one_from_json(vm, n, k, t.kind, t.ref, a, &args[k])) return false;
      continue;
    }
    if (!json_is_array(a)) return bad(vm, n, k, "a list");
    List *l = list_new(&vm->scratch, (uint32_t)(json_array_size(a) ? json_array_size(a) : 1));
    for (size_t i = 0; i < json_array_size(a); i++) {
      Value v;
      if (!one_from_json(vm, n, k, t.elem, t.ref, json_array_get(a, i), &v)) return false;
      list_push(&vm->scratch, l, v);
    }
    args[k] = v_list(l);
  }
  return true;
}
