// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for user/cli.c: the number parsers and the argp command line. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "cli.h"
#include "events.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* ---- number parsers -------------------------------------------------------- */

static void test_parse_pid(void **state)
{
	pid_t pid = -7;

	(void)state;
	assert_int_equal(pl_parse_pid("123", &pid), 0);
	assert_int_equal(pid, 123);
	assert_int_equal(pl_parse_pid("2147483647", &pid), 0);
	assert_int_equal(pid, 2147483647);

	pid = -7;
	assert_int_equal(pl_parse_pid("0", &pid), -1);
	assert_int_equal(pl_parse_pid("-5", &pid), -1);
	assert_int_equal(pl_parse_pid("12x", &pid), -1);
	assert_int_equal(pl_parse_pid("12 ", &pid), -1);
	assert_int_equal(pl_parse_pid("2147483648", &pid), -1);
	assert_int_equal(pl_parse_pid("99999999999999999999", &pid), -1);
	assert_int_equal(pl_parse_pid("", &pid), -1);
	/* strtol alone would take these: a blank, a sign. */
	assert_int_equal(pl_parse_pid(" 12", &pid), -1);
	assert_int_equal(pl_parse_pid("\t12", &pid), -1);
	assert_int_equal(pl_parse_pid("+5", &pid), -1);
	assert_int_equal(pl_parse_pid("0x10", &pid), -1);
	assert_int_equal(pid, -7); /* untouched on failure */
}

#define NS 1000000000ull

static void check_duration(const char *s, uint64_t want_ns)
{
	uint64_t ns = 0;

	if (pl_parse_duration(s, &ns) != 0)
		fail_msg("pl_parse_duration(\"%s\") rejected a valid duration", s);
	assert_int_equal(ns, want_ns);
}

static void check_bad_duration(const char *s)
{
	uint64_t ns = 12345;

	if (pl_parse_duration(s, &ns) != -1)
		fail_msg("pl_parse_duration(\"%s\") accepted a bad duration", s);
	assert_int_equal(ns, 12345); /* untouched on failure */
}

static void test_parse_duration(void **state)
{
	(void)state;
	check_duration("30", 30 * NS);
	check_duration("1", NS);
	check_duration("0.1", NS / 10);
	check_duration("0.5", NS / 2);
	check_duration("2.25", 2 * NS + NS / 4);
	check_duration("0.000000001", 1); /* one nanosecond */
	check_duration("1.999999999", 2 * NS - 1);
	check_duration("007", 7 * NS);
	check_duration("31536000", 31536000 * NS); /* one year */
	check_duration("31536000.0", 31536000 * NS);
}

static void test_parse_duration_rejects(void **state)
{
	(void)state;
	check_bad_duration("0");
	check_bad_duration("0.0");
	check_bad_duration("0.0000000001"); /* finer than a nanosecond */
	check_bad_duration("31536000.000000001");
	check_bad_duration("31536001");
	check_bad_duration("99999999999999999999");
	check_bad_duration("-1");
	check_bad_duration("+1");
	check_bad_duration(" 1");
	check_bad_duration("1 ");
	check_bad_duration("");
	check_bad_duration(".5");
	check_bad_duration("1.");
	check_bad_duration("1..5");
	check_bad_duration("1.5.2");
	check_bad_duration("1e3");
	check_bad_duration("1,5");
	check_bad_duration("5s");
	check_bad_duration("0x10");
	check_bad_duration("inf");
	check_bad_duration("nan");
}

static void check_size(const char *s, uint64_t want)
{
	uint64_t v = 0;

	if (pl_parse_size(s, &v) != 0)
		fail_msg("pl_parse_size(\"%s\") rejected a valid size", s);
	assert_int_equal(v, want);
}

static void check_bad_size(const char *s)
{
	uint64_t v = 12345;

	if (pl_parse_size(s, &v) != -1)
		fail_msg("pl_parse_size(\"%s\") accepted a bad size", s);
	assert_int_equal(v, 12345);
}

