/*
 * libFuzzer target for the master/worker messages: privsep_msg_decode()
 * as the master (or a worker) sees a packet.  The first input byte sets
 * the descriptors that came with it (bits 0 and 1: 0 to 3) and the types
 * accepted (bit 2: every type, else bit 3: a worker's, else the master's);
 * the rest is the packet.
 *
 * Oracles, from the documented layout rather than from the decoder: an
 * accepted packet has a type of the accepted set, the descriptor count of
 * its type (1 for SPAWN_REQ, else 0) and exactly its type's size (header
 * 8 bytes, then SPAWN_REQ 4430 in all, SPAWN_OK and SPAWN_FAIL 20,
 * CHILD_EXIT 32, LOG 1048, RELOAD and DRAINING 12, CTL 276, SESSION 675,
 * CTL_DONE 20); its strings are printable ASCII
 * ended by a NUL within their field; and it re-encodes to the very same
 * bytes (so the decoder accepts nothing the encoder could not have made),
 * which decode again to the same message.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep_msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Total sizes, written from the layout in privsep_msg.c's comments. */
static const size_t	ref_size[PRIVSEP_NTYPES] = {
	[PRIVSEP_SPAWN_REQ] = 8 + 8 + 4 + 4 + 4 + 2 * 23 + 4 + 256 + 2 * 2048,
	[PRIVSEP_SPAWN_OK] = 8 + 8 + 4,
	[PRIVSEP_SPAWN_FAIL] = 8 + 8 + 4,
	[PRIVSEP_CHILD_EXIT] = 8 + 8 + 4 + 4 + 8,
	[PRIVSEP_LOG] = 8 + 4 * 4 + 1024,
	[PRIVSEP_RELOAD] = 8 + 4,
	[PRIVSEP_DRAINING] = 8 + 4,
	[PRIVSEP_CTL] = 8 + 8 + 4 + 256,
	[PRIVSEP_SESSION] = 8 + 4 * 8 + 4 + 23 + 256 + 256 + 96,
	[PRIVSEP_CTL_DONE] = 8 + 8 + 4,
};

/* Printable ASCII, a NUL within <size>. */
static void
ref_str(const char *s, size_t size)
{
	size_t	i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
	if (i == size)
		abort();
}

static void
ref_strings(const struct privsep_msg *m)
{
	const struct privsep_spawn_req	*sr = &m->pm_u.spawn_req;

	if (m->pm_type == PRIVSEP_LOG) {
		ref_str(m->pm_u.log.lg_text, sizeof(m->pm_u.log.lg_text));
		if (m->pm_u.log.lg_text[0] == '\0')
			abort();
	}
	if (m->pm_type == PRIVSEP_CTL)
		ref_str(m->pm_u.ctl.ct_id, sizeof(m->pm_u.ctl.ct_id));
	if (m->pm_type == PRIVSEP_SESSION) {
		ref_str(m->pm_u.session.ss_service,
		    sizeof(m->pm_u.session.ss_service));
		ref_str(m->pm_u.session.ss_backend,
		    sizeof(m->pm_u.session.ss_backend));
		ref_str(m->pm_u.session.ss_tls, sizeof(m->pm_u.session.ss_tls));
	}
	if (m->pm_type != PRIVSEP_SPAWN_REQ)
		return;
	ref_str(sr->sr_country, sizeof(sr->sr_country));
	ref_str(sr->sr_ident, sizeof(sr->sr_ident));
	ref_str(sr->sr_subject, sizeof(sr->sr_subject));
	ref_str(sr->sr_issuer, sizeof(sr->sr_issuer));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 out[PRIVSEP_MSGMAX];
	struct privsep_msg	 m, again;
	const uint8_t		*pkt = data + 1;
	const char		*why = NULL;
	unsigned		 allowed;
	size_t			 len;
	ssize_t			 n;
	int			 nfds;

	if (size < 1 || size > PRIVSEP_MSGMAX + 1)
		return 0;
	len = size - 1;
	nfds = data[0] & 3;
	if (data[0] & 4)
		allowed = PRIVSEP_TO_MASTER | PRIVSEP_TO_WORKER;
	else
		allowed = data[0] & 8 ? PRIVSEP_TO_WORKER : PRIVSEP_TO_MASTER;
	if (privsep_msg_decode(pkt, len, nfds, allowed, &m, &why) == -1) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (m.pm_type <= 0 || m.pm_type >= PRIVSEP_NTYPES ||
	    !(allowed & PRIVSEP_BIT(m.pm_type)) || m.pm_fd != -1)
		abort();
	if (nfds != (m.pm_type == PRIVSEP_SPAWN_REQ) ||
	    privsep_msg_nfds(m.pm_type) != nfds)
		abort();
	if (len != ref_size[m.pm_type])
		abort();
	ref_strings(&m);
	n = privsep_msg_encode(&m, out, sizeof(out), &why);
	if (n < 0 || (size_t)n != len || memcmp(out, pkt, len) != 0)
		abort();
	if (privsep_msg_decode(out, len, nfds, allowed, &again, &why) != 0 ||
	    memcmp(&again, &m, sizeof(m)) != 0)
		abort();
	return 0;
}
