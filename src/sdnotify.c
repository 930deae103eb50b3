/*
 * systemd readiness notification.  sd_notify(3) reads NOTIFY_SOCKET from
 * the environment, and the environment is what spawned servers inherit
 * (unless passenv says otherwise): sdnotify_init() keeps a copy and takes
 * the variable away, and each notification puts it back for the call only,
 * sd_notify() unsetting it again.  The daemon is single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "sdnotify.h"
#include "service.h"
#include "session.h"

static char	*sdnotify_socket;

void
sdnotify_init(void)
{
	const char	*s;

	if ((s = getenv("NOTIFY_SOCKET")) == NULL)
		return;
	free(sdnotify_socket);
	if ((sdnotify_socket = strdup(s)) == NULL)
		log_warn("NOTIFY_SOCKET: systemd will not hear from portgate");
	if (unsetenv("NOTIFY_SOCKET") == -1)
		log_warn("unsetenv NOTIFY_SOCKET");
}

/* Send <state>, sd_notify(3)'s newline-separated assignments. */
static void
sdnotify_send(const char *state)
{
	int	rc;

	if (sdnotify_socket == NULL)
		return;
	if (setenv("NOTIFY_SOCKET", sdnotify_socket, 1) == -1) {
		log_warn("setenv NOTIFY_SOCKET");
		return;
	}
	if ((rc = sd_notify(1, state)) < 0)
		log_warnx("cannot notify systemd (%s): %s", sdnotify_socket,
		    strerror(-rc));
}

/* READY=1 and the counts, after <what> ("" or a failure to say). */
static void
sdnotify_status(const char *what)
{
	char	buf[256];

	(void)snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s%d service%s, "
	    "%d session%s", what, service_count(),
	    service_count() == 1 ? "" : "s", session_count(),
	    session_count() == 1 ? "" : "s");
	sdnotify_send(buf);
}

void
sdnotify_ready(void)
{
	sdnotify_status("");
}

void
sdnotify_reloading(void)
{
	sdnotify_send("RELOADING=1\nSTATUS=reloading");
}

void
sdnotify_reloaded(int ok)
{
	sdnotify_status(ok ? "" :
	    "reload failed, running configuration kept: ");
}

void
sdnotify_stopping(void)
{
	sdnotify_send("STOPPING=1\nSTATUS=stopping");
}