static void test_parse_size(void **state)
{
	(void)state;
	check_size("4096", 4096);
	check_size("0", 0);
	check_size("64K", 64 * KIB);
	check_size("64k", 64 * KIB);
	check_size("4M", 4 * MIB);
	check_size("1G", GIB);
	check_size("4MiB", 4 * MIB);
	check_size("4MB", 4 * MIB);
	check_size("16GiB", 16 * GIB);
	check_size("18446744073709551615", UINT64_MAX);
}

static void test_parse_size_rejects(void **state)
{
	(void)state;
	check_bad_size("4X");
	check_bad_size("4B");
	check_bad_size("4Mi");
	check_bad_size("4MBB");
	check_bad_size("4M ");
	check_bad_size("-1");
	check_bad_size("+1");
	check_bad_size(" -1"); /* strtoull would wrap this to UINT64_MAX */
	check_bad_size("");
	check_bad_size("K");
	check_bad_size("99999999999G");
	check_bad_size("18446744073709551616");
}

static void test_round_pow2(void **state)
{
	(void)state;
	assert_int_equal(pl_round_pow2(1), 1);
	assert_int_equal(pl_round_pow2(3), 4);
	assert_int_equal(pl_round_pow2(4095), 4096);
	assert_int_equal(pl_round_pow2(4096), 4096);
	assert_int_equal(pl_round_pow2(4097), 8192);
	assert_int_equal(pl_round_pow2(5 * MIB), 8 * MIB);
	assert_int_equal(pl_round_pow2(GIB), GIB);
}

/* ---- pl_cli_parse ---------------------------------------------------------- */

#define MAX_ARGS 16

/* A writable, NULL-terminated argv the test owns: argp may permute it. */
struct args {
	int argc;
	char *argv[MAX_ARGS + 1];
	char store[MAX_ARGS][32];
};

static int parse_args(struct args *a, struct pl_config *cfg, ...)
{
	const char *s = "pageledger";
	va_list ap;

	memset(a, 0, sizeof(*a));
	va_start(ap, cfg);
	while (s) {
		assert_true(a->argc < MAX_ARGS);
		assert_true(strlen(s) < sizeof(a->store[0]));
		strcpy(a->store[a->argc], s);
		a->argv[a->argc] = a->store[a->argc];
		a->argc++;
		s = va_arg(ap, const char *);
	}
	va_end(ap);
	return pl_cli_parse(a->argc, a->argv, cfg);
}

/* Parses "pageledger ARG..." into cfg; a must outlive the use of cfg->cmd. */
#define PARSE(a, cfg, ...) parse_args(a, cfg, __VA_ARGS__, (const char *)NULL)

static void test_cli_pid(void **state)
{
	struct pl_config cfg;
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, &cfg, "-p", "123"), PL_EXIT_OK);
	assert_int_equal(cfg.pid, 123);
	assert_null(cfg.cmd);
	assert_int_equal(cfg.duration_ns, 0);
	assert_false(cfg.json);
	assert_false(cfg.quiet);
	assert_false(cfg.help_shown);
	assert_null(cfg.out_path);
	assert_int_equal(cfg.ringbuf_size, PL_DEFAULT_RINGBUF);

	assert_int_equal(PARSE(&a, &cfg, "--pid=77", "-d", "30", "-v"), PL_EXIT_OK);
	assert_int_equal(cfg.pid, 77);
	assert_int_equal(cfg.duration_ns, 30 * NS);
	assert_true(cfg.verbose);
}

static void test_cli_fractional_durations(void **state)
{
	struct pl_config cfg;
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, &cfg, "-d", "0.1", "-i", "0.5", "-p", "1"), PL_EXIT_OK);
	assert_int_equal(cfg.duration_ns, NS / 10);
	assert_int_equal(cfg.interval_ns, NS / 2);
	assert_int_equal(PARSE(&a, &cfg, "-d", "1.", "-p", "1"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-i", "0", "-p", "1"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-i", "1e3", "-p", "1"), PL_EXIT_USAGE);
}

