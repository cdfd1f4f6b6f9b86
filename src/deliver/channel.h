/*
** channel.h: what the worker (worker.c) and the channels share. A
** channel delivers one effect and says how it went: delivered, worth
** another try later (a transport error, a 5xx, a 408/429, an SMTP 4xx), or
** dead (a request that can never succeed: a 4xx, an SMTP 5xx, no address,
** a channel the configuration does not have). Every external send carries
** the effect's idempotency key (see docs/delivery.md, "Exactly once").
*/
#ifndef FUNNEL_DELIVER_CHANNEL_H
#define FUNNEL_DELIVER_CHANNEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "deliver/config.h"
#include "store/store.h"

typedef enum Verdict { V_DELIVERED, V_RETRY, V_DEAD } Verdict;

/* One delivery: the outbox row, its effect parsed, the clock. */
typedef struct Job {
  const DeliverConfig *cfg;
  const OutboxItem *row;
  json_t *effect;
  int64_t now;
  char *err;           /* the reason when not delivered */
  size_t errlen;
} Job;

Verdict job_fail(Job *j, Verdict v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* notify, task, ask: stored in the inbox, marked delivered in the same
** transaction (inbox.c). */
Verdict chan_inbox(Job *j, OutboxDb *db);
/* message: e-mail over SMTP (email.c), sms/whatsapp/telegram over HTTP (messenger.c) */
Verdict chan_email(Job *j);
Verdict chan_messenger(Job *j);
/* webhook: the body as JSON to the URL (webhook.c) */
Verdict chan_webhook(Job *j);
/* document: HTML and PDF in the output directory (doc_channel.c) */
Verdict chan_document(Job *j);
/* Releases the renderer's caches (once, at exit) if a document was made. */
void chan_document_shutdown(void);
/* native: an effectful native's call, through the [natives] pack (native_channel.c) */
Verdict chan_native(Job *j);
/* Closes the pack loaded for natives, if any (once, at exit). */
void chan_native_shutdown(void);

/* One HTTP request with the idempotency key (http.c): 2xx delivered;
** 408, 429, 5xx, other codes and transport errors retry; other 4xx dead. */
Verdict http_send(Job *j, const char *method, const char *url, const char *content_type,
                  const char *body, char *const *headers, size_t nheaders, int64_t timeout);

/* The effect's text member, "" when it has none. */
const char *effect_text(json_t *effect, const char *member);

#endif
