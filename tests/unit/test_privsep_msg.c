/*
 * Unit tests for privsep_msg.c: every type round trips over a real
 * SOCK_SEQPACKET socketpair, SPAWN_REQ with a real descriptor that is then
 * used; and what a hostile worker could send is refused with every
 * descriptor it brought closed: short, long, oversized, unknown and
 * wrong-direction messages, a wrong number of descriptors, too many for
 * the control buffer, and each field that is out of its range or not in
 * the one form the encoder makes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "privsep_msg.h"

/* Offsets in an encoded SPAWN_REQ (header, then the body's fields). */
#define OFF_FLAGS	(8 + 16)
#define OFF_PEER	(OFF_FLAGS + 4)
#define OFF_LOCAL	(OFF_PEER + 23)
#define OFF_COUNTRY	(OFF_LOCAL + 23)
#define OFF_IDENT	(OFF_COUNTRY + 4)

static int	sp[2];	/* [0] the worker's end, [1] the master's */

static int
setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
}

static int
teardown(void **state)
{
	(void)state;
	(void)close(sp[0]);
	(void)close(sp[1]);
	return 0;
}

/* Descriptors open in this process. */
static int
open_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	(void)closedir(d);
	return n;
}

static void
addr(struct sockaddr_storage *ss, const char *text, int port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
}

/* A SPAWN_REQ for a verified TLS client over IPv6, descriptor <fd>. */
static void
mk_spawn_req(struct privsep_msg *m, int fd)
{
	struct privsep_spawn_req	*sr = &m->pm_u.spawn_req;

	memset(m, 0, sizeof(*m));
	m->pm_type = PRIVSEP_SPAWN_REQ;
	m->pm_fd = fd;
	sr->sr_session = 0x0102030405060708ULL;
	sr->sr_service = 7;
	sr->sr_gen = 3;
	sr->sr_flags = PRIVSEP_F_TLS | PRIVSEP_F_VERIFIED;
	addr(&sr->sr_peer, "::1", 40000);
	addr(&sr->sr_local, "::1", 443);
	((struct sockaddr_in6 *)&sr->sr_local)->sin6_scope_id = 9;
	(void)strlcpy(sr->sr_country, "DE", sizeof(sr->sr_country));
	(void)strlcpy(sr->sr_ident, "UNIX : alice?", sizeof(sr->sr_ident));
	(void)strlcpy(sr->sr_subject, "CN=client,O=Test",
	    sizeof(sr->sr_subject));
	(void)strlcpy(sr->sr_issuer, "CN=Test CA", sizeof(sr->sr_issuer));
}

static void
mk_log(struct privsep_msg *m, enum privsep_logkind kind)
{
	memset(m, 0, sizeof(*m));
	m->pm_type = PRIVSEP_LOG;
	m->pm_fd = -1;
	m->pm_u.log.lg_kind = kind;
	m->pm_u.log.lg_service = kind == PRIVSEP_LOG_ACCESS ? 2 :
	    PRIVSEP_NOSERVICE;
	m->pm_u.log.lg_gen = kind == PRIVSEP_LOG_ACCESS ? 5 : 0;
	m->pm_u.log.lg_level = kind == PRIVSEP_LOG_ACCESS ? 0 : LOG_WARNING;
	(void)strlcpy(m->pm_u.log.lg_text, "START: echo pid=0 from=::1",
	    sizeof(m->pm_u.log.lg_text));
}

/* Send <len> bytes of <buf> with the <nfds> descriptors of <fds>. */
static void
send_raw(const void *buf, size_t len, const int *fds, int nfds)
{
	char		 cbuf[CMSG_SPACE(32 * sizeof(int))];
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, (size_t)nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sp[0], &msg, 0), (ssize_t)len);
}

/* The master receives what was sent: refused as <why>, nothing left open. */
static void
refused(int before, const char *why)
{
	struct privsep_msg	 m;
	const char		*got;

	assert_int_equal(privsep_msg_recv(sp[1], PRIVSEP_TO_MASTER, &m, &got),
	    -2);
	assert_string_equal(got, why);
	assert_int_equal(open_fds(), before);
}

/* Encode <m> into <buf>; its length. */
static size_t
encode(const struct privsep_msg *m, uint8_t *buf)
{
	const char	*why = NULL;
	ssize_t		 n;

	n = privsep_msg_encode(m, buf, PRIVSEP_MSGMAX, &why);
	if (n == -1)
		fail_msg("encode: %s", why);
	return (size_t)n;
}