static void test_cli_stacks_needs_text(void **state)
{
	struct pl_config cfg;
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, &cfg, "--stacks", "-j", "-p", "1"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-j", "--stacks", "-p", "1"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "--stacks", "-p", "1"), PL_EXIT_OK);
	assert_true(cfg.stacks);
}

static void test_cli_bad_values(void **state)
{
	struct pl_config cfg;
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, &cfg, "-p", "abc"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "0"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", " 12"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "+5"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "1", "-d", "0"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "1", "-b", "1K"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "1", "-b", "2G"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "1", "-b", "4X"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "1", "-z"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p"), PL_EXIT_USAGE);
}

/* -e, --min-size, -t: which calls the outputs show; bad values are usage errors. */
static void test_cli_filters(void **state)
{
	struct pl_config cfg;
	struct args a;
	struct pl_filter *f = &cfg.filter;

	(void)state;
	assert_int_equal(PARSE(&a, &cfg, "-p", "1"), PL_EXIT_OK);
	assert_int_equal(f->sys_mask, 0);
	assert_true(pl_filter_shows(f, PL_SYS_BRK, 0, 7));
	assert_int_equal(
	    PARSE(&a, &cfg, "-e", "madvise,munmap", "--min-size", "1M", "-t", "42", "-p", "1"),
	    PL_EXIT_OK);
	assert_int_equal(f->sys_mask, (1u << PL_SYS_MADVISE) | (1u << PL_SYS_MUNMAP));
	assert_int_equal(f->min_len, 1u << 20);
	assert_int_equal(f->tid, 42);
	assert_true(pl_filter_shows(f, PL_SYS_MADVISE, 1u << 20, 42));
	assert_false(pl_filter_shows(f, PL_SYS_MADVISE, (1u << 20) - 1, 42)); /* too small */
	assert_false(pl_filter_shows(f, PL_SYS_MMAP, 1u << 20, 42));	      /* not listed */
	assert_false(pl_filter_shows(f, PL_SYS_MUNMAP, 1u << 20, 43));	      /* other thread */
	assert_false(pl_filter_shows(f, PL_SYS_NR + 40, 1u << 20, 42));
	assert_int_equal(PARSE(&a, &cfg, "-e", "process_madvise", "-p", "1"), PL_EXIT_OK);
	assert_int_equal(f->sys_mask, 1u << PL_SYS_PROCESS_MADVISE);
	static const char *const bad[][2] = {
	    {"-e", ""},		  {"-e", "madvise,"},
	    {"-e", ",madvise"},	  {"-e", "madvise,,brk"},
	    {"-e", "mad"},	  {"-e", "madvise,read"},
	    {"-e", "MADVISE"},	  {"--min-size", "1X"},
	    {"--min-size", "-1"}, {"--min-size", " 4K"},
	    {"-t", "0"},	  {"-t", "+3"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(PARSE(&a, &cfg, bad[i][0], bad[i][1], "-p", "1"), PL_EXIT_USAGE);
}

static void test_cli_needs_exactly_one_target(void **state)
{
	struct pl_config cfg;
	struct args a;

	(void)state;
	assert_int_equal(parse_args(&a, &cfg, (const char *)NULL), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-j"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "1", "--", "ls"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, &cfg, "-p", "1", "ls"), PL_EXIT_USAGE);
}

static void test_cli_ringbuf_rounds_up(void **state)
{
	struct pl_config cfg;
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, &cfg, "-b", "5M", "-p", "1"), PL_EXIT_OK);
	assert_int_equal(cfg.ringbuf_size, 8 * MIB);
	assert_int_equal(PARSE(&a, &cfg, "-b", "4K", "-p", "1"), PL_EXIT_OK);
	assert_int_equal(cfg.ringbuf_size, 4 * KIB);
	assert_int_equal(PARSE(&a, &cfg, "--ringbuf-size", "1G", "-p", "1"), PL_EXIT_OK);
	assert_int_equal(cfg.ringbuf_size, GIB);
}

static void test_cli_command_after_dashes(void **state)
{
	struct pl_config cfg;
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, &cfg, "-j", "-q", "-o", "f", "--", "ls", "-l"), PL_EXIT_OK);
	assert_true(cfg.json);
	assert_true(cfg.quiet);
	assert_string_equal(cfg.out_path, "f");
	assert_int_equal(cfg.pid, 0);
	assert_non_null(cfg.cmd);
	assert_string_equal(cfg.cmd[0], "ls");
	assert_string_equal(cfg.cmd[1], "-l");
	assert_null(cfg.cmd[2]);
}

