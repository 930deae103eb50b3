/*
 * What the master's two files share: master.c (the workers' lives) and
 * master_spawn.c (servers spawned for them).  Not for other modules.
 */
#ifndef PORTGATE_MASTER_INT_H
#define PORTGATE_MASTER_INT_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>

#include "privsep_msg.h"

struct chan;
struct config;

struct mworker {
	TAILQ_ENTRY(mworker)	 mw_entry;
	uint64_t		 mw_serial;	/* never reused */
	pid_t			 mw_pid;
	struct chan		*mw_chan;
	int			 mw_row;	/* of the shared counters */
	uint32_t		 mw_gen;
	int			 mw_index;	/* in its generation */
	struct config		*mw_cf;		/* that generation's */
	int			 mw_draining;
	int			 mw_unacked;	/* RELOAD sent, no DRAINING */
	uint64_t		 mw_ctl_req;	/* CTL SESSIONS unanswered */
};

/* The worker after <w> (NULL: the first), or NULL. */
struct mworker	*master_next(struct mworker *w);
/* A SESSION or CTL_DONE message of <w> (master_ctl.c). */
void		 master_ctl_msg(struct mworker *w, const struct privsep_msg *m);
/* The worker of serial number <serial>, or NULL (it is gone). */
struct mworker	*master_find_serial(uint64_t serial);
/* Send <m> to <w>, or log why not. */
void		 master_send(struct mworker *w, const struct privsep_msg *m);
/* SPAWN_REQ of <w>: spawn the server on <fd> (the caller closes it). */
void		 master_spawn(struct mworker *w,
		    const struct privsep_spawn_req *sr, int fd);

#endif
