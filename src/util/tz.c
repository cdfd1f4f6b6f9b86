/*
** tz.c: time-zone arithmetic over the C library (localtime_r under TZ set
** to the zone asked about). Not thread-safe: the process runs one pack at
** a time, and the service will serialize calls.
*/
#include "util/tz.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <stdio.h>

#include "util/arena.h"

/* The zone TZ was last set to: setting TZ makes tzset() read the zone
** file again, so it is set only when the zone changes (funnel reads local
** time through this file alone). And the last offset found, for the hour
** it holds: offsets change on the hour, if ever. */
static char current_zone[128];
static struct {
  char zone[128];
  int64_t from, to;
  int32_t offset;
} cache;

static void use_zone(const char *zone) {
  if (!strcmp(current_zone, zone)) return;
  setenv("TZ", zone, 1);
  tzset();
  snprintf(current_zone, sizeof current_zone, "%s", zone);
}

/* Whether the zone has a file; the last zone found is remembered (a
** stat per conversion was two thirds of a command's system time). */
static bool zone_exists(const char *zone) {
  static char known[128];
  if (!strcmp(zone, "UTC") || !strcmp(zone, "Etc/UTC") || (known[0] && !strcmp(zone, known))) return true;
  struct stat st;
  char path[512];
  if (strstr(zone, "..")) return false;
  snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
  if (stat(path, &st) != 0) return false;
  if (strlen(zone) < sizeof known) snprintf(known, sizeof known, "%s", zone);
  return true;
}

bool tz_offset_at(const char *zone, int64_t utc, int32_t *offset) {
  if (utc >= cache.from && utc < cache.to && !strcmp(cache.zone, zone)) {
    *offset = cache.offset;
    return true;
  }
  if (strlen(zone) >= sizeof cache.zone || !zone_exists(zone)) return false;
  use_zone(zone);
  time_t t = (time_t)utc;
  struct tm tm;
  if (!localtime_r(&t, &tm)) return false;
  *offset = (int32_t)tm.tm_gmtoff;
  int64_t hour = utc - (((utc % 3600) + 3600) % 3600);
  snprintf(cache.zone, sizeof cache.zone, "%s", zone);
  cache.from = hour;
  cache.to = hour + 3600;
  cache.offset = *offset;
  return true;
}

bool tz_local_to_utc(const char *zone, int64_t local, int64_t *utc) {
  int32_t off1, off2;
  /* guess with the offset at `local` read as UTC, then correct once */
  if (!tz_offset_at(zone, local, &off1)) return false;
  int64_t guess = local - off1;
  if (!tz_offset_at(zone, guess, &off2)) return false;
  if (off2 == off1) {
    *utc = guess;
    return true;
  }
  int64_t second = local - off2;
  int32_t off3;
  if (!tz_offset_at(zone, second, &off3)) return false;
  *utc = off3 == off2 ? second : local - (off1 > off2 ? off1 : off2);
  return true;
}