static void
test_spawn_req(void **state)
{
	struct privsep_msg	 m, got;
	const char		*why;
	int			 p[2];
	char			 c;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	mk_spawn_req(&m, p[1]);
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	assert_int_equal(privsep_msg_recv(sp[1], PRIVSEP_TO_MASTER, &got,
	    &why), 1);
	assert_true(got.pm_fd >= 0 && got.pm_fd != p[1]);
	/* The descriptor is the pipe's: write through it. */
	assert_int_equal(write(got.pm_fd, "z", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'z');
	assert_int_equal(close(got.pm_fd), 0);
	got.pm_fd = m.pm_fd;
	assert_memory_equal(&got, &m, sizeof(m));
	(void)close(p[0]);
	(void)close(p[1]);
	/* IPv4, no TLS, no country. */
	mk_spawn_req(&m, 0);
	m.pm_u.spawn_req.sr_flags = 0;
	memset(m.pm_u.spawn_req.sr_subject, 0, PRIVSEP_DNLEN);
	memset(m.pm_u.spawn_req.sr_issuer, 0, PRIVSEP_DNLEN);
	memset(m.pm_u.spawn_req.sr_country, 0, PRIVSEP_COUNTRYLEN);
	addr(&m.pm_u.spawn_req.sr_peer, "127.0.0.2", 1);
	addr(&m.pm_u.spawn_req.sr_local, "127.0.0.1", 65535);
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	assert_int_equal(privsep_msg_recv(sp[1], PRIVSEP_TO_MASTER, &got,
	    &why), 1);
	assert_int_equal(close(got.pm_fd), 0);
	got.pm_fd = 0;
	assert_memory_equal(&got, &m, sizeof(m));
}

/* The other types, each to the side that takes it. */
static void
test_round_trips(void **state)
{
	struct privsep_msg	 m[10], got;
	struct sockaddr_in6	*sin6;
	const char		*why;
	int			 i, to_worker;

	(void)state;
	memset(m, 0, sizeof(m));
	for (i = 0; i < 10; i++)
		m[i].pm_fd = -1;
	m[0].pm_type = PRIVSEP_SPAWN_OK;
	m[0].pm_u.spawn_ok.so_session = UINT64_MAX;
	m[0].pm_u.spawn_ok.so_pid = 4242;
	m[1].pm_type = PRIVSEP_SPAWN_FAIL;
	m[1].pm_u.spawn_fail.sf_session = 1;
	m[1].pm_u.spawn_fail.sf_reason = PRIVSEP_FAIL_LIMIT;
	m[2].pm_type = PRIVSEP_CHILD_EXIT;
	m[2].pm_u.child_exit.ce_session = 2;
	m[2].pm_u.child_exit.ce_pid = 4242;
	m[2].pm_u.child_exit.ce_status = 0x8b;	/* SIGSEGV, core dumped */
	m[2].pm_u.child_exit.ce_msecs = 123456789012ULL;
	m[3].pm_type = PRIVSEP_RELOAD;
	m[3].pm_u.reload.rl_gen = UINT32_MAX;
	mk_log(&m[4], PRIVSEP_LOG_ACCESS);
	mk_log(&m[5], PRIVSEP_LOG_DIAG);
	m[6].pm_type = PRIVSEP_DRAINING;
	m[6].pm_u.reload.rl_gen = 7;
	/* portgatectl's: a question, a session, the end of the answer. */
	m[7].pm_type = PRIVSEP_CTL;
	m[7].pm_u.ctl.ct_req = UINT64_MAX - 1;
	m[7].pm_u.ctl.ct_op = PRIVSEP_CTL_DISABLE;
	(void)strlcpy(m[7].pm_u.ctl.ct_id, "echo-stream",
	    sizeof(m[7].pm_u.ctl.ct_id));
	m[8].pm_type = PRIVSEP_SESSION;
	m[8].pm_u.session.ss_req = 9;
	m[8].pm_u.session.ss_in = UINT64_MAX;
	m[8].pm_u.session.ss_out = 1;
	m[8].pm_u.session.ss_age = 3600;
	m[8].pm_u.session.ss_pid = 4242;
	sin6 = (struct sockaddr_in6 *)&m[8].pm_u.session.ss_peer;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(65535);
	sin6->sin6_addr.s6_addr[15] = 1;
	(void)strlcpy(m[8].pm_u.session.ss_service, "fwd",
	    sizeof(m[8].pm_u.session.ss_service));
	(void)strlcpy(m[8].pm_u.session.ss_backend, "127.0.0.1:7",
	    sizeof(m[8].pm_u.session.ss_backend));
	(void)strlcpy(m[8].pm_u.session.ss_tls, "TLSv1.3 TLS_AES_128_GCM_SHA256",
	    sizeof(m[8].pm_u.session.ss_tls));
	m[9].pm_type = PRIVSEP_CTL_DONE;
	m[9].pm_u.ctl_done.cd_req = 9;
	m[9].pm_u.ctl_done.cd_more = 12;
	for (i = 0; i < 10; i++) {
		to_worker = i < 4 || i == 7;
		assert_int_equal(privsep_msg_send(to_worker ? sp[1] : sp[0],
		    &m[i], &why), 0);
		assert_int_equal(privsep_msg_recv(to_worker ? sp[0] : sp[1],
		    to_worker ? PRIVSEP_TO_WORKER : PRIVSEP_TO_MASTER, &got,
		    &why), 1);
		assert_int_equal(got.pm_fd, -1);
		assert_memory_equal(&got, &m[i], sizeof(got));
	}
}

/* Short, long, oversized, empty. */
static void
test_sizes(void **state)
{
	struct privsep_msg	 m, got;
	uint8_t			 buf[PRIVSEP_MSGMAX + 64];
	size_t			 n;
	const char		*why;
	int			 before = open_fds(), p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	before += 2;
	mk_spawn_req(&m, p[1]);
	n = encode(&m, buf);
	send_raw(buf, n - 1, &p[1], 1);
	refused(before, "wrong length");
	send_raw(buf, 7, &p[1], 1);
	refused(before, "short message");
	buf[n] = 0;
	send_raw(buf, n + 1, &p[1], 1);
	refused(before, "wrong length");
	/* The header claims the extra byte: still not the type's size. */
	buf[7]++;
	send_raw(buf, n + 1, &p[1], 1);
	refused(before, "wrong length");
	memset(buf, 0, sizeof(buf));
	send_raw(buf, sizeof(buf), &p[1], 1);
	refused(before, "oversized message");
	/* An empty packet reads as the end. */
	send_raw(buf, 0, NULL, 0);
	assert_int_equal(privsep_msg_recv(sp[1], PRIVSEP_TO_MASTER, &got,
	    &why), 0);
	(void)close(p[0]);
	(void)close(p[1]);
}

static void
test_types(void **state)
{
	struct privsep_msg	 m;
	uint8_t			 buf[PRIVSEP_MSGMAX];
	size_t			 n;
	int			 before = open_fds();
	const char		*why;

	(void)state;
	/* A worker sends what only the master may. */
	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_RELOAD;
	m.pm_fd = -1;
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	refused(before, "unexpected type");
	n = encode(&m, buf);
	buf[3] = 0;
	send_raw(buf, n, NULL, 0);
	refused(before, "unknown type");
	buf[3] = PRIVSEP_NTYPES;
	send_raw(buf, n, NULL, 0);
	refused(before, "unknown type");
	buf[0] = 0x80;
	buf[3] = PRIVSEP_LOG;
	send_raw(buf, n, NULL, 0);
	refused(before, "unknown type");
	assert_int_equal(privsep_msg_nfds(PRIVSEP_SPAWN_REQ), 1);
	assert_int_equal(privsep_msg_nfds(PRIVSEP_LOG), 0);
	assert_int_equal(privsep_msg_nfds(PRIVSEP_NTYPES), -1);
}

/* Descriptors: none, two, or more than the control buffer holds. */
static void
test_descriptors(void **state)
{
	struct privsep_msg	 m;
	uint8_t			 buf[PRIVSEP_MSGMAX];
	size_t			 n;
	int			 before, fds[20], i;
	const char		*why;

	(void)state;
	for (i = 0; i < 20; i += 2)
		assert_int_equal(pipe2(fds + i, O_CLOEXEC), 0);
	before = open_fds();
	mk_spawn_req(&m, fds[0]);
	n = encode(&m, buf);
	send_raw(buf, n, NULL, 0);
	refused(before, "wrong number of descriptors");
	send_raw(buf, n, fds, 2);
	refused(before, "wrong number of descriptors");
	send_raw(buf, n, fds, 20);
	refused(before, "too many descriptors");
	mk_log(&m, PRIVSEP_LOG_ACCESS);
	n = encode(&m, buf);
	send_raw(buf, n, fds, 1);
	refused(before, "wrong number of descriptors");
	/* The sender is held to it too. */
	m.pm_fd = fds[0];
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), -2);
	mk_spawn_req(&m, -1);
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), -2);
	assert_string_equal(why, "wrong number of descriptors");
	for (i = 0; i < 20; i++)
		(void)close(fds[i]);
}

