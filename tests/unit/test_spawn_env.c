/*
 * Unit tests for spawn_env.c: the base environment of a service (the
 * process's own, filtered by passenv, then env) and the per-client
 * variables laid over it at each spawn.  The process environment is a
 * fixed array the test installs as environ, so that every expectation is
 * written out in full.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "config.h"
#include "spawn_env.h"

extern char	**environ;

/* A string literal where the API takes char * (it never writes). */
#define W(s)	((char *)(uintptr_t)(s))

/* The process environment of every case, unless a case sets its own. */
static char	*fake_environ[] = {
	W("PATH=/usr/bin:/bin"), W("HOME=/root"), W("LANG=C.UTF-8"),
	W("PATHX=x"), W("TZ=UTC"), NULL
};

/* A service with <env> and, if <passenv> is not NULL, passenv. */
static void
sc_make(struct service_conf *sc, char **env, char **passenv)
{
	memset(sc, 0, sizeof(*sc));
	sc->sc_env.wl_words = env;
	for (sc->sc_env.wl_n = 0; env != NULL && env[sc->sc_env.wl_n];
	    sc->sc_env.wl_n++)
		;
	if (passenv == NULL)
		return;
	sc->sc_has_passenv = 1;
	sc->sc_passenv.wl_words = passenv;
	for (sc->sc_passenv.wl_n = 0; passenv[sc->sc_passenv.wl_n];
	    sc->sc_passenv.wl_n++)
		;
}

/* <got> is exactly <want>, in order, both NULL-terminated. */
static void
env_equal(char *const *got, const char *const *want)
{
	int	i;

	for (i = 0; want[i] != NULL; i++) {
		if (got[i] == NULL)
			fail_msg("entry %d: missing, want %s", i, want[i]);
		assert_string_equal(got[i], want[i]);
	}
	if (got[i] != NULL)
		fail_msg("entry %d: %s, want the end", i, got[i]);
}

/* The base of <sc> under the process environment <from>. */
static char **
base_of(const struct service_conf *sc, char **from)
{
	char	**saved = environ, **envp;

	environ = from;
	envp = spawn_env_base(sc);
	environ = saved;
	return envp;
}

/* No passenv: the whole environment, in order. */
static void
test_base_all(void **state)
{
	struct service_conf	 sc;
	char			**envp;
	const char		*want[] = { "PATH=/usr/bin:/bin", "HOME=/root",
	    "LANG=C.UTF-8", "PATHX=x", "TZ=UTC", NULL };

	(void)state;
	sc_make(&sc, NULL, NULL);
	envp = base_of(&sc, fake_environ);
	env_equal(envp, want);
	/* The strings are environ's own, not copies. */
	assert_ptr_equal(envp[0], fake_environ[0]);
	free(envp);
}

/* env replaces a variable of the same name in its place, else joins. */
static void
test_base_env_overrides(void **state)
{
	struct service_conf	 sc;
	char			**envp;
	char			*env[] = { W("HOME=/srv"), W("NEW=1"),
	    W("PATH="), W("NEW=2"), NULL };
	const char		*want[] = { "PATH=", "HOME=/srv",
	    "LANG=C.UTF-8", "PATHX=x", "TZ=UTC", "NEW=2", NULL };

	(void)state;
	sc_make(&sc, env, NULL);
	envp = base_of(&sc, fake_environ);
	env_equal(envp, want);
	free(envp);
}

/* A name is matched whole: PATH= is not PATHX=, PATHX= is not PATH=. */
static void
test_base_name_whole(void **state)
{
	struct service_conf	 sc;
	char			**envp;
	char			*env[] = { W("PATHX=y"), NULL };
	char			*pass[] = { W("PAT"), W("PATH"), W("TZ="),
	    NULL };
	const char		*want1[] = { "PATH=/usr/bin:/bin", "HOME=/root",
	    "LANG=C.UTF-8", "PATHX=y", "TZ=UTC", NULL };
	const char		*want2[] = { "PATH=/usr/bin:/bin", "PATHX=y",
	    NULL };

	(void)state;
	sc_make(&sc, env, NULL);
	envp = base_of(&sc, fake_environ);
	env_equal(envp, want1);
	free(envp);
	/* passenv PAT lets neither PATH nor PATHX through; "TZ=" is no name. */
	sc_make(&sc, env, pass);
	envp = base_of(&sc, fake_environ);
	env_equal(envp, want2);
	free(envp);
}

