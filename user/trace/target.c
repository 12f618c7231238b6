// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "trace/target.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct proc_status {
	pid_t tgid;
	char state;
	bool has_vm; /* kernel threads have no Vm* lines */
};

static int read_status(pid_t pid, struct proc_status *st)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Tgid:", 5))
			st->tgid = (pid_t)strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "State:", 6))
			sscanf(line + 6, " %c", &st->state);
		else if (!strncmp(line, "VmSize:", 7))
			st->has_vm = true;
	}
	fclose(f);
	return 0;
}

static void read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void target_reset(struct pl_target *t)
{
	memset(t, 0, sizeof(*t));
	t->pidfd = t->go_fd = t->err_fd = -1;
}

int pl_target_attach(struct pl_target *t, pid_t pid)
{
	struct proc_status st;

	target_reset(t);
	if (read_status(pid, &st) < 0) {
		fprintf(stderr, "pageledger: no process with PID %d\n", pid);
		return -1;
	}
	if (st.state == 'Z' || st.state == 'X') {
		fprintf(stderr, "pageledger: process %d has exited\n", pid);
		return -1;
	}
	if (!st.has_vm) {
		fprintf(stderr, "pageledger: PID %d is a kernel thread: it has no user memory\n",
			pid);
		return -1;
	}
	if (st.tgid && st.tgid != pid) {
		fprintf(stderr, "pageledger: PID %d is a thread of process %d; tracing %d\n", pid,
			st.tgid, st.tgid);
		pid = st.tgid;
	}
	t->pid = pid;
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0) {
		fprintf(stderr, "pageledger: process %d has exited\n", pid);
		return -1;
	}
	read_comm(pid, t->comm, sizeof(t->comm));
	return 0;
}

/* Child side: wait for the go byte, then exec; report exec's errno. */
static void __attribute__((noreturn)) run_held_child(int go_fd, int err_fd, char **argv)
{
	char go;
	int err;

	while (read(go_fd, &go, 1) < 0 && errno == EINTR)
		;
	close(go_fd);
	signal(SIGPIPE, SIG_DFL); /* ignored by the tracer: not by what it starts */
	execvp(argv[0], argv);
	err = errno;
	if (write(err_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int pl_target_spawn(struct pl_target *t, char **argv)
{
	int go[2], err[2];
	pid_t pid;

	target_reset(t);
	if (pipe2(go, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		fprintf(stderr, "pageledger: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pageledger: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(go[1]);
		close(err[0]);
		run_held_child(go[0], err[1], argv);
	}
	close(go[0]);
	close(err[1]);
	t->pid = pid;
	t->spawned = true;
	t->go_fd = go[1];
	t->err_fd = err[0];
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	snprintf(t->comm, sizeof(t->comm), "%s", argv[0]);
	return 0;
}

int pl_target_release(struct pl_target *t)
{
	int child_errno = 0;
	ssize_t n;

	if (!t->spawned || t->go_fd < 0)
		return 0;
	if (write(t->go_fd, "g", 1) != 1) {
		fprintf(stderr, "pageledger: cannot start the command: %s\n", strerror(errno));
		return -1;
	}
	close(t->go_fd);
	t->go_fd = -1;
	/* EOF means exec succeeded and closed the CLOEXEC pipe. */
	do
		n = read(t->err_fd, &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(t->err_fd);
	t->err_fd = -1;
	if (n == (ssize_t)sizeof(child_errno)) {
		fprintf(stderr, "pageledger: cannot run '%s': %s\n", t->comm,
			strerror(child_errno));
		pl_target_exited(t);
		return -1;
	}
	return 0;
}

bool pl_target_exited(struct pl_target *t)
{
	struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
	int status;

	if (t->reaped)
		return true;
	if (t->spawned) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->reaped = true;
			t->wait_status = status;
			return true;
		}
		return false;
	}
	if (t->pidfd < 0)
		return kill(t->pid, 0) < 0 && errno == ESRCH;
	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

void pl_target_stop(struct pl_target *t)
{
	struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};

	if (!t->spawned || t->reaped)
		return;
	if (t->go_fd >= 0) {
		/* Never released: let it go only to be killed. */
		kill(t->pid, SIGKILL);
	} else {
		kill(t->pid, SIGTERM);
	}
	for (int i = 0; i < 200 && !pl_target_exited(t); i++)
		nanosleep(&pause, NULL);
	if (!t->reaped) {
		kill(t->pid, SIGKILL);
		if (waitpid(t->pid, &t->wait_status, 0) == t->pid)
			t->reaped = true;
	}
}

void pl_target_close(struct pl_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->go_fd >= 0)
		close(t->go_fd);
	if (t->err_fd >= 0)
		close(t->err_fd);
	t->pidfd = t->go_fd = t->err_fd = -1;
}
