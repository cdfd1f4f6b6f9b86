/*
** calendar.c: working days and hours of a calendar: weekdays with hours,
** holidays (ranges) and transferred working days, in the calendar's time
** zone. Used by the VM for `+ 3 workdays` and by the engine for delays.
*/
#include <stdlib.h>

#include "vm/vm_int.h"

/* Ten years: a calendar without a working day in that span is broken. */
#define CAL_MAX_SCAN 3660

/* Monday = 0 ... Sunday = 6; 1970-01-01 was a Thursday. */
static int weekday0(int64_t day) { return (int)(((day % 7) + 7 + 3) % 7); }

bool cal_is_workday(const CalendarDef *cal, int64_t day) {
  for (uint32_t i = 0; i < cal->nworkdays; i++)
    if (cal->workdays[i] == day) return true;
  for (uint32_t i = 0; i < cal->nholidays; i++)
    if (day >= cal->holiday_from[i] && day <= cal->holiday_to[i]) return false;
  int wd = weekday0(day);
  for (uint32_t i = 0; i < cal->nhours; i++)
    if (cal->hours_days[i] & (1u << wd)) return true;
  return false;
}

bool cal_add_workdays(const CalendarDef *cal, int64_t day, int64_t n, int64_t *out) {
  int step = n < 0 ? -1 : 1;
  int64_t left = n < 0 ? -n : n;
  int64_t guard = left * 7 + CAL_MAX_SCAN;
  if (left == 0) {
    while (!cal_is_workday(cal, day)) {
      day++;
      if (--guard <= 0) return false;
    }
    *out = day;
    return true;
  }
  while (left > 0) {
    day += step;
    if (cal_is_workday(cal, day)) left--;
    if (--guard <= 0) return false;
  }
  *out = day;
  return true;
}

/* Working hours of a weekday, sorted by start: indexes into the ranges. */
static int day_ranges(const CalendarDef *cal, int wd, uint32_t *idx, int cap) {
  int n = 0;
  for (uint32_t i = 0; i < cal->nhours && n < cap; i++)
    if (cal->hours_days[i] & (1u << wd)) idx[n++] = i;
  for (int a = 1; a < n; a++)
    for (int b = a; b > 0 && cal->hours_from[idx[b]] < cal->hours_from[idx[b - 1]]; b--) {
      uint32_t t = idx[b];
      idx[b] = idx[b - 1];
      idx[b - 1] = t;
    }
  return n;
}

static bool to_utc(const CalendarDef *cal, int64_t local, int64_t *utc) {
  return tz_local_to_utc(cal->timezone, local, utc);
}

bool cal_add_workminutes(const CalendarDef *cal, int64_t utc, int64_t minutes, int64_t *out) {
  int32_t off;
  if (!tz_offset_at(cal->timezone, utc, &off)) return false;
  int64_t local = utc + off;
  int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t sod = local - day * 86400;  /* seconds of the day */
  int64_t left = minutes * 60;
  for (int guard = 0; guard < CAL_MAX_SCAN; guard++, day++, sod = 0) {
    if (!cal_is_workday(cal, day)) continue;
    uint32_t idx[32];
    int n = day_ranges(cal, weekday0(day), idx, 32);
    if (n == 0) n = day_ranges(cal, 0, idx, 32); /* a transferred working day: Monday's hours */
    for (int k = 0; k < n; k++) {
      int64_t from = (int64_t)cal->hours_from[idx[k]] * 60, to = (int64_t)cal->hours_to[idx[k]] * 60;
      int64_t start = sod > from ? sod : from;
      if (start >= to) continue;
      if (left <= to - start) return to_utc(cal, day * 86400 + start + left, out);
      left -= to - start;
    }
  }
  return false;
}
