/*
 * System calls that touch nothing but registers: no errno, no lock, no
 * other state of the C library.  A spawn child that shares the master's
 * memory while the master runs on (spawn.c) may make no other call: errno
 * is the master's, and glibc's set*id() wrappers would signal threads that
 * are not the child's.  The result is the kernel's: -errno on failure.
 *
 * RAWSYS_NATIVE is 1 where the instructions are written out here
 * (x86_64, aarch64); elsewhere rawsys() goes through syscall(2), which
 * writes errno on failure, and the spawner falls back to vfork(), whose
 * parent is suspended while the child runs.
 */
#ifndef PORTGATE_RAWSYS_H
#define PORTGATE_RAWSYS_H

#include <sys/syscall.h>

#include <errno.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RAWSYS_NATIVE	1

static inline long
rawsys(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long	r10 __asm__("r10") = a4;
	register long	r8 __asm__("r8") = a5;
	register long	r9 __asm__("r9") = a6;
	long		ret;

	__asm__ volatile ("syscall"
	    : "=a" (ret)
	    : "a" (nr), "D" (a1), "S" (a2), "d" (a3), "r" (r10), "r" (r8),
	      "r" (r9)
	    : "rcx", "r11", "memory");
	return ret;
}

#elif defined(__aarch64__)
#define RAWSYS_NATIVE	1

static inline long
rawsys(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long	x8 __asm__("x8") = nr;
	register long	x0 __asm__("x0") = a1;
	register long	x1 __asm__("x1") = a2;
	register long	x2 __asm__("x2") = a3;
	register long	x3 __asm__("x3") = a4;
	register long	x4 __asm__("x4") = a5;
	register long	x5 __asm__("x5") = a6;

	__asm__ volatile ("svc 0"
	    : "+r" (x0)
	    : "r" (x8), "r" (x1), "r" (x2), "r" (x3), "r" (x4), "r" (x5)
	    : "memory");
	return x0;
}

#else
#define RAWSYS_NATIVE	0

static inline long
rawsys(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long	ret = syscall(nr, a1, a2, a3, a4, a5, a6);

	return ret == -1 ? -errno : ret;
}
#endif

#define rawsys0(nr)		rawsys((nr), 0, 0, 0, 0, 0, 0)
#define rawsys1(nr, a)		rawsys((nr), (long)(a), 0, 0, 0, 0, 0)
#define rawsys2(nr, a, b)	rawsys((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define rawsys3(nr, a, b, c)	rawsys((nr), (long)(a), (long)(b), \
				    (long)(c), 0, 0, 0)
#define rawsys4(nr, a, b, c, d)	rawsys((nr), (long)(a), (long)(b), \
				    (long)(c), (long)(d), 0, 0)

/* Did the call fail?  Its errno, else 0. */
#define RAWSYS_ERR(r)		((r) < 0 && (r) > -4096 ? (int)-(r) : 0)

#endif
