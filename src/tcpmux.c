/*
 * The tcpmux built-in (RFC 1078).  A client of the mux is admitted by the
 * mux's own gate, then waits here for its line: the bytes are peeked and
 * only those up to the end of the line consumed, so that whatever the
 * client sent after it stays in the socket for the server.  A known name
 * goes back to the admission (tcpmux_found_cb) to pass the gate of the
 * service it names; HELP, an unknown name and a bad line are answered
 * here, with one event per client and a deadline, and closed.  Clients
 * waiting for their line or for their answer are capped per source and
 * in all; beyond, connections are refused with one log line a minute.
 * The line is read and the HELP text made by tcpmux_parse.c (pure).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "accesslog.h"
#include "config.h"
#include "log.h"
#include "quota.h"
#include "service.h"
#include "sockaddr.h"
#include "tcpmux.h"

#define TCPMUX_GO		"+Go\r\n"
#define TCPMUX_REFUSED		"-Access denied\r\n"
#define TCPMUX_NOT_FOUND	"-Service not available\r\n"
#define TCPMUX_BAD_LINE		"-Bad service name\r\n"

/* One client of the mux: reading its line, or sending its answer. */
struct tcpmux_wait {
	TAILQ_ENTRY(tcpmux_wait) tw_entry;
	struct event_base	*tw_base;
	struct service		*tw_mux;	/* a reference */
	int			 tw_fd;
	struct sockaddr_storage	 tw_peer;
	socklen_t		 tw_peerlen;
	char			 tw_addr[SOCKADDR_STRLEN];
	char			 tw_country[3];
	int			 tw_has_country;
	struct srckey		 tw_key;	/* the mux's quota slot */
	int			 tw_slot;	/* taken, not yet released */
	struct srckey		 tw_source;	/* the whole address: caps */
	struct event		*tw_ev;
	time_t			 tw_start;
	time_t			 tw_deadline;
	char			 tw_line[TCPMUX_LINE_MAX];
	size_t			 tw_len;
	char			*tw_out;	/* the answer */
	size_t			 tw_outlen;
	size_t			 tw_outoff;
	int			 tw_help;	/* EXIT record at the end */
	tcpmux_found_cb		 tw_found;
};

/* Refusals at the caps since the last log line. */
struct tcpmux_refusals {
	struct event		*tr_timer;	/* end of the interval */
	unsigned long		 tr_count;
};

static TAILQ_HEAD(, tcpmux_wait) waits = TAILQ_HEAD_INITIALIZER(waits);
static int			 npending;
static int			 pending_max;	/* 0: not yet known */
static struct tcpmux_refusals	 refusals;

/* The cap in all: a quarter of the descriptors, at most TCPMUX_PENDING_MAX. */
static int
tcpmux_max(void)
{
	struct rlimit	rl;

	if (pending_max > 0)
		return pending_max;
	pending_max = TCPMUX_PENDING_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < (rlim_t)TCPMUX_PENDING_MAX)
		pending_max = rl.rlim_cur / 4 > 0 ? (int)(rl.rlim_cur / 4) : 1;
	return pending_max;
}

void
tcpmux_set_max(int total)
{
	pending_max = total;
}

int
tcpmux_pending(void)
{
	return npending;
}

/* The access record of <tw> for the mux. */
static void
tcpmux_rec(const struct tcpmux_wait *tw, struct access_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ar_id = service_conf(tw->tw_mux)->sc_id;
	rec->ar_addr = tw->tw_addr;
	rec->ar_port = sockaddr_port((const struct sockaddr *)&tw->tw_peer);
	rec->ar_country = tw->tw_has_country ? tw->tw_country : NULL;
}

/* A FAIL record of the mux for <tw>, with <reason>. */
static void
tcpmux_fail(const struct tcpmux_wait *tw, const char *reason)
{
	const struct service_conf	*sc = service_conf(tw->tw_mux);
	struct access_rec		 rec;

	tcpmux_rec(tw, &rec);
	rec.ar_reason = reason;
	accesslog_fail(sc->sc_log, sc->sc_log_failure, &rec);
}

