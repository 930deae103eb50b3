/*
 * The master's side of the control socket's questions to the workers
 * (portgatectl sessions, disable, enable): one CTL message to each, and
 * the answers routed back by request number.  A worker answers only for
 * the request it was asked (a stale or forged number is dropped) and
 * what it says is shown, never believed.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <string.h>

#include "master.h"
#include "master_int.h"
#include "privsep_msg.h"

static master_ctl_cb	master_ctl_fn;

void
master_ctl_init(master_ctl_cb cb)
{
	master_ctl_fn = cb;
}

int
master_ctl_sessions(uint64_t req)
{
	struct privsep_msg	 m;
	struct mworker		*w;
	int			 n = 0;

	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_CTL;
	m.pm_fd = -1;
	m.pm_u.ctl.ct_op = PRIVSEP_CTL_SESSIONS;
	m.pm_u.ctl.ct_req = req;
	for (w = master_next(NULL); w != NULL; w = master_next(w)) {
		if (w->mw_chan == NULL)
			continue;
		w->mw_ctl_req = req;
		master_send(w, &m);
		n++;
	}
	return n;
}

void
master_ctl_disable(const char *id, int off)
{
	struct privsep_msg	 m;
	struct mworker		*w;

	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_CTL;
	m.pm_fd = -1;
	m.pm_u.ctl.ct_op = off ? PRIVSEP_CTL_DISABLE : PRIVSEP_CTL_ENABLE;
	if (strlcpy(m.pm_u.ctl.ct_id, id, sizeof(m.pm_u.ctl.ct_id)) >=
	    sizeof(m.pm_u.ctl.ct_id))
		return;		/* no service has such an id */
	for (w = master_next(NULL); w != NULL; w = master_next(w))
		master_send(w, &m);
}

void
master_ctl_msg(struct mworker *w, const struct privsep_msg *m)
{
	if (m->pm_type == PRIVSEP_SESSION) {
		if (w->mw_ctl_req == 0 ||
		    m->pm_u.session.ss_req != w->mw_ctl_req)
			return;
		if (master_ctl_fn != NULL)
			master_ctl_fn(w->mw_ctl_req, w->mw_index + 1,
			    &m->pm_u.session, 0);
		return;
	}
	if (w->mw_ctl_req == 0 || m->pm_u.ctl_done.cd_req != w->mw_ctl_req)
		return;
	w->mw_ctl_req = 0;
	if (master_ctl_fn != NULL)
		master_ctl_fn(m->pm_u.ctl_done.cd_req, w->mw_index + 1, NULL,
		    m->pm_u.ctl_done.cd_more);
}
