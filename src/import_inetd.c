/*
 * portgate --import inetd: translate an inetd.conf (openbsd-inetd and
 * inetutils-inetd, as Debian ships them) into portgate services.  A line
 * is "service socket_type protocol wait|nowait[.max] user[.group] server
 * [argv0 args...]"; "#<off>#" lines that update-inetd(8) writes become
 * disabled services; a server run through tcpd is unwrapped, since
 * portgate checks hosts.allow and hosts.deny itself through libwrap.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "xmalloc.h"

/* Where Debian's tcpd finds a daemon named without a path. */
#define TCPD_PATH		"/usr/sbin/tcpd"
#define TCPD_REAL_DIR		"/usr/sbin"
/* inetd's window for .max and how long it then stops a service. */
#define INETD_MAX_WINDOW	60
#define INETD_RETRY_TIME	600
#define INETD_WORDS		64

struct in_line {
	const char	*l_file;
	int		 l_line;
	int		 l_off;		/* a "#<off>#" line */
	const char	*l_text;
	char		*l_w[INETD_WORDS];
	int		 l_n;
};

static const char *const in_builtins[] = {
	"echo", "discard", "chargen", "daytime", "time", "tcpmux",
};

/* The basename of <path>. */
static const char *
in_base(const char *path)
{
	const char	*s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* "nowait.40" or "wait": 1 for wait, the max in <max> (0: none). */
static int
in_wait(const char *w, long *max)
{
	const char	*dot = strchr(w, '.');
	size_t		 len = dot != NULL ? (size_t)(dot - w) : strlen(w);
	char		*end;
	int		 wait;

	*max = 0;
	if (len == 4 && strncmp(w, "wait", 4) == 0)
		wait = 1;
	else if (len == 6 && strncmp(w, "nowait", 6) == 0)
		wait = 0;
	else
		return -1;
	if (dot != NULL) {
		*max = strtol(dot + 1, &end, 10);
		if (end == dot + 1 || *end != '\0' || *max < 1 ||
		    *max > 1000000)
			return -1;
	}
	return wait;
}

/* The protocol word: tcp or udp into <proto>, the family flag. */
static int
in_proto(const char *w, const char **proto, const char **flag)
{
	static const struct {
		const char	*p_word, *p_proto, *p_flag;
	} tab[] = {
		{ "tcp", "tcp", "IPv4" }, { "udp", "udp", "IPv4" },
		{ "tcp4", "tcp", "IPv4" }, { "udp4", "udp", "IPv4" },
		{ "tcp6", "tcp", "IPv6" }, { "udp6", "udp", "IPv6" },
		{ "tcp46", "tcp", NULL }, { "udp46", "udp", NULL },
	};
	size_t	i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(w, tab[i].p_word) == 0) {
			*proto = tab[i].p_proto;
			*flag = tab[i].p_flag;
			return 0;
		}
	return -1;
}

/* Whether <s> is a port number. */
static int
in_numeric(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int
in_builtin(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(in_builtins) / sizeof(in_builtins[0]); i++)
		if (strcmp(name, in_builtins[i]) == 0)
			return 1;
	return 0;
}

/* The server and its argv of <l> from word 5 on, tcpd unwrapped. */
static void
in_server(struct import_result *ir, const struct in_line *l,
    struct import_buf *ib)
{
	char *const	*w = l->l_w;
	char		*real = NULL;
	const char	*path = w[5];
	int		 i, first = 6;

