/*
 * Spawn jobs: what a child needs, copied into one mapping with its stack,
 * and the start of the child without waiting for its exec.
 *
 * The child is a clone(CLONE_VM) of the parent on the job's stack: no page
 * is copied (fork() would cost the master 1.3 ms more CPU per spawn on the
 * benchmark machine, bench/RESULTS.md "perf-notes-2026-12-06"), and unlike
 * vfork() the parent does not wait until the exec: it goes back to its
 * loop at once, so that several children may be on their way to exec at
 * the same time and the master never stalls behind one that waits for a
 * CPU.  The price is that the child runs beside the parent in the same
 * memory: it makes only the kernel's own calls (spawn_child.c), and the
 * job lives until the kernel says that the child has exec'd or died
 * (CLONE_CHILD_CLEARTID), which spawn_job_sweep() checks at each spawn
 * and each reap.  Where rawsys.h has no instructions of its own, vfork()
 * does the same synchronously.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#include "config.h"
#include "log.h"
#include "rawsys.h"
#include "spawn.h"
#include "spawn_job.h"

#define SPAWN_STACK	(64 * 1024)	/* the child's: a few hundred bytes used */
#define SPAWN_MAPLEN	(128 * 1024)	/* stack and job; a pooled size */
#define SPAWN_POOL	16		/* mappings kept for the next jobs */

static struct spawn_job	*spawn_parked;	/* children before their exec */
static void		*spawn_pool[SPAWN_POOL];
static int		 spawn_npool;
static struct spawn_env	 spawn_scratch;	/* the environment, then copied */

static size_t
spawn_round(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* A mapping of <len> bytes whose lowest page is a guard; NULL. */
static void *
spawn_map(size_t len)
{
	void	*p;

	if (len == SPAWN_MAPLEN && spawn_npool > 0)
		return spawn_pool[--spawn_npool];
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE) == -1) {
		(void)munmap(p, len);
		return NULL;
	}
	return p;
}

void
spawn_job_free(struct spawn_job *job)
{
	char	*map = (char *)job - SPAWN_STACK;	/* the stack first */
	size_t	 len = job->sj_maplen;

#ifdef __SANITIZE_ADDRESS__
	/* What a child's instrumented calls left marked. */
	ASAN_UNPOISON_MEMORY_REGION(map + sysconf(_SC_PAGESIZE),
	    len - (size_t)sysconf(_SC_PAGESIZE));
#endif
	if (len == SPAWN_MAPLEN && spawn_npool < SPAWN_POOL) {
		spawn_pool[spawn_npool++] = map;
		return;
	}
	if (munmap(map, len) == -1)
		log_warn("spawn: munmap");
}

/* Count the strings of <v> (NULL-terminated) and their bytes into *<sz>. */
static size_t
spawn_strings(char *const *v, size_t *sz)
{
	size_t	n;

	for (n = 0; v[n] != NULL; n++)
		*sz += strlen(v[n]) + 1;
	return n;
}

/* Copy the strings of <v> into <to> (room for them and a NULL), text at *<p>. */
static void
spawn_copy(char **to, char *const *v, char **p)
{
	size_t	n, len;

	for (n = 0; v[n] != NULL; n++) {
		len = strlen(v[n]) + 1;
		memcpy(*p, v[n], len);
		to[n] = *p;
		*p += len;
	}
	to[n] = NULL;
}

/* The argument vector of <sc> as xinetd makes it, into <argv> (n + 2). */
static void
spawn_argv(const struct service_conf *sc, const char **argv)
{
	const char	*base;
	int		 i, n = 0;

	if (!(sc->sc_flags & SFLAG_NAMEINARGS)) {
		base = strrchr(sc->sc_server, '/');
		argv[n++] = base != NULL ? base + 1 : sc->sc_server;
	}
	for (i = 0; i < sc->sc_server_args.wl_n; i++)
		argv[n++] = sc->sc_server_args.wl_words[i];
	argv[n] = NULL;
}

