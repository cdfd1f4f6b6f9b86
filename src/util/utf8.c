/*
** utf8.c: UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
*/
#include "util/utf8.h"

int utf8_seq_len(const unsigned char *s, size_t n) {
  if (n == 0) return 0;
  unsigned c = s[0];
  if (c < 0x80) return 1;
  int len;
  unsigned min;
  if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
  else return 0;
  if ((size_t)len > n) return 0;
  unsigned cp = c & (0x7F >> len);
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

size_t utf8_check(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) { i++; continue; }
    int k = utf8_seq_len(p + i, n - i);
    if (!k) return i;
    i += (size_t)k;
  }
  return n;
}

size_t utf8_count(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, count = 0;
  while (i < n) {
    int k = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
    i += k ? (size_t)k : 1;
    count++;
  }
  return count;
}
