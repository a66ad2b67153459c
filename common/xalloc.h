#ifndef COMMON_XALLOC_H
#define COMMON_XALLOC_H
#include <stddef.h>

/* Allocation that never returns NULL: running out of memory is fatal
 * (logged, then abort), so callers need no error path for it. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* n * size with an overflow check (abort on overflow). */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