/* A SPAWN_REQ with byte <off> set to <val> is refused as <why>. */
static void
spawn_req_byte(size_t off, uint8_t val, const char *why)
{
	struct privsep_msg	 m, got;
	uint8_t			 buf[PRIVSEP_MSGMAX];
	size_t			 n;
	const char		*w;

	mk_spawn_req(&m, 0);
	n = encode(&m, buf);
	assert_int_equal(privsep_msg_decode(buf, n, 1, PRIVSEP_TO_MASTER,
	    &got, &w), 0);
	buf[off] = val;
	assert_int_equal(privsep_msg_decode(buf, n, 1, PRIVSEP_TO_MASTER,
	    &got, &w), -1);
	assert_string_equal(w, why);
}

/* Each field in one form only; out of range values refused both ways. */
static void
test_fields(void **state)
{
	struct privsep_msg	 m;
	uint8_t			 buf[PRIVSEP_MSGMAX];
	const char		*why;

	(void)state;
	spawn_req_byte(OFF_FLAGS + 3, 0x4, "bad flags");
	spawn_req_byte(OFF_FLAGS + 3, PRIVSEP_F_VERIFIED, "bad flags");
	spawn_req_byte(OFF_FLAGS + 3, 0, "certificate names without a "
	    "verified certificate");
	spawn_req_byte(OFF_PEER, 5, "field not canonical");
	spawn_req_byte(OFF_PEER, 4, "field not canonical");	/* ::1 as v4 */
	spawn_req_byte(OFF_LOCAL, 0, "field not canonical");
	spawn_req_byte(OFF_COUNTRY, 'd', "bad country");
	spawn_req_byte(OFF_COUNTRY + 3, 'X', "field not canonical");
	spawn_req_byte(OFF_IDENT + 2, '\n', "bad string");
	spawn_req_byte(OFF_IDENT + 2, 0xc3, "bad string");
	spawn_req_byte(OFF_IDENT + 20, 'x', "field not canonical");
	spawn_req_byte(OFF_IDENT + PRIVSEP_IDENTLEN - 1, 'x',
	    "field not canonical");
	/* Mixed families. */
	mk_spawn_req(&m, 0);
	addr(&m.pm_u.spawn_req.sr_peer, "127.0.0.1", 1);
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	assert_string_equal(why, "bad address family");
	/* An ident reply that is not escaped, a full field. */
	mk_spawn_req(&m, 0);
	m.pm_u.spawn_req.sr_ident[0] = '\x1b';
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	memset(m.pm_u.spawn_req.sr_ident, 'a', PRIVSEP_IDENTLEN);
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	assert_string_equal(why, "bad string");
	mk_spawn_req(&m, 0);
	m.pm_u.spawn_req.sr_service = PRIVSEP_NOSERVICE;
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	mk_spawn_req(&m, 0);
	assert_int_equal(privsep_msg_encode(&m, buf, 100, &why), -1);
	assert_string_equal(why, "buffer too small");
	/* Logs: a worker cannot raise alerts or write empty lines. */
	mk_log(&m, PRIVSEP_LOG_DIAG);
	m.pm_u.log.lg_level = LOG_CRIT;
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	mk_log(&m, PRIVSEP_LOG_ACCESS);
	m.pm_u.log.lg_service = PRIVSEP_NOSERVICE;
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	mk_log(&m, PRIVSEP_LOG_ACCESS);
	m.pm_u.log.lg_text[0] = '\0';
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	mk_log(&m, PRIVSEP_LOG_ACCESS);
	m.pm_u.log.lg_kind = (enum privsep_logkind)3;
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	/* Statuses of a child that ended, and pids. */
	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_CHILD_EXIT;
	m.pm_u.child_exit.ce_pid = 1;
	m.pm_u.child_exit.ce_status = 0x137f;	/* stopped */
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	m.pm_u.child_exit.ce_status = 0x80;	/* a core without a signal */
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	m.pm_u.child_exit.ce_status = 0xff00;	/* exit 255 */
	assert_true(privsep_msg_encode(&m, buf, sizeof(buf), &why) > 0);
	m.pm_u.child_exit.ce_pid = -1;
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_SPAWN_FAIL;
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	m.pm_u.spawn_fail.sf_reason = PRIVSEP_FAIL_MAX;
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	m.pm_type = PRIVSEP_SPAWN_OK;
	m.pm_u.spawn_ok.so_pid = 0;
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &why), -1);
	assert_string_equal(why, "bad pid");
}

/* The peer's end closed: end of file. */
static void
test_eof(void **state)
{
	struct privsep_msg	 m;
	const char		*why;
	int			 p[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p), 0);
	(void)close(p[0]);
	assert_int_equal(privsep_msg_recv(p[1], PRIVSEP_TO_MASTER, &m, &why),
	    0);
	(void)close(p[1]);
	errno = 0;
	assert_int_equal(privsep_msg_recv(-1, PRIVSEP_TO_MASTER, &m, &why),
	    -1);
	assert_int_equal(errno, EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_req),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_eof),
	};

	return test_status(cmocka_run_group_tests(tests, setup, teardown));
}
