/*
** mime.c: builds the e-mail of a message effect (see mime.h): headers in
** CRLF lines, the subject and a non-ASCII sender name as RFC 2047
** encoded-words, the body as UTF-8 text/plain in base64 so that any text
** (Cyrillic, long lines, a line that is a lone ".") passes every relay.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deliver/mime.h"
#include "util/arena.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void mime_base64(StrBuf *b, const unsigned char *s, size_t n, int wrap) {
  size_t col = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16;
    if (i + 1 < n) v |= (unsigned)s[i + 1] << 8;
    if (i + 2 < n) v |= s[i + 2];
    char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=',
                 i + 2 < n ? b64[v & 63] : '='};
    sb_add(b, q, 4);
    col += 4;
    if (wrap && col >= 76) {
      sb_puts(b, "\r\n");
      col = 0;
    }
  }
  if (wrap && col) sb_puts(b, "\r\n");
}

static int printable_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) return 0;
  return 1;
}

/* The length of the UTF-8 character starting at s (1 for a stray byte). */
static size_t char_len(const unsigned char *s) {
  size_t n = *s < 0x80 ? 1 : (*s >> 5) == 6 ? 2 : (*s >> 4) == 14 ? 3 : (*s >> 3) == 30 ? 4 : 1;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 1;
  return n;
}

void mime_header_text(StrBuf *b, const char *s) {
  if (printable_ascii(s)) {
    sb_puts(b, s);
    return;
  }
  /* 45 bytes make 60 base64 characters: "=?UTF-8?B?" + 60 + "?=" = 72 < 75;
  ** the first word shares its line with the header's name ("Subject: "),
  ** so it takes 36 bytes (48 characters, a line of 69) */
  const unsigned char *p = (const unsigned char *)s;
  int first = 1;
  while (*p) {
    size_t n = 0;
    while (p[n]) {
      size_t c = char_len(p + n);
      if (n + c > (first ? 36u : 45u)) break;
      n += c;
    }
    if (!first) sb_puts(b, "\r\n ");
    sb_puts(b, "=?UTF-8?B?");
    mime_base64(b, p, n, 0);
    sb_puts(b, "?=");
    p += n;
    first = 0;
  }
}

char *mime_subject(const char *text, size_t max) {
  size_t line = strcspn(text, "\r\n");
  const unsigned char *p = (const unsigned char *)text;
  size_t n = 0;
  while (n < line) {
    size_t c = char_len(p + n);
    if (n + c > max) break;
    n += c;
  }
  StrBuf b = {0};
  sb_add(&b, text, n);
  if (n < line) sb_puts(&b, "...");
  for (char *q = b.s; q && *q; q++)
    if ((unsigned char)*q < 0x20) *q = ' ';
  if (!b.s) sb_puts(&b, "");
  return b.s;
}

char *mime_addr(const char *from) {
  const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
  if (lt && gt) {
    char *a = xmalloc((size_t)(gt - lt));
    memcpy(a, lt + 1, (size_t)(gt - lt - 1));
    a[gt - lt - 1] = 0;
    return a;
  }
  return xstrdup(from);
}

/* "Имя <a@b>" with the name encoded when it is not ASCII. */
static void mailbox(StrBuf *b, const char *from) {
  const char *lt = strrchr(from, '<');
  if (!lt || lt == from) {
    sb_puts(b, from);
    return;
  }
  size_t n = (size_t)(lt - from);
  while (n && from[n - 1] == ' ') n--;
  char *name = xmalloc(n + 1);
  memcpy(name, from, n);
  name[n] = 0;
  if (printable_ascii(name))
    sb_printf(b, "\"%s\"", name);
  else
    mime_header_text(b, name);
  free(name);
  sb_printf(b, " %s", lt);
}

char *mime_message(const char *from, const char *to, const char *subject, const char *text,
                   const char *key, const char *domain, int64_t now) {
  StrBuf b = {0};
  char date[64];
  time_t t = (time_t)now;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  sb_printf(&b, "Date: %s\r\n", date);
  sb_puts(&b, "From: ");
  mailbox(&b, from);
  sb_printf(&b, "\r\nTo: <%s>\r\n", to);
  sb_puts(&b, "Subject: ");
  mime_header_text(&b, subject);
  /* the key in a Message-ID: characters outside atext become '-' */
  sb_puts(&b, "\r\nMessage-ID: <");
  for (const char *k = key; *k; k++) {
    char c = *k;
    int atext = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("!#$%&'*+-/=?^_`{|}~.", c);
    sb_putc(&b, atext ? c : '-');
  }
  sb_printf(&b, "@%s>\r\n", domain);
  sb_puts(&b, "X-Funnel-Key: ");
  mime_header_text(&b, key);
  sb_puts(&b, "\r\nMIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=UTF-8\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n");
  /* text/plain lines end in CRLF (RFC 2046): a bare LF becomes CRLF */
  StrBuf body = {0};
  for (const char *p = text; *p; p++) {
    if (*p == '\n' && (p == text || p[-1] != '\r')) sb_putc(&body, '\r');
    sb_putc(&body, *p);
  }
  mime_base64(&b, (const unsigned char *)sb_str(&body), body.len, 1);
  sb_free(&body);
  return b.s;
}
