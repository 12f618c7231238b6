// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "decode/decode.h"
#include "output/metrics_http.h"
#include "output/report.h"

/* PL_VERSION comes from the Makefile, its one definition. */
#ifndef PL_VERSION
#error "PL_VERSION is not defined: build with make"
#endif

static const char doc[] =
    "Trace one process's memory syscalls (mmap, munmap, madvise, mremap, brk,\n"
    "process_madvise) from the kernel and the exact RSS change each one caused.\n"
    "\n"
    "USAGE: pageledger [OPTION...] -p PID\n"
    "       pageledger [OPTION...] -- CMD [ARG...]\n"
    "\v"
    "EXAMPLES:\n"
    "    pageledger -p 1234              # trace PID 1234 until it exits or Ctrl-C\n"
    "    pageledger -d 30 -p 1234        # trace for 30 seconds, then summarize\n"
    "    pageledger -d 0.5 -p 1234       # half a second\n"
    "    pageledger -q -d 10 -p 1234     # only the summary table\n"
    "    pageledger -j -p 1234 | jq 'select(.type==\"madvise\")'\n"
    "    pageledger -j -o trace.jsonl -- ./server --port 8080\n"
    "    pageledger -b 64M -p 1234       # bigger ring buffer for call storms\n"
    "    pageledger --stacks -p 1234     # who asked: each call's symbolized stack\n"
    "    pageledger --perfetto trace.json -- ./app   # for ui.perfetto.dev\n"
    "    pageledger --report rss.html -d 60 -p 1234  # RSS over time, a picture\n"
    "    pageledger --folded out.folded -p 1234      # flamegraph.pl out.folded\n"
    "    pageledger --pprof rss.pb.gz -p 1234        # go tool pprof -top rss.pb.gz\n"
    "    pageledger -q --metrics 9464 -p 1234        # curl 127.0.0.1:9464/metrics\n"
    "    pageledger --until-rss-above 2G -p 1234     # stop (exit 0) past 2 GiB\n"
    "    pageledger -j -q -d 30 -p 1234 | jq .ranges.top[0]  # where RSS stays\n"
    "    pageledger --top -p 1234        # live view; q quits with the summary\n"
    "    pageledger -e madvise --min-size 1M -p 1234  # only the large madvises\n"
    "\n"
    "EXIT STATUS:\n"
    "    0  traced and summarized (also when the reader of the stream went away,\n"
    "       e.g. | head)\n"
    "    1  could not trace: no such process, not root, no BTF, no tracefs,\n"
    "       BPF load or attach failure, a command that cannot run, an output\n"
    "       that cannot be written (then the file is left as it was)\n"
    "    2  usage error\n"
    "    3  --until-rss-below/--until-rss-above given, and the run ended\n"
    "       (target exit, duration, signal) before RSS got there\n";

static const char args_doc[] = "[-- CMD [ARG...]]";

enum { OPT_HELP = 'h', OPT_USAGE = 0x100, OPT_STACKS, OPT_NO_STACKS };
/* Files drawn from the run, and a stop on RSS. */
enum { OPT_PERFETTO = 0x200, OPT_REPORT, OPT_UNTIL_BELOW, OPT_UNTIL_ABOVE, OPT_FOLDED };
enum { OPT_FOLDED_BY = 0x280, OPT_PPROF, OPT_METRICS };
enum { OPT_TOP = 0x300, OPT_NO_TOP };
enum { OPT_MIN_SIZE = 0x400 };
enum { OPT_VERSION = 'V' };

