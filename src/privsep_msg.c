/*
 * The master/worker messages: a header of type and total length (32 bits
 * each, network byte order) and a body of a fixed size per type, written
 * field by field so that there are no padding bytes: a decoded message
 * re-encodes to the very same bytes.  One check of the decoded values
 * (privsep_msg_check()) serves both directions; the decoder adds what only
 * the wire has (zeros after a string's NUL and in unused address bytes).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "privsep_msg.h"

#define PM_ADDRLEN	23	/* family 4 or 6, port, scope, 16 bytes */
#define PM_MAXFDS	8	/* room to see (and close) extra descriptors */

/* Body size and descriptor count of each type. */
static const struct {
	size_t	size;
	int	nfds;
} pm_types[PRIVSEP_NTYPES] = {
	[PRIVSEP_SPAWN_REQ] = { 8 + 4 + 4 + 4 + 2 * PM_ADDRLEN +
	    PRIVSEP_COUNTRYLEN + PRIVSEP_IDENTLEN + 2 * PRIVSEP_DNLEN, 1 },
	[PRIVSEP_SPAWN_OK] = { 8 + 4, 0 },
	[PRIVSEP_SPAWN_FAIL] = { 8 + 4, 0 },
	[PRIVSEP_CHILD_EXIT] = { 8 + 4 + 4 + 8, 0 },
	[PRIVSEP_LOG] = { 4 + 4 + 4 + 4 + PRIVSEP_TEXTLEN, 0 },
	[PRIVSEP_RELOAD] = { 4, 0 },
	[PRIVSEP_DRAINING] = { 4, 0 },
	[PRIVSEP_CTL] = { 8 + 4 + PRIVSEP_IDLEN, 0 },
	[PRIVSEP_SESSION] = { 8 + 8 + 8 + 8 + 4 + PM_ADDRLEN + PRIVSEP_IDLEN +
	    PRIVSEP_BACKENDLEN + PRIVSEP_TLSLEN, 0 },
	[PRIVSEP_CTL_DONE] = { 8 + 4, 0 },
};

/* A position in a message being written or read; sizes checked before. */
struct pm_cur {
	uint8_t		*w;
	const uint8_t	*r;
	size_t		 off;
};

static void
pm_put(struct pm_cur *c, uint64_t v, size_t n)
{
	while (n-- > 0)
		c->w[c->off++] = (uint8_t)(v >> (8 * n));
}

static uint64_t
pm_get(struct pm_cur *c, size_t n)
{
	uint64_t	v = 0;

	while (n-- > 0)
		v = v << 8 | c->r[c->off++];
	return v;
}

int
privsep_msg_nfds(enum privsep_type type)
{
	if (type <= 0 || type >= PRIVSEP_NTYPES)
		return -1;
	return pm_types[type].nfds;
}

/* Is <s>, within <size> bytes, NUL-terminated printable ASCII? */
static int
pm_str_ok(const char *s, size_t size)
{
	size_t	i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return i < size;
}

/* "", "--" or two capitals. */
static int
pm_country_ok(const char *c)
{
	if (!pm_str_ok(c, PRIVSEP_COUNTRYLEN))
		return 0;
	if (c[0] == '\0' || strcmp(c, "--") == 0)
		return 1;
	return strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' &&
	    c[1] <= 'Z';
}

/* A status waitpid() reports for a child that ended. */
static int
pm_status_ok(int st)
{
	if ((st & ~0xffff) != 0)
		return 0;
	if ((st & 0xff) == 0)
		return 1;		/* exited */
	return (st & 0xff00) == 0 && (st & 0x7f) >= 1 && (st & 0x7f) <= 64;
}

static const char *
pm_check_spawn_req(const struct privsep_spawn_req *sr)
{
	int	fam = sr->sr_peer.ss_family;

	if (sr->sr_service == PRIVSEP_NOSERVICE)
		return "no service";
	if ((fam != AF_INET && fam != AF_INET6) ||
	    sr->sr_local.ss_family != fam)
		return "bad address family";
	if ((sr->sr_flags & ~(unsigned)(PRIVSEP_F_TLS | PRIVSEP_F_VERIFIED)) ||
	    ((sr->sr_flags & PRIVSEP_F_VERIFIED) &&
	    !(sr->sr_flags & PRIVSEP_F_TLS)))
		return "bad flags";
	if (!pm_country_ok(sr->sr_country))
		return "bad country";
	if (!pm_str_ok(sr->sr_ident, sizeof(sr->sr_ident)) ||
	    !pm_str_ok(sr->sr_subject, sizeof(sr->sr_subject)) ||
	    !pm_str_ok(sr->sr_issuer, sizeof(sr->sr_issuer)))
		return "bad string";
	if (!(sr->sr_flags & PRIVSEP_F_VERIFIED) &&
	    (sr->sr_subject[0] != '\0' || sr->sr_issuer[0] != '\0'))
		return "certificate names without a verified certificate";
	return NULL;
}

