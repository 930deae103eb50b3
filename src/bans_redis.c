/*
 * The ban list shared through Redis, in the master (hiredis' async API on
 * the master's libevent loop).  Two connections: one subscribed to the
 * channel PREFIX:bans, one for commands.  A local ban (from a worker's
 * SENSOR, a state file, portgatectl) is written as PREFIX:ban:ADDRESS =
 * EXPIRY with a TTL of the time it has left, and published as "ban
 * ADDRESS EXPIRY"; a lift deletes it, leaves PREFIX:unban:ADDRESS for as
 * long as the ban had left (so that a gate cut off meanwhile learns of it)
 * and is published as "unban ADDRESS".  Every gate applies what it hears
 * at once.  Workers never talk to Redis: they decide from the shared
 * list, which this keeps in step.
 *
 * Cut off, the local list holds and the master retries with back-off
 * (1 s doubling to 30 s), logging each change of state once; back, it
 * subscribes, reads every key (SCAN, MGET) and reconciles
 * (bans_reconcile()).  Anything unexpected from Redis (an error reply, a
 * connection closed, no answer to PING within 5 s) starts that over.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "bans.h"
#include "bans_int.h"
#include "bans_redis_int.h"
#include "banstate.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "quota.h"

struct bans_redis	bans_redis;

/* What a reply answers, for the message of an error reply. */
static char	br_ping[] = "PING", br_auth[] = "AUTH";

static void	br_connect(void);

void
bans_redis_set_state(enum bans_redis_state st)
{
	bans_redis.br_state = st;
	bans_redis.br_since = time(NULL);
	metrics_redis(st == BANS_REDIS_UP ? 1 : 0);
}

/* Close both connections (hiredis calls their pending callbacks). */
static void
br_close(void)
{
	redisAsyncContext	*ac;

	if ((ac = bans_redis.br_cmd) != NULL) {
		bans_redis.br_cmd = NULL;
		redisAsyncFree(ac);
	}
	if ((ac = bans_redis.br_sub) != NULL) {
		bans_redis.br_sub = NULL;
		redisAsyncFree(ac);
	}
	bans_set_clear(&bans_redis.br_remote);
	bans_set_clear(&bans_redis.br_tombs);
	bans_redis.br_ping_sent = 0;
}

/*
 * Something went wrong: close, keep the local list, try again later.
 * Logged once per state change, not once per try.
 */
void
bans_redis_down(const char *fmt, ...)
{
	struct timeval	tv = { 0, 0 };
	va_list		ap;

	va_start(ap, fmt);
	(void)vsnprintf(bans_redis.br_why, sizeof(bans_redis.br_why), fmt, ap);
	va_end(ap);
	br_close();
	if (bans_redis.br_logged != BANS_REDIS_DOWN)
		log_warnx("redis %s: %s; keeping the local ban list, trying "
		    "again (every %d s at most)", bans_redis.br_addr, bans_redis.br_why,
		    BR_BACKOFF_MAX);
	bans_redis.br_logged = BANS_REDIS_DOWN;
	if (bans_redis.br_state != BANS_REDIS_DOWN)
		bans_redis_set_state(BANS_REDIS_DOWN);
	tv.tv_sec = bans_redis.br_backoff;
	bans_redis.br_backoff = bans_redis.br_backoff * 2 > BR_BACKOFF_MAX ? BR_BACKOFF_MAX :
	    bans_redis.br_backoff * 2;
	(void)evtimer_add(bans_redis.br_timer, &tv);
}

/* A reply of the connection we use now, and no error?  Else go down. */
int
bans_redis_reply_ok(redisAsyncContext *ac, redisReply *r, const char *what)
{
	if (r == NULL || (ac != bans_redis.br_cmd && ac != bans_redis.br_sub))
		return 0;	/* a connection closed meanwhile */
	if (r->type == REDIS_REPLY_ERROR) {
		bans_redis_down("%s refused: %.*s", what, (int)(r->len > 100 ? 100 :
		    r->len), r->str);
		return 0;
	}
	return 1;
}

