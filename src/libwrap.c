/*
 * TCP wrappers through Debian's libwrap.  hosts_ctl() would do, but for
 * one thing: it cannot say whether a rule needed the client's name.  So
 * the request is made as hosts_ctl() makes it (daemon, address, user
 * "unknown"; no socket, so libwrap never asks DNS or an ident server) with
 * a hook where libwrap would look the name up: the hook only notes that a
 * rule wanted it, and the caller may look it up without blocking and ask
 * again.
 *
 * Debian's libwrap runs the options of hosts_options(5) in the calling
 * process, which is the daemon here, not a child as in xinetd.  They run
 * in libwrap's verification mode (dry_run): allow and deny decide; spawn,
 * user, group, nice, linger, keepalive and banners do nothing; twist,
 * which would replace the daemon by a shell, refuses the client; umask,
 * which libwrap applies even then, is put back.  setenv, applied even
 * then too, changes the daemon's environment: undoing it would mean
 * copying the environment at every check, and portgate.conf(5) tells the
 * admin not to use it for portgate's daemon names instead.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <tcpd.h>

#include "config.h"
#include "libwrap.h"

/* libwrap's verification mode (options.c); tcpd.h does not declare it. */
extern int	dry_run;

/* Set by the hook when a rule asked for the client's name. */
static int	libwrap_wanted;

/* Look at the files at most this often (ms; 0: at every check). */
static long	libwrap_every;

/* libwrap's name look-up, replaced: the name stays "unknown". */
static void
libwrap_name_hook(struct host_info *host)
{
	(void)host;
	libwrap_wanted = 1;
}

const char *
libwrap_daemon(const struct service_conf *sc)
{
	const char	*path = sc->sc_server, *base;

	if (sc->sc_flags & SFLAG_NOLIBWRAP)
		return NULL;
	if (sc->sc_libwrap[0] != '\0')
		return sc->sc_libwrap;
	/* xinetd: the server of these would be a bogus name. */
	if (sc->sc_builtin != BUILTIN_NONE || (sc->sc_type & STYPE_INTERNAL) ||
	    sc->sc_nredirect > 0)
		return sc->sc_name;
	if (sc->sc_flags & SFLAG_NAMEINARGS)
		path = sc->sc_server_args.wl_n > 0 ?
		    sc->sc_server_args.wl_words[0] : NULL;
	if (path == NULL)
		return sc->sc_id;
	if ((base = strrchr(path, '/')) != NULL)
		return base + 1;
	return path;
}

/* What a rule file held when it was last read. */
struct libwrap_seen {
	struct timespec	ls_looked;	/* the last stat(), coarse monotonic */
	dev_t		ls_dev;
	ino_t		ls_ino;
	off_t		ls_size;
	struct timespec	ls_mtime;
	int		ls_read;	/* the fields above are set */
	int		ls_rules;	/* a line that is not a comment */
};

void
libwrap_recheck(long msecs)
{
	libwrap_every = msecs;
}

/* Was <ls> looked at less than libwrap_every ago?  Else note now. */
static int
libwrap_fresh(struct libwrap_seen *ls)
{
	struct timespec	now;
	long		ms;

	if (libwrap_every <= 0 ||
	    clock_gettime(CLOCK_MONOTONIC_COARSE, &now) == -1)
		return 0;
	ms = (long)(now.tv_sec - ls->ls_looked.tv_sec) * 1000 +
	    (now.tv_nsec - ls->ls_looked.tv_nsec) / 1000000;
	if (ls->ls_read && ms >= 0 && ms < libwrap_every)
		return 1;
	ls->ls_looked = now;
	return 0;
}

/*
 * Does the file <path> hold a rule?  Read again only when it changed (a
 * new inode, size or time): most machines have only comments there, and
 * libwrap would open and read both files for every client.  With
 * libwrap_recheck(), the stat() itself is made at most that often.
 */
static int
libwrap_has_rules(const char *path, struct libwrap_seen *ls)
{
	struct stat	 st;
	FILE		*f;
	char		 line[1024], *p;

	if (libwrap_fresh(ls))
		return ls->ls_rules;
	if (stat(path, &st) == -1)
		return errno != ENOENT;	/* unreadable: let libwrap say */
	if (ls->ls_read && st.st_dev == ls->ls_dev &&
	    st.st_ino == ls->ls_ino && st.st_size == ls->ls_size &&
	    st.st_mtim.tv_sec == ls->ls_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == ls->ls_mtime.tv_nsec)
		return ls->ls_rules;
	ls->ls_read = 0;
	if ((f = fopen(path, "re")) == NULL)
		return 1;
	ls->ls_rules = 0;
	while (!ls->ls_rules && fgets(line, sizeof(line), f) != NULL) {
		for (p = line; *p == ' ' || *p == '\t'; p++)
			continue;
		if (*p != '#' && *p != '\n' && *p != '\0')
			ls->ls_rules = 1;
	}
	if (ferror(f))
		ls->ls_rules = 1;
	(void)fclose(f);
	ls->ls_dev = st.st_dev;
	ls->ls_ino = st.st_ino;
	ls->ls_size = st.st_size;
	ls->ls_mtime = st.st_mtim;
	ls->ls_read = 1;
	return ls->ls_rules;
}

int
libwrap_check(const char *daemon, const char *addr, const char *name,
    int *wanted)
{
	static struct libwrap_seen	allow, deny;
	struct request_info		req;
	mode_t				mask;
	int				ok;

	/* No rule anywhere admits everyone, as libwrap would. */
	*wanted = 0;
	if (!libwrap_has_rules(hosts_allow_table, &allow) &&
	    !libwrap_has_rules(hosts_deny_table, &deny))
		return 1;

	(void)request_init(&req, RQ_DAEMON, daemon, RQ_CLIENT_ADDR,
	    addr != NULL ? addr : STRING_UNKNOWN, RQ_USER, STRING_UNKNOWN, 0);
	if (name != NULL)
		(void)request_set(&req, RQ_CLIENT_NAME, name, 0);
	else
		req.hostname = libwrap_name_hook;
	libwrap_wanted = 0;
	mask = umask(077);
	(void)umask(mask);
	dry_run = 1;
	ok = hosts_access(&req);
	/* A twist option clears dry_run: it would have replaced us. */
	if (dry_run == 0)
		ok = 0;
	dry_run = 0;
	(void)umask(mask);
	*wanted = libwrap_wanted;
	return ok != 0;
}
