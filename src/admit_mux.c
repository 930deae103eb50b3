/*
 * What tcpmux needs from the admission: a client that the mux's gate
 * admitted goes to tcpmux.c for its line; the service it names comes
 * back here (admit_muxed()) to pass that service's own gate; refusals and
 * the "+Go" of a TCPMUXPLUS service are the mux's reply lines.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <unistd.h>

#include "admit_int.h"
#include "banner.h"
#include "config.h"
#include "gate.h"
#include "log.h"
#include "service.h"
#include "tcpmux.h"

/*
 * Tell refused client <fd> of <sc>: banner_fail, or for a client of the
 * mux the "-" line that RFC 1078 asks for instead.
 */
void
admit_banner_fail(const struct service_conf *sc, int fd,
    const struct arrival *a)
{
	if (a->ar_mux)
		tcpmux_send_refused(fd);
	else if (!sc->sc_tls)
		banner_send_fd(fd, &sc->sc_banner_fail);
}

/*
 * A client of the mux asked for <sv>: it goes through <sv>'s gate as if
 * it had connected to it (no banner: the mux's reply lines take its
 * place).
 */
static void
admit_muxed(struct service *sv, int fd, const struct sockaddr *sa,
    socklen_t salen)
{
	struct arrival	a;

	admit_arrival(&a, service_conf(sv), sa, salen);
	a.ar_mux = 1;
	if (gate_needs_name(service_conf(sv))) {
		admit_wait_name(sv, fd, &a);
		return;
	}
	admit_gated(sv, fd, &a);
}

/* A client that the gate of tcpmux service <sv> admitted: read its line. */
void
admit_mux(struct service *sv, int fd, const struct arrival *a)
{
	struct tcpmux_client	c;

	c.tc_peer = (const struct sockaddr *)&a->ar_peer;
	c.tc_peerlen = a->ar_peerlen;
	c.tc_addr = a->ar_addr;
	c.tc_country = a->ar_client.gc_country;
	c.tc_key = &a->ar_client.gc_key;
	c.tc_fnow = a->ar_fnow;
	tcpmux_start(admit_base(), sv, fd, &c, admit_muxed);
}

/*
 * An admitted client of TCPMUXPLUS service <sc> that came through the mux
 * is told "+Go" before its server starts.  0, or -1 if that was not sent
 * (logged, <fd> closed).
 */
int
admit_mux_go(const struct service_conf *sc, int fd, const struct arrival *a)
{
	if (!a->ar_mux || !(sc->sc_type & STYPE_TCPMUXPLUS))
		return 0;
	if (tcpmux_send_go(fd) == -1) {
		log_debug("service %s: +Go to %s not sent", sc->sc_id,
		    a->ar_addr);
		(void)close(fd);
		return -1;
	}
	return 0;
}