void
bans_redis_reply_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	(void)bans_redis_reply_ok(ac, reply, arg);
}

static void
br_ping_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	if (bans_redis_reply_ok(ac, reply, arg))
		bans_redis.br_ping_sent = 0;
}

/* A message on the channel: a ban or a lift by some gate (maybe this). */
static void
br_message(const char *msg, size_t len)
{
	char		 line[BANSTATE_LINE_MAX + 1];
	const char	*why;
	struct srckey	 key;
	time_t		 until;

	if (len >= sizeof(line))
		return;
	memcpy(line, msg, len);
	line[len] = '\0';
	if (strncmp(line, "ban ", 4) == 0 && banstate_parse(line + 4,
	    len - 4, &key, &until, &why) == 1) {
		if ((until == 0 || until > time(NULL)) &&
		    quota_deny_until(&key, until) == 0)
			(void)bans_set_put(&bans_redis.br_known, &key, until);
	} else if (strncmp(line, "unban ", 6) == 0 &&
	    banstate_addr_parse(line + 6, &key) == 0) {
		(void)quota_undeny(&key);
		(void)bans_set_del(&bans_redis.br_known, &key);
	} else
		log_debug("redis %s: a message not understood on %s",
		    bans_redis.br_addr, bans_redis.br_channel);
}

/* Every reply of the subscribed connection: confirmation, messages. */
static void
br_sub_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply	*r = reply, *kind;

	if (!bans_redis_reply_ok(ac, r, "SUBSCRIBE"))
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    (kind = r->element[0])->type != REDIS_REPLY_STRING) {
		bans_redis_down("SUBSCRIBE: an unexpected reply");
		return;
	}
	(void)arg;
	if (kind->len == 9 && memcmp(kind->str, "subscribe", 9) == 0) {
		/* Subscribed before reading: no ban falls in between. */
		bans_set_init(&bans_redis.br_remote, 2 * QUOTA_MAX_DENIED);
		bans_set_init(&bans_redis.br_tombs, 2 * QUOTA_MAX_DENIED);
		bans_redis.br_scan_full = 0;
		bans_redis_read();
		return;
	}
	if (kind->len == 7 && memcmp(kind->str, "message", 7) == 0 &&
	    r->element[2]->type == REDIS_REPLY_STRING)
		br_message(r->element[2]->str, r->element[2]->len);
}

/* The answer to AUTH. */
static void
br_auth_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	(void)bans_redis_reply_ok(ac, reply, arg);
}

/* hiredis frees <ac> after this: forget it, and close the other. */
static void
br_lost(const redisAsyncContext *ac, const char *what)
{
	char	why[128];

	if (ac == bans_redis.br_cmd)
		bans_redis.br_cmd = NULL;
	else if (ac == bans_redis.br_sub)
		bans_redis.br_sub = NULL;
	else
		return;		/* closed by us: nothing to say */
	(void)snprintf(why, sizeof(why), "%s", ac->errstr != NULL &&
	    ac->errstr[0] != '\0' ? ac->errstr : "closed by the server");
	bans_redis_down("%s (%s)", what, why);
}

static void
br_connect_cb(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		br_lost(ac, "cannot connect");
}

static void
br_disconnect_cb(const redisAsyncContext *ac, int status)
{
	(void)status;
	br_lost(ac, "connection lost");
}