	if (strcmp(w[5], TCPD_PATH) == 0 && l->l_n > 6) {
		/* tcpd runs argv[0], from its own directory unless a path. */
		if (strchr(w[6], '/') != NULL)
			real = xstrdup(w[6]);
		else
			(void)xasprintf(&real, "%s/%s", TCPD_REAL_DIR, w[6]);
		path = real;
		import_warn(ir, l->l_file, l->l_line, "%s: tcpd unwrapped to "
		    "%s; portgate checks /etc/hosts.allow and /etc/hosts.deny "
		    "itself through libwrap, for every client it admits, "
		    "under the daemon name %s (as tcpd did), so their rules "
		    "still apply", w[0], real, in_base(real));
		import_printf(ib, "	# %s unwrapped: portgate applies "
		    "hosts.allow and hosts.deny itself (libwrap)\n", TCPD_PATH);
	}
	import_printf(ib, "\tserver\t\t= %s\n", path);
	if (l->l_n > first) {
		/* inetd passes argv[0]; xinetd-style server_args start after. */
		if (strcmp(in_base(w[first]), in_base(path)) == 0)
			first++;
		else
			import_printf(ib, "\tflags\t\t+= NAMEINARGS\n");
		if (l->l_n > first) {
			import_printf(ib, "\tserver_args\t=");
			for (i = first; i < l->l_n; i++)
				import_printf(ib, " %s", w[i]);
			import_printf(ib, "\n");
		}
	}
	free(real);
}

/* One service line, already split; errors go to <ir>. */
static void
in_service(struct import_result *ir, struct in_line *l, int nth)
{
	struct import_buf	*ib = &ir->ir_out;
	char			**w = l->l_w, *name, *bind = NULL, *colon;
	char			 *group;
	const char		 *proto, *flag;
	long			  max;
	int			  wait, stream, internal;

	if (l->l_n < 6) {
		import_error(ir, l->l_file, l->l_line, "expected 'service "
		    "socket_type protocol wait|nowait[.max] user[.group] "
		    "server [arguments]'");
		return;
	}
	if ((stream = strcmp(w[1], "stream") == 0) == 0 &&
	    strcmp(w[1], "dgram") != 0) {
		import_error(ir, l->l_file, l->l_line, "socket type '%s': "
		    "portgate serves stream and dgram", w[1]);
		return;
	}
	if (in_proto(w[2], &proto, &flag) == -1) {
		import_error(ir, l->l_file, l->l_line, "protocol '%s': expected "
		    "tcp, udp, tcp6, udp6, tcp46 or udp46%s", w[2],
		    strncmp(w[2], "rpc/", 4) == 0 ? " (RPC services are not "
		    "imported)" : "");
		return;
	}
	if (stream != (strcmp(proto, "tcp") == 0)) {
		import_error(ir, l->l_file, l->l_line, "%s with %s: expected "
		    "stream with tcp, dgram with udp", w[1], w[2]);
		return;
	}
	if ((wait = in_wait(w[3], &max)) == -1) {
		import_error(ir, l->l_file, l->l_line, "'%s': expected wait or "
		    "nowait, optionally followed by .max (a number)", w[3]);
		return;
	}
	internal = strcmp(w[5], "internal") == 0;
	/* openbsd-inetd's "address:service" binds to that address. */
	name = w[0];
	if ((colon = strrchr(w[0], ':')) != NULL) {
		*colon = '\0';
		bind = w[0];
		name = colon + 1;
		if (*bind == '\0' || strcmp(bind, "*") == 0)
			bind = NULL;
	}
	if (internal && !in_builtin(name)) {
		import_error(ir, l->l_file, l->l_line, "internal service '%s': "
		    "portgate's built-ins are echo, discard, chargen, daytime, "
		    "time and tcpmux", name);
		return;
	}
	import_printf(ib, "\n# %s:%d: %s\nservice %s%s\n{\n", l->l_file,
	    l->l_line, l->l_text, in_numeric(name) ? "inetd-" : "", name);
	/* inetd services share a name across protocols; ids may not. */
	if (nth > 0)
		import_printf(ib, "\tid\t\t= %s%s-%s-%d\n", in_numeric(name) ?
		    "inetd-" : "", name, w[2], nth + 1);
	if (l->l_off)
		import_printf(ib, "\t# update-inetd's #<off>#\n\tdisable\t\t= "
		    "yes\n");
	import_printf(ib, "\ttype\t\t=%s UNLISTED\n", internal ?
	    " INTERNAL" : "");
	import_printf(ib, "\tsocket_type\t= %s\n\tprotocol\t= %s\n"
	    "\twait\t\t= %s\n", w[1], proto, wait && !internal ? "yes" : "no");
	/* A name stays a name: portgate looks it up in /etc/services. */
	import_printf(ib, "\tport\t\t= %s\n", name);
	if (flag != NULL)
		import_printf(ib, "\tflags\t\t= %s\n", flag);
	/* inetd's tcp6 and udp6 are IPv6 only. */
	if (flag != NULL && strcmp(flag, "IPv6") == 0)
		import_printf(ib, "\tv6only\t\t= yes\n");
	if (bind != NULL)
		import_printf(ib, "\tbind\t\t= %s\n", bind);
	if (max > 0)
		import_printf(ib, "\t# %s.%ld: inetd spawns at most %ld servers "
		    "in %d seconds, then stops the service for %d; portgate "
		    "counts per second, and this never refuses a client inetd "
		    "would admit (but admits up to %ld a second)\n\tcps\t\t= "
		    "%ld %d\n", wait ? "wait" : "nowait", max, max,
		    INETD_MAX_WINDOW, INETD_RETRY_TIME, max, max,
		    INETD_RETRY_TIME);
	if (!internal) {
		group = strpbrk(w[4], ".:");
		if (group != NULL)
			*group++ = '\0';
		import_printf(ib, "\tuser\t\t= %s\n", w[4]);
		if (group != NULL)
			import_printf(ib, "\tgroup\t\t= %s\n", group);
		/* inetd calls initgroups(3) for the user. */
		import_printf(ib, "\tgroups\t\t= yes\n");
		in_server(ir, l, ib);
	}
	import_printf(ib, "}\n");
}

