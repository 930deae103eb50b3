/*
 * accept_proxy.  Only bytes known to belong to the header are consumed, so
 * that the client's own data stays in the socket for the back end (splice
 * included).  A connection whose header is not all there when it is
 * accepted waits, and waiting ones are capped: PROXY_PENDING_SOURCE per
 * source address and a quarter of RLIMIT_NOFILE (at most
 * PROXY_PENDING_MAX) in all; beyond, the caller refuses the connection.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "proxyproto_accept.h"
#include "proxyproto.h"
#include "quota.h"
#include "rbtree.h"
#include "sockaddr.h"

/* A source address with headers awaited, and how many. */
struct proxy_source {
	RB_ENTRY(proxy_source)	 ps_node;
	struct srckey		 ps_key;
	int			 ps_n;
};

struct proxy_wait {
	TAILQ_ENTRY(proxy_wait)	 pw_entry;
	int			 pw_queued;	/* in waits, counted */
	int			 pw_fd;
	struct sockaddr_storage	 pw_peer;
	socklen_t		 pw_peerlen;
	struct proxy_source	*pw_source;
	struct event		*pw_ev;
	time_t			 pw_deadline;
	uint8_t			 pw_buf[PROXY_MAXLEN];	/* header so far */
	size_t			 pw_len;
	proxyproto_accept_cb		 pw_cb;
	void			*pw_arg;
};

RB_HEAD(proxy_sources, proxy_source);

/* Refusals at the caps since the last log line. */
struct proxy_refusals {
	struct event		*pr_timer;	/* end of the interval */
	unsigned long		 pr_source;
	unsigned long		 pr_total;
};

static TAILQ_HEAD(, proxy_wait)	waits = TAILQ_HEAD_INITIALIZER(waits);
static struct proxy_sources	sources = RB_INITIALIZER(&sources);
static int			npending;
static int			pending_max;	/* 0: not yet known */
static struct proxy_refusals	refusals;

static int
proxy_source_cmp(const struct proxy_source *a, const struct proxy_source *b)
{
	return memcmp(&a->ps_key, &b->ps_key, sizeof(a->ps_key));
}

PG_RB_GENERATE_STATIC(proxy_sources, proxy_source, ps_node, proxy_source_cmp)

/* The cap in all: a quarter of the descriptors, at most PROXY_PENDING_MAX. */
static int
proxy_pending_max(void)
{
	struct rlimit	rl;

	if (pending_max > 0)
		return pending_max;
	pending_max = PROXY_PENDING_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < (rlim_t)PROXY_PENDING_MAX)
		pending_max = rl.rlim_cur / 4 > 0 ? (int)(rl.rlim_cur / 4) : 1;
	return pending_max;
}

void
proxyproto_accept_caps(int *per_source, int *total)
{
	*per_source = PROXY_PENDING_SOURCE;
	*total = proxy_pending_max();
}

void
proxyproto_accept_set_max(int total)
{
	pending_max = total;
}

int
proxyproto_accept_pending(void)
{
	return npending;
}

/* Forget <pw>; its socket now belongs to whoever gets it. */
static void
proxy_wait_free(struct proxy_wait *pw)
{
	if (pw->pw_queued) {
		TAILQ_REMOVE(&waits, pw, pw_entry);
		npending--;
		if (--pw->pw_source->ps_n == 0) {
			RB_REMOVE(proxy_sources, &sources, pw->pw_source);
			free(pw->pw_source);
		}
	}
	if (pw->pw_ev != NULL)
		event_free(pw->pw_ev);
	free(pw);
}

/*
 * Finish <pw> with <client> or <err>.  Both may point into <pw>: they are
 * copied before it is freed, and the callback sees only the copies.
 */
static void
proxy_wait_done(struct proxy_wait *pw, const struct sockaddr_storage *client,
    socklen_t len, const char *err)
{
	proxyproto_accept_cb		 cb = pw->pw_cb;
	void			*arg = pw->pw_arg;
	int			 fd = pw->pw_fd;
	struct sockaddr_storage	 ss;
	char			 why[192];

	memset(&ss, 0, sizeof(ss));
	if (client != NULL) {
		if (len > sizeof(ss))
			len = sizeof(ss);
		memcpy(&ss, client, len);
	} else
		len = 0;
	if (err != NULL)
		(void)strlcpy(why, err, sizeof(why));
	proxy_wait_free(pw);
	cb(arg, fd, client != NULL ? (struct sockaddr *)&ss : NULL, len,
	    err != NULL ? why : NULL);
}

/*
 * Read what came of <pw>'s header.  Returns 1 with the client's address
 * in <client>, -1 with the reason in <err>, or 0 when the rest of the
 * header is still to come.
 */