/* One connection, attached to the loop, AUTH queued; NULL (logged). */
static redisAsyncContext *
br_open(void)
{
	redisAsyncContext	*ac;
	int			 flags;

	if (bans_redis.br_host != NULL)
		ac = redisAsyncConnect(bans_redis.br_host, bans_redis.br_port);
	else
		ac = redisAsyncConnectUnix(bans_redis.br_addr);
	if (ac == NULL) {
		bans_redis_down("cannot connect: out of memory");
		return NULL;
	}
	if (ac->err) {
		bans_redis_down("cannot connect (%s)", ac->errstr);
		redisAsyncFree(ac);
		return NULL;
	}
	/* Not into the new binary of an upgrade, nor a spawned server. */
	if ((flags = fcntl(ac->c.fd, F_GETFD)) == -1 ||
	    fcntl(ac->c.fd, F_SETFD, flags | FD_CLOEXEC) == -1 ||
	    (bans_redis.br_host != NULL && redisEnableKeepAlive(&ac->c) != REDIS_OK) ||
	    redisLibeventAttach(ac, bans_redis.br_base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, br_connect_cb) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, br_disconnect_cb) !=
	    REDIS_OK) {
		redisAsyncFree(ac);
		bans_redis_down("cannot set up the connection");
		return NULL;
	}
	if (bans_redis.br_password != NULL && redisAsyncCommand(ac, br_auth_cb,
	    br_auth, "AUTH %s", bans_redis.br_password) != REDIS_OK) {
		redisAsyncFree(ac);
		bans_redis_down("cannot send AUTH");
		return NULL;
	}
	return ac;
}

/* Open both connections; the subscription's answer starts the reading. */
static void
br_connect(void)
{
	struct timeval	tv = { BR_CONNECT_SECS, 0 };

	bans_redis_set_state(BANS_REDIS_CONNECTING);
	if ((bans_redis.br_sub = br_open()) == NULL)
		return;
	if ((bans_redis.br_cmd = br_open()) == NULL)
		return;
	if (redisAsyncCommand(bans_redis.br_sub, br_sub_cb, NULL, "SUBSCRIBE %s",
	    bans_redis.br_channel) != REDIS_OK) {
		bans_redis_down("cannot send SUBSCRIBE");
		return;
	}
	(void)evtimer_add(bans_redis.br_timer, &tv);
}

/* Time for a new try, or the try took too long. */
static void
br_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (bans_redis.br_state == BANS_REDIS_CONNECTING)
		bans_redis_down("no answer within %d s", BR_CONNECT_SECS);
	else if (bans_redis.br_state == BANS_REDIS_DOWN)
		br_connect();
}

void
bans_redis_tick(time_t now)
{
	struct bans_set	local;
	uint64_t	v;

	if (bans_redis.br_state != BANS_REDIS_UP)
		return;
	if (bans_redis.br_ping_sent != 0 && now - bans_redis.br_ping_sent >= BR_PING_SECS) {
		bans_redis_down("no answer to PING within %d s", BR_PING_SECS);
		return;
	}
	if (bans_redis.br_ping_sent == 0 && now - bans_redis.br_ping_last >= BR_PING_SECS) {
		bans_redis.br_ping_sent = bans_redis.br_ping_last = now;
		(void)redisAsyncCommand(bans_redis.br_cmd, br_ping_cb, br_ping, "PING");
	}
	if ((v = quota_deny_version()) == bans_redis.br_version)
		return;
	bans_set_init(&local, QUOTA_MAX_DENIED);
	if (bans_set_from_list(&local, now) == -1) {
		bans_set_clear(&local);
		return;		/* busy: at the next tick */
	}
	bans_diff(&local, &bans_redis.br_known, now, bans_redis_op, &now);
	bans_set_clear(&bans_redis.br_known);
	bans_redis.br_known = local;
	bans_redis.br_known.bs_max = 2 * QUOTA_MAX_DENIED;
	bans_redis.br_version = v;
}

/* The password in <path>, its first line; NULL (logged) if unreadable. */
static char *
br_password(const char *path)
{
	char	buf[BR_PASSWORD_MAX + 2], *p;
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_warn("redis_password_file %s", path);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0) {
		log_warnx("redis_password_file %s: no password", path);
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	p = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (p == NULL)
		log_warn("redis_password_file");
	return p;
}

