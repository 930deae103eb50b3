/*
 * portgatectl status, disable, enable and reload: the services as the
 * master sees them, with the counters every worker adds to (shared
 * memory), and the two commands that change what is served.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "build-config.h"

#include "bans.h"
#include "config.h"
#include "ctl_int.h"
#include "daemon.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "quota.h"
#include "service.h"

/* Refusals of <mn> by reason: only the reasons that happened. */
static struct json_object *
ctl_refusals(const struct metrics_snap *mn)
{
	struct json_object	*o;
	const char		*name;
	int			 r;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (r = 0; r < METRICS_NREASONS; r++) {
		if (mn->mn_refused[r] == 0 ||
		    (name = metrics_reason_name((enum metrics_reason)r)) ==
		    NULL)
			continue;
		if (ctl_add(o, name, json_object_new_uint64(mn->mn_refused[r]))) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

static struct json_object *
ctl_service(struct service *sv, time_t now)
{
	const struct service_conf	*sc = service_conf(sv);
	struct json_object		*o;
	struct metrics_snap		 mn;
	char				 buf[256];

	metrics_snapshot(service_metrics(sv), &mn);
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (ctl_add(o, "id", json_object_new_string(sc->sc_id)) ||
	    ctl_add(o, "name", json_object_new_string(sc->sc_name)) ||
	    ctl_add(o, "listen", json_object_new_string(service_describe(sv,
	    buf, sizeof(buf)))) ||
	    ctl_add(o, "state", json_object_new_string(service_state(sv, now,
	    buf, sizeof(buf)))) ||
	    ctl_add(o, "sessions", json_object_new_int64(mn.mn_sessions)) ||
	    ctl_add(o, "accepted", json_object_new_uint64(mn.mn_accepted)) ||
	    ctl_add(o, "refused", json_object_new_uint64(mn.mn_refused_all)) ||
	    ctl_add(o, "refused_by", ctl_refusals(&mn)) ||
	    ctl_add(o, "bytes_in", json_object_new_uint64(mn.mn_bytes_in)) ||
	    ctl_add(o, "bytes_out", json_object_new_uint64(mn.mn_bytes_out))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *
ctl_status(uint64_t id, int argc, char **argv)
{
	static const char *const redis_state[] = {
		[BANS_REDIS_OFF] = "off",
		[BANS_REDIS_CONNECTING] = "connecting",
		[BANS_REDIS_UP] = "up",
		[BANS_REDIS_DOWN] = "down",
	};
	struct json_object	*o, *list;
	struct service		*sv;
	time_t			 now = time(NULL);
	char			 redis[256];

	(void)id;
	(void)argc;
	(void)argv;
	if ((o = ctl_ok()) == NULL)
		return NULL;
	if (ctl_add(o, "version", json_object_new_string(PACKAGE_VERSION)) ||
	    ctl_add(o, "pid", json_object_new_int64((int64_t)getpid())) ||
	    ctl_add(o, "config", json_object_new_string(daemon_config_path())) ||
	    ctl_add(o, "workers", json_object_new_int(master_workers())) ||
	    ctl_add(o, "sessions", json_object_new_int64(
	    metrics_sessions_all())) ||
	    ctl_add(o, "bans", json_object_new_int(ctl_ban_count(now))) ||
	    ctl_add(o, "ban_state_file", json_object_new_string(
	    bans_state_file() != NULL ? bans_state_file() : "")) ||
	    ctl_add(o, "redis", json_object_new_string(redis_state[
	    bans_redis_state()])) ||
	    ctl_add(o, "redis_status", json_object_new_string(
	    bans_redis_status(redis, sizeof(redis)))) ||
	    (list = json_object_new_array()) == NULL ||
	    ctl_add(o, "services", list)) {
		json_object_put(o);
		return NULL;
	}
	for (sv = service_next(NULL); sv != NULL; sv = service_next(sv))
		if (json_object_array_add(list, ctl_service(sv, now)) != 0) {
			json_object_put(o);
			return NULL;
		}
	return o;
}

/* disable and enable: the master's watch (wait = yes) and the workers'. */
static struct json_object *
ctl_switch(const char *id, int off)
{
	struct json_object	*o;
	struct service		*sv;

	if ((sv = service_find_id(id)) == NULL)
		return ctl_error("no service %s", id);
	if (service_disabled(sv) == off)
		return ctl_error("service %s is %s already", id,
		    off ? "disabled" : "enabled");
	service_set_disabled(sv, off);
	master_ctl_disable(id, off);
	log_info("service %s %s by portgatectl", id,
	    off ? "disabled" : "enabled");
	if ((o = ctl_ok()) == NULL ||
	    ctl_add(o, "service", json_object_new_string(id)) ||
	    ctl_add(o, "state", json_object_new_string(off ? "disabled" :
	    "enabled"))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *
ctl_disable(uint64_t id, int argc, char **argv)
{
	(void)id;
	(void)argc;
	return ctl_switch(argv[0], 1);
}

struct json_object *
ctl_enable(uint64_t id, int argc, char **argv)
{
	(void)id;
	(void)argc;
	return ctl_switch(argv[0], 0);
}

/* The outcome of the reload asked for by request <arg>. */
static void
ctl_reloaded(void *arg, const struct reload_outcome *ro)
{
	struct json_object	*o, *errs;
	uint64_t		 id = (uint64_t)(uintptr_t)arg;
	int			 i;

	if (ro->ro_ok)
		o = ctl_ok();
	else
		o = ctl_error("reload failed: the running configuration is "
		    "kept");
	if (o == NULL || (errs = json_object_new_array()) == NULL ||
	    ctl_add(o, "messages", errs) ||
	    ctl_add(o, "services", json_object_new_int(ro->ro_services)) ||
	    ctl_add(o, "added", json_object_new_int(ro->ro_added)) ||
	    ctl_add(o, "kept", json_object_new_int(ro->ro_kept)) ||
	    ctl_add(o, "removed", json_object_new_int(ro->ro_removed)) ||
	    ctl_add(o, "failed", json_object_new_int(ro->ro_failed))) {
		json_object_put(o);
		ctl_reply(id, NULL);
		return;
	}
	for (i = 0; i < ro->ro_nmsgs; i++)
		if (json_object_array_add(errs,
		    json_object_new_string(ro->ro_msgs[i])) != 0)
			break;
	ctl_reply(id, o);
}

struct json_object *
ctl_reload(uint64_t id, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (daemon_reload_request(ctl_reloaded, (void *)(uintptr_t)id) == -1)
		return ctl_error("a reload is under way already, or the "
		    "daemon is stopping");
	return NULL;
}