static const char *
pm_check_log(const struct privsep_log *lg)
{
	switch (lg->lg_kind) {
	case PRIVSEP_LOG_ACCESS:
		if (lg->lg_service == PRIVSEP_NOSERVICE || lg->lg_level != 0)
			return "bad access record";
		break;
	case PRIVSEP_LOG_DIAG:
		if (lg->lg_service != PRIVSEP_NOSERVICE || lg->lg_gen != 0 ||
		    lg->lg_level < LOG_ERR || lg->lg_level > LOG_DEBUG)
			return "bad diagnostic";
		break;
	default:
		return "bad log kind";
	}
	if (!pm_str_ok(lg->lg_text, sizeof(lg->lg_text)) ||
	    lg->lg_text[0] == '\0')
		return "bad text";
	return NULL;
}

static const char *
pm_check_session(const struct privsep_session *ss)
{
	int	fam = ss->ss_peer.ss_family;

	if (fam != AF_INET && fam != AF_INET6)
		return "bad address family";
	if (!pm_str_ok(ss->ss_service, sizeof(ss->ss_service)) ||
	    !pm_str_ok(ss->ss_backend, sizeof(ss->ss_backend)) ||
	    !pm_str_ok(ss->ss_tls, sizeof(ss->ss_tls)))
		return "bad string";
	return NULL;
}

/* Why <m> is not a valid message, or NULL. */
static const char *
privsep_msg_check(const struct privsep_msg *m)
{
	const struct privsep_child_exit	*ce = &m->pm_u.child_exit;

	switch (m->pm_type) {
	case PRIVSEP_SPAWN_REQ:
		return pm_check_spawn_req(&m->pm_u.spawn_req);
	case PRIVSEP_SPAWN_OK:
		return m->pm_u.spawn_ok.so_pid > 0 ? NULL : "bad pid";
	case PRIVSEP_SPAWN_FAIL:
		return m->pm_u.spawn_fail.sf_reason > 0 &&
		    m->pm_u.spawn_fail.sf_reason < PRIVSEP_FAIL_MAX ? NULL :
		    "bad reason";
	case PRIVSEP_CHILD_EXIT:
		if (ce->ce_pid <= 0)
			return "bad pid";
		return pm_status_ok(ce->ce_status) ? NULL : "bad status";
	case PRIVSEP_LOG:
		return pm_check_log(&m->pm_u.log);
	case PRIVSEP_RELOAD:
	case PRIVSEP_DRAINING:
	case PRIVSEP_CTL_DONE:
		return NULL;
	case PRIVSEP_CTL:
		if (m->pm_u.ctl.ct_op <= 0 ||
		    m->pm_u.ctl.ct_op >= PRIVSEP_CTL_MAX)
			return "bad operation";
		return pm_str_ok(m->pm_u.ctl.ct_id, sizeof(m->pm_u.ctl.ct_id)) ?
		    NULL : "bad string";
	case PRIVSEP_SESSION:
		return pm_check_session(&m->pm_u.session);
	default:
		return "unknown type";
	}
}

static void
pm_put_str(struct pm_cur *c, const char *s, size_t size)
{
	size_t	n = strlen(s);

	memcpy(c->w + c->off, s, n);
	memset(c->w + c->off + n, 0, size - n);
	c->off += size;
}

static void
pm_put_addr(struct pm_cur *c, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;
	uint8_t				 a[16];

	memset(a, 0, sizeof(a));
	if (ss->ss_family == AF_INET) {
		memcpy(a, &sin->sin_addr, 4);
		pm_put(c, 4, 1);
		pm_put(c, ntohs(sin->sin_port), 2);
		pm_put(c, 0, 4);
	} else {
		memcpy(a, &sin6->sin6_addr, 16);
		pm_put(c, 6, 1);
		pm_put(c, ntohs(sin6->sin6_port), 2);
		pm_put(c, sin6->sin6_scope_id, 4);
	}
	memcpy(c->w + c->off, a, sizeof(a));
	c->off += sizeof(a);
}

