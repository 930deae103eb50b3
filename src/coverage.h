/*
 * A coverage build (configure --enable-coverage) writes the counters of a
 * process that is about to exec or _exit, which gcov's own exit handler
 * would not see: the detaching parent, the child of a binary upgrade.
 * Include build-config.h first.
 */
#ifndef PORTGATE_COVERAGE_H
#define PORTGATE_COVERAGE_H

#ifdef PORTGATE_COVERAGE
void	__gcov_dump(void);
#define COVERAGE_DUMP()	__gcov_dump()
#else
#define COVERAGE_DUMP()	do { } while (0)
#endif

#endif
