/*
 * portgatectl bans, ban and unban: the SENSOR deny list, which the master
 * shares with every worker (denylist.c), so that a ban made here refuses
 * the address in all of them at its next connection.
 */
#include <sys/types.h>


#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "banstate.h"
#include "ctl_int.h"
#include "log.h"
#include "quota.h"
#include "sockaddr.h"

/* Longest ban with a time: ten years (0 is for ever). */
#define CTL_BAN_MAX	(10LL * 366 * 24 * 3600)

struct ctl_ban_list {
	struct json_object	*bl_list;
	time_t			 bl_now;
	int			 bl_failed;
};

static int
ctl_ban_one(const struct srckey *key, time_t until, void *arg)
{
	struct ctl_ban_list	*bl = arg;
	struct json_object	*o;
	char			 addr[BANSTATE_ADDR_MAX];

	if (banstate_addr(key, addr, sizeof(addr)) == NULL)
		return 0;
	if ((o = json_object_new_object()) == NULL ||
	    ctl_add(o, "address", json_object_new_string(addr)) ||
	    ctl_add(o, "until", json_object_new_int64((int64_t)until)) ||
	    ctl_add(o, "remaining", json_object_new_int64(until == 0 ? -1 :
	    (int64_t)(until - bl->bl_now))) ||
	    json_object_array_add(bl->bl_list, o) != 0) {
		json_object_put(o);
		bl->bl_failed = 1;
		return 1;
	}
	return 0;
}

struct json_object *
ctl_bans(uint64_t id, int argc, char **argv)
{
	struct ctl_ban_list	 bl;
	struct json_object	*o;

	(void)id;
	(void)argc;
	(void)argv;
	memset(&bl, 0, sizeof(bl));
	bl.bl_now = time(NULL);
	if ((o = ctl_ok()) == NULL || (bl.bl_list = json_object_new_array()) ==
	    NULL || ctl_add(o, "bans", bl.bl_list)) {
		json_object_put(o);
		return NULL;
	}
	if (quota_deny_walk(bl.bl_now, ctl_ban_one, &bl) == -1) {
		json_object_put(o);
		return ctl_error("the deny list is busy; ask again");
	}
	if (bl.bl_failed) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int
ctl_ban_counter(const struct srckey *key, time_t until, void *arg)
{
	(void)key;
	(void)until;
	(*(int *)arg)++;
	return 0;
}

int
ctl_ban_count(time_t now)
{
	int	n = 0;

	(void)quota_deny_walk(now, ctl_ban_counter, &n);
	return n;
}

struct json_object *
ctl_ban(uint64_t id, int argc, char **argv)
{
	struct json_object	*o;
	struct srckey		 key;
	long long		 secs = 0;
	time_t			 until = 0;
	char			*end;

	(void)id;
	if (banstate_addr_parse(argv[0], &key) == -1)
		return ctl_error("'%s' is not a numeric address", argv[0]);
	if (argc == 2) {
		errno = 0;
		secs = strtoll(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || end == argv[1] || secs < 1 ||
		    secs > CTL_BAN_MAX)
			return ctl_error("'%s': expected seconds from 1 to "
			    "%lld", argv[1], CTL_BAN_MAX);
		until = time(NULL) + (time_t)secs;
	}
	if (quota_deny_until(&key, until) == -1)
		return ctl_error("the deny list is full (%d addresses)",
		    QUOTA_MAX_DENIED);
	if (secs > 0)
		log_info("%s banned for %lld s by portgatectl", argv[0], secs);
	else
		log_info("%s banned by portgatectl", argv[0]);
	if ((o = ctl_ok()) == NULL ||
	    ctl_add(o, "address", json_object_new_string(argv[0])) ||
	    ctl_add(o, "until", json_object_new_int64((int64_t)until))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *
ctl_unban(uint64_t id, int argc, char **argv)
{
	struct json_object	*o;
	struct srckey		 key;

	(void)id;
	(void)argc;
	if (banstate_addr_parse(argv[0], &key) == -1)
		return ctl_error("'%s' is not a numeric address", argv[0]);
	if (quota_undeny(&key) == 0)
		return ctl_error("%s is not banned", argv[0]);
	log_info("%s unbanned by portgatectl", argv[0]);
	if ((o = ctl_ok()) == NULL ||
	    ctl_add(o, "address", json_object_new_string(argv[0]))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
