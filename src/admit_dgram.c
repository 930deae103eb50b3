/*
 * The admission of datagrams (built-in, sensor and UDP forwarding
 * services), and of a service that hands its socket to a server (wait =
 * yes): the sender of the first datagram, or no address for a stream,
 * goes through the gate before the server is spawned.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "admit.h"
#include "admit_int.h"
#include "builtin.h"
#include "config.h"
#include "dgram.h"
#include "log.h"
#include "quota.h"
#include "relay_udp.h"
#include "service.h"
#include "session.h"
#include "sockaddr.h"
#include "spawn.h"

void
admit_handoff(struct service *sv)
{
	const struct service_conf	*sc = service_conf(sv);
	struct sockaddr_storage		 from;
	socklen_t			 fromlen = sizeof(from);
	struct arrival			 a;
	struct session			*s;
	char				 byte;
	int				 fd = service_fd(sv), admitted;

	memset(&from, 0, sizeof(from));
	if (sc->sc_socktype == SOCK_DGRAM && recvfrom(fd, &byte, 1,
	    MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen) == -1)
		return;
	admit_arrival(&a, sc, (struct sockaddr *)&from, fromlen);
	if (sc->sc_socktype == SOCK_STREAM) {
		a.ar_client.gc_sa = NULL;	/* no client address yet */
		(void)strlcpy(a.ar_addr, "<no address>", sizeof(a.ar_addr));
	}
	admitted = admit_gate(sv, &a);
	if (admitted && spawn_full()) {
		if (!admit_fail_repeated(sv, &a))
			admit_fail(sc, &a, "process_limit");
		admitted = 0;
	}
	if (!admitted) {
		/* Drop the datagram, so that the socket is not readable. */
		if (sc->sc_socktype == SOCK_DGRAM)
			(void)recv(fd, &byte, 1, MSG_DONTWAIT);
		else
			service_pause(sv, 1);
		return;
	}
	/* Failing here, pause: the socket would stay readable. */
	if ((fd = dup(fd)) == -1) {
		log_warn("service %s: hand-off", sc->sc_id);
		service_pause(sv, 1);
		return;
	}
	if ((s = admit_session(sv, fd, &a)) == NULL) {
		service_pause(sv, 1);
		return;
	}
	service_pause(sv, 0);
	session_start_handoff(s);
}

/*
 * Would a reply to <from> reach a UDP service of this daemon: a served
 * port on an address of this host (a wildcard socket takes every one)?
 * One forged datagram would set the two answering each other for ever.
 */
static int
admit_dgram_loop(const struct sockaddr *from, const struct dgram_dst *dst)
{
	return service_dgram_port(sockaddr_port(from)) &&
	    dgram_source_local(from, dst);
}

void
admit_dgram(struct service *sv, const void *data, size_t len,
    struct sockaddr *from, socklen_t fromlen, const struct dgram_dst *dst)
{
	const struct service_conf	*sc = service_conf(sv);
	struct arrival			 a;
	struct access_rec		 rec;
	struct udp_flow			*flow;
	struct session			*s;

	if (service_flows(sv) != NULL &&
	    (flow = relay_udp_find(service_flows(sv), from)) != NULL) {
		relay_udp_send(flow, data, len);
		return;
	}
	admit_arrival(&a, sc, from, fromlen);
	if (sc->sc_flags & SFLAG_SENSOR) {
		admit_sensor(sv, &a);
		return;
	}
	if (admit_dgram_loop(from, dst)) {
		service_count_refused(sv, METRICS_LOOP);
		if (!admit_fail_repeated(sv, &a))
			admit_fail(sc, &a, "address");
		return;
	}
	if (!admit_gate(sv, &a))
		return;
	if (service_flows(sv) != NULL) {
		if ((s = admit_session(sv, -1, &a)) != NULL)
			session_start_flow(s, service_flows(sv),
			    service_fd(sv), from, fromlen, dst, data, len);
		return;
	}
	if (quota_spend(service_quota(sv), sc, &a.ar_client.gc_key,
	    a.ar_fnow) == -1)
		return;
	if (builtin_dgram(service_fd(sv), sc->sc_builtin, from, fromlen, dst,
	    data, len) == -1 && errno == EACCES) {
		/* A reply to a service port could start a loop. */
		service_count_refused(sv, METRICS_LOOP);
		if (!admit_fail_repeated(sv, &a))
			admit_fail(sc, &a, "address");
		return;
	}
	service_count_accepted(sv);
	memset(&rec, 0, sizeof(rec));
	rec.ar_id = sc->sc_id;
	rec.ar_addr = a.ar_addr;
	rec.ar_port = sockaddr_port((struct sockaddr *)&a.ar_peer);
	rec.ar_country = a.ar_client.gc_country;
	accesslog_start(sc->sc_log, sc->sc_log_success, &rec);
}
