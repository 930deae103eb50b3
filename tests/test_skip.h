/*
 * Skips that automake sees.  cmocka's skip() leaves the program's exit
 * status 0, so automake would count a program that skipped a case as PASS
 * and the summary would always say "SKIP: 0".  TEST_SKIP() records the skip
 * before it calls skip(); main() returns test_status() of the run, which is
 * 77 (automake's SKIP) when something was skipped and nothing failed.
 */
#ifndef TEST_SKIP_H
#define TEST_SKIP_H

extern int	test_skipped;
/* One definition for every file of a program that includes this. */
__attribute__((weak)) int test_skipped;

#define TEST_SKIP() do {						\
	test_skipped = 1;						\
	skip();								\
} while (0)

/* The exit status for a run in which <failed> cases failed. */
static inline int
test_status(int failed)
{
	if (failed != 0)
		return 1;
	return test_skipped ? 77 : 0;
}

#endif
