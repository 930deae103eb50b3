/*
 * Unit tests of conf_diag.c: findings are listed by file, in the order the
 * files were read, then by line, whatever order the checks found them in;
 * and a real configuration whose checks find them out of order.
 */
#include <sys/stat.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"
#include "conf_diag.h"
#include "config.h"
#include "unit_util.h"

/* Assert that the texts of <cd> are exactly <exp> (NULL-terminated). */
static void
check_texts(const struct conf_diag *cd, const char *const *exp)
{
	int	i;

	for (i = 0; exp[i] != NULL && i < cd->cd_nmsgs; i++)
		if (strcmp(cd->cd_msgs[i].dm_text, exp[i]) != 0)
			break;
	if (exp[i] == NULL && i == cd->cd_nmsgs)
		return;
	for (i = 0; i < cd->cd_nmsgs; i++)
		print_message("  got:      %s\n", cd->cd_msgs[i].dm_text);
	for (i = 0; exp[i] != NULL; i++)
		print_message("  expected: %s\n", exp[i]);
	fail_msg("diagnostics out of order");
}

/*
 * Files in the order read, then lines; a message about a whole file before
 * its lines; files never read after those, in the order first named;
 * messages about no file last.
 */
static void
test_sort_order(void **state)
{
	static const char *const files[] = { "main.conf", "a.conf", "b.conf",
	    NULL };
	static const char *const exp[] = {
		"main.conf: warning: whole",
		"main.conf:4: error: four",
		"main.conf:10: warning: ten",
		"a.conf:2: error: a2 first",
		"a.conf:2: error: a2 second",
		"a.conf:7: error: a7",
		"b.conf:3: error: b3",
		"zz.conf:9: error: zz9",
		"zz.conf:12: error: zz12",
		"yy.conf:1: error: yy1",
		"error: nowhere",
		NULL
	};
	struct conf_diag	cd;

	(void)state;
	conf_diag_init(&cd);
	conf_diag_files(&cd, files);
	conf_error(&cd, "b.conf", 3, "b3");
	conf_error(&cd, NULL, 0, "nowhere");
	conf_error(&cd, "zz.conf", 12, "zz12");
	conf_warn(&cd, "main.conf", 10, "ten");
	conf_error(&cd, "a.conf", 2, "a2 first");
	conf_error(&cd, "yy.conf", 1, "yy1");
	conf_error(&cd, "a.conf", 7, "a7");
	conf_error(&cd, "main.conf", 4, "four");
	conf_error(&cd, "a.conf", 2, "a2 second");
	conf_warn(&cd, "main.conf", 0, "whole");
	conf_error(&cd, "zz.conf", 9, "zz9");
	conf_diag_sort(&cd);
	check_texts(&cd, exp);
	assert_int_equal(cd.cd_errors, 9);
	assert_int_equal(cd.cd_warnings, 2);
	assert_int_equal(cd.cd_msgs[0].dm_level, DIAG_WARNING);
	assert_int_equal(cd.cd_msgs[10].dm_level, DIAG_ERROR);

	/* Sorting again changes nothing; a new message finds its place. */
	conf_diag_sort(&cd);
	check_texts(&cd, exp);
	conf_error(&cd, "main.conf", 5, "five");
	conf_diag_sort(&cd);
	assert_string_equal(cd.cd_msgs[2].dm_text, "main.conf:5: error: five");
	assert_string_equal(cd.cd_msgs[3].dm_text,
	    "main.conf:10: warning: ten");
	conf_diag_clear(&cd);
	assert_int_equal(cd.cd_nmsgs, 0);
	assert_int_equal(cd.cd_nfiles, 0);
	assert_null(cd.cd_files);
}

/*
 * Many findings on one line keep the order found (qsort alone is not
 * stable); with no file recorded, files rank by their first finding.
 */
static void
test_sort_stable(void **state)
{
	struct conf_diag	cd;
	char			exp[64];
	int			i;

	(void)state;
	conf_diag_init(&cd);
	for (i = 0; i < 200; i++) {
		conf_error(&cd, i % 2 ? "second.conf" : "first.conf", 5,
		    "finding %d", i);
		conf_error(&cd, "first.conf", 1, "early %d", i);
	}
	conf_diag_sort(&cd);
	assert_int_equal(cd.cd_nmsgs, 400);
	for (i = 0; i < 200; i++) {
		(void)snprintf(exp, sizeof(exp),
		    "first.conf:1: error: early %d", i);
		assert_string_equal(cd.cd_msgs[i].dm_text, exp);
	}
	for (i = 0; i < 100; i++) {
		(void)snprintf(exp, sizeof(exp),
		    "first.conf:5: error: finding %d", 2 * i);
		assert_string_equal(cd.cd_msgs[200 + i].dm_text, exp);
		(void)snprintf(exp, sizeof(exp),
		    "second.conf:5: error: finding %d", 2 * i + 1);
		assert_string_equal(cd.cd_msgs[300 + i].dm_text, exp);
	}
	conf_diag_clear(&cd);
}

