/*
** doc_channel.c: documents (invoices, acts) rendered from the pack's
** templates into the [documents] output directory, as KEY.html and
** KEY.pdf (the key with '/' as '_': 12.1_3_2_4_document.pdf), by
** doc_render (document.c). The effect's `text` names the template, its
** `params` fill it, with `ref`, `key` and `date` added when the pack did
** not pass them. Rendered again after a crash, a document overwrites
** its own files: the key names them, so there is never a second copy.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "deliver/channel.h"
#include "deliver/document.h"

static bool rendered;   /* pango and cairo were used: release them at exit */

void chan_document_shutdown(void) {
  if (rendered) doc_shutdown();
  rendered = false;
}

Verdict chan_document(Job *j) {
  const DeliverConfig *c = j->cfg;
  if (!c->documents)
    return job_fail(j, V_DEAD, "document: documents are not configured (no [documents] in %s)", c->path);
  const char *tmpl = effect_text(j->effect, "text");
  if (!*tmpl || strchr(tmpl, '/') || !strcmp(tmpl, "..") || !strcmp(tmpl, "."))
    return job_fail(j, V_DEAD, "document: '%s' is not a template name", tmpl);
  if (mkdir(c->output, 0777) != 0 && errno != EEXIST)
    return job_fail(j, V_RETRY, "document: cannot make %s: %s", c->output, strerror(errno));
  char name[256], html[4096], pdf[4096];
  size_t k = 0;
  for (const char *p = j->row->key; *p && k + 1 < sizeof name; p++)
    name[k++] = (*p == '/' || *p == '\\') ? '_' : *p;
  name[k] = 0;
  snprintf(html, sizeof html, "%s/%s.html", c->output, name);
  snprintf(pdf, sizeof pdf, "%s/%s.pdf", c->output, name);
  /* what every template may use, when the pack did not pass it: the
  ** record's ref, the effect's key and its date (the day it was made) */
  json_t *given = json_object_get(j->effect, "params");
  json_t *params = json_is_object(given) ? json_copy(given) : json_object();   /* ours */
  if (!json_object_get(params, "ref") && j->row->ref)
    json_object_set_new(params, "ref", json_string(j->row->ref));
  if (!json_object_get(params, "key")) json_object_set_new(params, "key", json_string(j->row->key));
  const char *at = effect_text(j->effect, "at");
  if (!json_object_get(params, "date") && strlen(at) >= 10)
    json_object_set_new(params, "date", json_stringn(at, 10));
  char msg[400] = "";
  rendered = true;
  int rc = doc_render(c->templates, tmpl, params, html, pdf, msg, sizeof msg);
  json_decref(params);
  if (rc != 0) return job_fail(j, V_RETRY, "document %s: %s", tmpl, msg[0] ? msg : "rendering failed");
  return V_DELIVERED;
}
