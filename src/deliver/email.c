/*
** email.c: e-mail messages over SMTP with libcurl ([smtp] in the
** configuration: server, port, TLS, optional AUTH). The subject is the
** text's first line, the body the whole text (mime.c); the key goes in
** Message-ID and X-Funnel-Key, so a message sent twice after a crash is
** recognisably the same message. An SMTP 5xx reply is dead (the server
** refuses this message for good), a 4xx or a transport error retries.
*/
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/channel.h"
#include "deliver/mime.h"

typedef struct Upload {
  const char *data;
  size_t len, pos;
} Upload;

static size_t read_upload(char *buf, size_t size, size_t n, void *user) {
  Upload *u = user;
  size_t room = size * n, left = u->len - u->pos;
  size_t k = left < room ? left : room;
  memcpy(buf, u->data + u->pos, k);
  u->pos += k;
  return k;
}

static int plain_address(const char *a) {
  const char *at = strchr(a, '@');
  if (!at || at == a || !at[1] || strchr(at + 1, '@')) return 0;
  for (const unsigned char *p = (const unsigned char *)a; *p; p++)
    if (*p <= 0x20 || *p >= 0x7f || strchr("<>()[],;:\\\"", *p)) return 0;
  return 1;
}

Verdict chan_email(Job *j) {
  const SmtpConf *s = &j->cfg->smtp;
  if (!s->set) return job_fail(j, V_DEAD, "message: e-mail is not configured (no [smtp] in %s)", j->cfg->path);
  json_t *addr = json_object_get(j->effect, "address");
  if (!json_is_string(addr) || !*json_string_value(addr))
    return job_fail(j, V_DEAD, "message: the recipient has no e-mail address");
  const char *to = json_string_value(addr);
  if (!plain_address(to)) return job_fail(j, V_DEAD, "message: '%s' is not an e-mail address", to);
  const char *text = effect_text(j->effect, "text");
  char *subject = NULL;
  if (s->subject_prefix) {
    char *first = mime_subject(text, 150);
    size_t n = strlen(s->subject_prefix) + strlen(first) + 1;
    subject = xmalloc(n);
    snprintf(subject, n, "%s%s", s->subject_prefix, first);
    free(first);
  } else {
    subject = mime_subject(text, 150);
  }
  char *msg = mime_message(s->from, to, subject, text, j->row->key,
                           s->domain ? s->domain : "funnel.local", j->now);
  char *from = mime_addr(s->from);
  char url[512], rcpt[400], mfrom[400];
  snprintf(url, sizeof url, "%s://%s:%d/%s", s->tls == TLS_SMTPS ? "smtps" : "smtp", s->server,
           s->port, s->domain ? s->domain : "funnel.local");
  snprintf(rcpt, sizeof rcpt, "<%s>", to);
  snprintf(mfrom, sizeof mfrom, "<%s>", from);
  Upload up = {msg, strlen(msg), 0};
  CURL *c = curl_easy_init();
  Verdict v;
  if (!c) {
    v = job_fail(j, V_RETRY, "libcurl: cannot start a request");
    goto done;
  }
  struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
  char curlerr[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mfrom);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE, (long)up.len);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->timeout);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(s->timeout < 10 ? s->timeout : 10));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (s->tls == TLS_STARTTLS) curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
  if (!s->verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (s->user) {
    curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
  }
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  curl_slist_free_all(rcpts);
  if (rc == CURLE_OK)
    v = V_DELIVERED;
  else {
    char reply[32] = "";
    if (code) snprintf(reply, sizeof reply, " (reply %ld)", code);
    v = job_fail(j, code >= 500 && code < 600 ? V_DEAD : V_RETRY, "smtp %s:%d: %s%s", s->server, s->port,
                 curlerr[0] ? curlerr : curl_easy_strerror(rc), reply);
  }
done:
  free(subject);
  free(msg);
  free(from);
  return v;
}
