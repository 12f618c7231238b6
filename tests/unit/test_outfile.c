// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for user/util/outfile.c: FILE is replaced only by a whole,
 * successful output; a failed write is told apart from a reader who left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "util/outfile.h"

struct dir {
	char path[64];
	char file[128];
};

static void make_dir(struct dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/test_outfile.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->file, sizeof(d->file), "%s/out.jsonl", d->path);
}

/* Entries in the directory, not counting . and .. */
static int entries(const struct dir *d)
{
	DIR *dir = opendir(d->path);
	struct dirent *e;
	int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dir);
	return n;
}

static void remove_dir(struct dir *d)
{
	unlink(d->file);
	assert_int_equal(entries(d), 0); /* no temporary left behind */
	rmdir(d->path);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void assert_file_is(const char *path, const char *want)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, want);
}

static void test_new_file_appears_only_when_finished(void **state)
{
	struct pl_outfile o;
	struct stat st;
	struct dir d;
	mode_t mask = umask(022);

	(void)state;
	make_dir(&d);
	assert_int_equal(pl_outfile_open(&o, d.file), 0);
	assert_non_null(o.tmp);
	fputs("{\"type\":\"start\"}\n", o.f);
	assert_int_equal(pl_outfile_state(&o), PL_OUT_OK);
	assert_int_equal(access(d.file, F_OK), -1); /* not there while the run goes on */
	assert_int_equal(entries(&d), 1);	    /* only the temporary */
	assert_int_equal(pl_outfile_finish(&o), PL_OUT_OK);
	assert_file_is(d.file, "{\"type\":\"start\"}\n");
	assert_int_equal(stat(d.file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* what fopen would have made */
	umask(mask);
	remove_dir(&d);
}

static void test_existing_file_kept_until_finished(void **state)
{
	struct pl_outfile o;
	struct stat st;
	struct dir d;

	(void)state;
	make_dir(&d);
	write_file(d.file, "old\n");
	assert_int_equal(chmod(d.file, 0600), 0);
	assert_int_equal(pl_outfile_open(&o, d.file), 0);
	fputs("new\n", o.f);
	assert_int_equal(pl_outfile_state(&o), PL_OUT_OK);
	assert_file_is(d.file, "old\n");
	assert_int_equal(pl_outfile_finish(&o), PL_OUT_OK);
	assert_file_is(d.file, "new\n");
	assert_int_equal(stat(d.file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* the old file's mode carries over */
	remove_dir(&d);
}

static void test_discard_leaves_file_as_it_was(void **state)
{
	struct pl_outfile o;
	struct dir d;

	(void)state;
	make_dir(&d);
	write_file(d.file, "old\n");
	assert_int_equal(pl_outfile_open(&o, d.file), 0);
	fputs("half a run\n", o.f);
	pl_outfile_discard(&o);
	assert_file_is(d.file, "old\n");
	assert_int_equal(entries(&d), 1);
	remove_dir(&d);

	make_dir(&d);
	assert_int_equal(pl_outfile_open(&o, d.file), 0);
	pl_outfile_discard(&o);
	assert_int_equal(access(d.file, F_OK), -1);
	remove_dir(&d);
}

/*
 * A link is written through in place (open() keeps the kernel's link
 * protections): the file it names keeps its content until the first write,
 * which comes once tracing runs.
 */
static void test_symlink_is_written_through(void **state)
{
	char link[160];
	struct pl_outfile o;
	struct stat st;
	struct dir d;

	(void)state;
	make_dir(&d);
	write_file(d.file, "the old, longer content\n");
	snprintf(link, sizeof(link), "%s/link", d.path);
	assert_int_equal(symlink(d.file, link), 0);
	assert_int_equal(pl_outfile_open(&o, link), 0);
	assert_null(o.tmp);
	assert_file_is(d.file, "the old, longer content\n"); /* nothing truncated at open */
	fputs("new\n", o.f);
	assert_int_equal(pl_outfile_finish(&o), PL_OUT_OK);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* still a link */
	assert_file_is(d.file, "new\n");

	assert_int_equal(pl_outfile_open(&o, link), 0);
	pl_outfile_discard(&o); /* a run that never started */
	assert_file_is(d.file, "new\n");
	unlink(link);
	remove_dir(&d);
}

static void test_device_full_fails(void **state)
{
	struct pl_outfile o;

	(void)state;
	assert_int_equal(pl_outfile_open(&o, "/dev/full"), 0);
	assert_null(o.tmp); /* a device is written in place */
	fputs("x\n", o.f);
	assert_int_equal(pl_outfile_state(&o), PL_OUT_FAILED);
	assert_int_equal(o.err, ENOSPC);
	assert_int_equal(pl_outfile_finish(&o), PL_OUT_FAILED);
}

static void test_failed_write_keeps_old_file(void **state)
{
	struct pl_outfile o;
	struct dir d;
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);

	(void)state;
	assert_true(full >= 0);
	make_dir(&d);
	write_file(d.file, "old\n");
	assert_int_equal(pl_outfile_open(&o, d.file), 0);
	/* The temporary's descriptor swapped for /dev/full: a disk that filled up. */
	assert_int_equal(dup2(full, o.fd), o.fd);
	close(full);
	fputs("new\n", o.f);
	assert_int_equal(pl_outfile_finish(&o), PL_OUT_FAILED);
	assert_file_is(d.file, "old\n");
	remove_dir(&d);
}

static void test_closed_pipe_is_reader_gone(void **state)
{
	struct pl_outfile o;
	char path[64];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	assert_int_equal(pl_outfile_open(&o, path), 0); /* a pipe: written in place */
	close(p[1]);
	/* Not yet written to: the reader's leaving is seen all the same. */
	assert_int_equal(pl_outfile_state(&o), PL_OUT_OK);
	close(p[0]);
	assert_int_equal(pl_outfile_state(&o), PL_OUT_READER_GONE);
	fputs("x\n", o.f); /* and a write gets EPIPE (SIGPIPE ignored) */
	assert_int_equal(pl_outfile_state(&o), PL_OUT_READER_GONE);
	assert_int_equal(o.err, EPIPE);
	assert_int_equal(pl_outfile_finish(&o), PL_OUT_READER_GONE);
}

static void test_unwritable_directory_fails_at_open(void **state)
{
	struct pl_outfile o;

	(void)state;
	assert_int_equal(pl_outfile_open(&o, "/nonexistent-dir/out.jsonl"), -1);
	assert_null(o.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_file_appears_only_when_finished),
	    cmocka_unit_test(test_existing_file_kept_until_finished),
	    cmocka_unit_test(test_discard_leaves_file_as_it_was),
	    cmocka_unit_test(test_symlink_is_written_through),
	    cmocka_unit_test(test_device_full_fails),
	    cmocka_unit_test(test_failed_write_keeps_old_file),
	    cmocka_unit_test(test_closed_pipe_is_reader_gone),
	    cmocka_unit_test(test_unwritable_directory_fails_at_open),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