static void
pm_put_body(struct pm_cur *c, const struct privsep_msg *m)
{
	const struct privsep_spawn_req	*sr = &m->pm_u.spawn_req;
	const struct privsep_log	*lg = &m->pm_u.log;
	const struct privsep_session	*ss = &m->pm_u.session;

	switch (m->pm_type) {
	case PRIVSEP_SPAWN_REQ:
		pm_put(c, sr->sr_session, 8);
		pm_put(c, sr->sr_service, 4);
		pm_put(c, sr->sr_gen, 4);
		pm_put(c, sr->sr_flags, 4);
		pm_put_addr(c, &sr->sr_peer);
		pm_put_addr(c, &sr->sr_local);
		pm_put_str(c, sr->sr_country, sizeof(sr->sr_country));
		pm_put_str(c, sr->sr_ident, sizeof(sr->sr_ident));
		pm_put_str(c, sr->sr_subject, sizeof(sr->sr_subject));
		pm_put_str(c, sr->sr_issuer, sizeof(sr->sr_issuer));
		break;
	case PRIVSEP_SPAWN_OK:
		pm_put(c, m->pm_u.spawn_ok.so_session, 8);
		pm_put(c, (uint32_t)m->pm_u.spawn_ok.so_pid, 4);
		break;
	case PRIVSEP_SPAWN_FAIL:
		pm_put(c, m->pm_u.spawn_fail.sf_session, 8);
		pm_put(c, (uint32_t)m->pm_u.spawn_fail.sf_reason, 4);
		break;
	case PRIVSEP_CHILD_EXIT:
		pm_put(c, m->pm_u.child_exit.ce_session, 8);
		pm_put(c, (uint32_t)m->pm_u.child_exit.ce_pid, 4);
		pm_put(c, (uint32_t)m->pm_u.child_exit.ce_status, 4);
		pm_put(c, m->pm_u.child_exit.ce_msecs, 8);
		break;
	case PRIVSEP_CTL:
		pm_put(c, m->pm_u.ctl.ct_req, 8);
		pm_put(c, (uint32_t)m->pm_u.ctl.ct_op, 4);
		pm_put_str(c, m->pm_u.ctl.ct_id, sizeof(m->pm_u.ctl.ct_id));
		break;
	case PRIVSEP_SESSION:
		pm_put(c, ss->ss_req, 8);
		pm_put(c, ss->ss_in, 8);
		pm_put(c, ss->ss_out, 8);
		pm_put(c, ss->ss_age, 8);
		pm_put(c, ss->ss_pid, 4);
		pm_put_addr(c, &ss->ss_peer);
		pm_put_str(c, ss->ss_service, sizeof(ss->ss_service));
		pm_put_str(c, ss->ss_backend, sizeof(ss->ss_backend));
		pm_put_str(c, ss->ss_tls, sizeof(ss->ss_tls));
		break;
	case PRIVSEP_CTL_DONE:
		pm_put(c, m->pm_u.ctl_done.cd_req, 8);
		pm_put(c, m->pm_u.ctl_done.cd_more, 4);
		break;
	case PRIVSEP_LOG:
		pm_put(c, lg->lg_service, 4);
		pm_put(c, lg->lg_gen, 4);
		pm_put(c, (uint32_t)lg->lg_kind, 4);
		pm_put(c, (uint32_t)lg->lg_level, 4);
		pm_put_str(c, lg->lg_text, sizeof(lg->lg_text));
		break;
	default:
		pm_put(c, m->pm_u.reload.rl_gen, 4);
		break;
	}
}

ssize_t
privsep_msg_encode(const struct privsep_msg *m, uint8_t *buf, size_t len,
    const char **why)
{
	struct pm_cur	c = { .w = buf };
	size_t		total;

	if ((*why = privsep_msg_check(m)) != NULL)
		return -1;
	total = PRIVSEP_HDRLEN + pm_types[m->pm_type].size;
	if (len < total) {
		*why = "buffer too small";
		return -1;
	}
	pm_put(&c, (uint32_t)m->pm_type, 4);
	pm_put(&c, total, 4);
	pm_put_body(&c, m);
	return (ssize_t)c.off;
}

