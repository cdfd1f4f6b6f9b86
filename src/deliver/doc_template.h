/*
** doc_template.h: the document template language (docs/documents.md).
**
** A template is an HTML file NAME.html in a template directory. It holds
** text and tags in double braces:
**   {{name}} {{a.b}} {{.}} {{@number}}   a value, HTML-escaped
**   {{name|money}} |words |date |longdate   a value through a filter
**   {{#if name}} ... {{else}} ... {{/if}} a condition on a value
**   {{#each list}} ... {{/each}}          a block per item of a list
**   {{> partial}} {{> partial a="text"}}  another template inlined (with arguments)
**   {{! comment }}
** The whole template (and its partials) is parsed before anything is
** rendered, so a syntax error is reported at FILE:LINE and no output is
** produced. A name that is not in the params is an error; a null value
** renders as nothing.
*/
#ifndef FUNNEL_DOC_TEMPLATE_H
#define FUNNEL_DOC_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

#include "util/strbuf.h"

/* Limits, so that a hostile template cannot exhaust the stack or memory:
** partials nested deeper than DTPL_MAX_DEPTH (a partial that includes
** itself) and blocks nested deeper than DTPL_MAX_NEST are errors. */
#define DTPL_MAX_DEPTH 8
#define DTPL_MAX_NEST 64
#define DTPL_MAX_NAME 200

/* Is `name` acceptable as a template name? Non-empty, at most
** DTPL_MAX_NAME bytes, no '/' or '\\', not starting with '.': a name comes
** from a pack and must not reach outside the template directory. */
int dtpl_name_ok(const char *name);

/* Fills the template `dir`/`name`.html with `params` (a JSON object; not
** consumed) and appends the result to `out`. Returns 0, or -1 with a
** message in `err` ("PATH:LINE: what is wrong" for errors in a template);
** on error `out` may hold a partial result the caller should drop. */
int dtpl_fill(const char *dir, const char *name, json_t *params, StrBuf *out, char *err,
             size_t errlen);

/* The same for a template given as text; `path` names it in messages and
** `dir` is where its partials are looked up (NULL: no partials). */
int dtpl_fill_text(const char *text, const char *path, const char *dir, json_t *params,
                  StrBuf *out, char *err, size_t errlen);

#endif
