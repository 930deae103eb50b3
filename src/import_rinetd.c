/*
 * portgate --import rinetd: translate a rinetd.conf (rinetd 0.73, as
 * Debian ships it) into portgate services.  Each forwarding rule
 * "bindaddress bindport connectaddress connectport [options]" becomes an
 * UNLISTED service with a redirect; allow and deny patterns become
 * only_from and no_access where a list of networks says exactly the same
 * thing, and an error otherwise.
 *
 * rinetd's gate: global allow rules (before the first forwarding rule)
 * and the rule's own allow rules must each be satisfied when present, and
 * any matching deny refuses.  portgate's lists are a union where the more
 * specific match wins, so each service gets its own complete lists: the
 * intersection of the global and the rule's allows, minus any allow that
 * lies inside a deny (rinetd would refuse every address of it), and the
 * union of the denies.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "xmalloc.h"

/* rinetd's UDP idle timeout when a rule sets none (portgate's is 60). */
#define RINETD_UDP_TIMEOUT	72

/* An address or network: what an exact pattern stands for. */
struct rn_net {
	int		n_family;
	uint8_t		n_addr[16];
	int		n_bits;
};

struct rn_nets {
	struct rn_net	*ns_v;
	int		 ns_n;
};

struct rn_rule {
	int		 r_line;
	char		*r_text;	/* the line as written */
	char		*r_bind;
	char		*r_bport;
	int		 r_udp;
	char		*r_caddr;
	char		*r_cport;
	long		 r_timeout;	/* -1: not set */
	struct rn_nets	 r_allow;
	struct rn_nets	 r_deny;
};

struct rn_state {
	const char		*s_file;
	struct import_result	*s_ir;
	struct rn_rule		*s_rules;
	int			 s_nrules;
	struct rn_nets		 s_allow;	/* global */
	struct rn_nets		 s_deny;
	char			*s_logfile;
	int			 s_logcommon;
	int			 s_logline;
};

static void
rn_nets_add(struct rn_nets *ns, const struct rn_net *n)
{
	ns->ns_v = xreallocarray(ns->ns_v, ns->ns_n + 1, sizeof(*n));
	ns->ns_v[ns->ns_n++] = *n;
}

/* Whether a decimal octet is written as inet_ntop writes it. */
static int
rn_octet(const char *s, size_t len, uint8_t *out)
{
	unsigned	v = 0;
	size_t		i;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 255)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

/* An IPv4 pattern: whole octets, then optionally '*' octets to the end. */
static int
rn_pattern4(const char *pat, struct rn_net *n)
{
	const char	*p = pat, *dot;
	int		 i, star = -1;

	memset(n, 0, sizeof(*n));
	n->n_family = AF_INET;
	for (i = 0; i < 4; i++) {
		dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (len == 1 && p[0] == '*') {
			if (star == -1)
				star = i;
		} else if (star != -1 || rn_octet(p, len, &n->n_addr[i]) == -1)
			return -1;
		if (dot == NULL) {
			/* "10.*" matches every address starting "10.". */
			if (i < 3 && star == -1)
				return -1;
			n->n_bits = star == -1 ? 32 : star * 8;
			return 0;
		}
		p = dot + 1;
	}
	return -1;	/* a fifth component matches no address */
}

/* Whether <s> is a non-zero hex group as inet_ntop writes it. */
static int
rn_group(const char *s, size_t len, uint16_t *out)
{
	unsigned	v = 0;
	size_t		i;

	if (len == 0 || len > 4 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return -1;
		v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ?
		    s[i] - '0' : s[i] - 'a' + 10);
	}
	*out = (uint16_t)v;
	return 0;
}

/*
 * An IPv6 pattern: an address as inet_ntop writes it, or leading non-zero
 * groups then ":*" (a zero group may be printed as "::", so a pattern
 * through one is not a prefix).
 */
