/*
** funnel_plugin.h: the C ABI of funnel natives, for plugin authors
** (docs/plugins.md explains it with a worked example). A plugin is a
** shared library; for each `extern fn NAME(...)` of a pack it exports
**   - the function funnel_NAME, taking the parameters as below and, last,
**     `char **error` (NULL on entry: to fail, store a malloc'd message);
**   - the string `const char funnel_sig_NAME[]`, its signature as the pack
**     declares it, e.g. "(int,money,text)->money" (checked at load);
**   - optionally funnel_free(void *), which the VM then uses instead of
**     free() for everything the plugin hands over.
** Types: int int64_t; decimal int64_t (value * 10^6); money funnel_money
** (by value); bool int; text, phone, email const char * (UTF-8, NUL-
** terminated); date int32_t (days since 1970-01-01); datetime int64_t
** (seconds, UTC); duration funnel_duration (by value); enum const char *
** (the value's name); list<T> funnel_list (by value) of T's C type.
** Returned text and enum names, and returned lists' item arrays (and the
** texts in them), are malloc'd by the plugin and freed by the VM.
*/
#ifndef FUNNEL_PLUGIN_H
#define FUNNEL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

/* Money: an amount in minor units (hundredths: kopecks, cents) and the
** ISO 4217 code ("RUB", "USD", "EUR"), NUL-terminated. */
typedef struct funnel_money {
  int64_t minor;
  char currency[4];
} funnel_money;

/* A duration: calendar months, days and seconds; with work = 1, days are
** working days and seconds are working minutes (`2 workdays`). */
typedef struct funnel_duration {
  int32_t months;
  int32_t days;
  int64_t seconds;
  int32_t work;
} funnel_duration;

/* A list: n items of the element's C type (int64_t, const char *, ...). */
typedef struct funnel_list {
  size_t n;
  const void *items;
} funnel_list;

#endif
