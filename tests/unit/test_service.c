/*
 * Unit tests for service.c, in process on a libevent base: the services
 * reach their clients' code only through the hooks they are given (a
 * stream client arrives at sh_stream with the service of its
 * configuration, what the admission hangs on a service is freed by
 * sh_admit_free), and a reload that cannot allocate does not end the
 * daemon: the comparison table failing leaves every service as it was
 * (-1), a new service failing is that service alone.  calloc is wrapped
 * at link time (Makefile.am) so that the test can make one call fail.
 * Services listen on 127.0.0.1 only; every wait has a deadline.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include <event2/event.h>

#include "conf_diag.h"
#include "config.h"
#include "service.h"
#include "unit_util.h"

#define DEADLINE_MS	10000

/* The link-time wrapper (-Wl,--wrap=calloc). */
void	*__real_calloc(size_t, size_t);
void	*__wrap_calloc(size_t, size_t);

static int	calloc_fail_at;	/* fail the n-th call from now; 0: none */

void *
__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fail_at > 0 && --calloc_fail_at == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

/* What the hooks saw. */
static struct {
	struct service	*streams_sv;
	int		 streams;
	int		 admit_freed;
} seen;

static void
hook_stream(struct service *sv, int fd, struct sockaddr *sa, socklen_t salen)
{
	(void)sa;
	(void)salen;
	seen.streams_sv = sv;
	seen.streams++;
	service_count_accepted(sv);
	(void)close(fd);
}

static void
hook_dgram(struct service *sv, const void *data, size_t len,
    struct sockaddr *from, socklen_t fromlen, const struct dgram_dst *dst)
{
	(void)sv;
	(void)data;
	(void)len;
	(void)from;
	(void)fromlen;
	(void)dst;
}

static void
hook_handoff(struct service *sv)
{
	(void)sv;
}

static int
hook_fds(const struct service_conf *sc)
{
	(void)sc;
	return 1;
}

static void
hook_admit_free(void *data)
{
	seen.admit_freed++;
	free(data);
}

static const struct service_hooks	hooks = {
	.sh_stream = hook_stream,
	.sh_dgram = hook_dgram,
	.sh_handoff = hook_handoff,
	.sh_fds = hook_fds,
	.sh_admit_free = hook_admit_free,
};

struct fx {
	struct event_base	*base;
	char			 dir[64];
	int			 port[2];
};

/* A TCP port free on 127.0.0.1 now (the kernel's pick). */
static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	(void)close(fd);
	return port;
}

/*
 * A configuration of <n> echo services (ids svc0, svc1) on 127.0.0.1, on
 * the ports of <fx>.
 */
static struct config *
load(struct fx *fx, int n)
{
	struct conf_diag	 cd;
	struct config		*cf;
	char			 path[128];
	FILE			*fp;
	int			 i;

	(void)snprintf(path, sizeof(path), "%s/portgate.conf", fx->dir);
	assert_non_null(fp = fopen(path, "w"));
	for (i = 0; i < n; i++)
		fprintf(fp, "service echo\n{\n\tid = svc%d\n"
		    "\ttype = INTERNAL UNLISTED\n\tsocket_type = stream\n"
		    "\twait = no\n\tbind = 127.0.0.1\n\tport = %d\n}\n", i,
		    fx->port[i]);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0644), 0);
	conf_diag_init(&cd);
	cf = config_load(path, 0, &cd);
	conf_diag_clear(&cd);
	assert_non_null(cf);
	return cf;
}

/* Does something listen on 127.0.0.1 <port>?  1 or 0. */
static int
listening(int port)
{
	struct sockaddr_in	sin;
	int			fd, rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	(void)close(fd);
	return rc == 0;
}

/* Run the loop until a stream client reached the hook, or fail. */
static void
wait_stream(struct fx *fx)
{
	struct timespec	start, now;

	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	while (seen.streams == 0) {
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		assert_true((now.tv_sec - start.tv_sec) * 1000 < DEADLINE_MS);
	}
}

