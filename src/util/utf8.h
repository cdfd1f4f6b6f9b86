/*
** utf8.h: the little UTF-8 the compiler needs: validation and counting
** code points (columns in diagnostics count code points, not bytes).
*/
#ifndef FUNNEL_UTF8_H
#define FUNNEL_UTF8_H

#include <stddef.h>

/* Returns the length of the valid UTF-8 sequence at s (1..4), or 0 if the
** bytes at s (n available) do not start a valid, shortest-form sequence. */
int utf8_seq_len(const unsigned char *s, size_t n);
/* Returns the byte offset of the first invalid sequence, or n if all valid. */
size_t utf8_check(const char *s, size_t n);
/* Counts code points in s[0..n); an invalid byte counts as one. */
size_t utf8_count(const char *s, size_t n);

#endif
