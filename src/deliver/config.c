/*
** config.c: reads the configuration file of `funnel deliver`.
**
** The format: `[section]` headers and `key = value` lines; blank lines and
** lines starting with `#` or `;` are skipped. A value runs to the end of
** the line, trimmed; a value in double quotes may use \" \\ \n \t and
** keep spaces at its ends. Durations are a number with an optional unit
** (s, m, h, d: `30s`, `5m`); a plain number is seconds. Every key is
** documented in docs/delivery.md; an unknown section or key, a bad value
** or a key given twice (but `header`) is an error naming FILE:LINE.
*/
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/config.h"
#include "util/arena.h"

typedef struct Parser {
  const char *path;
  int line;
  char *err;
  size_t errlen;
} Parser;

static int perr(Parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(Parser *p, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->line > 0)
    snprintf(p->err, p->errlen, "%s:%d: %s", p->path, p->line, msg);
  else
    snprintf(p->err, p->errlen, "%s: %s", p->path, msg);
  return -1;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
    s[--n] = 0;
  return s;
}

/* Unquotes a "..." value in place. */
static int unquote(Parser *p, char *v) {
  if (*v != '"') return 0;
  char *o = v;
  const char *s = v + 1;
  for (; *s && *s != '"'; s++) {
    if (*s != '\\') {
      *o++ = *s;
      continue;
    }
    s++;
    switch (*s) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case 'n': *o++ = '\n'; break;
    case 't': *o++ = '\t'; break;
    default: return perr(p, "unknown escape \\%c in a quoted value (\\\" \\\\ \\n \\t)", *s ? *s : ' ');
    }
  }
  if (*s != '"') return perr(p, "a quoted value has no closing \"");
  if (s[1]) return perr(p, "text after the closing \" of a quoted value");
  *o = 0;
  return 0;
}

static int duration(Parser *p, const char *key, const char *v, int64_t *out) {
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (end == v || errno || n < 0) return perr(p, "%s: '%s' is not a duration (30s, 5m, 2h, 1d)", key, v);
  int64_t mul = 1;
  if (!strcmp(end, "") || !strcmp(end, "s")) mul = 1;
  else if (!strcmp(end, "m")) mul = 60;
  else if (!strcmp(end, "h")) mul = 3600;
  else if (!strcmp(end, "d")) mul = 86400;
  else return perr(p, "%s: unknown unit '%s' (s, m, h or d)", key, end);
  if (n > INT64_MAX / mul / 4) return perr(p, "%s: %s is too long", key, v);
  *out = n * mul;
  return 0;
}

static int integer(Parser *p, const char *key, const char *v, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (end == v || *end || errno) return perr(p, "%s: '%s' is not a whole number", key, v);
  if (n < lo || n > hi) return perr(p, "%s: %ld is out of range (%ld to %ld)", key, n, lo, hi);
  *out = n;
  return 0;
}

static int boolean(Parser *p, const char *key, const char *v, bool *out) {
  if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on")) *out = true;
  else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off")) *out = false;
  else return perr(p, "%s: '%s' is not yes or no", key, v);
  return 0;
}

/* "1.5" -> 1500 */
static int factor(Parser *p, const char *key, const char *v, int64_t *out) {
  int64_t whole = 0, frac = 0, scale = 1000;
  const char *s = v;
  if (!isdigit((unsigned char)*s)) return perr(p, "%s: '%s' is not a number", key, v);
  while (isdigit((unsigned char)*s) && whole < 1000) whole = whole * 10 + (*s++ - '0');
  if (*s == '.') {
    s++;
    while (isdigit((unsigned char)*s)) {
      if (scale > 1) {
        scale /= 10;
        frac += (*s - '0') * scale;
      }
      s++;
    }
  }
  if (*s || whole >= 1000) return perr(p, "%s: '%s' is not a number below 1000", key, v);
  *out = whole * 1000 + frac;
  if (*out < 1000) return perr(p, "%s: %s would make the delays shrink (use 1 or more)", key, v);
  return 0;
}