/* A string field of <size> bytes: NUL within, zeros after. */
static int
pm_get_str(struct pm_cur *c, char *s, size_t size)
{
	const uint8_t	*p = c->r + c->off, *nul;
	size_t		 i;

	c->off += size;
	if ((nul = memchr(p, '\0', size)) == NULL)
		return -1;
	for (i = (size_t)(nul - p); i < size; i++)
		if (p[i] != 0)
			return -1;
	memcpy(s, p, size);
	return 0;
}

/* An address field: family 4 (scope and 12 last bytes zero) or 6. */
static int
pm_get_addr(struct pm_cur *c, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	uint64_t		 fam = pm_get(c, 1), port = pm_get(c, 2);
	uint64_t		 scope = pm_get(c, 4);
	const uint8_t		*a = c->r + c->off;
	static const uint8_t	 zero[12];

	c->off += 16;
	memset(ss, 0, sizeof(*ss));
	if (fam == 4 && scope == 0 && memcmp(a + 4, zero, 12) == 0) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a, 4);
		return 0;
	}
	if (fam == 6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_scope_id = (uint32_t)scope;
		memcpy(&sin6->sin6_addr, a, 16);
		return 0;
	}
	return -1;
}

/* The body at <c> into <m>; -1 if a field is not canonical. */
static int
pm_get_body(struct pm_cur *c, struct privsep_msg *m)
{
	struct privsep_spawn_req	*sr = &m->pm_u.spawn_req;
	struct privsep_child_exit	*ce = &m->pm_u.child_exit;
	struct privsep_log		*lg = &m->pm_u.log;
	struct privsep_session		*ss = &m->pm_u.session;

	switch (m->pm_type) {
	case PRIVSEP_SPAWN_REQ:
		sr->sr_session = pm_get(c, 8);
		sr->sr_service = (uint32_t)pm_get(c, 4);
		sr->sr_gen = (uint32_t)pm_get(c, 4);
		sr->sr_flags = (unsigned)pm_get(c, 4);
		return pm_get_addr(c, &sr->sr_peer) == -1 ||
		    pm_get_addr(c, &sr->sr_local) == -1 ||
		    pm_get_str(c, sr->sr_country, sizeof(sr->sr_country)) ||
		    pm_get_str(c, sr->sr_ident, sizeof(sr->sr_ident)) ||
		    pm_get_str(c, sr->sr_subject, sizeof(sr->sr_subject)) ||
		    pm_get_str(c, sr->sr_issuer, sizeof(sr->sr_issuer)) ?
		    -1 : 0;
	case PRIVSEP_SPAWN_OK:
		m->pm_u.spawn_ok.so_session = pm_get(c, 8);
		m->pm_u.spawn_ok.so_pid = (pid_t)(int32_t)pm_get(c, 4);
		return 0;
	case PRIVSEP_SPAWN_FAIL:
		m->pm_u.spawn_fail.sf_session = pm_get(c, 8);
		/* Out of range values are refused by the check. */
		m->pm_u.spawn_fail.sf_reason = (enum privsep_fail)
		    (int32_t)pm_get(c, 4);
		return 0;
	case PRIVSEP_CHILD_EXIT:
		ce->ce_session = pm_get(c, 8);
		ce->ce_pid = (pid_t)(int32_t)pm_get(c, 4);
		ce->ce_status = (int)(int32_t)pm_get(c, 4);
		ce->ce_msecs = pm_get(c, 8);
		return 0;
	case PRIVSEP_CTL:
		m->pm_u.ctl.ct_req = pm_get(c, 8);
		m->pm_u.ctl.ct_op = (enum privsep_ctl_op)(int32_t)pm_get(c, 4);
		return pm_get_str(c, m->pm_u.ctl.ct_id,
		    sizeof(m->pm_u.ctl.ct_id));
	case PRIVSEP_SESSION:
		ss->ss_req = pm_get(c, 8);
		ss->ss_in = pm_get(c, 8);
		ss->ss_out = pm_get(c, 8);
		ss->ss_age = pm_get(c, 8);
		ss->ss_pid = (uint32_t)pm_get(c, 4);
		return pm_get_addr(c, &ss->ss_peer) == -1 ||
		    pm_get_str(c, ss->ss_service, sizeof(ss->ss_service)) ||
		    pm_get_str(c, ss->ss_backend, sizeof(ss->ss_backend)) ||
		    pm_get_str(c, ss->ss_tls, sizeof(ss->ss_tls)) ? -1 : 0;
	case PRIVSEP_CTL_DONE:
		m->pm_u.ctl_done.cd_req = pm_get(c, 8);
		m->pm_u.ctl_done.cd_more = (uint32_t)pm_get(c, 4);
		return 0;
	case PRIVSEP_LOG:
		lg->lg_service = (uint32_t)pm_get(c, 4);
		lg->lg_gen = (uint32_t)pm_get(c, 4);
		lg->lg_kind = (enum privsep_logkind)(int32_t)pm_get(c, 4);
		lg->lg_level = (int)(int32_t)pm_get(c, 4);
		return pm_get_str(c, lg->lg_text, sizeof(lg->lg_text));
	default:
		m->pm_u.reload.rl_gen = (uint32_t)pm_get(c, 4);
		return 0;
	}
}