/* <addr> as a host and port; a UNIX path stays in br_addr. */
static int
br_parse_addr(const char *addr)
{
	const char	*colon;
	size_t		 len;

	if ((bans_redis.br_addr = strdup(addr)) == NULL)
		return -1;
	if (addr[0] == '/')
		return 0;
	if ((colon = strrchr(addr, ':')) == NULL)
		return -1;
	len = (size_t)(colon - addr);
	if (addr[0] == '[' && len >= 2) {
		addr++;
		len -= 2;
	}
	if ((bans_redis.br_host = strndup(addr, len)) == NULL)
		return -1;
	bans_redis.br_port = (int)strtol(colon + 1, NULL, 10);
	return 0;
}

int
bans_redis_start(struct event_base *base, const struct bans_conf *bc)
{
	if (bc->bc_redis == NULL)
		return 0;
	bans_redis.br_base = base;
	(void)snprintf(bans_redis.br_prefix, sizeof(bans_redis.br_prefix), "%s",
	    bc->bc_redis_prefix != NULL ? bc->bc_redis_prefix : "portgate");
	(void)snprintf(bans_redis.br_channel, sizeof(bans_redis.br_channel), "%s:bans",
	    bans_redis.br_prefix);
	if (br_parse_addr(bc->bc_redis) == -1) {
		log_warnx("redis %s: cannot use this address", bc->bc_redis);
		return -1;
	}
	if (bc->bc_redis_password_file != NULL &&
	    (bans_redis.br_password = br_password(bc->bc_redis_password_file)) ==
	    NULL) {
		log_warnx("redis %s: not used without its password",
		    bans_redis.br_addr);
		return -1;
	}
	bans_set_init(&bans_redis.br_known, 2 * QUOTA_MAX_DENIED);
	bans_redis.br_backoff = BR_BACKOFF_MIN;
	bans_redis.br_logged = BANS_REDIS_CONNECTING;
	if ((bans_redis.br_timer = evtimer_new(base, br_timer_cb, NULL)) == NULL)
		return -1;
	br_connect();
	return 0;
}

/* Everything but the connections, which the caller closed or dropped. */
static void
br_free(void)
{
	if (bans_redis.br_timer != NULL)
		event_free(bans_redis.br_timer);
	bans_redis.br_timer = NULL;
	bans_set_clear(&bans_redis.br_known);
	bans_set_clear(&bans_redis.br_remote);
	bans_set_clear(&bans_redis.br_tombs);
	if (bans_redis.br_password != NULL) {
		explicit_bzero(bans_redis.br_password, strlen(bans_redis.br_password));
		free(bans_redis.br_password);
	}
	bans_redis.br_password = NULL;
	free(bans_redis.br_addr);
	free(bans_redis.br_host);
	bans_redis.br_addr = bans_redis.br_host = NULL;
	bans_redis.br_state = BANS_REDIS_OFF;
}

void
bans_redis_stop(void)
{
	if (bans_redis.br_addr == NULL)
		return;
	/*
	 * The loop is over: what is queued is dropped.  A ban of the last
	 * tick reaches the other gates when this one starts again (from
	 * the state file).
	 */
	br_close();
	br_free();
}

void
bans_redis_forget(void)
{
	/* The sockets close; hiredis' callbacks find nothing of ours. */
	br_close();
	br_free();
}

enum bans_redis_state
bans_redis_state(void)
{
	return bans_redis.br_state;
}

const char *
bans_redis_status(char *buf, size_t len)
{
	switch (bans_redis.br_state) {
	case BANS_REDIS_OFF:
		(void)snprintf(buf, len, "redis: not used");
		break;
	case BANS_REDIS_UP:
		(void)snprintf(buf, len, "redis %s: connected since %lld, "
		    "%zu bans shared", bans_redis.br_addr, (long long)bans_redis.br_since,
		    bans_redis.br_known.bs_n);
		break;
	case BANS_REDIS_CONNECTING:
		(void)snprintf(buf, len, "redis %s: connecting", bans_redis.br_addr);
		break;
	case BANS_REDIS_DOWN:
		(void)snprintf(buf, len, "redis %s: not connected since %lld "
		    "(%s); the local ban list holds", bans_redis.br_addr,
		    (long long)bans_redis.br_since, bans_redis.br_why);
		break;
	}
	return buf;
}
