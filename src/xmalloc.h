/*
 * Allocation that cannot fail: for start-up and configuration loading only
 * (STYLE.md rule 6); the connection path checks its allocations instead.
 */
#ifndef PORTGATE_XMALLOC_H
#define PORTGATE_XMALLOC_H

#include <stddef.h>

#include "log.h"

void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) LOG_PRINTF(2, 3);

#endif
