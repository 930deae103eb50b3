/*
 * Socket activation: the listening sockets systemd passes (LISTEN_FDS,
 * sd_listen_fds(3)) are given to the services that would bind the same
 * protocol, address and port, instead of binding.
 */
#ifndef PORTGATE_SDLISTEN_H
#define PORTGATE_SDLISTEN_H

struct service_conf;

/*
 * Take the passed sockets (and the variables naming them out of the
 * environment); before daemon_detach(), as LISTEN_PID names this process.
 */
void	sdlisten_init(void);
/*
 * A descriptor of the passed socket <sc> would bind (close-on-exec,
 * non-blocking if <nonblock>), or -1 when none was passed.  The passed
 * socket stays here: a service that comes back after a reload takes it
 * again.  For a socket of a reuseport <group>, only one not taken yet
 * (an upgrade passes each socket of a group).
 */
int	sdlisten_take(const struct service_conf *sc, int nonblock, int group);
/* Is <fd> one of the passed sockets (a copy of it)?  1 or 0. */
int	sdlisten_passed(int fd);
/* Report and close the passed sockets that no service took. */
void	sdlisten_unused(void);

#endif