/* The mapping of <job>, its vectors and strings laid out after it. */
static struct spawn_job *
spawn_job_lay(char *const *argv, char *const *envp, const char *path)
{
	struct spawn_job	*job;
	size_t			 text = strlen(path) + 1, nargv, nenv, len;
	size_t			 page = (size_t)sysconf(_SC_PAGESIZE);
	char			*map, *p;

	nargv = spawn_strings(argv, &text);
	nenv = spawn_strings(envp, &text);
	len = SPAWN_STACK + spawn_round(sizeof(*job), sizeof(char *)) +
	    (nargv + nenv + 2) * sizeof(char *) + text;
	len = len <= SPAWN_MAPLEN ? SPAWN_MAPLEN : spawn_round(len, page);
	if ((map = spawn_map(len)) == NULL)
		return NULL;
	job = (struct spawn_job *)(void *)(map + SPAWN_STACK);
	memset(job, 0, sizeof(*job));
	job->sj_maplen = len;
	job->sj_argv = (char **)(void *)((char *)job +
	    spawn_round(sizeof(*job), sizeof(char *)));
	job->sj_envp = job->sj_argv + nargv + 1;
	p = (char *)(job->sj_envp + nenv + 1);
	spawn_copy(job->sj_argv, argv, &p);
	spawn_copy(job->sj_envp, envp, &p);
	memcpy(p, path, strlen(path) + 1);
	job->sj_path = p;
	return job;
}

struct spawn_job *
spawn_job_make(const struct spawn_req *rq, int errfd)
{
	const struct service_conf	*sc = rq->sq_conf;
	struct spawn_job		*job;
	const char			**argv;
	char				 err[256];

	if ((argv = calloc((size_t)sc->sc_server_args.wl_n + 2,
	    sizeof(*argv))) == NULL ||
	    spawn_env_make(&spawn_scratch, sc->sc_spawn_env, rq->sq_addr,
	    rq->sq_port, rq->sq_country, rq->sq_extra_env) == -1) {
		log_warn("service %s: spawn", sc->sc_id);
		free(argv);
		return NULL;
	}
	spawn_argv(sc, argv);
	job = spawn_job_lay((char *const *)(uintptr_t)argv,
	    spawn_scratch.se_envp, sc->sc_server);
	free(argv);
	if (job == NULL) {
		log_warn("service %s: spawn", sc->sc_id);
		return NULL;
	}
	if (cred_groups(sc, &job->sj_cred, err, sizeof(err)) == -1) {
		log_warnx("service %s: %s", sc->sc_id, err);
		spawn_job_free(job);
		return NULL;
	}
	job->sj_fd = rq->sq_fd;
	job->sj_errfd = errfd;
	job->sj_rlimit_set = sc->sc_rlimit_set;
	memcpy(job->sj_rlimit, sc->sc_rlimit, sizeof(job->sj_rlimit));
	job->sj_has_nice = sc->sc_has_nice;
	job->sj_nice = sc->sc_nice;
	job->sj_umask = sc->sc_umask;
	(void)strlcpy(job->sj_id, sc->sc_id, sizeof(job->sj_id));
	return job;
}

#if !RAWSYS_NATIVE
/* Apart, so that nothing of the caller lives across the vfork. */
static pid_t __attribute__((noinline))
spawn_job_vfork(struct spawn_job *job)
{
	pid_t	pid;

	if ((pid = vfork()) == 0)
		(void)spawn_child_main(job);
	return pid;
}
#endif

pid_t
spawn_job_launch(struct spawn_job *job, int *async)
{
#if RAWSYS_NATIVE
	*async = 1;
	job->sj_busy = 1;
	/* The stack grows down from the job. */
	return clone(spawn_child_main, job, CLONE_VM |
	    CLONE_CHILD_CLEARTID | SIGCHLD, job, NULL, NULL, &job->sj_busy);
#else
	*async = 0;
	return spawn_job_vfork(job);
#endif
}

void
spawn_job_park(struct spawn_job *job)
{
	job->sj_next = spawn_parked;
	spawn_parked = job;
}

void
spawn_job_sweep(void)
{
	struct spawn_job	**jp, *job;

	for (jp = &spawn_parked; (job = *jp) != NULL; ) {
		if (__atomic_load_n(&job->sj_busy, __ATOMIC_ACQUIRE) != 0) {
			jp = &job->sj_next;
			continue;
		}
		*jp = job->sj_next;
		spawn_job_free(job);
	}
}

size_t
spawn_job_parked(void)
{
	struct spawn_job	*job;
	size_t			 n = 0;

	for (job = spawn_parked; job != NULL; job = job->sj_next)
		n++;
	return n;
}
