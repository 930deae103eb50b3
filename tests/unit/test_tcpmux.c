/*
 * Unit tests for tcpmux.c's pure parts: the line a client sends (CR LF or
 * a bare LF, the name bound, empty and bad lines, HELP in any case, a line
 * that is not complete yet) and the HELP text.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "tcpmux.h"

/* Parse the NUL-terminated <line>; its name goes to <name>. */
static enum tcpmux_line
parse(const char *line, char name[TCPMUX_NAME_MAX + 1], size_t *used)
{
	memset(name, 'x', TCPMUX_NAME_MAX + 1);
	*used = 12345;
	return tcpmux_parse(line, strlen(line), name, used);
}

/* A name ended by CR LF or a bare LF; what follows is not consumed. */
static void
test_name(void **state)
{
	char	name[TCPMUX_NAME_MAX + 1];
	size_t	used;

	(void)state;
	assert_int_equal(parse("foo\r\n", name, &used), TCPMUX_NAME);
	assert_string_equal(name, "foo");
	assert_int_equal(used, 5);
	assert_int_equal(parse("Foo-Bar.1\n", name, &used), TCPMUX_NAME);
	assert_string_equal(name, "Foo-Bar.1");
	assert_int_equal(used, 10);
	/* Data for the server after the line stays out of the name. */
	assert_int_equal(parse("foo\r\nGET / HTTP/1.0\r\n", name, &used),
	    TCPMUX_NAME);
	assert_string_equal(name, "foo");
	assert_int_equal(used, 5);
}

/* No end of line yet: read on, nothing consumed. */
static void
test_more(void **state)
{
	char	name[TCPMUX_NAME_MAX + 1];
	size_t	used;

	(void)state;
	assert_int_equal(parse("", name, &used), TCPMUX_MORE);
	assert_int_equal(parse("fo", name, &used), TCPMUX_MORE);
	assert_int_equal(parse("foo\r", name, &used), TCPMUX_MORE);
	assert_int_equal(used, 12345);
}

/* The bound: 64 bytes of name, CR LF included in 66; one more refused. */
static void
test_too_long(void **state)
{
	char	name[TCPMUX_NAME_MAX + 1], line[256];
	size_t	used;

	(void)state;
	memset(line, 'a', TCPMUX_NAME_MAX);
	(void)strcpy(line + TCPMUX_NAME_MAX, "\r\n");
	assert_int_equal(parse(line, name, &used), TCPMUX_NAME);
	assert_int_equal(strlen(name), TCPMUX_NAME_MAX);
	assert_int_equal(used, TCPMUX_LINE_MAX);
	/* 64 and a CR waiting for its LF: still to come. */
	line[TCPMUX_NAME_MAX + 1] = '\0';
	assert_int_equal(parse(line, name, &used), TCPMUX_MORE);
	memset(line, 'a', TCPMUX_NAME_MAX + 1);
	(void)strcpy(line + TCPMUX_NAME_MAX + 1, "\r\n");
	assert_int_equal(parse(line, name, &used), TCPMUX_TOOLONG);
	assert_int_equal(used, TCPMUX_LINE_MAX + 1);
	/* Without an end: refused as soon as it cannot fit any more. */
	memset(line, 'a', TCPMUX_LINE_MAX);
	line[TCPMUX_LINE_MAX] = '\0';
	assert_int_equal(parse(line, name, &used), TCPMUX_TOOLONG);
	line[TCPMUX_LINE_MAX - 1] = '\0';
	assert_int_equal(parse(line, name, &used), TCPMUX_MORE);
}

/* Empty lines and bytes that are not in names. */
static void
test_bad(void **state)
{
	char	name[TCPMUX_NAME_MAX + 1];
	size_t	used;

	(void)state;
	assert_int_equal(parse("\r\n", name, &used), TCPMUX_EMPTY);
	assert_int_equal(used, 2);
	assert_int_equal(parse("\n", name, &used), TCPMUX_EMPTY);
	assert_int_equal(parse("foo bar\r\n", name, &used), TCPMUX_BAD);
	assert_int_equal(parse(" foo\r\n", name, &used), TCPMUX_BAD);
	assert_int_equal(parse("foo\t\r\n", name, &used), TCPMUX_BAD);
	assert_int_equal(parse("fo\ro\r\n", name, &used), TCPMUX_BAD);
	assert_int_equal(parse("foo\r\r\n", name, &used), TCPMUX_BAD);
	assert_int_equal(parse("f\xc3\xa9\r\n", name, &used), TCPMUX_BAD);
	assert_int_equal(parse("\x7f\r\n", name, &used), TCPMUX_BAD);
	assert_int_equal(tcpmux_parse("f\0o\r\n", 5, name, &used),
	    TCPMUX_BAD);
}

/* HELP in any case; HELPX and HEL are names. */
static void
test_help(void **state)
{
	char	name[TCPMUX_NAME_MAX + 1];
	size_t	used;

	(void)state;
	assert_int_equal(parse("HELP\r\n", name, &used), TCPMUX_HELP);
	assert_int_equal(used, 6);
	assert_int_equal(parse("help\n", name, &used), TCPMUX_HELP);
	assert_int_equal(parse("hElP\r\n", name, &used), TCPMUX_HELP);
	assert_int_equal(parse("HELPX\r\n", name, &used), TCPMUX_NAME);
	assert_string_equal(name, "HELPX");
	assert_int_equal(parse("HEL\r\n", name, &used), TCPMUX_NAME);
}

/* One name a line; what does not fit whole is left out. */
static void
test_help_text(void **state)
{
	const char	*names[] = { "foo", "barplus", "x" };
	char		 buf[64];
	size_t		 n;

	(void)state;
	n = tcpmux_help_text(buf, sizeof(buf), names, 3);
	assert_int_equal(n, strlen("foo\r\nbarplus\r\nx\r\n"));
	assert_memory_equal(buf, "foo\r\nbarplus\r\nx\r\n", n);
	n = tcpmux_help_text(buf, 10, names, 3);
	assert_int_equal(n, strlen("foo\r\nx\r\n"));
	assert_memory_equal(buf, "foo\r\nx\r\n", n);
	assert_int_equal(tcpmux_help_text(buf, 4, names, 3), 3);
	assert_int_equal(tcpmux_help_text(buf, 2, names, 3), 0);
	assert_int_equal(tcpmux_help_text(buf, 0, names, 3), 0);
	assert_int_equal(tcpmux_help_text(buf, sizeof(buf), names, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_more),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_help_text),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