/* Give back the mux's quota slot of <tw>, once. */
static void
tcpmux_release(struct tcpmux_wait *tw)
{
	if (!tw->tw_slot)
		return;
	tw->tw_slot = 0;
	quota_release(service_quota(tw->tw_mux), &tw->tw_key);
}

/* Free <tw>; with <close_fd> its socket too (else it is someone else's). */
static void
tcpmux_free(struct tcpmux_wait *tw, int close_fd)
{
	TAILQ_REMOVE(&waits, tw, tw_entry);
	npending--;
	tcpmux_release(tw);
	if (tw->tw_ev != NULL)
		event_free(tw->tw_ev);
	if (close_fd)
		(void)close(tw->tw_fd);
	service_unref(tw->tw_mux);
	free(tw->tw_out);
	free(tw);
}

/* The answer of <tw> is sent (<error> 0) or will not be: close. */
static void
tcpmux_reply_done(struct tcpmux_wait *tw, int error)
{
	const struct service_conf	*sc = service_conf(tw->tw_mux);
	struct access_rec		 rec;

	if (!error)
		(void)shutdown(tw->tw_fd, SHUT_WR);
	if (tw->tw_help) {
		tcpmux_rec(tw, &rec);
		rec.ar_exited = 1;
		rec.ar_status = error;
		rec.ar_duration = time(NULL) - tw->tw_start;
		if (rec.ar_duration < 0)
			rec.ar_duration = 0;
		rec.ar_out = tw->tw_outoff;
		accesslog_exit(sc->sc_log, sc->sc_log_success, &rec);
	}
	tcpmux_free(tw, 1);
}

/* Send what is left of the answer; 1 when all is sent, 0 later, -1. */
static int
tcpmux_reply_send(struct tcpmux_wait *tw)
{
	ssize_t	n;

	while (tw->tw_outoff < tw->tw_outlen) {
		n = send(tw->tw_fd, tw->tw_out + tw->tw_outoff, tw->tw_outlen -
		    tw->tw_outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		tw->tw_outoff += (size_t)n;
	}
	return 1;
}

/* The client can take more of its answer, or the time is up. */
static void
tcpmux_reply_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcpmux_wait	*tw = arg;
	int			 rc;

	(void)fd;
	if (what & EV_TIMEOUT) {
		log_debug("tcpmux: answer to %s not taken in time",
		    tw->tw_addr);
		tcpmux_reply_done(tw, 1);
		return;
	}
	if ((rc = tcpmux_reply_send(tw)) != 0)
		tcpmux_reply_done(tw, rc == -1);
}

/* Answer <tw> with <text> (<len> bytes, taken), then close. */
static void
tcpmux_reply(struct tcpmux_wait *tw, char *text, size_t len)
{
	struct timeval	tv = { TCPMUX_TIMEOUT, 0 };
	int		rc;

	tw->tw_out = text;
	tw->tw_outlen = len;
	if (tw->tw_ev != NULL)
		event_free(tw->tw_ev);
	tw->tw_ev = NULL;
	if ((rc = tcpmux_reply_send(tw)) != 0) {
		tcpmux_reply_done(tw, rc == -1);
		return;
	}
	tw->tw_ev = event_new(tw->tw_base, tw->tw_fd, EV_WRITE | EV_PERSIST,
	    tcpmux_reply_cb, tw);
	if (tw->tw_ev == NULL || event_add(tw->tw_ev, &tv) == -1) {
		log_warn("tcpmux: answer to %s", tw->tw_addr);
		tcpmux_reply_done(tw, 1);
	}
}

