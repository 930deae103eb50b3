/*
 * What the master writes to Redis (a ban with its TTL, a lift with its
 * trace, each published), and the reading after a connection: every key
 * of the prefix (SCAN, then MGET of the bans' values, bounded) and the
 * reconciliation (bans_reconcile()).  See bans_redis.c.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "bans_redis_int.h"
#include "log.h"
#include "quota.h"

/* What a reply answers, for the message of an error reply. */
static char	br_del[] = "DEL", br_set[] = "SET", br_pub[] = "PUBLISH";

static void	br_scan(const char *cursor);

/* The key of <key>'s ban or lift ("ban", "unban") into <buf>. */
static const char *
br_key(const char *kind, const struct srckey *key, char *buf, size_t len)
{
	char	addr[BANSTATE_ADDR_MAX];

	(void)snprintf(buf, len, "%s:%s:%s", bans_redis.br_prefix, kind,
	    banstate_addr(key, addr, sizeof(addr)));
	return buf;
}

/* Tell Redis: a ban (with its TTL) or a lift, and publish it. */
static void
br_push(enum bans_op op, const struct srckey *key, time_t until, time_t now)
{
	redisAsyncContext	*ac = bans_redis.br_cmd;
	char			 k[BR_KEY_MAX], t[BR_KEY_MAX];
	char			 a[BANSTATE_ADDR_MAX], msg[BANSTATE_LINE_MAX];
	long long		 ttl = until == 0 ? 0 : (long long)(until - now);

	(void)br_key("ban", key, k, sizeof(k));
	(void)br_key("unban", key, t, sizeof(t));
	(void)banstate_addr(key, a, sizeof(a));
	/* One argument each, spaces and all (hiredis' %s). */
	if (op == BANS_PUSH_BAN)
		(void)snprintf(msg, sizeof(msg), "ban %s %lld", a,
		    (long long)until);
	else
		(void)snprintf(msg, sizeof(msg), "unban %s", a);
	if (op == BANS_PUSH_BAN) {
		if (until != 0 && ttl <= 0)
			return;
		/* A ban after a lift: the lift's trace must not undo it. */
		(void)redisAsyncCommand(ac, bans_redis_reply_cb, br_del, "DEL %s", t);
		if (until == 0)
			(void)redisAsyncCommand(ac, bans_redis_reply_cb, br_set,
			    "SET %s 0", k);
		else
			(void)redisAsyncCommand(ac, bans_redis_reply_cb, br_set,
			    "SET %s %lld EX %lld", k, (long long)until, ttl);
		(void)redisAsyncCommand(ac, bans_redis_reply_cb, br_pub,
		    "PUBLISH %s %s", bans_redis.br_channel, msg);
		return;
	}
	if (until == 0 || ttl > BR_TOMB_MAX)
		ttl = BR_TOMB_MAX;
	if (ttl <= 0)
		ttl = 1;
	(void)redisAsyncCommand(ac, bans_redis_reply_cb, br_del, "DEL %s", k);
	(void)redisAsyncCommand(ac, bans_redis_reply_cb, br_set, "SET %s 1 EX %lld", t,
	    ttl);
	(void)redisAsyncCommand(ac, bans_redis_reply_cb, br_pub,
	    "PUBLISH %s %s", bans_redis.br_channel, msg);
}

void
bans_redis_op(enum bans_op op, const struct srckey *key, time_t until, void *arg)
{
	time_t	now = *(time_t *)arg;

	switch (op) {
	case BANS_PUSH_BAN:
		br_push(op, key, until, now);
		bans_redis.br_pushed++;
		break;
	case BANS_PUSH_UNBAN:
		br_push(op, key, until, now);
		break;
	case BANS_APPLY_BAN:
		if (quota_deny_until(key, until) == 0) {
			(void)bans_set_put(&bans_redis.br_known, key, until);
			bans_redis.br_applied++;
		}
		break;
	case BANS_LIFT:
		(void)quota_undeny(key);
		(void)bans_set_del(&bans_redis.br_known, key);
		break;
	}
}

