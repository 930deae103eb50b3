/*
 * portgate -T (config_dump.c): config_load() with CONF_DUMP keeps the
 * merged configuration as text, each attribute with the file:line its
 * words came from: a value inherited from defaults, a += over two lines,
 * a -= (last changed at), a built-in default, and the reason a service
 * does not run (disable, 'disabled', 'enabled', left out on this machine).
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../test_skip.h"

#include "conf_diag.h"
#include "config.h"
#include "unit_util.h"

static char		 tmpdir[] = "/tmp/test_conf_dump.XXXXXX";
static char		 path[4096];
static struct conf_diag	 cd;
static struct config	*cf;

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_conf_dump.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	(void)snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_unref(cf);
	cf = NULL;
	conf_diag_clear(&cd);
	return unit_rm_tree(tmpdir);
}

/* Write <text> as t.conf, load it with CONF_DUMP; the dump. */
static const char *
dump(const char *text)
{
	FILE	*f;

	config_unref(cf);
	conf_diag_clear(&cd);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	cf = config_load(path, CONF_CHECK_ONLY | CONF_DUMP, &cd);
	assert_non_null(cf);
	assert_non_null(cf->cf_dump);
	return cf->cf_dump;
}

/* <want>, with each '@' replaced by the path of t.conf, is in <out>. */
static void
has(const char *out, const char *want)
{
	char	buf[8192];
	size_t	n = 0;

	for (; *want != '\0' && n + 1 < sizeof(buf); want++) {
		if (*want == '@') {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
			    path);
			if (n >= sizeof(buf))
				fail_msg("pattern too long");
		} else
			buf[n++] = *want;
	}
	buf[n] = '\0';
	if (strstr(out, buf) == NULL)
		fail_msg("expected:\n%s\nin:\n%s", buf, out);
}

#define ECHO_BODY \
	"\ttype = INTERNAL UNLISTED\n" \
	"\tsocket_type = stream\n" \
	"\twait = no\n"

static void
test_dump_merge(void **state)
{
	const char	*out;

	(void)state;
	out = dump("defaults\n"				/* 1 */
	    "{\n"
	    "\tinstances = 10\n"			/* 3 */
	    "\tonly_from = 127.0.0.1\n"			/* 4 */
	    "}\n"
	    "service echo\n"				/* 6 */
	    "{\n"
	    ECHO_BODY					/* 8-10 */
	    "\tport = 10007\n"				/* 11 */
	    "\tonly_from += 127.0.0.2 127.0.0.4\n"	/* 12 */
	    "\tonly_from += 127.0.0.3\n"		/* 13 */
	    "\tonly_from -= 127.0.0.4\n"		/* 14 */
	    "}\n");
	has(out, "\n# every defaults entry, merged\ndefaults\n{\n"
	    "\tinstances       = 10\t# @:3\n"
	    "\tonly_from       = 127.0.0.1\t# @:4\n}\n");
	has(out, "\n# @:6\nservice echo\n{\n"
	    "\ttype            = INTERNAL UNLISTED\t# @:8\n");
	/* Inherited from defaults. */
	has(out, "\tinstances       = 10\t# @:3 (defaults)\n");
	/* += over two lines, then a -=: each word's line, the last change. */
	has(out, "\tonly_from       = 127.0.0.1 127.0.0.2 127.0.0.3\t# "
	    "@:4 (127.0.0.1), @:12 (127.0.0.2), @:13 (127.0.0.3), "
	    "last changed at @:14\n");
	/* Not written anywhere: the built-in default, at the service. */
	has(out, "\tlog_on_failure  = HOST\t# @:6 (built-in default)\n");
	has(out, "\tport            = 10007\t# @:11\n}\n");
}

/* Why a service does not run, above its entry. */
static void
test_dump_off(void **state)
{
	const char	*out;

	(void)state;
	out = dump("defaults\n"				/* 1 */
	    "{\n"
	    "\tdisabled = gone\n"			/* 3 */
	    "}\n"
	    "service gone\n"				/* 5 */
	    "{\n" ECHO_BODY "\tport = 10001\n}\n"
	    "service echo\n"				/* 12 */
	    "{\n" ECHO_BODY "\tport = 10002\n\tdisable = yes\n}\n"
	    "service spawned\n"				/* 20 */
	    "{\n"
	    "\ttype = UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10003\n"
	    "\tuser = no-such-user-pg\n"		/* 26 */
	    "\tserver = /bin/true\n"
	    "}\n");
	has(out, "\n# @:5\n# disabled: listed in 'disabled' at @:3\n"
	    "service gone\n{\n");
	has(out, "\n# @:12\n# disabled: disable = yes at @:18\n"
	    "service echo\n{\n");
	has(out, "\n# @:20\n# left out on this machine: ");
	has(out, "user 'no-such-user-pg' does not exist on this machine");
	has(out, "service spawned\n{\n");
	has(out, "\tuser            = no-such-user-pg\t# @:26\n");
	has(out, "\tdisabled        = gone\t# @:3\n}\n");
	/* 'enabled' in defaults leaves out every service it does not list. */
	out = dump("defaults\n{\n\tenabled = other\n}\n"
	    "service echo\n{\n" ECHO_BODY "\tport = 10002\n}\n");
	has(out, "\n# @:5\n# disabled: not listed in 'enabled' at @:3\n"
	    "service echo\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dump_merge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dump_off, setup,
		    teardown),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