/* Answer <tw> with the constant line <line>, then close. */
static void
tcpmux_reply_line(struct tcpmux_wait *tw, const char *line)
{
	char	*text;

	if ((text = strdup(line)) == NULL) {
		log_warn("tcpmux: answer to %s", tw->tw_addr);
		tcpmux_free(tw, 1);
		return;
	}
	tcpmux_reply(tw, text, strlen(text));
}

/* HELP: the names of the services reached through the mux. */
static void
tcpmux_help(struct tcpmux_wait *tw)
{
	const struct service_conf	*sc = service_conf(tw->tw_mux);
	struct service			*sv = NULL;
	struct access_rec		 rec;
	const char			*name;
	char				*text;
	size_t				 len = 0;

	if ((text = malloc(TCPMUX_HELP_MAX)) == NULL) {
		log_warn("tcpmux: HELP for %s", tw->tw_addr);
		tcpmux_free(tw, 1);
		return;
	}
	while ((sv = service_tcpmux_next(sv)) != NULL) {
		name = service_conf(sv)->sc_name;
		len += tcpmux_help_text(text + len, TCPMUX_HELP_MAX - len,
		    &name, 1);
	}
	tw->tw_help = 1;
	tcpmux_rec(tw, &rec);
	accesslog_start(sc->sc_log, sc->sc_log_success, &rec);
	tcpmux_reply(tw, text, len);
}

/* The service reached through the mux by <name>, or NULL. */
static struct service *
tcpmux_find(const char *name)
{
	struct service	*sv = NULL;

	while ((sv = service_tcpmux_next(sv)) != NULL)
		if (strcasecmp(service_conf(sv)->sc_name, name) == 0)
			return sv;
	return NULL;
}

/* The client of <tw> asked for <name>. */
static void
tcpmux_name(struct tcpmux_wait *tw, const char *name)
{
	struct service		*target;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen = tw->tw_peerlen;
	tcpmux_found_cb		 found = tw->tw_found;
	int			 fd = tw->tw_fd;

	if ((target = tcpmux_find(name)) == NULL) {
		/* Printable, no space, 64 bytes at most: fit for a log. */
		log_debug("tcpmux: %s asked for unknown service %s",
		    tw->tw_addr, name);
		tcpmux_fail(tw, "tcpmux");
		tcpmux_reply_line(tw, TCPMUX_NOT_FOUND);
		return;
	}
	memcpy(&peer, &tw->tw_peer, sizeof(peer));
	tcpmux_free(tw, 0);
	found(target, fd, (struct sockaddr *)&peer, peerlen);
}

/* The line of <tw> ended the wait as <what>. */
static void
tcpmux_line(struct tcpmux_wait *tw, enum tcpmux_line what, const char *name)
{
	tcpmux_release(tw);
	switch (what) {
	case TCPMUX_NAME:
		tcpmux_name(tw, name);
		return;
	case TCPMUX_HELP:
		tcpmux_help(tw);
		return;
	default:
		log_debug("tcpmux: bad line from %s (%s)", tw->tw_addr,
		    what == TCPMUX_TOOLONG ? "too long" : what == TCPMUX_EMPTY ?
		    "empty" : "not a service name");
		tcpmux_fail(tw, "tcpmux");
		tcpmux_reply_line(tw, TCPMUX_BAD_LINE);
		return;
	}
}

/*
 * Read what came of <tw>'s line, consuming only its bytes.  Returns 1
 * when the line is complete (and handled: <tw> may be gone), 0 when more
 * is to come, -1 when the client closed or the read failed.
 */
static int
tcpmux_read(struct tcpmux_wait *tw)
{
	char			 name[TCPMUX_NAME_MAX + 1], scratch[TCPMUX_LINE_MAX];
	const char		*lf;
	enum tcpmux_line	 what;
	ssize_t			 n, take;
	size_t			 used;

	n = recv(tw->tw_fd, tw->tw_line + tw->tw_len, sizeof(tw->tw_line) -
	    tw->tw_len, MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return 0;
		return -1;
	}
	lf = memchr(tw->tw_line + tw->tw_len, '\n', (size_t)n);
	take = lf != NULL ? lf - (tw->tw_line + tw->tw_len) + 1 : n;
	if (recv(tw->tw_fd, scratch, (size_t)take, MSG_DONTWAIT) != take)
		return -1;
	tw->tw_len += (size_t)take;
	if ((what = tcpmux_parse(tw->tw_line, tw->tw_len, name, &used)) ==
	    TCPMUX_MORE)
		return 0;
	tcpmux_line(tw, what, name);
	return 1;
}