/* A file recorded twice keeps its first place. */
static void
test_files_once(void **state)
{
	static const char *const one[] = { "m.conf", "x.conf", NULL };
	static const char *const two[] = { "y.conf", "m.conf", "x.conf", NULL };
	struct conf_diag	cd;

	(void)state;
	conf_diag_init(&cd);
	conf_diag_files(&cd, one);
	conf_diag_files(&cd, two);
	conf_diag_files(&cd, NULL);
	assert_int_equal(cd.cd_nfiles, 3);
	assert_string_equal(cd.cd_files[0], "m.conf");
	assert_string_equal(cd.cd_files[1], "x.conf");
	assert_string_equal(cd.cd_files[2], "y.conf");
	conf_error(&cd, "y.conf", 1, "y");
	conf_error(&cd, "x.conf", 1, "x");
	conf_error(&cd, "m.conf", 1, "m");
	conf_diag_sort(&cd);
	assert_string_equal(cd.cd_msgs[0].dm_text, "m.conf:1: error: m");
	assert_string_equal(cd.cd_msgs[1].dm_text, "x.conf:1: error: x");
	assert_string_equal(cd.cd_msgs[2].dm_text, "y.conf:1: error: y");
	conf_diag_clear(&cd);
}

/* Write <text> to <dir>/<name>; its path into <path>. */
static const char *
put(const char *dir, const char *name, const char *text, char *path)
{
	FILE	*fp;

	assert_true(snprintf(path, PATH_MAX, "%s/%s", dir, name) <
	    PATH_MAX);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* The place of the file of message <i> in <order>, or fail. */
static int
rank_of(const struct conf_diag *cd, int i, const char *const *order)
{
	int	k;

	for (k = 0; order[k] != NULL; k++)
		if (cd->cd_msgs[i].dm_file != NULL &&
		    strcmp(cd->cd_msgs[i].dm_file, order[k]) == 0)
			return k;
	fail_msg("unexpected file in: %s", cd->cd_msgs[i].dm_text);
	return -1;
}

/* Are the messages of <cd> in file (as <order>) and line order? */
static int
in_order(const struct conf_diag *cd, const char *const *order)
{
	int	i, r0, r1;

	for (i = 1; i < cd->cd_nmsgs; i++) {
		r0 = rank_of(cd, i - 1, order);
		r1 = rank_of(cd, i, order);
		if (r1 < r0 || (r1 == r0 && cd->cd_msgs[i].dm_line <
		    cd->cd_msgs[i - 1].dm_line))
			return 0;
	}
	return 1;
}

/* Does some message of <cd> read exactly <text>? */
static int
has_text(const struct conf_diag *cd, const char *text)
{
	int	i;

	for (i = 0; i < cd->cd_nmsgs; i++)
		if (strcmp(cd->cd_msgs[i].dm_text, text) == 0)
			return 1;
	return 0;
}

/*
 * A real configuration: the loader checks service by service (the one
 * of the included file before the last of the main file) and attribute by
 * attribute in table order, so it finds errors out of line order; sorted,
 * they follow the files as read.  The unknown attribute names its likely
 * spelling.
 */
static void
test_config_order(void **state)
{
	char			 dir[] = "/tmp/test_conf_diag.XXXXXX";
	char			 mainp[PATH_MAX], incp[PATH_MAX];
	char			 exp[2 * PATH_MAX];
	const char		*order[3];
	struct conf_diag	 cd;
	struct config		*cf;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put(dir, "inc.conf",
	    "service b\n"				/* 1 */
	    "{\n"					/* 2 */
	    "\tonly_form\t= 127.0.0.1\n"		/* 3 */
	    "}\n", incp);
	put(dir, "main.conf",
	    "service a\n"				/* 1 */
	    "{\n"					/* 2 */
	    "\ttype\t\t= INTERNAL UNLISTED\n"		/* 3 */
	    "\twait\t\t= maybe\n"			/* 4 */
	    "\tsocket_type\t= sideways\n"		/* 5 */
	    "\tport\t\t= port\n"			/* 6 */
	    "\tinstances\t= many\n"			/* 7 */
	    "}\n"					/* 8 */
	    "include inc.conf\n"			/* 9 */
	    "service c\n"				/* 10 */
	    "{\n"					/* 11 */
	    "\tlog_on_sucess\t= HOST\n"			/* 12 */
	    "}\n", mainp);
	order[0] = mainp;
	order[1] = incp;
	order[2] = NULL;

	conf_diag_init(&cd);
	cf = config_load(mainp, CONF_CHECK_ONLY, &cd);
	assert_null(cf);
	/* As found: inc.conf before main.conf:12, so out of order. */
	assert_true(cd.cd_nmsgs >= 6);
	assert_false(in_order(&cd, order));
	conf_diag_sort(&cd);
	if (!in_order(&cd, order))
		check_texts(&cd, (const char *const []){ NULL });
	(void)snprintf(exp, sizeof(exp), "%s:3: error: unknown attribute "
	    "'only_form' (did you mean 'only_from'?)", incp);
	assert_true(has_text(&cd, exp));
	(void)snprintf(exp, sizeof(exp), "%s:12: error: unknown attribute "
	    "'log_on_sucess' (did you mean 'log_on_success'?)", mainp);
	assert_true(has_text(&cd, exp));
	/* Every finding of main.conf, then those of inc.conf. */
	assert_string_equal(cd.cd_msgs[0].dm_file, mainp);
	assert_string_equal(cd.cd_msgs[cd.cd_nmsgs - 1].dm_file, incp);
	conf_diag_clear(&cd);
	assert_int_equal(unit_rm_tree(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_order),
		cmocka_unit_test(test_sort_stable),
		cmocka_unit_test(test_files_once),
		cmocka_unit_test(test_config_order),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