static int
proxy_wait_read(struct proxy_wait *pw, struct sockaddr_storage *client,
    socklen_t *clientlen, char *err, size_t errlen)
{
	struct proxy_hdr	 hdr;
	uint8_t			 buf[PROXY_MAXLEN];
	char			 why[128];
	ssize_t			 n, len, take;

	if ((n = recv(pw->pw_fd, pw->pw_buf + pw->pw_len, sizeof(pw->pw_buf) -
	    pw->pw_len, MSG_PEEK | MSG_DONTWAIT)) <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return 0;
		(void)strlcpy(err, n == 0 ? "closed before the PROXY header" :
		    strerror(errno), errlen);
		return -1;
	}
	if ((len = proxyproto_decode(pw->pw_buf, pw->pw_len + (size_t)n, &hdr,
	    why, sizeof(why))) < 0) {
		(void)snprintf(err, errlen, "bad PROXY header: %s", why);
		return -1;
	}
	/*
	 * An incomplete header is longer than what came: every byte so far
	 * is part of it, so take them all (the socket is then readable again
	 * only when more come); a complete one, exactly its own bytes.
	 */
	take = len == 0 ? n : len - (ssize_t)pw->pw_len;
	if (recv(pw->pw_fd, buf, (size_t)take, MSG_DONTWAIT) != take) {
		(void)strlcpy(err, "cannot consume the PROXY header", errlen);
		return -1;
	}
	pw->pw_len += (size_t)take;
	if (len == 0) {
		if (pw->pw_len == sizeof(pw->pw_buf)) {
			(void)strlcpy(err, "PROXY header too long", errlen);
			return -1;
		}
		return 0;	/* wait for the rest, within the deadline */
	}
	/* LOCAL, UNKNOWN, UNSPEC, AF_UNIX: the front speaks for itself. */
	if (hdr.ph_local) {
		memcpy(client, &pw->pw_peer, pw->pw_peerlen);
		*clientlen = pw->pw_peerlen;
	} else {
		memcpy(client, &hdr.ph_src, hdr.ph_srclen);
		*clientlen = hdr.ph_srclen;
	}
	return 1;
}

/* Bytes arrived, or the time is up. */
static void
proxy_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait	*pw = arg;
	struct sockaddr_storage	 client;
	socklen_t		 len = 0;
	char			 err[192];
	struct timeval		 tv = { 1, 0 };
	time_t			 now = time(NULL);
	int			 rc;

	(void)fd;
	if ((what & EV_TIMEOUT) || now >= pw->pw_deadline) {
		proxy_wait_done(pw, NULL, 0, "no PROXY header in time");
		return;
	}
	if ((rc = proxy_wait_read(pw, &client, &len, err, sizeof(err))) != 0) {
		proxy_wait_done(pw, rc == 1 ? &client : NULL, len,
		    rc == 1 ? NULL : err);
		return;
	}
	tv.tv_sec = pw->pw_deadline - now;
	if (event_add(pw->pw_ev, &tv) == -1)
		proxy_wait_done(pw, NULL, 0, "event_add failed");
}

/* The end of an interval with refusals: one line for all of them. */
static void
proxy_refusals_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	tv = { PROXY_PENDING_LOG_SECS, 0 };
	int		per_source, total;

	(void)fd;
	(void)what;
	(void)arg;
	if (refusals.pr_source == 0 && refusals.pr_total == 0)
		return;		/* quiet now: the next refusal logs at once */
	proxyproto_accept_caps(&per_source, &total);
	log_warnx("accept_proxy: %lu connection%s refused in %d s with too "
	    "many PROXY headers awaited: %lu over the cap of %d per source, "
	    "%lu over the cap of %d in all",
	    refusals.pr_source + refusals.pr_total,
	    refusals.pr_source + refusals.pr_total == 1 ? "" : "s",
	    PROXY_PENDING_LOG_SECS, refusals.pr_source, per_source,
	    refusals.pr_total, total);
	refusals.pr_source = refusals.pr_total = 0;
	(void)evtimer_add(refusals.pr_timer, &tv);
}

/*
 * A connection from <peer> refused at a cap: the first of an interval is
 * logged at once, the others counted for the line at its end.
 */
static void
proxy_refused(struct event_base *base, const struct sockaddr *peer,
    enum proxyproto_accept_rc why)
{
	struct timeval	tv = { PROXY_PENDING_LOG_SECS, 0 };
	char		addr[SOCKADDR_STRLEN];
	int		per_source, total;

