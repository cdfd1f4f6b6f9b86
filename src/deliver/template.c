/*
** template.c: expands `{{name}}` in the messenger channels' URL and body
** templates (see template.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/template.h"
#include "util/strbuf.h"

static void url_encode(StrBuf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '_' || *p == '.' || *p == '~') {
      sb_putc(b, (char)*p);
    } else {
      sb_putc(b, '%');
      sb_putc(b, hex[*p >> 4]);
      sb_putc(b, hex[*p & 15]);
    }
  }
}

char *tmpl_expand(const char *tmpl, json_t *vars, int mode, char *err, size_t errlen) {
  StrBuf b = {0};
  const char *p = tmpl;
  while (*p) {
    const char *open = strstr(p, "{{");
    if (!open) {
      sb_puts(&b, p);
      break;
    }
    sb_add(&b, p, (size_t)(open - p));
    const char *close = strstr(open + 2, "}}");
    char name[64];
    size_t len = close ? (size_t)(close - open - 2) : 0;
    if (!close || len == 0 || len >= sizeof name) {
      snprintf(err, errlen, "template: '{{' without a name and '}}' in \"%.60s\"", tmpl);
      sb_free(&b);
      return NULL;
    }
    memcpy(name, open + 2, len);
    name[len] = 0;
    json_t *v = json_object_get(vars, name);
    if (!v) {
      const char *key;
      json_t *val;
      StrBuf known = {0};
      json_object_foreach(vars, key, val) sb_printf(&known, "%s{{%s}}", known.len ? ", " : "", key);
      snprintf(err, errlen, "template: unknown {{%s}} (known: %s)", name, sb_str(&known));
      sb_free(&known);
      sb_free(&b);
      return NULL;
    }
    if (mode == TM_URL) {
      url_encode(&b, json_string_value(v) ? json_string_value(v) : "");
    } else {
      char *j = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
      sb_puts(&b, j ? j : "null");
      free(j);
    }
    p = close + 2;
  }
  if (!b.s) sb_puts(&b, "");
  return b.s;
}
