/*
 * The rule files of TCP wrappers inside a worker's chroot.  libwrap reads
 * /etc/hosts.allow and /etc/hosts.deny at every check, by name; a worker
 * in its empty root cannot see them.  The master keeps read-only copies
 * in the chroot directory (root's, mode 0644, replaced by rename so that a
 * reader sees the old file or the new one, never half of one) and checks
 * the originals every second; the worker points libwrap at the copies.
 * An edit of hosts.allow takes effect within a second, as in xinetd it
 * does at the next connection.
 */
#ifndef PORTGATE_LIBWRAP_TABLES_H
#define PORTGATE_LIBWRAP_TABLES_H

#define LIBWRAP_TABLE_MAX	(1024 * 1024)	/* bytes copied of a file */

/*
 * The master: bring the copies in the directory <dirfd> up to date with
 * the originals (a missing original removes its copy).  Returns 1 when a
 * copy changed, 0 when none did, -1 on an error (logged; the old copies
 * stay).
 */
int	libwrap_tables_copy(int dirfd);
/* Is <name> one of the copies (the chroot holds nothing else)?  1 or 0. */
int	libwrap_tables_name(const char *name);
/* Remove the copies from the directory <dir> (the master, at exit). */
void	libwrap_tables_remove(const char *dir);
/* A worker, before its chroot: libwrap reads the copies from now on. */
void	libwrap_tables_use(void);

#endif
