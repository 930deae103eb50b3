/*
 * Helpers of the sandbox tests: an empty chroot directory made 0755 like
 * the real one, the user nobody, and confined children.  Each confined
 * child arms alarm() before it is confined, so that a hang ends it.
 */
#ifndef PORTGATE_SANDBOX_CHILD_H
#define PORTGATE_SANDBOX_CHILD_H

#include <sys/types.h>

#include <pwd.h>

#define SBTEST_SECS	30	/* alarm() of a confined child */

extern char		sbtest_root[];	/* the chroot directory */
extern struct passwd	sbtest_nobody;

/* What a confined child runs; its return value is its exit status. */
typedef int	(*sbtest_fn)(void *arg);

/* Group setup and teardown: the chroot directory and nobody. */
int	sbtest_setup(void **state);
int	sbtest_teardown(void **state);
/* Skip the case (TEST_SKIP) unless root. */
void	sbtest_need_root(void);
/* In a child: confine it fully, as a worker (exits if that fails). */
void	sbtest_confine(void);
/* Fork a child that confines itself and exits <fn>(<arg>); its status. */
int	sbtest_run(sbtest_fn fn, void *arg);
/* The child exited 0. */
void	sbtest_exit0(int status);

#endif