/*
 * Redis was read whole: reconcile, and from now on what the list holds
 * is what Redis holds.  The version is read before the list, so that a
 * ban a worker adds meanwhile is pushed at the next tick.
 */
static void
br_reconciled(void)
{
	struct bans_set	local;
	time_t		now = time(NULL);
	uint64_t	v = quota_deny_version();
	size_t		i;

	bans_set_init(&local, QUOTA_MAX_DENIED);
	if (bans_set_from_list(&local, now) == -1) {
		bans_set_clear(&local);
		bans_redis_down("cannot read the local ban list");
		return;
	}
	bans_redis.br_pushed = bans_redis.br_applied = 0;
	bans_reconcile(&local, &bans_redis.br_known, &bans_redis.br_remote, &bans_redis.br_tombs, now,
	    bans_redis_op, &now);
	/* Redis now holds the local list and what was applied from it. */
	for (i = 0; i < local.bs_n; i++)
		(void)bans_set_put(&bans_redis.br_known, &local.bs_v[i].be_key,
		    local.bs_v[i].be_until);
	for (i = 0; i < bans_redis.br_known.bs_n; )
		if (bans_set_find(&local, &bans_redis.br_known.bs_v[i].be_key) ==
		    NULL && bans_set_find(&bans_redis.br_remote,
		    &bans_redis.br_known.bs_v[i].be_key) == NULL)
			(void)bans_set_del(&bans_redis.br_known,
			    &bans_redis.br_known.bs_v[i].be_key);
		else
			i++;
	bans_set_clear(&local);
	bans_set_clear(&bans_redis.br_remote);
	bans_set_clear(&bans_redis.br_tombs);
	bans_redis.br_version = v;
	bans_redis.br_backoff = BR_BACKOFF_MIN;
	(void)evtimer_del(bans_redis.br_timer);
	bans_redis_set_state(BANS_REDIS_UP);
	bans_redis.br_logged = BANS_REDIS_UP;
	bans_redis.br_ping_last = now;
	log_info("redis %s: connected; ban lists reconciled: %u ban%s from "
	    "Redis applied, %u pushed", bans_redis.br_addr, bans_redis.br_applied,
	    bans_redis.br_applied == 1 ? "" : "s", bans_redis.br_pushed);
}

/* One SCAN batch whose ban keys' values MGET asked for. */
struct br_batch {
	char		bb_cursor[24];	/* where SCAN goes on; "0": done */
	size_t		bb_n;
	struct srckey	bb_keys[];	/* in the order of MGET's arguments */
};

/* The values of the ban keys of one SCAN batch. */
static void
br_mget_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply	*r = reply, *v;
	struct br_batch	*b = arg;
	char		 line[BANSTATE_LINE_MAX + 1], a[BANSTATE_ADDR_MAX];
	const char	*why;
	struct srckey	 key;
	time_t		 until;
	size_t		 i;

	if (!bans_redis_reply_ok(ac, r, "MGET")) {
		free(b);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != b->bb_n) {
		free(b);
		bans_redis_down("MGET: an unexpected reply");
		return;
	}
	for (i = 0; i < b->bb_n; i++) {
		v = r->element[i];
		/* Expired since SCAN; or not ours. */
		if (v->type != REDIS_REPLY_STRING || v->len > 20)
			continue;
		(void)snprintf(line, sizeof(line), "%s %.*s",
		    banstate_addr(&b->bb_keys[i], a, sizeof(a)), (int)v->len,
		    v->str);
		if (banstate_parse(line, strlen(line), &key, &until,
		    &why) == 1 && bans_set_put(&bans_redis.br_remote, &key,
		    until) == -1)
			bans_redis.br_scan_full = 1;
	}
	br_scan(b->bb_cursor);
	free(b);
}

/*
 * The address of <key> (PREFIX:ban:ADDR or PREFIX:unban:ADDR) into
 * <addr>; 1 for a ban, 2 for a lift, 0 for neither.
 */