static const struct argp_option options[] = {
    {"pid", 'p', "PID", 0, "Trace this running process (all its threads)", 0},
    {"duration", 'd', "SECONDS", 0,
     "Stop after SECONDS, e.g. 30 or 0.5 (default: until exit or Ctrl-C)", 0},
    {"interval", 'i', "SECONDS", 0,
     "Every SECONDS, hold the ledger's RSS against /proc (status, smaps_rollup)", 0},
    {"json", 'j', NULL, 0, "Write JSON Lines instead of text", 0},
    {"output", 'o', "FILE", 0, "Write the event stream and summary to FILE", 0},
    {"quiet", 'q', NULL, 0, "Print only the summary", 0},
    {"ringbuf-size", 'b', "SIZE", 0,
     "Ring buffer size, e.g. 256K, 4M (default 4M, rounded up to a power of two)", 0},
    {"verbose", 'v', NULL, 0,
     "Print pageledger's phases with timings and each program's verifier time; "
     "twice (-vv): libbpf's own log too",
     0},
    {"stacks", OPT_STACKS, NULL, 0,
     "Print each call's full user stack under it (text; -j records carry the frames)", 0},
    {"no-stacks", OPT_NO_STACKS, NULL, 0,
     "Capture no user stacks: no caller classes, less overhead", 0},
    {"perfetto", OPT_PERFETTO, "FILE", 0,
     "Also write a Chrome JSON trace (Perfetto UI, chrome://tracing) to FILE", 0},
    {"report", OPT_REPORT, "FILE", 0,
     "Also draw RSS over time, releases and the diagnosis to FILE (.svg or .html)", 0},
    {"folded", OPT_FOLDED, "FILE", 0,
     "Also write folded stacks weighted by the RSS they released to FILE (flamegraph.pl)", 0},
    {"pprof", OPT_PPROF, "FILE", 0,
     "Also write a gzipped pprof profile to FILE: calls, advised, released and mapped bytes "
     "per stack",
     0},
    {"metrics", OPT_METRICS, "[HOST:]PORT", 0,
     "Serve Prometheus metrics at http://HOST:PORT/metrics (HOST 127.0.0.1 unless given); "
     "they stay up after the target exits, until Ctrl-C or -d",
     0},
    {"folded-by", OPT_FOLDED_BY, "WEIGHT", 0,
     "Weigh --folded stacks by 'released' (default) or 'mapped' bytes", 0},
    {"until-rss-below", OPT_UNTIL_BELOW, "SIZE", 0,
     "Stop once resident RSS is below SIZE (e.g. 512M); exit 3 if it never is", 0},
    {"until-rss-above", OPT_UNTIL_ABOVE, "SIZE", 0,
     "Stop once resident RSS is above SIZE (e.g. 1G); exit 3 if it never is", 0},
    {"top", OPT_TOP, NULL, 0,
     "Live view, redrawn every second; q quits with the summary (default on a terminal)", 0},
    {"no-top", OPT_NO_TOP, NULL, 0, "The event stream, even when stdout is a terminal", 0},
    {"timestamps", 'T', NULL, 0, "Wall-clock times (local) in the text output", 0},
    {"syscalls", 'e', "LIST", 0,
     "Show only these calls, e.g. madvise,munmap (the summary still counts every call)", 0},
    {"min-size", OPT_MIN_SIZE, "SIZE", 0, "Show only calls naming SIZE bytes or more, e.g. 1M", 0},
    {"tid", 't', "TID", 0, "Show only the calls of thread TID", 0},
    {"version", OPT_VERSION, NULL, 0, "Print the version and exit", -1},
    {"help", OPT_HELP, NULL, 0, "Show this help", -1},
    {"usage", OPT_USAGE, NULL, 0, "Show a short usage message", -1},
    {0},
};

/* strtol would take leading blanks and a sign: a number here is digits only. */
static bool starts_with_digit(const char *s)
{
	return s && *s >= '0' && *s <= '9';
}

