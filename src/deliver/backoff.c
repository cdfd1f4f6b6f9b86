/*
** backoff.c: the exponential back-off between attempts (see worker.h),
** in integer arithmetic: the factor is kept in thousandths.
*/
#include <stdint.h>

#include "deliver/worker.h"

int64_t backoff_delay(const DeliverConfig *c, int failed) {
  int64_t d = c->base;
  for (int i = 1; i < failed && d < c->cap; i++) {
    if (d > INT64_MAX / c->factor_milli) {
      d = c->cap;
      break;
    }
    d = d * c->factor_milli / 1000;
  }
  return d < c->cap ? d : c->cap;
}
