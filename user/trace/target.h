/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The traced process: checked when given by PID, or started and held. */
#ifndef PL_TARGET_H
#define PL_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pl_target {
	pid_t pid;	  /* tgid as /proc numbers it: every /proc path and what we show */
	pid_t own_pid;	  /* as our PID namespace numbers it: kill(2), waitpid(2) */
	pid_t kernel_pid; /* tgid in the initial PID namespace: what the BPF side filters on */
	int pidfd;	  /* readable once the process has exited */
	bool spawned;	  /* started by us: we reap it */
	int go_fd;	  /* spawned: write end the child waits on */
	int err_fd;	  /* spawned: read end carrying exec's errno */
	bool reaped;
	int wait_status;
	char comm[64];
};

/*
 * Validates a running PID, given as the caller sees it (in its own PID
 * namespace), and finds its /proc and kernel numbers. Returns 0, or -1
 * after one line on stderr.
 */
int pl_target_attach(struct pl_target *t, pid_t pid);
/*
 * Forks CMD, held before exec until pl_target_release(). CMD is checked
 * first (found on PATH, executable), so a command that cannot run fails
 * before anything is loaded. The child dies with the tracer
 * (PR_SET_PDEATHSIG), and never runs unless released. stdout_to_stderr:
 * its stdout goes to our stderr, because our stream owns stdout. 0 or -1.
 */
int pl_target_spawn(struct pl_target *t, char **argv, bool stdout_to_stderr);
/* Lets a held child exec. Returns 0, or -1 if exec failed (line on stderr). */
int pl_target_release(struct pl_target *t);
/*
 * A spawned child stops itself at each exec (the kernel side sends SIGSTOP
 * there) so its new address space can be read while it holds still. Waits
 * for that stop: true once it is stopped, false if it is not spawned, is
 * gone, or did not stop within timeout_ns. pl_target_resume() lets it go on
 * (SIGCONT).
 */
bool pl_target_wait_stopped(struct pl_target *t, uint64_t timeout_ns);
void pl_target_resume(struct pl_target *t);
/* Non-blocking: true once the process has exited (reaps a spawned child). */
bool pl_target_exited(struct pl_target *t);
/* Ends a spawned child that is still running (SIGTERM, then reap). */
void pl_target_stop(struct pl_target *t);
void pl_target_close(struct pl_target *t);

#endif