int pl_parse_pid(const char *s, pid_t *out)
{
	char *end;
	long v;

	if (!starts_with_digit(s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -1;
	*out = (pid_t)v;
	return 0;
}

#define NS_PER_S 1000000000ull
#define MAX_DURATION_S (365ull * 24 * 3600)

/*
 * The fraction after the point, as nanoseconds: 1 to 9 digits. Parsed by
 * hand, not with strtod, so that no exponent, blank, sign or rounding
 * sneaks in.
 */
static int parse_fraction_ns(const char *s, uint64_t *ns)
{
	uint64_t scale = NS_PER_S / 10;
	size_t n = 0;

	*ns = 0;
	for (; s[n] >= '0' && s[n] <= '9'; n++, scale /= 10) {
		if (n == 9)
			return -1; /* finer than a nanosecond */
		*ns += (uint64_t)(s[n] - '0') * scale;
	}
	return n && !s[n] ? 0 : -1;
}

int pl_parse_duration(const char *s, uint64_t *out_ns)
{
	unsigned long long whole;
	uint64_t frac = 0, ns;
	char *end;

	if (!starts_with_digit(s))
		return -1;
	errno = 0;
	whole = strtoull(s, &end, 10);
	if (errno || whole > MAX_DURATION_S)
		return -1;
	if (*end == '.' && parse_fraction_ns(end + 1, &frac))
		return -1;
	if (*end && *end != '.')
		return -1;
	ns = (uint64_t)whole * NS_PER_S + frac;
	if (ns == 0 || ns > MAX_DURATION_S * NS_PER_S)
		return -1;
	*out_ns = ns;
	return 0;
}

int pl_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	/* Digits first: strtoull would skip blanks and wrap " -1" to UINT64_MAX. */
	if (!starts_with_digit(s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*end && end[1] && !(end[1] == 'B' && !end[2]) &&
	    !(end[1] == 'i' && end[2] == 'B' && !end[3]))
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

uint64_t pl_round_pow2(uint64_t v)
{
	uint64_t p = 1;

	while (p < v && p < (1ull << 63))
		p <<= 1;
	return p;
}

static int usage_error(struct argp_state *state, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", state->name);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EINVAL;
}

bool pl_until_reached(const struct pl_config *cfg, int64_t resident)
{
	if (cfg->until_below && resident >= 0 && (uint64_t)resident < cfg->until_rss_below)
		return true;
	return cfg->until_above && resident > 0 && (uint64_t)resident > cfg->until_rss_above;
}

/* "madvise,munmap" as a mask of PL_SYS_* bits; 0 when a name is not ours. */
static uint32_t parse_syscall_list(const char *list)
{
	uint32_t mask = 0;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		uint32_t bit = 0;

		for (uint32_t i = 0; i < PL_SYS_NR; i++)
			if (strlen(pl_syscall_name(i)) == n && !strncmp(p, pl_syscall_name(i), n))
				bit = 1u << i;
		if (!bit)
			return 0;
		mask |= bit;
		p += n;
		if (*p == ',' && *++p == '\0') /* a trailing comma names nothing */
			return 0;
	}
	return mask;
}

bool pl_filter_shows(const struct pl_filter *f, uint32_t sys, uint64_t len, uint32_t tid)
{
	if (f->sys_mask && (sys >= 32 || !(f->sys_mask & (1u << sys))))
		return false;
	if (f->tid && (uint32_t)f->tid != tid)
		return false;
	return len >= f->min_len;
}

/* -e, --min-size and -t: which calls the outputs show. */
static int parse_filter_opt(int key, char *arg, struct argp_state *state)
{
	struct pl_config *cfg = state->input;

	switch (key) {
	case 'e':
		cfg->filter.sys_mask = parse_syscall_list(arg);
		if (!cfg->filter.sys_mask)
			return usage_error(state,
					   "invalid syscall list '%s': expected names from mmap, "
					   "munmap, madvise, mremap, brk, process_madvise, "
					   "comma-separated",
					   arg);
		break;
	case OPT_MIN_SIZE:
		if (pl_parse_size(arg, &cfg->filter.min_len))
			return usage_error(state, "invalid size '%s': expected bytes or 64K, 1M",
					   arg);
		break;
	case 't':
		if (pl_parse_pid(arg, &cfg->filter.tid))
			return usage_error(state, "invalid TID '%s': expected a positive integer",
					   arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Output files and the RSS stop conditions. */
static int parse_viz_opt(int key, char *arg, struct argp_state *state)
{
	struct pl_config *cfg = state->input;
	char host[PL_LISTEN_HOST_MAX], port[PL_LISTEN_PORT_MAX];

	switch (key) {
	case OPT_PERFETTO:
		cfg->perfetto_path = arg;
		break;
	case OPT_FOLDED:
		cfg->folded_path = arg;
		break;
	case OPT_PPROF:
		cfg->pprof_path = arg;
		break;
	case OPT_METRICS:
		if (pl_metrics_parse_listen(arg, host, port))
			return usage_error(state,
					   "invalid --metrics address '%s': expected PORT, "
					   "HOST:PORT or [IPV6]:PORT, the port 0 to 65535",
					   arg);
		cfg->metrics_addr = arg;
		break;
	case OPT_FOLDED_BY:
		if (strcmp(arg, "released") && strcmp(arg, "mapped"))
			return usage_error(
			    state, "invalid --folded-by '%s': expected released or mapped", arg);
		cfg->folded_by_mapped = !strcmp(arg, "mapped");
		break;
	case OPT_REPORT:
		if (pl_report_kind(arg) == PL_REPORT_BAD)
			return usage_error(state,
					   "invalid report file '%s': the name must end in "
					   ".svg or .html",
					   arg);
		cfg->report_path = arg;
		break;
	case OPT_UNTIL_BELOW:
	case OPT_UNTIL_ABOVE:
		if (pl_parse_size(arg, key == OPT_UNTIL_BELOW ? &cfg->until_rss_below
							      : &cfg->until_rss_above))
			return usage_error(
			    state, "invalid RSS size '%s': expected bytes or 512M, 1G", arg);
		*(key == OPT_UNTIL_BELOW ? &cfg->until_below : &cfg->until_above) = true;
		break;
	default:
		return parse_filter_opt(key, arg, state);
	}
	return 0;
}

static int parse_opt(int key, char *arg, struct argp_state *state)
{
	struct pl_config *cfg = state->input;
	uint64_t size;

	switch (key) {
	case 'p':
		if (pl_parse_pid(arg, &cfg->pid))
			return usage_error(state, "invalid PID '%s': expected a positive integer",
					   arg);
		break;
	case 'd':
		if (pl_parse_duration(arg, &cfg->duration_ns))
			return usage_error(state,
					   "invalid duration '%s': expected seconds > 0, "
					   "e.g. 30 or 0.5, up to a year",
					   arg);
		break;
	case 'i':
		if (pl_parse_duration(arg, &cfg->interval_ns))
			return usage_error(state,
					   "invalid interval '%s': expected seconds > 0, "
					   "e.g. 5 or 0.5, up to a year",
					   arg);
		break;
	case 'j':
		cfg->json = true;
		break;
	case 'o':
		cfg->out_path = arg;
		break;
	case 'q':
		cfg->quiet = true;
		break;
	case 'v':
		cfg->verbose++;
		break;
	case 'T':
		cfg->wall_clock = true;
		break;
	case OPT_STACKS:
		cfg->stacks = true;
		break;
	case OPT_NO_STACKS:
		cfg->no_stacks = true;
		break;
	case OPT_TOP:
		cfg->top = true;
		break;
	case OPT_NO_TOP:
		cfg->no_top = true;
		break;
	case 'b':
		if (pl_parse_size(arg, &size) || size < 4096 || size > (1ull << 30))
			return usage_error(state,
					   "invalid ring buffer size '%s': expected 4K to 1G", arg);
		cfg->ringbuf_size = pl_round_pow2(size);
		break;
	case OPT_HELP:
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP & ~ARGP_HELP_EXIT_OK);
		cfg->help_shown = true;
		break;
	case OPT_USAGE:
		argp_state_help(state, stdout, ARGP_HELP_USAGE);
		cfg->help_shown = true;
		break;
	case OPT_VERSION:
		printf("pageledger %s\n", PL_VERSION);
		cfg->help_shown = true;
		break;
	case ARGP_KEY_ARG:
		/* The first non-option starts the command: the rest is its argv. */
		cfg->cmd = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (cfg->help_shown)
			break;
		if (cfg->stacks && cfg->no_stacks)
			return usage_error(state, "%s",
					   "--stacks and --no-stacks contradict each other");
		if ((cfg->folded_path || cfg->pprof_path) && cfg->no_stacks)
			return usage_error(state, "%s",
					   "--folded and --pprof need the stacks that --no-stacks "
					   "turns off");
		if (cfg->top && cfg->no_top)
			return usage_error(state, "%s", "--top and --no-top contradict each other");
		if (cfg->stacks && cfg->json)
			return usage_error(state, "%s",
					   "--stacks is for the text output: -j records carry "
					   "each call's frames (caller.frames)");
		if (cfg->top && (cfg->json || cfg->out_path || cfg->quiet || cfg->stacks))
			return usage_error(
			    state, "%s", "--top draws on the terminal: no -j, -o, -q or --stacks");
		if (cfg->pid && cfg->cmd)
			return usage_error(state, "%s", "give either -p PID or -- CMD, not both");
		if (!cfg->pid && !cfg->cmd)
			return usage_error(state, "%s",
					   "nothing to trace: give -p PID or -- CMD [ARG...]");
		break;
	default:
		return parse_viz_opt(key, arg, state);
	}
	return 0;
}

bool pl_cli_want_top(const struct pl_config *cfg, bool stdout_is_tty)
{
	if (cfg->top)
		return true;
	return stdout_is_tty && !cfg->no_top && !cfg->json && !cfg->out_path && !cfg->quiet &&
	       !cfg->stacks;
}

int pl_cli_parse(int argc, char **argv, struct pl_config *cfg)
{
	static const struct argp argp = {
	    .options = options,
	    .parser = parse_opt,
	    .args_doc = args_doc,
	    .doc = doc,
	};
	int err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ringbuf_size = PL_DEFAULT_RINGBUF;
	argp_err_exit_status = PL_EXIT_USAGE;
	err = argp_parse(&argp, argc, argv, ARGP_IN_ORDER | ARGP_NO_EXIT | ARGP_NO_HELP, NULL, cfg);
	if (cfg->help_shown)
		return PL_EXIT_OK;
	return err ? PL_EXIT_USAGE : PL_EXIT_OK;
}
