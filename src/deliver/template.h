/*
** template.h: `{{name}}` expansion in the messenger channels' URL and body
** templates (template.c).
**
** A template is text with `{{name}}` placeholders, each replaced by the
** value of `name` in `vars` (a JSON object): in TM_URL mode the value's
** text, URL-encoded; in TM_JSON mode the value as JSON (a string gets its
** quotes), for JSON bodies. An unknown name or a `{{` without its `}}` is
** an error.
*/
#ifndef FUNNEL_DELIVER_TEMPLATE_H
#define FUNNEL_DELIVER_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

enum { TM_URL, TM_JSON };

/* Expands `tmpl` with `vars` (not consumed). Returns the text (free it),
** or NULL with a message in `err`. */
char *tmpl_expand(const char *tmpl, json_t *vars, int mode, char *err, size_t errlen);

#endif
