/*
 * Unit tests of conf_suggest.c: the edit distance, and the attribute that
 * an unknown name is taken for (or none when nothing is close).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../test_skip.h"
#include "conf_attr.h"
#include "conf_suggest.h"

/* Insertions, deletions, substitutions and swaps each cost one. */
static void
test_distance(void **state)
{
	char	long_word[CONF_SUGGEST_MAXLEN + 2];

	(void)state;
	assert_int_equal(conf_suggest_distance("", ""), 0);
	assert_int_equal(conf_suggest_distance("port", "port"), 0);
	assert_int_equal(conf_suggest_distance("", "port"), 4);
	assert_int_equal(conf_suggest_distance("port", ""), 4);
	assert_int_equal(conf_suggest_distance("Only_From", "only_from"), 0);
	assert_int_equal(conf_suggest_distance("only_form", "only_from"), 1);
	assert_int_equal(conf_suggest_distance("onlyfrom", "only_from"), 1);
	assert_int_equal(conf_suggest_distance("only-from", "only_from"), 1);
	assert_int_equal(conf_suggest_distance("only_fromm", "only_from"), 1);
	assert_int_equal(conf_suggest_distance("kitten", "sitting"), 3);
	/* Optimal string alignment: "ca" -> "abc" is 3, not 2. */
	assert_int_equal(conf_suggest_distance("ca", "abc"), 3);
	assert_int_equal(conf_suggest_distance("ab", "ba"), 1);
	assert_int_equal(conf_suggest_distance("abcd", "badc"), 2);

	memset(long_word, 'a', sizeof(long_word) - 1);
	long_word[sizeof(long_word) - 1] = '\0';
	assert_int_equal(conf_suggest_distance(long_word, "a"), -1);
	assert_int_equal(conf_suggest_distance("a", long_word), -1);
	long_word[CONF_SUGGEST_MAXLEN] = '\0';
	assert_int_equal(conf_suggest_distance(long_word, "a"),
	    CONF_SUGGEST_MAXLEN - 1);
}

/* Typical slips find their attribute. */
static void
test_attr_found(void **state)
{
	static const char *const cases[][2] = {
		{ "only_form", "only_from" },
		{ "onlyfrom", "only_from" },
		{ "ONLY-FROM", "only_from" },
		{ "log_on_sucess", "log_on_success" },
		{ "log_on_succes", "log_on_success" },
		{ "log_on_failur", "log_on_failure" },
		{ "serverargs", "server_args" },
		{ "sever", "server" },
		{ "instance", "instances" },
		{ "socket-type", "socket_type" },
		{ "sockettype", "socket_type" },
		{ "no_acess", "no_access" },
		{ "redirct", "redirect" },
		{ "potr", "port" },
		{ "tls_crt", "tls_cert" },
	};
	const char	*got;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The expected names must exist, or the case proves nothing. */
		assert_int_not_equal(attr_lookup(cases[i][1]), -1);
		got = conf_suggest_attr(cases[i][0]);
		if (got == NULL || strcmp(got, cases[i][1]) != 0)
			fail_msg("'%s': expected '%s', got '%s'", cases[i][0],
			    cases[i][1], got != NULL ? got : "(none)");
	}
}

/* Words far from every attribute get no suggestion. */
static void
test_attr_none(void **state)
{
	static const char *const words[] = {
		"", "x", "zz", "bogus", "completely_unrelated",
		"frobnicate_the_widget",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaa",
	};
	const char	*got;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if ((got = conf_suggest_attr(words[i])) != NULL)
			fail_msg("'%s': expected no suggestion, got '%s'",
			    words[i], got);
}

/* The threshold grows with the length: 1 edit up to 4, 2 up to 8, 3. */
static void
test_attr_threshold(void **state)
{
	const char	*got;

	(void)state;
	/* "prot" is one swap from "port" (4 letters). */
	assert_non_null(got = conf_suggest_attr("prot"));
	assert_string_equal(got, "port");
	/* "srvr" is two insertions from "server": too far for 4 letters. */
	assert_null(conf_suggest_attr("srvr"));
	/* 5 letters, one insertion: found. */
	assert_non_null(got = conf_suggest_attr("srver"));
	assert_string_equal(got, "server");
	/* "bnnr_fal" (8) is 3 edits from banner_fail: too far. */
	assert_null(conf_suggest_attr("bnnr_fal"));
	/* "bnnr_fails" (10) is 3 edits from banner_fail: found. */
	assert_non_null(got = conf_suggest_attr("bnnr_fails"));
	assert_string_equal(got, "banner_fail");
}

/* The hint is ready to append to a message. */
static void
test_hint(void **state)
{
	(void)state;
	assert_string_equal(conf_suggest_hint("only_form"),
	    " (did you mean 'only_from'?)");
	assert_string_equal(conf_suggest_hint("frobnicate_the_widget"), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_attr_found),
		cmocka_unit_test(test_attr_none),
		cmocka_unit_test(test_attr_threshold),
		cmocka_unit_test(test_hint),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