/* Bytes of the line arrived, or the time is up. */
static void
tcpmux_line_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcpmux_wait	*tw = arg;
	struct timeval		 tv = { 1, 0 };
	time_t			 now = time(NULL);
	int			 rc;

	(void)fd;
	if ((what & EV_TIMEOUT) || now >= tw->tw_deadline) {
		log_debug("tcpmux: no service name from %s in time",
		    tw->tw_addr);
		tcpmux_fail(tw, "tcpmux");
		tcpmux_free(tw, 1);
		return;
	}
	if ((rc = tcpmux_read(tw)) == 1)
		return;
	if (rc == -1) {
		log_debug("tcpmux: %s closed before its service name",
		    tw->tw_addr);
		tcpmux_fail(tw, "tcpmux");
		tcpmux_free(tw, 1);
		return;
	}
	tv.tv_sec = tw->tw_deadline - now;
	if (event_add(tw->tw_ev, &tv) == -1) {
		log_warn("tcpmux: %s", tw->tw_addr);
		tcpmux_free(tw, 1);
	}
}

/* The end of an interval with refusals: one line for all of them. */
static void
tcpmux_refusals_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	tv = { TCPMUX_LOG_SECS, 0 };

	(void)fd;
	(void)what;
	(void)arg;
	if (refusals.tr_count == 0)
		return;		/* quiet now: the next refusal logs at once */
	log_warnx("tcpmux: %lu connection%s refused in %d s with too many "
	    "clients sending their service name (caps: %d per source, %d in "
	    "all)", refusals.tr_count, refusals.tr_count == 1 ? "" : "s",
	    TCPMUX_LOG_SECS, TCPMUX_PENDING_SOURCE, tcpmux_max());
	refusals.tr_count = 0;
	(void)evtimer_add(refusals.tr_timer, &tv);
}

/* A client refused at a cap: the first of an interval logs at once. */
static void
tcpmux_refused(struct event_base *base, const char *addr)
{
	struct timeval	tv = { TCPMUX_LOG_SECS, 0 };

	if (refusals.tr_timer == NULL && (refusals.tr_timer =
	    evtimer_new(base, tcpmux_refusals_cb, NULL)) == NULL)
		return;
	if (evtimer_pending(refusals.tr_timer, NULL)) {
		refusals.tr_count++;
		return;
	}
	log_warnx("tcpmux: too many clients sending their service name (%s "
	    "was refused; caps: %d per source, %d in all); one summary line "
	    "per %d s", addr, TCPMUX_PENDING_SOURCE, tcpmux_max(),
	    TCPMUX_LOG_SECS);
	(void)evtimer_add(refusals.tr_timer, &tv);
}

/*
 * Do the caps leave room for <tw>?  1 or 0.  <tw> is already in the list
 * and in npending: it is one of those counted.
 */
static int
tcpmux_room(const struct tcpmux_wait *tw)
{
	struct tcpmux_wait	*o;
	int			 n = 0;

	if (npending > tcpmux_max())
		return 0;
	/* At most a quarter of the descriptors: a walk is cheap enough. */
	TAILQ_FOREACH(o, &waits, tw_entry)
		if (memcmp(&o->tw_source, &tw->tw_source,
		    sizeof(tw->tw_source)) == 0 && ++n > TCPMUX_PENDING_SOURCE)
			return 0;
	return 1;
}

