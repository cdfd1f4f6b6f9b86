/*
** strbuf.h: a growable NUL-terminated byte string on the heap.
*/
#ifndef FUNNEL_STRBUF_H
#define FUNNEL_STRBUF_H

#include <stddef.h>

typedef struct StrBuf {
  char *s;        /* always NUL-terminated once anything was added */
  size_t len, cap;
} StrBuf;

void sb_add(StrBuf *b, const char *s, size_t n);
void sb_puts(StrBuf *b, const char *s);
void sb_putc(StrBuf *b, char c);
void sb_printf(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the text, "" for an empty buffer; the buffer keeps ownership. */
const char *sb_str(const StrBuf *b);
void sb_clear(StrBuf *b);
void sb_free(StrBuf *b);

#endif