/* passenv: only the named variables, in the environment's order. */
static void
test_base_passenv(void **state)
{
	struct service_conf	 sc;
	char			**envp;
	char			*pass[] = { W("TZ"), W("HOME"), W("ABSENT"),
	    NULL };
	char			*env[] = { W("TZ=Europe/Paris"), W("EXTRA=1"),
	    NULL };
	const char		*want[] = { "HOME=/root", "TZ=Europe/Paris",
	    "EXTRA=1", NULL };

	(void)state;
	sc_make(&sc, env, pass);
	envp = base_of(&sc, fake_environ);
	env_equal(envp, want);
	free(envp);
}

/* passenv set to no names: nothing from the process, env only. */
static void
test_base_passenv_empty(void **state)
{
	struct service_conf	 sc;
	char			**envp;
	char			*pass[] = { NULL };
	char			*env[] = { W("ONLY=1"), NULL };
	const char		*want[] = { "ONLY=1", NULL };

	(void)state;
	sc_make(&sc, env, pass);
	envp = base_of(&sc, fake_environ);
	env_equal(envp, want);
	free(envp);
}

/* An empty environment, and none at all (clearenv(3) leaves NULL). */
static void
test_base_no_environ(void **state)
{
	struct service_conf	 sc;
	char			**envp, *empty[] = { NULL };
	char			*env[] = { W("A=1"), NULL };
	const char		*want[] = { "A=1", NULL }, *none[] = { NULL };

	(void)state;
	sc_make(&sc, env, NULL);
	envp = base_of(&sc, empty);
	env_equal(envp, want);
	free(envp);
	envp = base_of(&sc, NULL);
	env_equal(envp, want);
	free(envp);
	sc_make(&sc, NULL, NULL);
	envp = base_of(&sc, NULL);
	env_equal(envp, none);
	free(envp);
}

/* A name twice in the environment is passed once, with the later value. */
static void
test_base_duplicate(void **state)
{
	struct service_conf	 sc;
	char			**envp;
	char			*dup[] = { W("A=1"), W("B=2"), W("A=3"), NULL };
	const char		*want[] = { "A=3", "B=2", NULL };

	(void)state;
	sc_make(&sc, NULL, NULL);
	envp = base_of(&sc, dup);
	env_equal(envp, want);
	free(envp);
}

/* REMOTE_HOST, REMOTE_PORT, REMOTE_COUNTRY after the base, then extras. */
static void
test_make_remote(void **state)
{
	struct spawn_env	 se;
	char			*base[] = { W("PATH=/bin"), W("HOME=/"), NULL };
	char			*extra[] = { W("SSL_CLIENT_VERIFY=NONE"),
	    NULL };
	const char		*want[] = { "PATH=/bin", "HOME=/",
	    "REMOTE_HOST=192.0.2.7", "REMOTE_PORT=40000",
	    "REMOTE_COUNTRY=FR", "SSL_CLIENT_VERIFY=NONE", NULL };

	(void)state;
	memset(&se, 0, sizeof(se));
	assert_int_equal(spawn_env_make(&se, base, "192.0.2.7", 40000, "FR",
	    extra), 0);
	env_equal(se.se_envp, want);
	/* The base is copied, not changed. */
	assert_ptr_not_equal(se.se_envp, base);
	assert_string_equal(base[0], "PATH=/bin");
	spawn_env_clear(&se);
	assert_null(se.se_envp);
	assert_int_equal(se.se_cap, 0);
}