int
import_inetd(const char *text, const char *file, struct import_result *ir)
{
	struct in_line	 l;
	char		*copy, *pos, *line, *buf, *p;
	char		**seen = NULL;
	int		 nseen = 0, lineno = 0, errors = ir->ir_errors;
	int		 i, nth, services = 0;

	import_printf(&ir->ir_out, "# Imported from the inetd configuration "
	    "%s by portgate --import inetd.\n", file);
	pos = copy = xstrdup(text);
	while ((line = import_next_line(&pos)) != NULL) {
		lineno++;
		memset(&l, 0, sizeof(l));
		l.l_file = file;
		l.l_line = lineno;
		line += strspn(line, " \t");
		if (strncmp(line, "#<off>#", 7) == 0) {
			l.l_off = 1;
			line += 7;
			line += strspn(line, " \t");
		} else if (*line == '#' || *line == '\0')
			continue;
		for (p = line + strlen(line); p > line && isspace(
		    (unsigned char)p[-1]); p--)
			p[-1] = '\0';
		l.l_text = line;
		buf = xstrdup(line);
		if ((l.l_n = import_split(buf, l.l_w, INETD_WORDS)) >
		    INETD_WORDS)
			import_error(ir, file, lineno, "more than %d words",
			    INETD_WORDS);
		else {
			/* inetd services share a name across protocols. */
			/* The name without "address:" makes the id. */
			if ((p = strrchr(l.l_w[0], ':')) == NULL)
				p = l.l_w[0];
			else
				p++;
			for (i = 0, nth = 0; i < nseen; i++)
				if (strcmp(seen[i], p) == 0)
					nth++;
			seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
			seen[nseen++] = xstrdup(p);
			in_service(ir, &l, nth);
			services++;
		}
		free(buf);
	}
	free(copy);
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	if (services == 0 && ir->ir_errors == errors)
		import_warn(ir, file, 0, "no service line: the translation "
		    "has no service");
	if (ir->ir_errors != errors) {
		ir->ir_out.ib_len = 0;
		return -1;
	}
	return 0;
}
