/*
** webhook.c: outgoing web hooks. The effect's body (an object of the
** fields the pack gave, or any JSON value) is POSTed as JSON to its URL
** with the Idempotency-Key header and the [webhook] section's headers;
** the verdict is http.c's (2xx delivered; 4xx but 408/429 dead; else retry).
*/
#include <stdlib.h>
#include <string.h>

#include "deliver/channel.h"

Verdict chan_webhook(Job *j) {
  const char *url = effect_text(j->effect, "url");
  if (!*url) return job_fail(j, V_DEAD, "webhook: no url");
  if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
    return job_fail(j, V_DEAD, "webhook: '%s' is not an http:// or https:// URL", url);
  json_t *body = json_object_get(j->effect, "body");
  char *text = json_dumps(body ? body : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
  const HttpConf *h = &j->cfg->webhook;
  Verdict v = http_send(j, h->method ? h->method : "POST", url, h->content_type, text ? text : "null",
                        h->headers, h->nheaders, h->timeout ? h->timeout : 30);
  free(text);
  return v;
}
