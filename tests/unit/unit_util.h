/*
 * Helpers shared by the unit test programs: a scratch tree removed
 * recursively, paths in it, a service with its quota table as the gate and
 * quota tests start from, and the configuration diagnostics.
 */
#ifndef PORTGATE_UNIT_UTIL_H
#define PORTGATE_UNIT_UTIL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

#include "conf_diag.h"
#include "config.h"
#include "quota.h"

/* A service and its quota table. */
struct unit_fx {
	struct service_conf	 sc;
	struct quota		*li;
};

/* Remove <path> and everything below it; 0, or -1 with errno set. */
int	 unit_rm_tree(const char *path);
/*
 * A zeroed unit_fx with no limit set (per_source_prefix6 at its default),
 * a new quota table and no source denied; NULL if out of memory.
 */
struct unit_fx *unit_fx_new(void);
/*
 * Numeric <addr> (IPv6 if it has a colon) with <port> in <ss>, or fail
 * the running test.
 */
struct sockaddr *unit_sockaddr(struct sockaddr_storage *ss,
		    const char *addr, uint16_t port);
/*
 * "<dir>/<name>" in one of a few rotating static buffers (eight paths
 * may be in use at once), or fail the running test.
 */
const char	*unit_path(const char *dir, const char *name);
/*
 * Copy <pat> into <out> of <len> bytes with every '@' replaced by <dir>,
 * or fail the running test.
 */
void		 unit_expand(const char *dir, const char *pat, char *out,
		    size_t len);
/* Print every diagnostic of <cd> (shown when a test fails). */
void		 unit_dump_diags(const struct conf_diag *cd);

#endif