/* A new client <tw>: within the caps, and with a slot of the mux. */
static int
tcpmux_admit(struct tcpmux_wait *tw, const struct tcpmux_client *c)
{
	const struct service_conf	*sc = service_conf(tw->tw_mux);

	if (!tcpmux_room(tw)) {
		tcpmux_refused(tw->tw_base, tw->tw_addr);
		return -1;
	}
	if (quota_take(service_quota(tw->tw_mux), sc, c->tc_key,
	    c->tc_fnow) < 0) {
		log_warnx("service %s: source table full, refusing %s",
		    sc->sc_id, tw->tw_addr);
		return -1;
	}
	tw->tw_slot = 1;
	return 0;
}

void
tcpmux_start(struct event_base *base, struct service *mux, int fd,
    const struct tcpmux_client *c, tcpmux_found_cb found)
{
	struct tcpmux_wait	*tw;
	struct timeval		 tv = { TCPMUX_TIMEOUT, 0 };
	int			 rc;

	if ((tw = calloc(1, sizeof(*tw))) == NULL) {
		log_warn("service %s: tcpmux", service_conf(mux)->sc_id);
		(void)close(fd);
		return;
	}
	tw->tw_base = base;
	tw->tw_mux = mux;
	service_ref(mux);
	tw->tw_fd = fd;
	tw->tw_peerlen = c->tc_peerlen > sizeof(tw->tw_peer) ?
	    sizeof(tw->tw_peer) : c->tc_peerlen;
	memcpy(&tw->tw_peer, c->tc_peer, tw->tw_peerlen);
	(void)strlcpy(tw->tw_addr, c->tc_addr, sizeof(tw->tw_addr));
	if (c->tc_country != NULL) {
		(void)strlcpy(tw->tw_country, c->tc_country,
		    sizeof(tw->tw_country));
		tw->tw_has_country = 1;
	}
	tw->tw_key = *c->tc_key;
	quota_key(NULL, c->tc_peer, &tw->tw_source);
	tw->tw_found = found;
	tw->tw_start = time(NULL);
	tw->tw_deadline = tw->tw_start + TCPMUX_TIMEOUT;
	TAILQ_INSERT_TAIL(&waits, tw, tw_entry);
	npending++;
	if (tcpmux_admit(tw, c) == -1) {
		service_count_refused(mux, METRICS_TCPMUX_LIMIT);
		tcpmux_fail(tw, "tcpmux_limit");
		tcpmux_free(tw, 1);
		return;
	}
	service_count_accepted(mux);
	/* A client that sent its line at once needs no event. */
	if ((rc = tcpmux_read(tw)) == 1)
		return;
	if (rc == -1) {
		tcpmux_fail(tw, "tcpmux");
		tcpmux_free(tw, 1);
		return;
	}
	tw->tw_ev = event_new(base, fd, EV_READ, tcpmux_line_cb, tw);
	if (tw->tw_ev == NULL || event_add(tw->tw_ev, &tv) == -1) {
		log_warn("service %s: tcpmux", service_conf(mux)->sc_id);
		tcpmux_free(tw, 1);
	}
}

int
tcpmux_send_go(int fd)
{
	ssize_t	n;

	n = send(fd, TCPMUX_GO, sizeof(TCPMUX_GO) - 1, MSG_NOSIGNAL |
	    MSG_DONTWAIT);
	return n == (ssize_t)(sizeof(TCPMUX_GO) - 1) ? 0 : -1;
}

void
tcpmux_send_refused(int fd)
{
	(void)send(fd, TCPMUX_REFUSED, sizeof(TCPMUX_REFUSED) - 1,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
}

void
tcpmux_shutdown(void)
{
	struct tcpmux_wait	*tw;

	while ((tw = TAILQ_FIRST(&waits)) != NULL)
		tcpmux_free(tw, 1);
	if (refusals.tr_timer != NULL)
		event_free(refusals.tr_timer);
	memset(&refusals, 0, sizeof(refusals));
}