static int
br_key_parse(const char *k, size_t len, struct srckey *addr)
{
	char	buf[BR_KEY_MAX];
	size_t	plen = strlen(bans_redis.br_prefix);
	int	kind;

	if (len >= sizeof(buf) || len <= plen + 1 ||
	    memcmp(k, bans_redis.br_prefix, plen) != 0 || k[plen] != ':')
		return 0;
	memcpy(buf, k, len);
	buf[len] = '\0';
	if (strncmp(buf + plen + 1, "ban:", 4) == 0)
		kind = 1;
	else if (strncmp(buf + plen + 1, "unban:", 6) == 0)
		kind = 2;
	else
		return 0;
	if (banstate_addr_parse(buf + plen + 1 + (kind == 1 ? 4 : 6),
	    addr) == -1)
		return 0;
	return kind;
}

/* A SCAN batch: note the lifts, ask for the bans' values. */
static void
br_scan_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply	*r = reply, *keys, *k;
	struct br_batch	*b;
	const char	**argv;
	size_t		*argvlen, i;
	struct srckey	 addr;

	(void)arg;
	if (!bans_redis_reply_ok(ac, r, "SCAN"))
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[0]->len >= sizeof(b->bb_cursor) ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		bans_redis_down("SCAN: an unexpected reply");
		return;
	}
	keys = r->element[1];
	b = calloc(1, sizeof(*b) + keys->elements * sizeof(b->bb_keys[0]));
	argv = calloc(keys->elements + 1, sizeof(*argv));
	argvlen = calloc(keys->elements + 1, sizeof(*argvlen));
	if (b == NULL || argv == NULL || argvlen == NULL) {
		free(b);
		free(argv);
		free(argvlen);
		bans_redis_down("out of memory");
		return;
	}
	memcpy(b->bb_cursor, r->element[0]->str, r->element[0]->len);
	argv[0] = "MGET";
	argvlen[0] = 4;
	for (i = 0; i < keys->elements; i++) {
		k = keys->element[i];
		if (k->type != REDIS_REPLY_STRING)
			continue;
		switch (br_key_parse(k->str, k->len, &addr)) {
		case 1:
			b->bb_keys[b->bb_n] = addr;
			argv[b->bb_n + 1] = k->str;
			argvlen[b->bb_n + 1] = k->len;
			b->bb_n++;
			break;
		case 2:
			if (bans_set_put(&bans_redis.br_tombs, &addr, 0) == -1)
				bans_redis.br_scan_full = 1;
			break;
		}
	}
	if (b->bb_n == 0) {
		br_scan(b->bb_cursor);
		free(b);
	} else if (redisAsyncCommandArgv(ac, br_mget_cb, b, (int)b->bb_n + 1,
	    argv, argvlen) != REDIS_OK) {
		free(b);
		bans_redis_down("cannot send MGET");
	}
	free(argv);
	free(argvlen);
}

/*
 * Read on from <cursor> (NULL: from the start), or reconcile when the
 * reading is done.
 */
static void
br_scan(const char *cursor)
{
	char	match[sizeof(bans_redis.br_prefix) + 8];

	if (cursor == NULL)
		cursor = "0";
	else if (strcmp(cursor, "0") == 0 || bans_redis.br_scan_full) {
		if (bans_redis.br_scan_full)
			log_warnx("redis %s: more bans than a list holds "
			    "(%d); reconciling with the first read",
			    bans_redis.br_addr, QUOTA_MAX_DENIED);
		bans_redis.br_scan_full = 0;
		br_reconciled();
		return;
	}
	(void)snprintf(match, sizeof(match), "%s:*ban:*", bans_redis.br_prefix);
	if (redisAsyncCommand(bans_redis.br_cmd, br_scan_cb, NULL,
	    "SCAN %s MATCH %s COUNT " BR_SCAN_COUNT, cursor, match) !=
	    REDIS_OK)
		bans_redis_down("cannot send SCAN");
}

void
bans_redis_read(void)
{
	br_scan(NULL);
}