static int set_text(Parser *p, const char *key, char **slot, const char *v) {
  if (*slot) return perr(p, "%s is given twice", key);
  *slot = xstrdup(v);
  return 0;
}

static int http_key(Parser *p, HttpConf *h, bool messenger, const char *key, const char *v) {
  if (!strcmp(key, "url") && messenger) return set_text(p, key, &h->url, v);
  if (!strcmp(key, "body") && messenger) return set_text(p, key, &h->body, v);
  if (!strcmp(key, "method")) {
    if (strcmp(v, "POST") && strcmp(v, "PUT") && strcmp(v, "GET"))
      return perr(p, "method: '%s' is not POST, PUT or GET", v);
    return set_text(p, key, &h->method, v);
  }
  if (!strcmp(key, "content_type")) return set_text(p, key, &h->content_type, v);
  if (!strcmp(key, "timeout")) return duration(p, key, v, &h->timeout);
  if (!strcmp(key, "header")) {
    const char *colon = strchr(v, ':');
    if (!colon || colon == v || strpbrk(v, "\r\n"))
      return perr(p, "header: '%s' is not 'Name: value'", v);
    h->headers = xrealloc(h->headers, (h->nheaders + 1) * sizeof *h->headers);
    h->headers[h->nheaders++] = xstrdup(v);
    return 0;
  }
  return perr(p, "unknown key '%s' (%s)", key,
              messenger ? "url, method, header, body, content_type, timeout"
                        : "method, header, content_type, timeout");
}

static int smtp_key(Parser *p, SmtpConf *s, const char *key, const char *v) {
  long n;
  if (!strcmp(key, "server")) return set_text(p, key, &s->server, v);
  if (!strcmp(key, "port")) {
    if (integer(p, key, v, 1, 65535, &n)) return -1;
    s->port = (int)n;
    return 0;
  }
  if (!strcmp(key, "tls")) {
    if (!strcmp(v, "none")) s->tls = TLS_NONE;
    else if (!strcmp(v, "starttls")) s->tls = TLS_STARTTLS;
    else if (!strcmp(v, "smtps")) s->tls = TLS_SMTPS;
    else return perr(p, "tls: '%s' is not none, starttls or smtps", v);
    return 0;
  }
  if (!strcmp(key, "verify")) return boolean(p, key, v, &s->verify);
  if (!strcmp(key, "from")) {
    if (!strchr(v, '@') || strpbrk(v, "\r\n")) return perr(p, "from: '%s' is not an e-mail address", v);
    return set_text(p, key, &s->from, v);
  }
  if (!strcmp(key, "user")) return set_text(p, key, &s->user, v);
  if (!strcmp(key, "password")) return set_text(p, key, &s->password, v);
  if (!strcmp(key, "domain")) return set_text(p, key, &s->domain, v);
  if (!strcmp(key, "subject_prefix")) return set_text(p, key, &s->subject_prefix, v);
  if (!strcmp(key, "timeout")) return duration(p, key, v, &s->timeout);
  return perr(p, "unknown key '%s' (server, port, tls, verify, from, user, password, domain, "
              "subject_prefix, timeout)", key);
}

