/*
** http.c: one HTTP request through libcurl for the webhook and messenger
** channels, with the effect's key in an Idempotency-Key header, and the
** verdict from the outcome: 2xx delivered; 408 and 429 retry; any other
** 4xx dead (the request itself is wrong: retrying cannot help); 5xx, 1xx,
** 3xx (redirects are not followed) and transport errors (refused,
** timeout, DNS) retry.
*/
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deliver/channel.h"
#include "util/strbuf.h"

Verdict job_fail(Job *j, Verdict v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(j->err, j->errlen, fmt, ap);
  va_end(ap);
  return v;
}

const char *effect_text(json_t *effect, const char *member) {
  const char *s = json_string_value(json_object_get(effect, member));
  return s ? s : "";
}

/* Keeps the first bytes of the response body for the error message. */
static size_t keep_body(char *data, size_t size, size_t n, void *user) {
  StrBuf *b = user;
  size_t len = size * n;
  if (b->len < 300) sb_add(b, data, len < 300 - b->len ? len : 300 - b->len);
  return len;
}

/* scheme://host:port of a URL: error messages leave out the path, where
** tokens live (a Telegram bot's). */
static void url_origin(const char *url, char *out, size_t n) {
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  size_t len = strcspn(p, "/?#");
  snprintf(out, n, "%.*s%.*s", (int)(p - url), url, (int)len, p);
}

static void one_line(char *s) {
  for (; *s; s++)
    if (*s == '\r' || *s == '\n' || *s == '\t') *s = ' ';
}

Verdict http_send(Job *j, const char *method, const char *url, const char *content_type,
                  const char *body, char *const *headers, size_t nheaders, int64_t timeout) {
  CURL *c = curl_easy_init();
  if (!c) return job_fail(j, V_RETRY, "libcurl: cannot start a request");
  struct curl_slist *h = NULL;
  char line[600];
  snprintf(line, sizeof line, "Idempotency-Key: %s", j->row->key);
  h = curl_slist_append(h, line);
  if (body) {
    snprintf(line, sizeof line, "Content-Type: %s", content_type ? content_type : "application/json");
    h = curl_slist_append(h, line);
  }
  h = curl_slist_append(h, "Expect:");   /* no 100-continue round trip */
  for (size_t i = 0; i < nheaders; i++) h = curl_slist_append(h, headers[i]);
  StrBuf resp = {0};
  char curlerr[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(timeout < 10 ? timeout : 10));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "funnel-deliver");
  if (!strcmp(method, "GET")) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
    if (strcmp(method, "POST")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  }
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  curl_slist_free_all(h);
  Verdict v;
  char origin[256];
  url_origin(url, origin, sizeof origin);
  if (rc != CURLE_OK) {
    v = job_fail(j, rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ? V_DEAD : V_RETRY,
                 "%s %s: %s", method, origin, curlerr[0] ? curlerr : curl_easy_strerror(rc));
  } else if (code >= 200 && code < 300) {
    v = V_DELIVERED;
  } else {
    char empty[1] = "";
    char *text = resp.s ? resp.s : empty;
    one_line(text);
    bool dead = code >= 400 && code < 500 && code != 408 && code != 429;
    v = job_fail(j, dead ? V_DEAD : V_RETRY, "%s %s: HTTP %ld%s%s", method, origin, code,
                 *text ? ": " : "", text);
  }
  sb_free(&resp);
  return v;
}
