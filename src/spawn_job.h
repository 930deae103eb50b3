/*
 * One spawn, from the parent's request to the child's exec (internal to
 * spawn.c).  A job holds everything the child reads, copied out of the
 * configuration and the request, with the child's stack in the same
 * mapping: the child shares the parent's memory until its exec while the
 * parent goes on (a reload may free the service meanwhile), so it reads
 * nothing else.  The kernel zeroes sj_busy when the child has exec'd or
 * died (CLONE_CHILD_CLEARTID); only then is the job freed.
 */
#ifndef PORTGATE_SPAWN_JOB_H
#define PORTGATE_SPAWN_JOB_H

#include <sys/types.h>
#include <sys/resource.h>

#include "config.h"
#include "cred.h"

struct spawn_req;

struct spawn_job {
	struct spawn_job	*sj_next;	/* waiting for the exec */
	size_t			 sj_maplen;	/* the stack below the job */
	volatile pid_t		 sj_busy;	/* 0: exec'd or died */
	int			 sj_fd;		/* on 0, 1 and 2 */
	int			 sj_errfd;	/* failures, as spawn.c reads */
	const char		*sj_path;
	char			**sj_argv;
	char			**sj_envp;
	struct cred_groups	 sj_cred;
	unsigned		 sj_rlimit_set;	/* bit per enum conf_rlimit */
	rlim_t			 sj_rlimit[CRL_COUNT];
	int			 sj_has_nice;
	int			 sj_nice;
	int			 sj_umask;	/* -1: leave it */
	char			 sj_id[128];	/* the service, for errors */
};

/*
 * A job for <rq>, its child's failures to be written on <errfd>; NULL
 * after logging.
 */
struct spawn_job	*spawn_job_make(const struct spawn_req *rq, int errfd);
/*
 * Start the child of <job>: its pid, or -1 (errno set).  <*async> says
 * whether the child may still be before its exec (the job must then wait
 * in spawn_job_park() until spawn_job_sweep() finds it done).
 */
pid_t			 spawn_job_launch(struct spawn_job *job, int *async);
void			 spawn_job_park(struct spawn_job *job);
/* Free the parked jobs whose child has exec'd or died. */
void			 spawn_job_sweep(void);
void			 spawn_job_free(struct spawn_job *job);
/* Jobs parked now (for the tests). */
size_t			 spawn_job_parked(void);

/* The child (spawn_child.c): from clone or vfork to exec. */
int			 spawn_child_main(void *job);

#endif