static int section_key(Parser *p, DeliverConfig *c, const char *sec, const char *key, const char *v) {
  long n;
  if (!strcmp(sec, "worker")) {
    if (!strcmp(key, "batch")) {
      if (integer(p, key, v, 1, 10000, &n)) return -1;
      c->batch = (int)n;
      return 0;
    }
    if (!strcmp(key, "lease")) return duration(p, key, v, &c->lease);
    if (!strcmp(key, "interval")) return duration(p, key, v, &c->interval);
    return perr(p, "unknown key '%s' (batch, lease, interval)", key);
  }
  if (!strcmp(sec, "retry")) {
    if (!strcmp(key, "base")) return duration(p, key, v, &c->base);
    if (!strcmp(key, "cap")) return duration(p, key, v, &c->cap);
    if (!strcmp(key, "factor")) return factor(p, key, v, &c->factor_milli);
    if (!strcmp(key, "max_attempts")) {
      if (integer(p, key, v, 1, 1000, &n)) return -1;
      c->max_attempts = (int)n;
      return 0;
    }
    return perr(p, "unknown key '%s' (base, factor, cap, max_attempts)", key);
  }
  if (!strcmp(sec, "smtp")) return smtp_key(p, &c->smtp, key, v);
  if (!strcmp(sec, "sms")) return http_key(p, &c->sms, true, key, v);
  if (!strcmp(sec, "whatsapp")) return http_key(p, &c->whatsapp, true, key, v);
  if (!strcmp(sec, "telegram")) return http_key(p, &c->telegram, true, key, v);
  if (!strcmp(sec, "webhook")) return http_key(p, &c->webhook, false, key, v);
  if (!strcmp(sec, "documents")) {
    if (!strcmp(key, "templates")) return set_text(p, key, &c->templates, v);
    if (!strcmp(key, "output")) return set_text(p, key, &c->output, v);
    return perr(p, "unknown key '%s' (templates, output)", key);
  }
  if (!strcmp(sec, "natives")) {
    if (!strcmp(key, "pack")) return set_text(p, key, &c->natives_pack, v);
    return perr(p, "unknown key '%s' (pack)", key);
  }
  return perr(p, "a key outside any section");
}

static const char *const sections[] = {"worker", "retry", "smtp", "sms", "whatsapp",
                                       "telegram", "webhook", "documents", "natives", NULL};

static bool *section_flag(DeliverConfig *c, const char *sec) {
  if (!strcmp(sec, "smtp")) return &c->smtp.set;
  if (!strcmp(sec, "sms")) return &c->sms.set;
  if (!strcmp(sec, "whatsapp")) return &c->whatsapp.set;
  if (!strcmp(sec, "telegram")) return &c->telegram.set;
  if (!strcmp(sec, "webhook")) return &c->webhook.set;
  if (!strcmp(sec, "documents")) return &c->documents;
  return NULL;
}

/* What a section must have, checked at its end (line: its header). */
static int section_done(Parser *p, DeliverConfig *c, const char *sec, int line) {
  int keep = p->line;
  p->line = line;
  int rc = 0;
  if (!strcmp(sec, "smtp")) {
    if (!c->smtp.server) rc = perr(p, "[smtp] needs server");
    else if (!c->smtp.from) rc = perr(p, "[smtp] needs from");
    else if (!c->smtp.user != !c->smtp.password) rc = perr(p, "[smtp] needs both user and password, or neither");
  } else if (!strcmp(sec, "sms") || !strcmp(sec, "whatsapp") || !strcmp(sec, "telegram")) {
    const HttpConf *h = dconf_messenger(c, sec);
    if (!h->url) rc = perr(p, "[%s] needs url", sec);
    else if (!h->body && (!h->method || strcmp(h->method, "GET")))
      rc = perr(p, "[%s] needs body (a template; {{address}} and {{text}} are the message's)", sec);
  } else if (!strcmp(sec, "documents")) {
    if (!c->templates) rc = perr(p, "[documents] needs templates (the directory of the templates)");
    else if (!c->output) rc = perr(p, "[documents] needs output (where the files go)");
  } else if (!strcmp(sec, "natives")) {
    if (!c->natives_pack) rc = perr(p, "[natives] needs pack (the .pipe or .pipec whose natives to call)");
  }
  p->line = keep;
  return rc;
}

static void defaults(DeliverConfig *c) {
  c->batch = 10;
  c->lease = 600;
  c->interval = 5;
  c->base = 30;
  c->cap = 3600;
  c->factor_milli = 2000;
  c->max_attempts = 8;
  c->smtp.verify = true;
}

static void finish_defaults(DeliverConfig *c) {
  if (!c->smtp.port) c->smtp.port = c->smtp.tls == TLS_SMTPS ? 465 : 25;
  if (!c->smtp.timeout) c->smtp.timeout = 30;
  HttpConf *hs[] = {&c->sms, &c->whatsapp, &c->telegram, &c->webhook};
  for (size_t i = 0; i < 4; i++)
    if (!hs[i]->timeout) hs[i]->timeout = 30;
}

