// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "trace/pidns.h"
#include "trace/target.h"
#include "util/clock.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for a thread that leads no group */
#endif

/* For the tests only: stop (SIGSTOP) with the command held, before releasing it. */
#define ENV_STOP_BEFORE_RELEASE "PAGELEDGER_TEST_STOP_BEFORE_RELEASE"

#define MAX_NS_LEVELS 32 /* the kernel's own limit on nested PID namespaces */

struct proc_status {
	pid_t tgid;
	pid_t nstgid[MAX_NS_LEVELS]; /* the tgid from /proc's namespace down to its own */
	int n_nstgid;
	char state;
	bool has_vm; /* kernel threads have no Vm* lines */
};

static void parse_nstgid(const char *s, struct proc_status *st)
{
	char *end;

	for (st->n_nstgid = 0; st->n_nstgid < MAX_NS_LEVELS; st->n_nstgid++) {
		long v = strtol(s, &end, 10);

		if (end == s || v <= 0 || v > INT_MAX)
			break;
		st->nstgid[st->n_nstgid] = (pid_t)v;
		s = end;
	}
}

/* 0, or -1 with errno from opening /proc/PID/status. */
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
		else if (!strncmp(line, "NStgid:", 7))
			parse_nstgid(line + 7, st);
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

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

/*
 * A pidfd for what the caller named: a process, or one of its threads
 * (pidfd_open refuses a thread without PIDFD_THREAD). -1 with errno.
 */
static int open_named(pid_t pid)
{
	int fd = pidfd_open(pid, 0);

	if (fd >= 0 || errno != EINVAL)
		return fd;
	fd = pidfd_open(pid, PIDFD_THREAD);
	if (fd < 0)
		errno = ENOSYS; /* an older kernel: /proc has to tell */
	return fd;
}

/* Where /proc numbers the pidfd's task; the caller's number when /proc is its own. */
static pid_t proc_number(int pidfd, pid_t named)
{
	pid_t p = pidfd >= 0 ? pl_pidns_proc_pid(pidfd) : -1;

	if (p > 0)
		return p;
	return pl_pidns_depth_below_proc() == 0 ? named : -1;
}

/* What it is that /proc would not let us read: never "has exited" for a live process. */
static int refuse_unreadable(pid_t named, pid_t proc_pid, const char *file, int err)
{
	if (err == ENOENT || err == ESRCH)
		fprintf(stderr, "pageledger: process %d has exited\n", named);
	else
		fprintf(stderr,
			"pageledger: process %d is alive, but /proc/%d/%s cannot be read: %s\n",
			named, proc_pid, file, strerror(err));
	return -1;
}

/*
 * The symbolizer and the per-range ledger read maps and smaps: a process
 * whose /proc a security module or hidepid guards cannot be traced, and
 * is named as such.
 */
static int check_maps_readable(pid_t named, pid_t proc_pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", proc_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return refuse_unreadable(named, proc_pid, "maps", errno);
	close(fd);
	return 0;
}

/* The BPF side filters on the kernel's (initial namespace) number. */
static int find_kernel_pid(struct pl_target *t, pid_t named)
{
	pid_t k;

	if (pl_pidns_is_initial()) {
		t->kernel_pid = t->pid;
		return 0;
	}
	k = t->pidfd >= 0 ? pl_pidns_kernel_tgid(t->pidfd) : -1;
	if (k < 0) {
		fprintf(stderr,
			"pageledger: cannot find process %d in the kernel's PID namespace: %s\n",
			named, strerror(errno));
		return -1;
	}
	t->kernel_pid = k;
	return 0;
}

/*
 * A thread was named: its process is traced, its pidfd opened by its
 * number in our namespace (NStgid's entry at our depth). 0 or -1.
 */
static int switch_to_process(struct pl_target *t, pid_t named, const struct proc_status *st)
{
	int depth = pl_pidns_depth_below_proc();
	pid_t ours = depth < st->n_nstgid ? st->nstgid[depth] : st->tgid;

	fprintf(stderr, "pageledger: PID %d is a thread of process %d; tracing %d\n", named, ours,
		ours);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = pidfd_open(ours, 0);
	t->pid = st->tgid;
	t->own_pid = ours;
	if (t->pidfd < 0) {
		fprintf(stderr, "pageledger: process %d has exited\n", ours);
		return -1;
	}
	return 0;
}

static int check_status(pid_t named, pid_t proc_pid, struct proc_status *st)
{
	if (read_status(proc_pid, st) < 0)
		return refuse_unreadable(named, proc_pid, "status", errno);
	if (st->state == 'Z' || st->state == 'X') {
		fprintf(stderr, "pageledger: process %d has exited\n", named);
		return -1;
	}
	if (!st->has_vm) {
		fprintf(stderr, "pageledger: PID %d is a kernel thread: it has no user memory\n",
			named);
		return -1;
	}
	return 0;
}

int pl_target_attach(struct pl_target *t, pid_t pid)
{
	struct proc_status st;

	target_reset(t);
	t->own_pid = pid;
	t->pidfd = open_named(pid);
	if (t->pidfd < 0 && errno == ESRCH) {
		fprintf(stderr, "pageledger: no process with PID %d\n", pid);
		return -1;
	}
	t->pid = proc_number(t->pidfd, pid);
	if (t->pid < 0) {
		fprintf(stderr, "pageledger: process %d is not in this /proc's PID namespace\n",
			pid);
		return -1;
	}
	if (check_status(pid, t->pid, &st))
		return -1;
	if (st.tgid && st.tgid != t->pid && switch_to_process(t, pid, &st))
		return -1;
	if (t->pidfd < 0) {
		fprintf(stderr, "pageledger: process %d has exited\n", pid);
		return -1;
	}
	if (check_maps_readable(pid, t->pid) || find_kernel_pid(t, pid))
		return -1;
	read_comm(t->pid, t->comm, sizeof(t->comm));
	return 0;
}

