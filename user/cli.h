/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef PL_CLI_H
#define PL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes (documented in --help, README and the man page). */
#define PL_EXIT_OK 0	/* also when the stream's reader went away (EPIPE) */
#define PL_EXIT_ERROR 1 /* bad PID, not root, no BTF, no tracefs, load or write failure */
#define PL_EXIT_USAGE 2 /* bad command line */
/* --until-rss-below/above given, and the run ended before RSS got there. */
#define PL_EXIT_UNTIL_UNMET 3

#define PL_DEFAULT_RINGBUF (4u << 20)

/*
 * Which call records the outputs show, as strace -e and perf trace users
 * expect. The ledger, the summary and the balances still take every call:
 * the totals close only over all of them.
 */
struct pl_filter {
	uint32_t sys_mask; /* -e: 1 << PL_SYS_*, 0: every syscall */
	uint64_t min_len;  /* --min-size: calls naming fewer bytes are not shown */
	pid_t tid;	   /* -t: only this thread's calls, 0: all */
};

struct pl_config {
	pid_t pid;	       /* -p, or 0 */
	char **cmd;	       /* -- CMD [ARG...], NULL-terminated, or NULL */
	uint64_t duration_ns;  /* -d, 0 = until exit or signal */
	uint64_t interval_ns;  /* -i: cross-check with /proc this often, 0 = off */
	bool json;	       /* -j */
	const char *out_path;  /* -o */
	uint64_t ringbuf_size; /* -b, a power of two */
	bool quiet;	       /* -q: summary only */
	int verbose;	       /* -v: phases and timings; -vv: libbpf's log too */
	bool stacks;	       /* --stacks: full stacks in the text output */
	bool no_stacks;	       /* --no-stacks: no stack capture, no caller classes */
	bool help_shown;       /* --help, --usage or --version printed: exit 0 */
	/* Files drawn from the run, and a stop on RSS. */
	const char *perfetto_path; /* --perfetto: Chrome JSON trace */
	const char *report_path;   /* --report: .svg or .html */
	const char *folded_path;   /* --folded: folded stacks */
	const char *pprof_path;	   /* --pprof: gzipped profile.proto */
	bool folded_by_mapped;	   /* --folded-by mapped (else released) */
	const char *metrics_addr;  /* --metrics [HOST:]PORT, checked (pl_metrics_parse_listen) */
	bool until_below, until_above;
	uint64_t until_rss_below; /* --until-rss-below: stop once resident < this */
	uint64_t until_rss_above; /* --until-rss-above: stop once resident > this */
	bool top;		  /* --top: the live view */
	bool no_top;		  /* --no-top: the event stream even on a terminal */
	bool wall_clock;	  /* -T: wall-clock times in the text output */
	struct pl_filter filter;  /* -e, --min-size, -t: which calls the stream shows */
};

/*
 * Parses argv into cfg. Returns PL_EXIT_OK, or PL_EXIT_USAGE after one line
 * on stderr. cfg->help_shown is set when --help/--usage printed and the
 * caller should exit 0.
 */
int pl_cli_parse(int argc, char **argv, struct pl_config *cfg);

/*
 * The live view: asked for with --top, or the default when stdout is a
 * terminal and no other output (-j, -o, -q, --stacks) was asked for.
 */
bool pl_cli_want_top(const struct pl_config *cfg, bool stdout_is_tty);

/*
 * Number parsers, each strict: the whole string, digits first (no blank,
 * no sign), no overflow. 0, or -1 with *out untouched.
 */
int pl_parse_pid(const char *s, pid_t *out);
/* Seconds > 0, whole or with up to 9 decimals ("30", "0.5"), at most a year. */
int pl_parse_duration(const char *s, uint64_t *out_ns);
/* "4096", "64K", "4M", "1G" (binary units). */
int pl_parse_size(const char *s, uint64_t *out);
/* Whether resident (anon+file+shmem) meets a --until-rss-* condition. */
bool pl_until_reached(const struct pl_config *cfg, int64_t resident);
/* Whether the filter shows a call with this syscall, length and thread. */
bool pl_filter_shows(const struct pl_filter *f, uint32_t sys, uint64_t len, uint32_t tid);
/* Smallest power of two >= v (v >= 1). */
uint64_t pl_round_pow2(uint64_t v);

#endif
