/*
 * The ban list as text: one line "ADDRESS EXPIRY" per ban (EXPIRY in
 * seconds since the epoch, 0: forever), the format of the state file that
 * keeps the SENSOR deny list over a restart and of the messages that
 * share it through Redis (bans_redis.c).  The parser is pure and fuzzed
 * (tests/fuzz/fuzz_banstate.c); loading and saving the file are the
 * master's (bans.c).
 */
#ifndef PORTGATE_BANSTATE_H
#define PORTGATE_BANSTATE_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include "quota.h"

#define BANSTATE_LINE_MAX	128	/* longer lines are malformed */
#define BANSTATE_ADDR_MAX	46	/* INET6_ADDRSTRLEN */
#define BANSTATE_EXPIRY_MAX	253402300799LL	/* 9999-12-31T23:59:59Z */
#define BANSTATE_ERRORS_MAX	10	/* error lines logged per load */

/*
 * The numeric address of <key> ("192.0.2.1" for an IPv4-mapped key,
 * "2001:db8::1" else) into <buf> of BANSTATE_ADDR_MAX bytes; <buf>.
 */
const char	*banstate_addr(const struct srckey *key, char *buf,
		    size_t len);
/* <s> as a key (numeric IPv4 or IPv6, nothing else): 0, or -1. */
int		 banstate_addr_parse(const char *s, struct srckey *key);

/*
 * One line of <len> bytes, without its newline: 1 and the ban in <key>
 * and <until> (0: forever); 0 for a blank line or a comment (first
 * non-blank byte '#'); -1 when it is neither (the message in <why>).
 * Words are separated by spaces or tabs; NUL bytes are malformed.
 */
int		 banstate_parse(const char *line, size_t len,
		    struct srckey *key, time_t *until, const char **why);
/* The line of a ban, with its newline, into <buf>: its length, or -1. */
int		 banstate_format(const struct srckey *key, time_t until,
		    char *buf, size_t len);

/*
 * Load <path>: each ban still alive at <now> goes on the deny list
 * (quota_deny_until()).  A missing file is no ban; a malformed line is
 * logged as "path:line: ..." (at most BANSTATE_ERRORS_MAX of them, then
 * a count) and skipped.  Returns the bans loaded, or -1 when the file
 * exists but cannot be read (logged); never fatal.
 */
int		 banstate_load(const char *path, time_t now);
/*
 * Write every ban alive at <now> to <path>, atomically: a temporary file
 * in the same directory (mode 0600), fsync, rename, fsync of the
 * directory.  A missing last directory is made (0700).  0, or -1 with
 * errno set (nothing logged; the old file stays).
 */
int		 banstate_save(const char *path, time_t now);

#endif
