/*
 * The master's side of privilege separation (doc/DESIGN.md, section 8):
 * it forks the workers of each configuration generation, replaces one that
 * dies, spawns servers for them and writes their log lines.  It never
 * reads a byte a client sent.
 */
#ifndef PORTGATE_MASTER_H
#define PORTGATE_MASTER_H

#include <stdint.h>

struct config;
struct event_base;

/*
 * The number of workers a generation of <cf> has: its workers, or with
 * auto one per CPU this process may run on.
 */
int	master_count(const struct config *cf);
/*
 * Use <base>, <nworkers> workers a generation (fixed until a restart:
 * the services' reuseport groups have that many sockets); <forget> is
 * called in each new worker before anything else, to drop the master's
 * own events and descriptors (daemon.c's).
 */
void	master_init(struct event_base *base, int nworkers,
	    void (*forget)(void));
/*
 * Serve <cf> with a new generation of workers: once the first of them
 * runs, the workers of the generations before finish their sessions and
 * exit.  The fork happens in master_run_pending().  <done> (or NULL) is
 * called once no worker of an older generation accepts any more.
 * Returns 0.
 */
int	master_generation(struct config *cf, void (*done)(void));
/*
 * Fork what was asked for (a new generation, replacements) outside the
 * loop; the loop is left for it (event_base_loopbreak()).  Returns the
 * number of forks it tried: 0 means the loop ended for good.  The child
 * never returns from here.
 */
int	master_run_pending(void);
/* Tell every worker to stop (SIGTERM), and start no more. */
void	master_stop(void);
/*
 * Another master serves now (a binary upgrade): the workers finish their
 * sessions and exit, none is started again.
 */
void	master_retire(void);
/* At exit: remove the workers' root directory and what it holds. */
void	master_cleanup(void);
/* Send <sig> to every worker (SIGUSR1: their part of the dump). */
void	master_signal(int sig);
/* Workers alive, draining ones included. */
int	master_workers(void);

/*
 * For the control socket (ctl.c), master_ctl.c: what the workers answer
 * to request <req>: a session of worker <worker> (1, 2, ...), or with
 * <ss> NULL, the worker's end (<more> sessions it did not send).
 */
struct privsep_session;
typedef void	(*master_ctl_cb)(uint64_t req, int worker,
		    const struct privsep_session *ss, unsigned more);
void	master_ctl_init(master_ctl_cb cb);
/* Ask every worker for its sessions; the number asked. */
int	master_ctl_sessions(uint64_t req);
/* Tell every worker that service <id> is disabled (1) or enabled (0). */
void	master_ctl_disable(const char *id, int off);

#endif
