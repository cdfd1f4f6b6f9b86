/*
** arena.h: a bump allocator. One arena per compilation holds the source
** text, tokens' text, the AST, symbols and types; it is freed in one call.
** Allocation never fails: on out-of-memory the process reports and exits
** (a compiler has nothing sensible to do with half an AST).
*/
#ifndef FUNNEL_ARENA_H
#define FUNNEL_ARENA_H

#include <stddef.h>

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
  ArenaBlock *head;   /* the block being filled; older blocks chain behind */
  size_t total;       /* bytes handed out, for the memory limit and stats */
} Arena;

void arena_init(Arena *a);
void arena_free(Arena *a);
/* Forgets everything allocated, keeping one block for reuse: the cheap
** reset between two runs of the VM. */
void arena_reset(Arena *a);
/* Returns n zeroed bytes aligned for any type. */
void *arena_alloc(Arena *a, size_t n);
/* Copies n bytes of s and adds a terminating NUL. */
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_strdup(Arena *a, const char *s);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ARENA_NEW(a, T) ((T *)arena_alloc((a), sizeof(T)))

/* The allocation hook every module uses outside arenas: xmalloc and friends
** abort with a message when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
