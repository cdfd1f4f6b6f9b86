/*
** messenger.c: SMS, WhatsApp and Telegram messages through the HTTP
** gateways the configuration names ([sms], [whatsapp], [telegram]). The
** URL and the body are templates over the message: {{address}} (the phone
** or chat the engine resolved), {{text}}, {{to}}, {{channel}}, {{key}}
** and {{ref}}. A message with no address, or for a channel the file does
** not configure, is dead at once: no retry would change that.
*/
#include <stdlib.h>
#include <string.h>

#include "deliver/channel.h"
#include "deliver/template.h"

Verdict chan_messenger(Job *j) {
  const char *channel = effect_text(j->effect, "channel");
  const HttpConf *h = dconf_messenger(j->cfg, channel);
  if (!h) return job_fail(j, V_DEAD, "message: unknown channel '%s'", channel);
  if (!h->set)
    return job_fail(j, V_DEAD, "message: channel %s is not configured (no [%s] in %s)", channel,
                    channel, j->cfg->path);
  json_t *addr = json_object_get(j->effect, "address");
  if (!json_is_string(addr) || !*json_string_value(addr))
    return job_fail(j, V_DEAD, "message: the recipient has no phone for %s", channel);
  json_t *vars = json_object();
  json_object_set(vars, "address", addr);
  json_object_set_new(vars, "text", json_string(effect_text(j->effect, "text")));
  json_t *to = json_object_get(j->effect, "to");
  json_object_set_new(vars, "to", json_is_string(to) ? json_incref(to) : json_null());
  json_object_set_new(vars, "channel", json_string(channel));
  json_object_set_new(vars, "key", json_string(j->row->key));
  json_object_set_new(vars, "ref", j->row->ref ? json_string(j->row->ref) : json_null());
  Verdict v;
  char *url = tmpl_expand(h->url, vars, TM_URL, j->err, j->errlen);
  char *body = url && h->body ? tmpl_expand(h->body, vars, TM_JSON, j->err, j->errlen) : NULL;
  if (!url || (h->body && !body))
    v = V_DEAD;
  else
    v = http_send(j, h->method ? h->method : "POST", url, h->content_type, body, h->headers,
                  h->nheaders, h->timeout);
  free(url);
  free(body);
  json_decref(vars);
  return v;
}
