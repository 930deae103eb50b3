/*
 * Unit tests of ident_parse(): which ident (RFC 1413) replies are taken
 * and what of them is logged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../test_skip.h"

#include "ident.h"

/* Replies about 6193, 23 that are taken, and what is kept of them. */
static void
test_good_replies(void **state)
{
	(void)state;
	assert_string_equal(ident_parse("6193, 23 : USERID : UNIX : stjohns",
	    6193, 23), "UNIX : stjohns");
	assert_string_equal(ident_parse("6193,23:USERID:UNIX:stjohns", 6193,
	    23), "UNIX:stjohns");
	assert_string_equal(ident_parse("  6193 ,\t23 : USERID : OTHER,"
	    "UTF-8 : x y", 6193, 23), "OTHER,UTF-8 : x y");
}

/* Errors, other ports and broken lines are not. */
static void
test_bad_replies(void **state)
{
	static const char *const bad[] = {
		"6193, 23 : ERROR : NO-USER",
		"6193, 23 : ERROR : HIDDEN-USER",
		"6194, 23 : USERID : UNIX : mallory",
		"6193, 24 : USERID : UNIX : mallory",
		"61930, 23 : USERID : UNIX : mallory",
		"6193 23 : USERID : UNIX : x",
		"6193, 23 USERID : UNIX : x",
		"6193, 23 : USERID UNIX : x",
		"6193, 23 : USERID :",
		"6193, 23 : USERID :   ",
		"6193, 23 : userid : UNIX : x",
		", 23 : USERID : UNIX : x",
		"99999999999999999999, 23 : USERID : UNIX : x",
		"",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ident_parse(bad[i], 6193, 23) != NULL)
			fail_msg("taken: \"%s\"", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_replies),
		cmocka_unit_test(test_bad_replies),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