static int
rn_pattern6(const char *pat, struct rn_net *n)
{
	char		 canon[INET6_ADDRSTRLEN];
	const char	*p = pat, *colon;
	uint16_t	 g;
	int		 i;

	memset(n, 0, sizeof(*n));
	n->n_family = AF_INET6;
	if (strpbrk(pat, "*?") == NULL) {
		if (inet_pton(AF_INET6, pat, n->n_addr) != 1 ||
		    inet_ntop(AF_INET6, n->n_addr, canon,
		    sizeof(canon)) == NULL || strcmp(canon, pat) != 0)
			return -1;
		n->n_bits = 128;
		return 0;
	}
	for (i = 0; i < 8; i++) {
		if (strcmp(p, "*") == 0 && i > 0) {
			n->n_bits = i * 16;
			return 0;
		}
		if ((colon = strchr(p, ':')) == NULL ||
		    rn_group(p, (size_t)(colon - p), &g) == -1)
			return -1;
		n->n_addr[2 * i] = (uint8_t)(g >> 8);
		n->n_addr[2 * i + 1] = (uint8_t)(g & 0xff);
		p = colon + 1;
	}
	return -1;
}

/*
 * The networks rinetd pattern <pat> matches exactly, in <out> (two for
 * "*": every IPv4 and every IPv6 address); returns how many, or -1 when
 * no list of networks matches the same addresses.
 */
static int
rn_pattern(const char *pat, struct rn_net out[2])
{
	if (strcmp(pat, "*") == 0) {
		memset(out, 0, 2 * sizeof(*out));
		out[0].n_family = AF_INET;
		out[1].n_family = AF_INET6;
		return 2;
	}
	if (strchr(pat, ':') != NULL)
		return rn_pattern6(pat, &out[0]) == 0 ? 1 : -1;
	return rn_pattern4(pat, &out[0]) == 0 ? 1 : -1;
}

/* Whether network <a> lies inside network <b>. */
static int
rn_inside(const struct rn_net *a, const struct rn_net *b)
{
	int	bytes = b->n_bits / 8, rest = b->n_bits % 8;

	if (a->n_family != b->n_family || a->n_bits < b->n_bits)
		return 0;
	if (memcmp(a->n_addr, b->n_addr, (size_t)bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a->n_addr[bytes] ^ b->n_addr[bytes]) &
	    (0xff << (8 - rest))) == 0;
}

static void
rn_net_print(struct import_buf *ib, const struct rn_net *n)
{
	char	buf[INET6_ADDRSTRLEN];

	if (inet_ntop(n->n_family, n->n_addr, buf, sizeof(buf)) == NULL)
		fatalx("%s: inet_ntop", __func__);
	if (n->n_bits == (n->n_family == AF_INET ? 32 : 128))
		import_printf(ib, " %s", buf);
	else
		import_printf(ib, " %s/%d", buf, n->n_bits);
}

/* allow or deny <pat> at <line>, global or for the last rule. */
static void
rn_access(struct rn_state *s, int line, int allow, const char *pat)
{
	struct rn_net	 nets[2];
	struct rn_nets	*to;
	int		 i, n;

	if ((n = rn_pattern(pat, nets)) == -1) {
		import_error(s->s_ir, s->s_file, line, "%s %s: no list of "
		    "addresses and networks matches exactly what this pattern "
		    "does; write whole octets then '*' (192.168.1.*, "
		    "10.*.*.*), leading non-zero IPv6 groups then '*' "
		    "(fe80:*), or a whole address", allow ? "allow" : "deny",
		    pat);
		return;
	}
	if (s->s_nrules == 0)
		to = allow ? &s->s_allow : &s->s_deny;
	else
		to = allow ? &s->s_rules[s->s_nrules - 1].r_allow :
		    &s->s_rules[s->s_nrules - 1].r_deny;
	for (i = 0; i < n; i++)
		rn_nets_add(to, &nets[i]);
}

/* "80", "http/tcp" or "53/udp": the port in <port>, 1 when UDP. */
static int
rn_port(char *word, int *udp)
{
	char	*slash;

	*udp = 0;
	if ((slash = strchr(word, '/')) == NULL)
		return word[0] != '\0' ? 0 : -1;
	if (strcmp(slash + 1, "udp") == 0)
		*udp = 1;
	else if (strcmp(slash + 1, "tcp") != 0)
		return -1;
	*slash = '\0';
	return slash > word ? 0 : -1;
}