static int
setup(void **state)
{
	static struct fx	fx;

	memset(&fx, 0, sizeof(fx));
	memset(&seen, 0, sizeof(seen));
	(void)strlcpy(fx.dir, "/tmp/test_service.XXXXXX", sizeof(fx.dir));
	if (mkdtemp(fx.dir) == NULL || chmod(fx.dir, 0755) == -1)
		return -1;
	fx.port[0] = free_port();
	do
		fx.port[1] = free_port();
	while (fx.port[1] == fx.port[0]);
	if ((fx.base = event_base_new()) == NULL)
		return -1;
	service_init(fx.base, &hooks);
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	calloc_fail_at = 0;
	service_shutdown();
	event_base_free(fx->base);
	return unit_rm_tree(fx->dir);
}

/* A client of a service reaches sh_stream, with that service. */
static void
test_stream_reaches_hook(void **state)
{
	struct fx	*fx = *state;
	struct config	*cf = load(fx, 1);

	assert_int_equal(service_reconcile(cf), 0);
	assert_int_equal(service_count(), 1);
	assert_int_equal(listening(fx->port[0]), 1);
	wait_stream(fx);
	assert_int_equal(seen.streams, 1);
	assert_ptr_equal(service_conf(seen.streams_sv), cf->cf_services[0]);
	assert_ptr_equal(service_config(seen.streams_sv), cf);
	assert_non_null(service_quota(seen.streams_sv));
	assert_null(service_flows(seen.streams_sv));	/* not UDP */
	config_unref(cf);
}

/* What the admission hangs on a service goes with it, by its hook. */
static void
test_admit_data_freed_by_hook(void **state)
{
	struct fx	*fx = *state;
	struct config	*cf = load(fx, 1);

	assert_int_equal(service_reconcile(cf), 0);
	assert_int_equal(listening(fx->port[0]), 1);
	wait_stream(fx);
	assert_null(service_admit(seen.streams_sv));
	service_set_admit(seen.streams_sv, malloc(16));
	assert_non_null(service_admit(seen.streams_sv));
	assert_int_equal(seen.admit_freed, 0);
	service_shutdown();
	assert_int_equal(seen.admit_freed, 1);
	config_unref(cf);
}

/*
 * Regression (service_reconcile() in src/service.c, fixed): a reload
 * whose comparison table could not be allocated called fatal() and ended
 * the daemon.  Now it returns -1 with the running services untouched, and
 * the next reload applies.
 */
static void
test_reload_without_memory_changes_nothing(void **state)
{
	struct fx	*fx = *state;
	struct config	*cf1 = load(fx, 1), *cf2 = load(fx, 2);

	assert_int_equal(service_reconcile(cf1), 0);
	calloc_fail_at = 1;
	assert_int_equal(service_reconcile(cf2), -1);
	assert_int_equal(calloc_fail_at, 0);
	assert_int_equal(service_count(), 1);
	assert_int_equal(listening(fx->port[0]), 1);
	assert_int_equal(listening(fx->port[1]), 0);
	/* Enough memory again: the same configuration applies. */
	assert_int_equal(service_reconcile(cf2), 0);
	assert_int_equal(service_count(), 2);
	assert_int_equal(listening(fx->port[1]), 1);
	config_unref(cf1);
	config_unref(cf2);
}

/* A new service that cannot be allocated fails alone, counted. */
static void
test_reload_new_service_without_memory(void **state)
{
	struct fx	*fx = *state;
	struct config	*cf1 = load(fx, 1), *cf2 = load(fx, 2);

	assert_int_equal(service_reconcile(cf1), 0);
	calloc_fail_at = 2;	/* the table, then the new service */
	assert_int_equal(service_reconcile(cf2), 1);
	assert_int_equal(calloc_fail_at, 0);
	assert_int_equal(service_count(), 1);
	assert_int_equal(listening(fx->port[0]), 1);
	assert_int_equal(listening(fx->port[1]), 0);
	config_unref(cf1);
	config_unref(cf2);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup_teardown(test_stream_reaches_hook,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_data_freed_by_hook,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reload_without_memory_changes_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_reload_new_service_without_memory, setup, teardown),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