/* Without a client address, port or country: the base alone. */
static void
test_make_none(void **state)
{
	struct spawn_env	 se;
	char			*base[] = { W("A=1"), NULL };
	char			*empty[] = { NULL };
	const char		*want[] = { "A=1", NULL }, *none[] = { NULL };

	(void)state;
	memset(&se, 0, sizeof(se));
	assert_int_equal(spawn_env_make(&se, base, NULL, 0, NULL, NULL), 0);
	env_equal(se.se_envp, want);
	assert_int_equal(spawn_env_make(&se, empty, NULL, -1, NULL, empty),
	    0);
	env_equal(se.se_envp, none);
	spawn_env_clear(&se);
}

/*
 * The client's values replace REMOTE_* of the base (env = REMOTE_HOST=...
 * in the configuration cannot pose as the client), and an extra replaces
 * either.
 */
static void
test_make_replaces(void **state)
{
	struct spawn_env	 se;
	char			*base[] = { W("REMOTE_HOST=spoof"), W("X=1"),
	    W("REMOTE_PORT=1"), NULL };
	char			*extra[] = { W("X=2"), W("REMOTE_COUNTRY=ZZ"),
	    NULL };
	const char		*want[] = { "REMOTE_HOST=::1", "X=2",
	    "REMOTE_PORT=65535", "REMOTE_COUNTRY=ZZ", NULL };

	(void)state;
	memset(&se, 0, sizeof(se));
	assert_int_equal(spawn_env_make(&se, base, "::1", 65535, "DE", extra),
	    0);
	env_equal(se.se_envp, want);
	spawn_env_clear(&se);
}

/* The longest IPv6 address fits REMOTE_HOST whole. */
static void
test_make_long_address(void **state)
{
	struct spawn_env	 se;
	char			*base[] = { NULL };
	const char		*addr =
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
	const char		*want[] = {
	    "REMOTE_HOST=ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	    NULL };

	(void)state;
	memset(&se, 0, sizeof(se));
	assert_int_equal(spawn_env_make(&se, base, addr, 0, NULL, NULL), 0);
	env_equal(se.se_envp, want);
	spawn_env_clear(&se);
}

/*
 * One spawn_env serves every spawn: a larger base grows it, a smaller one
 * after it leaves nothing of the one before.
 */
static void
test_make_reuse(void **state)
{
	struct spawn_env	 se;
	char			*small[] = { W("A=1"), NULL };
	char			*big[41];
	char			 names[40][8];
	const char		*want1[] = { "A=1", "REMOTE_PORT=7", NULL };
	int			 i;

	(void)state;
	memset(&se, 0, sizeof(se));
	for (i = 0; i < 40; i++) {
		(void)snprintf(names[i], sizeof(names[i]), "V%d=%d", i, i);
		big[i] = names[i];
	}
	big[40] = NULL;
	assert_int_equal(spawn_env_make(&se, small, NULL, 7, NULL, NULL), 0);
	env_equal(se.se_envp, want1);
	assert_int_equal(spawn_env_make(&se, big, "10.0.0.1", 8, "FR", NULL),
	    0);
	assert_true(se.se_cap >= 44);
	for (i = 0; i < 40; i++)
		assert_ptr_equal(se.se_envp[i], big[i]);
	assert_string_equal(se.se_envp[40], "REMOTE_HOST=10.0.0.1");
	assert_string_equal(se.se_envp[41], "REMOTE_PORT=8");
	assert_string_equal(se.se_envp[42], "REMOTE_COUNTRY=FR");
	assert_null(se.se_envp[43]);
	assert_int_equal(spawn_env_make(&se, small, NULL, 7, NULL, NULL), 0);
	env_equal(se.se_envp, want1);
	spawn_env_clear(&se);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_all),
		cmocka_unit_test(test_base_env_overrides),
		cmocka_unit_test(test_base_name_whole),
		cmocka_unit_test(test_base_passenv),
		cmocka_unit_test(test_base_passenv_empty),
		cmocka_unit_test(test_base_no_environ),
		cmocka_unit_test(test_base_duplicate),
		cmocka_unit_test(test_make_remote),
		cmocka_unit_test(test_make_none),
		cmocka_unit_test(test_make_replaces),
		cmocka_unit_test(test_make_long_address),
		cmocka_unit_test(test_make_reuse),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