static void test_cli_command_without_dashes(void **state)
{
	struct pl_config cfg;
	struct args a;

	(void)state;
	/* The first non-option starts the command; its own options stay with it. */
	assert_int_equal(PARSE(&a, &cfg, "-q", "ls", "-l", "-p", "9"), PL_EXIT_OK);
	assert_true(cfg.quiet);
	assert_int_equal(cfg.pid, 0);
	assert_string_equal(cfg.cmd[0], "ls");
	assert_string_equal(cfg.cmd[1], "-l");
	assert_string_equal(cfg.cmd[2], "-p");
	assert_string_equal(cfg.cmd[3], "9");
	assert_null(cfg.cmd[4]);
}

static void test_cli_help_needs_no_target(void **state)
{
	struct pl_config cfg;
	struct args a;
	int saved = dup(STDOUT_FILENO);
	int null = open("/dev/null", O_WRONLY);
	int rc_help, rc_usage;
	bool shown_help;

	(void)state;
	assert_true(saved >= 0 && null >= 0);
	fflush(stdout);
	dup2(null, STDOUT_FILENO);
	rc_help = PARSE(&a, &cfg, "--help");
	shown_help = cfg.help_shown;
	rc_usage = PARSE(&a, &cfg, "--usage");
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(null);

	assert_int_equal(rc_help, PL_EXIT_OK);
	assert_true(shown_help);
	assert_int_equal(rc_usage, PL_EXIT_OK);
	assert_true(cfg.help_shown);
}

/* --version prints "pageledger VERSION" on stdout and needs no target. */
static void test_cli_version(void **state)
{
	char path[] = "/tmp/test_cli_version.XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(STDOUT_FILENO);
	struct pl_config cfg;
	struct args a;
	char buf[64] = "";
	int rc_long, rc_short;
	ssize_t n;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	rc_long = PARSE(&a, &cfg, "--version");
	rc_short = PARSE(&a, &cfg, "-V");
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);

	assert_int_equal(rc_long, PL_EXIT_OK);
	assert_int_equal(rc_short, PL_EXIT_OK);
	assert_true(cfg.help_shown);
	assert_true(n > 0);
	assert_string_equal(buf, "pageledger " PL_VERSION "\npageledger " PL_VERSION "\n");
}

int main(void)
{
	const struct CMUnitTest cli_tests[] = {
	    cmocka_unit_test(test_parse_pid),
	    cmocka_unit_test(test_parse_duration),
	    cmocka_unit_test(test_parse_duration_rejects),
	    cmocka_unit_test(test_parse_size),
	    cmocka_unit_test(test_parse_size_rejects),
	    cmocka_unit_test(test_round_pow2),
	    cmocka_unit_test(test_cli_pid),
	    cmocka_unit_test(test_cli_fractional_durations),
	    cmocka_unit_test(test_cli_stacks_needs_text),
	    cmocka_unit_test(test_cli_bad_values),
	    cmocka_unit_test(test_cli_filters),
	    cmocka_unit_test(test_cli_needs_exactly_one_target),
	    cmocka_unit_test(test_cli_ringbuf_rounds_up),
	    cmocka_unit_test(test_cli_command_after_dashes),
	    cmocka_unit_test(test_cli_command_without_dashes),
	    cmocka_unit_test(test_cli_help_needs_no_target),
	    cmocka_unit_test(test_cli_version),
	};

	return cmocka_run_group_tests(cli_tests, NULL, NULL);
}