int
privsep_msg_decode(const uint8_t *buf, size_t len, int nfds,
    unsigned allowed, struct privsep_msg *m, const char **why)
{
	struct pm_cur	c = { .r = buf };
	uint64_t	type, total;

	memset(m, 0, sizeof(*m));
	m->pm_fd = -1;
	*why = "short message";
	if (len < PRIVSEP_HDRLEN)
		return -1;
	type = pm_get(&c, 4);
	total = pm_get(&c, 4);
	*why = "unknown type";
	if (type == 0 || type >= PRIVSEP_NTYPES)
		return -1;
	*why = "unexpected type";
	if (!(allowed & PRIVSEP_BIT(type)))
		return -1;
	m->pm_type = (enum privsep_type)type;
	*why = "wrong length";
	if (total != len || len != PRIVSEP_HDRLEN + pm_types[type].size)
		return -1;
	*why = "wrong number of descriptors";
	if (nfds != pm_types[type].nfds)
		return -1;
	*why = "field not canonical";
	if (pm_get_body(&c, m) == -1)
		return -1;
	if ((*why = privsep_msg_check(m)) != NULL)
		return -1;
	return 0;
}

int
privsep_msg_send(int sock, const struct privsep_msg *m, const char **why)
{
	uint8_t		 buf[PRIVSEP_MSGMAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct cmsghdr	*cmsg;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n, sent;

	if ((n = privsep_msg_encode(m, buf, sizeof(buf), why)) == -1)
		return -2;
	if ((m->pm_fd >= 0) != (pm_types[m->pm_type].nfds == 1)) {
		*why = "wrong number of descriptors";
		return -2;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = (size_t)n;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (m->pm_fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &m->pm_fd, sizeof(int));
	}
	*why = "sendmsg";
	if ((sent = sendmsg(sock, &msg, MSG_NOSIGNAL)) == -1)
		return -1;
	if (sent != n) {
		errno = EMSGSIZE;	/* a packet goes whole or not at all */
		return -1;
	}
	return 0;
}

/*
 * The descriptors of <msg> into <fds> (at most PM_MAXFDS); their count, or
 * -1 if anything but SCM_RIGHTS came (what did come is still counted).
 */
static int
pm_fds(struct msghdr *msg, int *fds, int *nfds)
{
	struct cmsghdr	*cmsg;
	size_t		 i, n;
	int		 rv = 0;

	*nfds = 0;
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			rv = -1;
			continue;
		}
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n && *nfds < PM_MAXFDS; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(cmsg) +
			    i * sizeof(int), sizeof(int));
	}
	return rv;
}

int
privsep_msg_recv(int sock, unsigned allowed, struct privsep_msg *m,
    const char **why)
{
	uint8_t		 buf[PRIVSEP_MSGMAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(PM_MAXFDS * sizeof(int))];
	}		 cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n;
	int		 fds[PM_MAXFDS], nfds, i, bad;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	*why = "recvmsg";
	if ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) == -1)
		return -1;
	bad = pm_fds(&msg, fds, &nfds);
	if (n == 0 && nfds == 0 && bad == 0)
		return 0;
	if (bad == -1)
		*why = "unexpected control message";
	else if (msg.msg_flags & MSG_CTRUNC)
		*why = "too many descriptors";
	else if (msg.msg_flags & MSG_TRUNC)
		*why = "oversized message";
	else if (privsep_msg_decode(buf, (size_t)n, nfds, allowed, m,
	    why) == 0) {
		m->pm_fd = nfds == 1 ? fds[0] : -1;
		return 1;
	}
	for (i = 0; i < nfds; i++)
		(void)close(fds[i]);
	return -2;
}
