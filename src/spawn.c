/*
 * Spawning local servers and reaping them.  A job (spawn_job.c) holds what
 * the child needs; the child starts without the parent waiting for its
 * exec and does the rest itself (spawn_child.c).  What goes wrong in the
 * child is written to a pipe that the parent reads when it reaps.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "rbtree.h"
#include "shared.h"
#include "spawn.h"
#include "spawn_job.h"

struct child {
	RB_ENTRY(child)	 ch_node;
	pid_t		 ch_pid;
	spawn_exit_cb	 ch_exited;
	void		*ch_arg;
};

RB_HEAD(child_tree, child);

static int
child_cmp(struct child *a, struct child *b)
{
	return a->ch_pid < b->ch_pid ? -1 : a->ch_pid > b->ch_pid;
}

PG_RB_GENERATE_STATIC(child_tree, child, ch_node, child_cmp)

static struct child_tree	children = RB_INITIALIZER(&children);
static int			nchildren;
static struct shared_counter	*spawn_count;	/* nchildren, for workers */
static int			spawn_limit;
static int			spawn_errpipe[2] = { -1, -1 };
static spawn_exit_cb		spawn_other;	/* reaps what it did not spawn */
static void			*spawn_other_arg;

int
spawn_init(int limit)
{
	spawn_limit = limit;
	/* The workers ask spawn_full() before they ask the master to spawn. */
	if (spawn_count == NULL && (spawn_count = shared_counter_new()) ==
	    NULL)
		return -1;
	if (spawn_errpipe[0] == -1 &&
	    pipe2(spawn_errpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

int
spawn_full(void)
{
	return spawn_limit > 0 && (spawn_count != NULL ?
	    shared_counter_sum(spawn_count) : nchildren) >= spawn_limit;
}

int
spawn_running(void)
{
	return nchildren;
}

pid_t
spawn_start(const struct spawn_req *rq)
{
	struct spawn_job	*job;
	struct child		*ch;
	sigset_t		 all, old;
	pid_t			 pid;
	int			 async, err;

	spawn_job_sweep();
	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		log_warn("service %s: spawn", rq->sq_conf->sc_id);
		return -1;
	}
	if ((job = spawn_job_make(rq, spawn_errpipe[1])) == NULL) {
		free(ch);
		return -1;
	}
	/*
	 * A signal between the clone and the child's reset of its handlers
	 * would run the daemon's handler in the child: block them all until
	 * the child has reset (spawn_child_main() unblocks).
	 */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	/* Counted before it runs: a worker asks before its client can. */
	if (spawn_count != NULL)
		shared_counter_add(spawn_count, 1);
	pid = spawn_job_launch(job, &async);
	err = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		errno = err;
		log_warn("service %s: fork", rq->sq_conf->sc_id);
		if (spawn_count != NULL)
			shared_counter_add(spawn_count, -1);
		spawn_job_free(job);
		free(ch);
		return -1;
	}
	if (async)
		spawn_job_park(job);
	else
		spawn_job_free(job);
	ch->ch_pid = pid;
	ch->ch_exited = rq->sq_exited;
	ch->ch_arg = rq->sq_arg;
	RB_INSERT(child_tree, &children, ch);
	nchildren++;
	return pid;
}

/* Log one "PID ERRNO service ID: WHAT" line of a failed child. */
static void
spawn_log_error(const char *line)
{
	char	*end;
	long	 pid, err;

	pid = strtol(line, &end, 10);
	if (*end == ' ') {
		err = strtol(end + 1, &end, 10);
		if (*end == ' ' && err > 0 && err < 4096) {
			log_warnx("server pid %ld%s: %s", pid, end,
			    strerror((int)err));
			return;
		}
	}
	log_warnx("server pid %s", line);
}

/* Log what failed children wrote before exiting. */
static void
spawn_read_errors(void)
{
	char	buf[4096], *line, *next;
	ssize_t	n;

	while ((n = read(spawn_errpipe[0], buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (line = buf; *line != '\0'; line = next) {
			next = line + strcspn(line, "\n");
			if (*next != '\0')
				*next++ = '\0';
			spawn_log_error(line);
		}
	}
}

void
spawn_reap(void)
{
	struct child	 find, *ch;
	pid_t		 pid;
	int		 status;

	spawn_read_errors();
	spawn_job_sweep();
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		find.ch_pid = pid;
		if ((ch = RB_FIND(child_tree, &children, &find)) == NULL) {
			if (spawn_other != NULL)
				spawn_other(spawn_other_arg, pid, status);
			continue;
		}
		RB_REMOVE(child_tree, &children, ch);
		nchildren--;
		if (spawn_count != NULL)
			shared_counter_add(spawn_count, -1);
		ch->ch_exited(ch->ch_arg, pid, status);
		free(ch);
	}
}

void
spawn_set_other(spawn_exit_cb cb, void *arg)
{
	spawn_other = cb;
	spawn_other_arg = arg;
}

void
spawn_signal_all(int sig)
{
	struct child	*ch;

	RB_FOREACH(ch, child_tree, &children)
		if (kill(-ch->ch_pid, sig) == -1)
			(void)kill(ch->ch_pid, sig);
}
