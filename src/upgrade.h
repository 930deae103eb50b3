/*
 * Binary upgrade (SIGUSR2, nginx's convention): the master starts the
 * binary again, from its path, with every listening socket passed as
 * systemd passes them (LISTEN_FDS, taken by sdlisten.c), and a pipe on
 * which the new master says when it serves.  Then the old master stops
 * accepting, its workers finish their sessions, and it exits; if the new
 * binary fails, the old master goes on as if nothing happened.  The
 * listening sockets never close, so no client is refused meanwhile.
 */
#ifndef PORTGATE_UPGRADE_H
#define PORTGATE_UPGRADE_H

struct event_base;

/*
 * Keep what a restart needs: the binary's path and the command line
 * (before setproctitle_init() overwrites it), and take the readiness pipe
 * of an old master out of the environment.  Start-up, before anything
 * else reads the environment.
 */
void	upgrade_init(int argc, char **argv);
/*
 * Start the new binary with the listening sockets <fds> (<n> of them).
 * <done> is called from the loop with 1 when the new master serves, 0 when
 * it failed.  Returns 0, or -1 (logged) when it could not be started or an
 * upgrade is under way.
 */
int	upgrade_start(struct event_base *base, const int *fds, int n,
	    void (*done)(int ok));
/* Is this the new master of an upgrade (until upgrade_ready())? */
int	upgrade_child(void);
/* The new master serves: tell the old one (a no-op when not upgraded). */
void	upgrade_ready(void);

#endif