/* The options "[timeout=N,src=ADDR]" of rule <r>, joined in <opts>. */
static int
rn_options(struct rn_state *s, struct rn_rule *r, char *opts)
{
	char	*opt, *end;
	size_t	 len = strlen(opts);

	if (opts[0] != '[' || len < 2 || opts[len - 1] != ']') {
		import_error(s->s_ir, s->s_file, r->r_line, "expected options "
		    "in brackets after the connect port, such as "
		    "[timeout=1200], found '%s'", opts);
		return -1;
	}
	opts[len - 1] = '\0';
	opts++;
	while ((opt = strsep(&opts, ",")) != NULL) {
		opt += strspn(opt, " \t");
		if (strncmp(opt, "timeout=", 8) == 0) {
			r->r_timeout = strtol(opt + 8, &end, 10);
			if (end == opt + 8 || *end != '\0' ||
			    r->r_timeout < 1 || r->r_timeout > 86400 * 365) {
				import_error(s->s_ir, s->s_file, r->r_line,
				    "timeout: expected a number of seconds, "
				    "found '%s'", opt + 8);
				return -1;
			}
		} else if (strncmp(opt, "src=", 4) == 0) {
			import_error(s->s_ir, s->s_file, r->r_line, "src=%s: "
			    "portgate cannot choose the source address of a "
			    "forwarded connection", opt + 4);
			return -1;
		} else {
			import_error(s->s_ir, s->s_file, r->r_line, "unknown "
			    "option '%s' (rinetd 0.73 knows timeout= and src=)",
			    opt);
			return -1;
		}
	}
	return 0;
}

/* A forwarding rule of <n> words at <line>. */
static void
rn_rule(struct rn_state *s, int line, const char *text, char **w, int n)
{
	struct rn_rule	 r;
	char		*opts = NULL;
	int		 cudp, i;

	memset(&r, 0, sizeof(r));
	r.r_line = line;
	r.r_timeout = -1;
	if (n < 4) {
		import_error(s->s_ir, s->s_file, line, "expected a forwarding "
		    "rule 'bindaddress bindport connectaddress connectport "
		    "[options]', or allow, deny, logfile, logcommon, "
		    "pidlogfile");
		return;
	}
	if (rn_port(w[1], &r.r_udp) == -1 || rn_port(w[3], &cudp) == -1) {
		import_error(s->s_ir, s->s_file, line, "expected a port as "
		    "NUMBER or NAME, optionally followed by /tcp or /udp");
		return;
	}
	if (r.r_udp != cudp) {
		import_error(s->s_ir, s->s_file, line, "this rule forwards "
		    "%s to %s; portgate forwards TCP to TCP and UDP to UDP "
		    "only (a connect port without /udp is TCP)",
		    r.r_udp ? "UDP" : "TCP", cudp ? "UDP" : "TCP");
		return;
	}
	if (n > 4) {
		opts = xstrdup(w[4]);
		for (i = 5; i < n; i++) {
			char *j;

			(void)xasprintf(&j, "%s%s", opts, w[i]);
			free(opts);
			opts = j;
		}
		i = rn_options(s, &r, opts);
		free(opts);
		if (i == -1)
			return;
	}
	r.r_text = xstrdup(text);
	r.r_bind = xstrdup(w[0]);
	r.r_bport = xstrdup(w[1]);
	r.r_caddr = xstrdup(w[2]);
	r.r_cport = xstrdup(w[3]);
	s->s_rules = xreallocarray(s->s_rules, s->s_nrules + 1, sizeof(r));
	s->s_rules[s->s_nrules++] = r;
}

