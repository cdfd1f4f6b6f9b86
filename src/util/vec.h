/*
** vec.h: typed growable arrays on the heap (Wren's DECLARE_BUFFER).
**   VEC(int) v = {0};  vec_push(&v, 3);  v.items[0];  vec_free(&v);
*/
#ifndef FUNNEL_VEC_H
#define FUNNEL_VEC_H

#include <stdlib.h>

#include "util/arena.h"

#define VEC(T) struct { T *items; size_t len, cap; }

#define vec_push(v, x)                                                         \
  do {                                                                         \
    if ((v)->len == (v)->cap) {                                                \
      (v)->cap = (v)->cap ? (v)->cap * 2 : 8;                                  \
      (v)->items = xrealloc((v)->items, (v)->cap * sizeof(*(v)->items));       \
    }                                                                          \
    (v)->items[(v)->len++] = (x);                                              \
  } while (0)

#define vec_free(v) do { free((v)->items); (v)->items = NULL; (v)->len = (v)->cap = 0; } while (0)

#endif