/* Why path cannot be exec'd, as execve would say it, or 0. */
static int exec_error(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return EACCES;
	return access(path, X_OK) < 0 ? errno : 0;
}

/*
 * Whether execvp(name) can find something to run: the same search (a name
 * with a slash is a path; else PATH, "/bin:/usr/bin" when unset, an empty
 * entry meaning the current directory). 0, or the errno execvp would give.
 */
static int command_error(const char *name)
{
	const char *dirs = getenv("PATH");
	char path[PATH_MAX];
	int err = ENOENT;

	if (!*name)
		return ENOENT;
	if (strchr(name, '/'))
		return exec_error(name);
	if (!dirs)
		dirs = "/bin:/usr/bin";
	for (const char *d = dirs;; d++) {
		size_t len = strcspn(d, ":");
		int n = snprintf(path, sizeof(path), "%.*s%s%s", (int)len, d, len ? "/" : "", name);

		if (n > 0 && (size_t)n < sizeof(path)) {
			int e = exec_error(path);

			if (!e)
				return 0;
			if (e == EACCES)
				err = EACCES; /* as execvp: a match we may not run beats none */
		}
		d += len;
		if (!*d)
			return err;
	}
}

/* Child side: wait for the go byte, then exec; report exec's errno. */
static void __attribute__((noreturn))
run_held_child(int go_fd, int err_fd, char **argv, pid_t tracer, bool stdout_to_stderr)
{
	ssize_t n;
	char go;
	int err;

	/* Never outlive the tracer: untraced, the command must not run on. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != tracer)
		_exit(127); /* it died before prctl took */
	do
		n = read(go_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	/* EOF: the tracer died or gave up before attaching. Never run untraced. */
	if (n != 1)
		_exit(127);
	close(go_fd);
	signal(SIGPIPE, SIG_DFL); /* ignored by the tracer: not by what it starts */
	if (stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		err = errno;
	else {
		execvp(argv[0], argv);
		err = errno;
	}
	if (write(err_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int pl_target_spawn(struct pl_target *t, char **argv, bool stdout_to_stderr)
{
	int go[2], err[2], cmd_err;
	pid_t pid, tracer = getpid();

	target_reset(t);
	cmd_err = command_error(argv[0]);
	if (cmd_err) {
		fprintf(stderr, "pageledger: cannot run '%s': %s\n", argv[0], strerror(cmd_err));
		return -1;
	}
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
		run_held_child(go[0], err[1], argv, tracer, stdout_to_stderr);
	}
	close(go[0]);
	close(err[1]);
	t->spawned = true;
	t->own_pid = pid;
	t->go_fd = go[1];
	t->err_fd = err[0];
	t->pidfd = pidfd_open(pid, 0);
	t->pid = proc_number(t->pidfd, pid);
	snprintf(t->comm, sizeof(t->comm), "%s", argv[0]);
	if (t->pid < 0) {
		fprintf(stderr, "pageledger: the command's process is not in this /proc\n");
		return -1;
	}
	return find_kernel_pid(t, pid);
}

int pl_target_release(struct pl_target *t)
{
	int child_errno = 0;
	ssize_t n;

	if (!t->spawned || t->go_fd < 0)
		return 0;
	if (getenv(ENV_STOP_BEFORE_RELEASE))
		raise(SIGSTOP);
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
		if (waitpid(t->own_pid, &status, WNOHANG) == t->own_pid) {
			t->reaped = true;
			t->wait_status = status;
			return true;
		}
		return false;
	}
	if (t->pidfd < 0)
		return kill(t->own_pid, 0) < 0 && errno == ESRCH;
	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

bool pl_target_wait_stopped(struct pl_target *t, uint64_t timeout_ns)
{
	struct timespec pause = {.tv_nsec = 100 * 1000};
	uint64_t deadline = pl_now_ns() + timeout_ns;

	if (!t->spawned || t->reaped)
		return false;
	/* WNOWAIT: the stop is seen, not consumed; the exit is left for pl_target_exited(). */
	do {
		siginfo_t info = {0};

		if (waitid(P_PID, (id_t)t->own_pid, &info, WSTOPPED | WEXITED | WNOHANG | WNOWAIT))
			return false;
		if (info.si_pid == t->own_pid)
			return info.si_code == CLD_STOPPED;
		nanosleep(&pause, NULL);
	} while (pl_now_ns() < deadline);
	return false;
}

void pl_target_resume(struct pl_target *t)
{
	if (t->spawned && !t->reaped)
		kill(t->own_pid, SIGCONT);
}

void pl_target_stop(struct pl_target *t)
{
	struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};

	if (!t->spawned || t->reaped)
		return;
	if (t->go_fd >= 0) {
		/* Never released: let it go only to be killed. */
		kill(t->own_pid, SIGKILL);
	} else {
		kill(t->own_pid, SIGTERM);
	}
	for (int i = 0; i < 200 && !pl_target_exited(t); i++)
		nanosleep(&pause, NULL);
	if (!t->reaped) {
		kill(t->own_pid, SIGKILL);
		if (waitpid(t->own_pid, &t->wait_status, 0) == t->own_pid)
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