int dconf_load(const char *path, DeliverConfig *c, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  defaults(c);
  c->path = xstrdup(path);
  Parser p = {path, 0, err, errlen};
  FILE *f = fopen(path, "r");
  if (!f) {
    perr(&p, "cannot read: %s", strerror(errno));
    dconf_free(c);
    return -1;
  }
  char *buf = NULL;
  size_t cap = 0;
  char sec[32] = "";
  int sec_line = 0, rc = 0;
  bool seen[sizeof sections / sizeof *sections] = {false};
  while (!rc && getline(&buf, &cap, f) != -1) {
    p.line++;
    char *s = trim(buf);
    if (!*s || *s == '#' || *s == ';') continue;
    if (*s == '[') {
      char *end = strchr(s, ']');
      if (!end || trim(end + 1)[0]) {
        rc = perr(&p, "a section header is [name]");
        break;
      }
      *end = 0;
      char *name = trim(s + 1);
      int k = -1;
      for (int i = 0; sections[i]; i++)
        if (!strcmp(sections[i], name)) k = i;
      if (k < 0) {
        rc = perr(&p, "unknown section [%s] (worker, retry, smtp, sms, whatsapp, telegram, "
                  "webhook, documents, natives)", name);
        break;
      }
      if (seen[k]) {
        rc = perr(&p, "section [%s] is given twice", name);
        break;
      }
      if (*sec && (rc = section_done(&p, c, sec, sec_line))) break;
      seen[k] = true;
      snprintf(sec, sizeof sec, "%s", name);
      sec_line = p.line;
      bool *flag = section_flag(c, sec);
      if (flag) *flag = true;
      continue;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
      rc = perr(&p, "expected 'key = value' or [section]");
      break;
    }
    *eq = 0;
    char *key = trim(s), *v = trim(eq + 1);
    if (!*key) {
      rc = perr(&p, "a value without a key");
      break;
    }
    if ((rc = unquote(&p, v))) break;
    if (!*sec) {
      rc = perr(&p, "key '%s' before any [section]", key);
      break;
    }
    rc = section_key(&p, c, sec, key, v);
  }
  if (!rc && *sec) rc = section_done(&p, c, sec, sec_line);
  free(buf);
  fclose(f);
  if (!rc && c->base < 1) {
    p.line = 0;
    rc = perr(&p, "[retry] base must be at least 1s");
  }
  if (!rc && c->lease < 1) {
    p.line = 0;
    rc = perr(&p, "[worker] lease must be at least 1s");
  }
  if (!rc && c->cap < c->base) {
    p.line = 0;
    rc = perr(&p, "[retry] cap (%llds) is below base (%llds)", (long long)c->cap, (long long)c->base);
  }
  if (rc) {
    dconf_free(c);
    return -1;
  }
  finish_defaults(c);
  return 0;
}

static void http_free(HttpConf *h) {
  free(h->url);
  free(h->method);
  free(h->body);
  free(h->content_type);
  for (size_t i = 0; i < h->nheaders; i++) free(h->headers[i]);
  free(h->headers);
}

void dconf_free(DeliverConfig *c) {
  free(c->path);
  SmtpConf *s = &c->smtp;
  free(s->server);
  free(s->from);
  free(s->user);
  free(s->password);
  free(s->domain);
  free(s->subject_prefix);
  http_free(&c->sms);
  http_free(&c->whatsapp);
  http_free(&c->telegram);
  http_free(&c->webhook);
  free(c->templates);
  free(c->output);
  free(c->natives_pack);
  memset(c, 0, sizeof *c);
}

const HttpConf *dconf_messenger(const DeliverConfig *c, const char *channel) {
  if (!channel) return NULL;
  if (!strcmp(channel, "sms")) return &c->sms;
  if (!strcmp(channel, "whatsapp")) return &c->whatsapp;
  if (!strcmp(channel, "telegram")) return &c->telegram;
  return NULL;
}
