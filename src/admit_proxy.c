/*
 * The admission of an accept_proxy service: the PROXY header is read
 * first, only from a peer on proxy_from and within the caps of
 * proxyproto_accept.c; the client it names then goes the way of any
 * stream client (admit_client()).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "addrlist.h"
#include "admit_int.h"
#include "config.h"
#include "log.h"
#include "proxyproto_accept.h"
#include "service.h"

/* The PROXY header of a client of <arg> (a service) was read, or not. */
static void
admit_proxy_cb(void *arg, int fd, const struct sockaddr *client,
    socklen_t len, const char *err)
{
	struct service		*sv = arg;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen = sizeof(peer);
	struct arrival		 a;

	if (err == NULL)
		admit_client(sv, fd, client, len);
	else {
		if (getpeername(fd, (struct sockaddr *)&peer, &peerlen) == -1) {
			memset(&peer, 0, sizeof(peer));
			peerlen = sizeof(peer);
		}
		admit_arrival(&a, service_conf(sv), (struct sockaddr *)&peer,
		    peerlen);
		log_warnx("service %s: %s from %s", service_conf(sv)->sc_id,
		    err, a.ar_addr);
		admit_fail(service_conf(sv), &a, "proxy");
		(void)close(fd);
	}
	service_unref(sv);
}

/*
 * A connection to accept_proxy service <sv> from <a> refused before its
 * header is read, for <reason>.
 */
static void
admit_proxy_refuse(struct service *sv, int fd, const struct arrival *a,
    const char *reason)
{
	service_count_refused(sv, (enum metrics_reason)
	    metrics_reason_word(reason));
	log_debug("service %s refused %s: %s", service_conf(sv)->sc_id,
	    a->ar_addr, reason);
	admit_fail(service_conf(sv), a, reason);
	(void)close(fd);
}

/*
 * A client of accept_proxy service <sv>: the header is read only from a
 * TCP peer on proxy_from, and only while the caps on headers awaited
 * allow; anyone else is refused before a byte of it is read.
 */
void
admit_proxy(struct service *sv, int fd, struct sockaddr *sa, socklen_t salen)
{
	const struct service_conf	*sc = service_conf(sv);
	struct arrival			 a;
	struct addrmatch		 m;

	admit_arrival(&a, sc, sa, salen);
	if (!addrlist_match(sc->sc_proxy_from, a.ar_client.gc_sa, NULL, &m)) {
		admit_proxy_refuse(sv, fd, &a, "proxy_from");
		return;
	}
	service_ref(sv);
	switch (proxyproto_accept_start(admit_base(), fd, sa, salen,
	    admit_proxy_cb, sv)) {
	case PROXYPROTO_ACCEPT_STARTED:
		return;
	case PROXYPROTO_ACCEPT_SOURCE_FULL:
		admit_proxy_refuse(sv, fd, &a, "proxy_per_source");
		break;
	case PROXYPROTO_ACCEPT_FULL:
		admit_proxy_refuse(sv, fd, &a, "proxy_limit");
		break;
	case PROXYPROTO_ACCEPT_ERROR:
		log_warn("service %s: accept_proxy", sc->sc_id);
		(void)close(fd);
		break;
	}
	service_unref(sv);
}
