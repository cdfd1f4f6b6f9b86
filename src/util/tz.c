/*
** tz.c: time-zone arithmetic over the C library (localtime_r under a
** temporarily set TZ). Not thread-safe: the process runs one pack at a
** time, and the service will serialize calls.
*/
#include "util/tz.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <stdio.h>

#include "util/arena.h"

/* Sets TZ to zone; returns the previous value (heap) for restore_tz. */
static char *use_tz(const char *zone) {
  const char *old = getenv("TZ");
  char *saved = old ? xstrdup(old) : NULL;
  setenv("TZ", zone, 1);
  tzset();
  return saved;
}

static void restore_tz(char *saved) {
  if (saved) setenv("TZ", saved, 1);
  else unsetenv("TZ");
  tzset();
  free(saved);
}

static bool zone_exists(const char *zone) {
  if (!strcmp(zone, "UTC") || !strcmp(zone, "Etc/UTC")) return true;
  struct stat st;
  char path[512];
  if (strstr(zone, "..")) return false;
  snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
  return stat(path, &st) == 0;
}

bool tz_offset_at(const char *zone, int64_t utc, int32_t *offset) {
  if (!zone_exists(zone)) return false;
  char *saved = use_tz(zone);
  time_t t = (time_t)utc;
  struct tm tm;
  bool ok = localtime_r(&t, &tm) != NULL;
  if (ok) *offset = (int32_t)tm.tm_gmtoff;
  restore_tz(saved);
  return ok;
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
