/*
** srcfile.c: loading sources and mapping offsets to lines and columns.
*/
#include "diag/srcfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/utf8.h"

void srcset_init(SrcSet *s) {
  s->files = NULL;
  s->len = s->cap = 0;
}

void srcset_free(SrcSet *s) {
  for (size_t i = 0; i < s->len; i++) {
    SrcFile *f = s->files[i];
    free(f->name);
    free(f->path);
    free(f->text);
    free(f->lines);
    free(f);
  }
  free(s->files);
  srcset_init(s);
}

uint32_t srcset_add(SrcSet *s, const char *name, const char *path, const char *text, size_t len) {
  SrcFile *f = xcalloc(1, sizeof *f);
  f->name = xstrdup(name);
  f->path = xstrdup(path ? path : name);
  f->text = xmalloc(len + 1);
  memcpy(f->text, text, len);
  f->text[len] = '\0';
  f->len = len;
  size_t cap = 64;
  f->lines = xmalloc(cap * sizeof *f->lines);
  f->lines[f->nlines++] = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] != '\n') continue;
    if (f->nlines == cap) f->lines = xrealloc(f->lines, (cap *= 2) * sizeof *f->lines);
    f->lines[f->nlines++] = (uint32_t)(i + 1);
  }
  if (s->len == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 8;
    s->files = xrealloc(s->files, s->cap * sizeof *s->files);
  }
  s->files[s->len] = f;
  return (uint32_t)s->len++;
}

/* Sources larger than this are refused: offsets are 32-bit. */
#define SRC_MAX_BYTES ((size_t)1 << 30)

int srcset_load(SrcSet *s, const char *name, const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return -1;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      buf = xrealloc(buf, cap);
    }
    size_t n = fread(buf + len, 1, cap - len, fp);
    len += n;
    if (n == 0) break;
    if (len > SRC_MAX_BYTES) {
      free(buf);
      fclose(fp);
      errno = EFBIG;
      return -1;
    }
  }
  int err = ferror(fp);
  fclose(fp);
  if (err) {
    free(buf);
    errno = EIO;
    return -1;
  }
  uint32_t id = srcset_add(s, name, path, buf ? buf : "", len);
  free(buf);
  return (int)id;
}

SrcFile *srcset_get(const SrcSet *s, uint32_t file) {
  return file < s->len ? s->files[file] : NULL;
}

void src_line_col(const SrcFile *f, uint32_t off, size_t *line, size_t *col) {
  if (off > f->len) off = (uint32_t)f->len;
  size_t lo = 0, hi = f->nlines;  /* last line whose start <= off */
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (f->lines[mid] <= off) lo = mid;
    else hi = mid;
  }
  *line = lo + 1;
  *col = utf8_count(f->text + f->lines[lo], off - f->lines[lo]) + 1;
}

const char *src_line_text(const SrcFile *f, size_t line, size_t *len) {
  if (line == 0 || line > f->nlines) {
    *len = 0;
    return "";
  }
  size_t start = f->lines[line - 1];
  size_t end = line < f->nlines ? f->lines[line] - 1 : f->len;
  if (end > start && f->text[end - 1] == '\r') end--;
  *len = end - start;
  return f->text + start;
}

Span span_join(Span a, Span b) {
  if (a.file != b.file) return a;
  Span s = a;
  if (b.start < s.start) s.start = b.start;
  if (b.end > s.end) s.end = b.end;
  return s;
}
