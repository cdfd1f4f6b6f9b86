/*
** srcfile.h: source texts and spans. A span is a byte range in one file;
** line and column are computed from the file's line map only when a message
** is printed (as jq's locfile does). Columns count code points from 1.
*/
#ifndef FUNNEL_SRCFILE_H
#define FUNNEL_SRCFILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct Span {
  uint32_t file;      /* index in the SrcSet */
  uint32_t start, end;  /* byte offsets, end exclusive */
} Span;

typedef struct SrcFile {
  char *name;         /* as the user gave it, for messages */
  char *path;         /* resolved path, for import de-duplication */
  char *text;         /* NUL-terminated; may contain NULs of its own */
  size_t len;
  uint32_t *lines;    /* byte offset of each line's start */
  size_t nlines;
} SrcFile;

typedef struct SrcSet {
  SrcFile **files;
  size_t len, cap;
} SrcSet;

void srcset_init(SrcSet *s);
void srcset_free(SrcSet *s);
/* Adds a file from memory (the text is copied); returns its index. */
uint32_t srcset_add(SrcSet *s, const char *name, const char *path, const char *text, size_t len);
/* Reads a file; returns its index, or -1 with errno set. */
int srcset_load(SrcSet *s, const char *name, const char *path);
SrcFile *srcset_get(const SrcSet *s, uint32_t file);

/* 1-based line and column (in code points) of byte offset off. */
void src_line_col(const SrcFile *f, uint32_t off, size_t *line, size_t *col);
/* The text of 1-based line `line`, without its newline. */
const char *src_line_text(const SrcFile *f, size_t line, size_t *len);

Span span_join(Span a, Span b);

#endif
