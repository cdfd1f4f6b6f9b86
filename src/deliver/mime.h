/*
** mime.h: the e-mail text of a message (RFC 5322 headers, a UTF-8
** text/plain body in base64, an RFC 2047 subject) with the idempotency
** key as Message-ID and X-Funnel-Key.
*/
#ifndef FUNNEL_DELIVER_MIME_H
#define FUNNEL_DELIVER_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* Base64 of n bytes, lines of 76 characters ended by CRLF (wrap) or one line. */
void mime_base64(StrBuf *b, const unsigned char *s, size_t n, int wrap);
/* A header value: as is when it is printable ASCII, else RFC 2047
** encoded-words (UTF-8, base64), folded, never splitting a character. */
void mime_header_text(StrBuf *b, const char *s);
/* The subject of a text: its first line, at most `max` bytes (cut at a
** character boundary, with "..." when cut). */
char *mime_subject(const char *text, size_t max);
/* The whole message. from: "Name <addr>" or "addr"; domain: Message-ID's. */
char *mime_message(const char *from, const char *to, const char *subject, const char *text,
                   const char *key, const char *domain, int64_t now);
/* The address inside "Name <addr>" (malloc'd). */
char *mime_addr(const char *from);

#endif