	if (refusals.pr_timer == NULL &&
	    (refusals.pr_timer = evtimer_new(base, proxy_refusals_cb,
	    NULL)) == NULL)
		return;
	if (evtimer_pending(refusals.pr_timer, NULL)) {
		if (why == PROXYPROTO_ACCEPT_SOURCE_FULL)
			refusals.pr_source++;
		else
			refusals.pr_total++;
		return;
	}
	proxyproto_accept_caps(&per_source, &total);
	if (why == PROXYPROTO_ACCEPT_SOURCE_FULL)
		log_warnx("accept_proxy: %s has %d PROXY headers awaited, the "
		    "cap per source: refusing its connections (one summary "
		    "line per %d s)", sockaddr_ntop(peer, addr, sizeof(addr)),
		    per_source, PROXY_PENDING_LOG_SECS);
	else
		log_warnx("accept_proxy: %d PROXY headers awaited, the cap in "
		    "all: refusing connections (one summary line per %d s)",
		    total, PROXY_PENDING_LOG_SECS);
	(void)evtimer_add(refusals.pr_timer, &tv);
}

/* Count <pw> as awaited from its source; -1 when the caps say no. */
static enum proxyproto_accept_rc
proxy_wait_queue(struct proxy_wait *pw)
{
	struct proxy_source	 find, *ps;

	quota_key(NULL, (struct sockaddr *)&pw->pw_peer, &find.ps_key);
	ps = RB_FIND(proxy_sources, &sources, &find);
	if (ps != NULL && ps->ps_n >= PROXY_PENDING_SOURCE)
		return PROXYPROTO_ACCEPT_SOURCE_FULL;
	if (npending >= proxy_pending_max())
		return PROXYPROTO_ACCEPT_FULL;
	if (ps == NULL) {
		if ((ps = calloc(1, sizeof(*ps))) == NULL)
			return PROXYPROTO_ACCEPT_ERROR;
		ps->ps_key = find.ps_key;
		RB_INSERT(proxy_sources, &sources, ps);
	}
	ps->ps_n++;
	pw->pw_source = ps;
	pw->pw_queued = 1;
	npending++;
	TAILQ_INSERT_TAIL(&waits, pw, pw_entry);
	return PROXYPROTO_ACCEPT_STARTED;
}

enum proxyproto_accept_rc
proxyproto_accept_start(struct event_base *base, int fd,
    const struct sockaddr *peer, socklen_t peerlen, proxyproto_accept_cb cb,
    void *arg)
{
	struct proxy_wait	*pw;
	struct sockaddr_storage	 client;
	socklen_t		 len = 0;
	struct timeval		 tv = { PROXYPROTO_ACCEPT_TIMEOUT, 0 };
	char			 err[192];
	enum proxyproto_accept_rc	 rc;
	int			 r;

	if ((pw = calloc(1, sizeof(*pw))) == NULL)
		return PROXYPROTO_ACCEPT_ERROR;
	pw->pw_fd = fd;
	if (peerlen > sizeof(pw->pw_peer))
		peerlen = sizeof(pw->pw_peer);
	memcpy(&pw->pw_peer, peer, peerlen);
	pw->pw_peerlen = peerlen;
	pw->pw_cb = cb;
	pw->pw_arg = arg;
	pw->pw_deadline = time(NULL) + PROXYPROTO_ACCEPT_TIMEOUT;
	/* A front sends the header at once: most need no waiting. */
	if ((r = proxy_wait_read(pw, &client, &len, err, sizeof(err))) != 0) {
		proxy_wait_done(pw, r == 1 ? &client : NULL, len,
		    r == 1 ? NULL : err);
		return PROXYPROTO_ACCEPT_STARTED;
	}
	pw->pw_ev = event_new(base, fd, EV_READ, proxy_wait_cb, pw);
	if (pw->pw_ev == NULL || event_add(pw->pw_ev, &tv) == -1) {
		proxy_wait_free(pw);
		return PROXYPROTO_ACCEPT_ERROR;
	}
	if ((rc = proxy_wait_queue(pw)) != PROXYPROTO_ACCEPT_STARTED) {
		proxy_wait_free(pw);
		if (rc != PROXYPROTO_ACCEPT_ERROR)
			proxy_refused(base, peer, rc);
		else
			errno = ENOMEM;
	}
	return rc;
}

void
proxyproto_accept_abort_all(void)
{
	struct proxy_wait	*pw;

	while ((pw = TAILQ_FIRST(&waits)) != NULL)
		proxy_wait_done(pw, NULL, 0, "shutdown");
	if (refusals.pr_timer != NULL)
		event_free(refusals.pr_timer);
	memset(&refusals, 0, sizeof(refusals));
}
