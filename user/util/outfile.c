// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/outfile.h"

#define TMP_SUFFIX ".partial-XXXXXX"

/*
 * stdio's own write path drops errno between the failing write() and our
 * check. Writing through a cookie keeps the first error exactly, so EPIPE
 * is told apart from ENOSPC and each gets its own ending.
 */
static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
	struct pl_outfile *o = cookie;
	size_t done = 0;

	if (o->err)
		return 0; /* failed once: stdio keeps its error flag */
	if (o->trunc_later) {
		/* The first write comes once tracing has started: only now is FILE replaced. */
		if (ftruncate(o->fd, 0) < 0) {
			o->err = errno;
			return 0;
		}
		o->trunc_later = false;
	}
	while (done < len) {
		ssize_t n = write(o->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->err = n < 0 ? errno : EIO;
			break;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int cookie_close(void *cookie)
{
	struct pl_outfile *o = cookie;

	/* Some file systems report a failed write only here (NFS, quotas). */
	if (close(o->fd) < 0 && !o->err && errno != EINTR)
		o->err = errno;
	o->fd = -1;
	return 0;
}

static int wrap_fd(struct pl_outfile *o, int fd)
{
	static const cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};

	o->fd = fd;
	o->is_tty = isatty(fd);
	o->f = fopencookie(o, "w", io);
	if (!o->f) {
		fprintf(stderr, "pageledger: cannot write %s: %s\n", o->name, strerror(errno));
		return -1;
	}
	return 0;
}

static void reset(struct pl_outfile *o, const char *name)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->name = name;
}

int pl_outfile_stdout(struct pl_outfile *o)
{
	reset(o, "stdout");
	return wrap_fd(o, STDOUT_FILENO);
}

bool pl_outfile_is_stdout(const struct pl_outfile *o)
{
	struct stat a, b;

	if (o->fd == STDOUT_FILENO)
		return true;
	if (fstat(o->fd, &a) < 0 || fstat(STDOUT_FILENO, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A file something is mounted on cannot be renamed over (EBUSY). */
static bool is_mount_point(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx) < 0)
		return false;
	return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* "dir/.name.partial-XXXXXX" beside dest. */
static char *temp_name_beside(const char *dest)
{
	const char *slash = strrchr(dest, '/');
	size_t dir_len = slash ? (size_t)(slash - dest + 1) : 0;
	size_t len = strlen(dest) + 1 + sizeof(TMP_SUFFIX);
	char *tmp = malloc(len);

	if (tmp)
		snprintf(tmp, len, "%.*s.%s" TMP_SUFFIX, (int)dir_len, dest, dest + dir_len);
	return tmp;
}

/*
 * The temporary takes what FILE would have had: an existing file's mode
 * and owner (it replaces that file), or a new file's default mode.
 */
static void give_file_mode(int fd, const struct stat *old)
{
	mode_t mask;

	if (old) {
		if (fchown(fd, old->st_uid, old->st_gid) < 0) {
			/* not root: the file stays ours, as fopen would have left it */
		}
		fchmod(fd, old->st_mode & 07777);
		return;
	}
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
}

static void drop_temp(struct pl_outfile *o)
{
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->dest);
	o->tmp = o->dest = NULL;
}

static int open_temp(struct pl_outfile *o, const char *dest, const struct stat *old)
{
	int fd;

	o->dest = strdup(dest);
	o->tmp = temp_name_beside(dest);
	if (!o->dest || !o->tmp) {
		fprintf(stderr, "pageledger: out of memory\n");
		goto fail;
	}
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pageledger: cannot write %s: %s\n", o->name, strerror(errno));
		free(o->tmp);
		o->tmp = NULL; /* not made: nothing to unlink */
		goto fail;
	}
	give_file_mode(fd, old);
	if (wrap_fd(o, fd)) {
		close(fd);
		goto fail;
	}
	return 0;
fail:
	drop_temp(o); /* a failed open holds nothing the caller must release */
	return -1;
}

/*
 * Devices, FIFOs, symbolic links, mount points: written where they are. A
 * regular file is truncated only at the first write, once tracing runs.
 */
static int open_in_place(struct pl_outfile *o, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	struct stat st;

	if (fd < 0) {
		fprintf(stderr, "pageledger: cannot write %s: %s\n", o->name, strerror(errno));
		return -1;
	}
	o->trunc_later = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (wrap_fd(o, fd)) {
		close(fd);
		return -1;
	}
	return 0;
}

int pl_outfile_open(struct pl_outfile *o, const char *path)
{
	struct stat st;

	reset(o, path);
	/*
	 * A symbolic link is opened through, not resolved and renamed over:
	 * open() applies the kernel's link protections (a root tool writing
	 * into /tmp must not follow another user's link).
	 */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return open_in_place(o, path);
	if (stat(path, &st) < 0)
		return errno == ENOENT ? open_temp(o, path, NULL) : open_in_place(o, path);
	if (!S_ISREG(st.st_mode) || is_mount_point(path))
		return open_in_place(o, path);
	return open_temp(o, path, &st);
}

/* A pipe or socket whose reader left, or a terminal that hung up. */
static bool reader_left(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

enum pl_out_state pl_outfile_state(struct pl_outfile *o)
{
	if (!o->f)
		return o->err ? PL_OUT_FAILED : PL_OUT_OK;
	fflush(o->f);
	if (o->err == EPIPE || (o->err == EIO && o->is_tty))
		return PL_OUT_READER_GONE;
	if (o->err || ferror(o->f)) {
		if (!o->err)
			o->err = EIO;
		return PL_OUT_FAILED;
	}
	return o->fd >= 0 && reader_left(o->fd) ? PL_OUT_READER_GONE : PL_OUT_OK;
}

enum pl_out_state pl_outfile_finish(struct pl_outfile *o)
{
	enum pl_out_state st = pl_outfile_state(o);

	if (o->f) {
		fclose(o->f); /* cookie_close keeps close()'s error */
		o->f = NULL;
		if (st == PL_OUT_OK && o->err)
			st = PL_OUT_FAILED;
	}
	if (st == PL_OUT_OK && o->tmp && rename(o->tmp, o->dest) < 0)
		o->err = errno, st = PL_OUT_FAILED;
	if (st == PL_OUT_FAILED)
		fprintf(stderr, "pageledger: cannot write %s: %s%s\n", o->name, strerror(o->err),
			o->tmp ? "; it is left as it was" : "");
	if (st == PL_OUT_OK && o->tmp) {
		free(o->tmp); /* renamed: nothing to remove */
		o->tmp = NULL;
	}
	drop_temp(o);
	return st;
}

void pl_outfile_discard(struct pl_outfile *o)
{
	if (o->f) {
		o->err = o->err ? o->err : ECANCELED; /* nothing more goes out */
		fclose(o->f);
		o->f = NULL;
	}
	drop_temp(o);
}