/* One line of the file, its comment already cut. */
static void
rn_line(struct rn_state *s, int line, const char *text, char *buf)
{
	char	*w[16];
	int	 n;

	if ((n = import_split(buf, w, 16)) == 0)
		return;
	if (n > 16) {
		import_error(s->s_ir, s->s_file, line, "too many words");
		return;
	}
	if (strcmp(w[0], "allow") == 0 || strcmp(w[0], "deny") == 0) {
		if (n != 2)
			import_error(s->s_ir, s->s_file, line, "%s expects "
			    "one pattern", w[0]);
		else
			rn_access(s, line, w[0][0] == 'a', w[1]);
	} else if (strcmp(w[0], "logfile") == 0) {
		if (n != 2 || w[1][0] != '/')
			import_error(s->s_ir, s->s_file, line, "logfile "
			    "expects one absolute path");
		else {
			free(s->s_logfile);
			s->s_logfile = xstrdup(w[1]);
			s->s_logline = line;
		}
	} else if (strcmp(w[0], "logcommon") == 0) {
		s->s_logcommon = line;
		import_warn(s->s_ir, s->s_file, line, "logcommon: portgate "
		    "writes its own record format (the same facts: client, "
		    "port, duration, bytes), not Apache's common log format");
	} else if (strcmp(w[0], "pidlogfile") == 0)
		import_warn(s->s_ir, s->s_file, line, "pidlogfile: give "
		    "portgate -pidfile %s on its command line instead",
		    n > 1 ? w[1] : "FILE");
	else
		rn_rule(s, line, text, w, n);
}

/* The networks a service of rule <r> admits, as rinetd would. */
static void
rn_allowed(const struct rn_state *s, const struct rn_rule *r,
    const struct rn_nets *deny, struct rn_nets *out)
{
	const struct rn_nets	*g = &s->s_allow, *l = &r->r_allow;
	struct rn_nets		 both = { NULL, 0 };
	int			 i, j;

	if (g->ns_n == 0 || l->ns_n == 0) {
		const struct rn_nets *one = g->ns_n > 0 ? g : l;

		for (i = 0; i < one->ns_n; i++)
			rn_nets_add(&both, &one->ns_v[i]);
	} else
		for (i = 0; i < g->ns_n; i++)
			for (j = 0; j < l->ns_n; j++) {
				if (rn_inside(&l->ns_v[j], &g->ns_v[i]))
					rn_nets_add(&both, &l->ns_v[j]);
				else if (rn_inside(&g->ns_v[i], &l->ns_v[j]))
					rn_nets_add(&both, &g->ns_v[i]);
			}
	/* An allow inside a deny admits nobody in rinetd. */
	for (i = 0; i < both.ns_n; i++) {
		for (j = 0; j < deny->ns_n; j++)
			if (rn_inside(&both.ns_v[i], &deny->ns_v[j]))
				break;
		if (j == deny->ns_n)
			rn_nets_add(out, &both.ns_v[i]);
	}
	free(both.ns_v);
}

/* The service of rule <r>, named <name>. */
static void
rn_print_rule(struct rn_state *s, const struct rn_rule *r)
{
	struct import_buf	*ib = &s->s_ir->ir_out;
	struct rn_nets		 deny = { NULL, 0 }, allow = { NULL, 0 };
	int			 i, dup = 0;

	for (i = 0; s->s_rules + i != r; i++)
		if (s->s_rules[i].r_udp == r->r_udp &&
		    strcmp(s->s_rules[i].r_bport, r->r_bport) == 0)
			dup++;
	import_printf(ib, "\n# %s:%d: %s\nservice rinetd-%s-%s", s->s_file,
	    r->r_line, r->r_text, r->r_udp ? "udp" : "tcp", r->r_bport);
	if (dup > 0)
		import_printf(ib, "-%d", dup + 1);
	import_printf(ib, "\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= %s\n\tprotocol\t= %s\n\twait\t\t= %s\n"
	    "\tport\t\t= %s\n", r->r_udp ? "dgram" : "stream",
	    r->r_udp ? "udp" : "tcp", r->r_udp ? "yes" : "no", r->r_bport);
	import_printf(ib, "\tbind\t\t= %s\n\tredirect\t= %s %s\n", r->r_bind,
	    r->r_caddr, r->r_cport);
	if (r->r_udp)
		import_printf(ib, "\tidle_timeout\t= %ld\n", r->r_timeout != -1 ?
		    r->r_timeout : (long)RINETD_UDP_TIMEOUT);
	else if (r->r_timeout != -1)
		import_printf(ib, "\t# timeout=%ld: rinetd applies it to UDP "
		    "only\n", r->r_timeout);
	for (i = 0; i < s->s_deny.ns_n; i++)
		rn_nets_add(&deny, &s->s_deny.ns_v[i]);
	for (i = 0; i < r->r_deny.ns_n; i++)
		rn_nets_add(&deny, &r->r_deny.ns_v[i]);
	if (s->s_allow.ns_n > 0 || r->r_allow.ns_n > 0) {
		rn_allowed(s, r, &deny, &allow);
		if (allow.ns_n == 0)
			import_printf(ib, "\t# rinetd's allow and deny rules "
			    "admit no client here\n");
		import_printf(ib, "\tonly_from\t=");
		for (i = 0; i < allow.ns_n; i++)
			rn_net_print(ib, &allow.ns_v[i]);
		import_printf(ib, "\n");
	}
	if (deny.ns_n > 0) {
		import_printf(ib, "\tno_access\t=");
		for (i = 0; i < deny.ns_n; i++)
			rn_net_print(ib, &deny.ns_v[i]);
		import_printf(ib, "\n");
	}
	import_printf(ib, "}\n");
	free(deny.ns_v);
	free(allow.ns_v);
}

