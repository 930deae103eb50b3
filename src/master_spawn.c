/*
 * Servers the master spawns for its workers (SPAWN_REQ): everything the
 * server gets comes from the master's copy of the service, never from the
 * message; the worker is told the pid, and the status once reaped.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master_int.h"
#include "sockaddr.h"
#include "spawn.h"

/* A server spawned for a worker, until it is reaped. */
struct mspawn {
	uint64_t		 ms_worker;	/* its serial */
	uint64_t		 ms_session;
	struct timespec		 ms_start;
};

/* A server spawned for a worker was reaped: tell the worker. */
static void
master_child_exited(void *arg, pid_t pid, int status)
{
	struct mspawn		*ms = arg;
	struct mworker		*w;
	struct privsep_msg	 m;
	struct timespec		 now;

	if ((w = master_find_serial(ms->ms_worker)) != NULL) {
		memset(&m, 0, sizeof(m));
		m.pm_type = PRIVSEP_CHILD_EXIT;
		m.pm_fd = -1;
		m.pm_u.child_exit.ce_session = ms->ms_session;
		m.pm_u.child_exit.ce_pid = pid;
		m.pm_u.child_exit.ce_status = status;
		if (clock_gettime(CLOCK_MONOTONIC, &now) == 0)
			m.pm_u.child_exit.ce_msecs = (uint64_t)
			    ((now.tv_sec - ms->ms_start.tv_sec) * 1000 +
			    (now.tv_nsec - ms->ms_start.tv_nsec) / 1000000);
		master_send(w, &m);
	}
	free(ms);
}

/* Is <fd> a stream socket (the client's, or TLS's end of a pair)? */
static int
master_stream_fd(int fd)
{
	int		type;
	socklen_t	len = sizeof(type);

	return fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ==
	    0 && type == SOCK_STREAM;
}

/* Which service of <w>'s generation <sr> names, if it spawns; else NULL. */
static const struct service_conf *
master_spawn_conf(const struct mworker *w,
    const struct privsep_spawn_req *sr)
{
	const struct service_conf	*sc;

	if (sr->sr_gen != w->mw_gen ||
	    sr->sr_service >= (uint32_t)w->mw_cf->cf_nservices)
		return NULL;
	sc = w->mw_cf->cf_services[sr->sr_service];
	if (sc->sc_server == NULL || sc->sc_nredirect > 0 ||
	    sc->sc_builtin != BUILTIN_NONE)
		return NULL;
	return sc;
}

static void
master_spawn_fail(struct mworker *w, uint64_t session, enum privsep_fail why)
{
	struct privsep_msg	m;

	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_SPAWN_FAIL;
	m.pm_fd = -1;
	m.pm_u.spawn_fail.sf_session = session;
	m.pm_u.spawn_fail.sf_reason = why;
	master_send(w, &m);
}

/* SPAWN_REQ: start the server, as the configuration of that service says. */
void
master_spawn(struct mworker *w, const struct privsep_spawn_req *sr, int fd)
{
	const struct service_conf	*sc;
	struct spawn_req		 rq;
	struct privsep_msg		 m;
	struct mspawn			*ms;
	char				 addr[SOCKADDR_STRLEN];
	char				*env[4], buf[2 * PRIVSEP_DNLEN + 96];
	pid_t				 pid;

	if ((sc = master_spawn_conf(w, sr)) == NULL) {
		log_warnx("worker %ld asked to spawn service #%u of generation "
		    "%u, which does not spawn", (long)w->mw_pid,
		    (unsigned)sr->sr_service, (unsigned)sr->sr_gen);
		master_spawn_fail(w, sr->sr_session, PRIVSEP_FAIL_SERVICE);
		return;
	}
	if (!master_stream_fd(fd)) {
		master_spawn_fail(w, sr->sr_session, PRIVSEP_FAIL_DESCRIPTOR);
		return;
	}
	if (spawn_full()) {
		master_spawn_fail(w, sr->sr_session, PRIVSEP_FAIL_LIMIT);
		return;
	}
	env[0] = NULL;
	if (sr->sr_flags & PRIVSEP_F_TLS)
		spawn_env_tls((sr->sr_flags & PRIVSEP_F_VERIFIED) ?
		    sr->sr_subject : NULL, sr->sr_issuer, env, buf, sizeof(buf));
	if ((ms = calloc(1, sizeof(*ms))) == NULL) {
		master_spawn_fail(w, sr->sr_session, PRIVSEP_FAIL_FORK);
		return;
	}
	ms->ms_worker = w->mw_serial;
	ms->ms_session = sr->sr_session;
	(void)clock_gettime(CLOCK_MONOTONIC, &ms->ms_start);
	memset(&rq, 0, sizeof(rq));
	rq.sq_conf = sc;
	rq.sq_fd = fd;
	rq.sq_addr = sockaddr_ntop((const struct sockaddr *)&sr->sr_peer,
	    addr, sizeof(addr));
	rq.sq_port = sockaddr_port((const struct sockaddr *)&sr->sr_peer);
	rq.sq_country = sr->sr_country[0] != '\0' ? sr->sr_country : NULL;
	rq.sq_extra_env = env;
	rq.sq_exited = master_child_exited;
	rq.sq_arg = ms;
	if ((pid = spawn_start(&rq)) == -1) {
		free(ms);
		master_spawn_fail(w, sr->sr_session, PRIVSEP_FAIL_FORK);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_SPAWN_OK;
	m.pm_fd = -1;
	m.pm_u.spawn_ok.so_session = sr->sr_session;
	m.pm_u.spawn_ok.so_pid = pid;
	master_send(w, &m);
}
