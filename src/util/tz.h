/*
** tz.h: time zones by IANA name, through the C library's tz database.
** The compiler uses them for date-time literals without an offset; the
** engine for calendars' working hours.
*/
#ifndef FUNNEL_TZ_H
#define FUNNEL_TZ_H

#include <stdbool.h>
#include <stdint.h>

/* The UTC offset, in seconds east, that `zone` has at the UTC moment
** `utc` (seconds since the epoch); false if the zone is unknown. */
bool tz_offset_at(const char *zone, int64_t utc, int32_t *offset);
/* The UTC moment of the local wall-clock time `local` (seconds since the
** epoch as if the zone were UTC) in `zone`. A time skipped by a change
** of offset resolves to the later offset; a repeated time to the first. */
bool tz_local_to_utc(const char *zone, int64_t local, int64_t *utc);

#endif