static void
rn_print(struct rn_state *s)
{
	struct import_buf	*ib = &s->s_ir->ir_out;
	int			 i;

	import_printf(ib, "# Imported from the rinetd configuration %s by "
	    "portgate --import rinetd.\n", s->s_file);
	if (s->s_allow.ns_n > 0 || s->s_deny.ns_n > 0)
		import_printf(ib, "# rinetd's global allow and deny rules are "
		    "part of each service's only_from and no_access.\n");
	if (s->s_logfile != NULL) {
		import_printf(ib, "\n# %s:%d: logfile %s\n", s->s_file,
		    s->s_logline, s->s_logfile);
		if (s->s_logcommon)
			import_printf(ib, "# %s:%d: logcommon: portgate's own "
			    "record format\n", s->s_file, s->s_logcommon);
		import_printf(ib, "defaults\n{\n\tlog_type\t= FILE %s\n"
		    "\tlog_on_success\t= HOST PORT DURATION TRAFFIC\n"
		    "\tlog_on_failure\t= HOST PORT\n}\n", s->s_logfile);
	}
	for (i = 0; i < s->s_nrules; i++)
		rn_print_rule(s, &s->s_rules[i]);
}

static void
rn_free(struct rn_state *s)
{
	int	i;

	for (i = 0; i < s->s_nrules; i++) {
		struct rn_rule *r = &s->s_rules[i];

		free(r->r_text);
		free(r->r_bind);
		free(r->r_bport);
		free(r->r_caddr);
		free(r->r_cport);
		free(r->r_allow.ns_v);
		free(r->r_deny.ns_v);
	}
	free(s->s_rules);
	free(s->s_allow.ns_v);
	free(s->s_deny.ns_v);
	free(s->s_logfile);
}

int
import_rinetd(const char *text, const char *file, struct import_result *ir)
{
	struct rn_state	 s;
	char		*copy, *pos, *line, *buf, *hash;
	int		 lineno = 0, errors = ir->ir_errors;

	memset(&s, 0, sizeof(s));
	s.s_file = file;
	s.s_ir = ir;
	pos = copy = xstrdup(text);
	while ((line = import_next_line(&pos)) != NULL) {
		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		line += strspn(line, " \t");
		for (hash = line + strlen(line); hash > line &&
		    (hash[-1] == ' ' || hash[-1] == '\t'); hash--)
			hash[-1] = '\0';
		buf = xstrdup(line);
		rn_line(&s, lineno, line, buf);
		free(buf);
	}
	if (s.s_nrules == 0 && ir->ir_errors == errors)
		import_warn(ir, file, 0, "no forwarding rule: the translation "
		    "has no service");
	if (ir->ir_errors == errors)
		rn_print(&s);
	rn_free(&s);
	free(copy);
	return ir->ir_errors == errors ? 0 : -1;
}
