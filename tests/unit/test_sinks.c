// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The sinks module: fan-out, optional ops, the quiet filter and the stop request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "output/folded.h"
#include "output/pprof.h"
#include "output/sinks.h"
#include "symbolize/attribution.h"

/* What a sink was handed, op by op. */
struct seen {
	int begin, record, balance, rss_change, sample, ranges, summary, end;
	bool stop;
};

static void s_begin(struct pl_output *o, const struct pl_run_info *info)
{
	(void)info;
	((struct seen *)o->priv)->begin++;
}

static void s_record(struct pl_output *o, const struct pl_record *r)
{
	(void)r;
	((struct seen *)o->priv)->record++;
}

static void s_balance(struct pl_output *o, const struct pl_balance *b, uint32_t pid)
{
	(void)b, (void)pid;
	((struct seen *)o->priv)->balance++;
}

static void s_rss_change(struct pl_output *o, const struct pl_cause_acc *d, uint64_t ts,
			 uint32_t pid)
{
	(void)d, (void)ts, (void)pid;
	((struct seen *)o->priv)->rss_change++;
}

static void s_sample(struct pl_output *o, const struct pl_sample *smp)
{
	(void)smp;
	((struct seen *)o->priv)->sample++;
}

static void s_ranges(struct pl_output *o, const struct pl_ranges_view *v)
{
	(void)v;
	((struct seen *)o->priv)->ranges++;
}

static void s_summary(struct pl_output *o, const struct pl_ledger *l)
{
	(void)l;
	((struct seen *)o->priv)->summary++;
}

static void s_end(struct pl_output *o)
{
	((struct seen *)o->priv)->end++;
}

static bool s_wants_stop(struct pl_output *o)
{
	return ((struct seen *)o->priv)->stop;
}

static const struct pl_output_ops every_op = {
    .begin = s_begin,
    .record = s_record,
    .balance = s_balance,
    .rss_change = s_rss_change,
    .sample = s_sample,
    .ranges = s_ranges,
    .summary = s_summary,
    .end = s_end,
    .wants_stop = s_wants_stop,
};
static const struct pl_output_ops no_op; /* a sink that implements nothing */

static struct pl_ledger ledger;

static void send_everything(struct pl_sinks *s)
{
	struct pl_run_info info = {.comm = "x"};
	struct pl_record r = {.type = PL_EV_EXIT};
	struct pl_balance b = {.when = "end"};
	struct pl_cause_acc d = {0};
	struct pl_sample smp = {.lazy_pending = -1};
	struct pl_ranges_view v = {.when = "end"};

	pl_sinks_begin(s, &info);
	pl_sinks_record(s, &r);
	pl_sinks_record(s, &r);
	pl_sinks_balance(s, &b, 1);
	pl_sinks_rss_change(s, &d, 1, 1);
	pl_sinks_sample(s, &smp);
	pl_sinks_ranges(s, &v);
	pl_sinks_summary(s, &ledger);
	pl_sinks_end(s);
}

static void test_fan_out_and_quiet(void **state)
{
	struct seen loud = {0}, quiet = {0};
	struct pl_output a = {.ops = &every_op, .priv = &loud};
	struct pl_output b = {.ops = &every_op, .priv = &quiet, .quiet = true};
	struct pl_output c = {.ops = &no_op};
	struct pl_sinks s = {0};
	(void)state;
	assert_int_equal(pl_sinks_add(&s, &a), 0);
	assert_int_equal(pl_sinks_add(&s, &b), 0);
	assert_int_equal(pl_sinks_add(&s, &c), 0); /* every op NULL: never called */
	assert_true(pl_sinks_want_samples(&s));
	send_everything(&s);
	assert_int_equal(loud.begin, 1);
	assert_int_equal(loud.record, 2);
	assert_int_equal(loud.balance + loud.rss_change + loud.sample + loud.ranges, 4);
	assert_int_equal(loud.summary, 1);
	assert_int_equal(loud.end, 1);
	/* Quiet: told the run began (to know what it is about), then the summary and the end. */
	assert_int_equal(quiet.begin, 1);
	assert_int_equal(
	    quiet.record + quiet.balance + quiet.rss_change + quiet.sample + quiet.ranges, 0);
	assert_int_equal(quiet.summary, 1);
	assert_int_equal(quiet.end, 1);
	assert_int_equal(s.n, 0); /* ended: nothing left to call */
}

static void test_samples_wanted_only_by_who_draws_them(void **state)
{
	struct seen q = {0};
	struct pl_output quiet = {.ops = &every_op, .priv = &q, .quiet = true};
	struct pl_output none = {.ops = &no_op};
	struct pl_sinks s = {0};
	(void)state;
	pl_sinks_add(&s, &none);
	pl_sinks_add(&s, &quiet);
	assert_false(pl_sinks_want_samples(&s));
}

static void test_stop_request(void **state)
{
	struct seen a = {0}, b = {0};
	struct pl_output x = {.ops = &every_op, .priv = &a};
	struct pl_output y = {.ops = &every_op, .priv = &b, .quiet = true};
	struct pl_output z = {.ops = &no_op};
	struct pl_sinks s = {0};
	(void)state;
	pl_sinks_add(&s, &z);
	pl_sinks_add(&s, &x);
	pl_sinks_add(&s, &y);
	assert_false(pl_sinks_stop_requested(&s));
	b.stop = true; /* a quiet sink may still ask: the live view's summary sink is one */
	assert_true(pl_sinks_stop_requested(&s));
}

static void test_room_is_bounded(void **state)
{
	struct pl_output o = {.ops = &no_op};
	struct pl_sinks s = {0};
	(void)state;
	for (int i = 0; i < PL_MAX_SINKS; i++)
		assert_int_equal(pl_sinks_add(&s, &o), 0);
	assert_int_equal(pl_sinks_add(&s, &o), -1);
	assert_int_equal(s.n, PL_MAX_SINKS);
}

/*
 * --folded's text: root first, a name's ';' made ':' and its control bytes
 * escaped (the format splits on ';', a name comes from the target), an
 * unnamed frame by its module or address; the leaf names syscall and advice.
 * Weights: released bytes, or mmap's mapped bytes.
 */
static void test_folded_stack_text_and_weight(void **state)
{
	static struct pl_caller c = {.nframes = 3, .site = 0};
	struct pl_syscall_event e = {.sys = PL_SYS_MADVISE, .args = {0x1000, 8192, 4}};
	struct pl_record r = {.type = PL_EV_SYSCALL, .caller = &c, .sys = &e};
	char buf[PL_FOLDED_LINE], tiny[80];

	(void)state;
	c.frames[0] = (struct pl_frame){.addr = 0x401000, .func = "free;\x1b[31m"};
	c.frames[1] = (struct pl_frame){.addr = 0x402000, .module = "/usr/lib/libx.so"};
	c.frames[2] = (struct pl_frame){.addr = 0x403abc};
	pl_folded_stack(&r, buf, sizeof(buf));
	assert_string_equal(buf, "0x403abc;[libx.so];free:\\x1b[31m;[madvise MADV_DONTNEED]");
	/* Too little room: the root side and the leaf stay, whole. */
	pl_folded_stack(&r, tiny, sizeof(tiny));
	assert_true(strlen(tiny) < sizeof(tiny));
	assert_non_null(strstr(tiny, "[madvise MADV_DONTNEED]"));

	e.rss_delta[PL_RSS_ANON] = -8192;
	assert_int_equal(pl_folded_weight(&e, PL_FOLDED_RELEASED), 8192);
	assert_int_equal(pl_folded_weight(&e, PL_FOLDED_MAPPED), 0);
	e = (struct pl_syscall_event){.sys = PL_SYS_MMAP, .args = {0, 1 << 20}, .ret = 0x7f0000};
	e.rss_delta[PL_RSS_ANON] = 4096;
	assert_int_equal(pl_folded_weight(&e, PL_FOLDED_RELEASED), 0);
	assert_int_equal(pl_folded_weight(&e, PL_FOLDED_MAPPED), 1 << 20);
	e.ret = -12; /* ENOMEM: nothing mapped */
	assert_int_equal(pl_folded_weight(&e, PL_FOLDED_MAPPED), 0);
}

/* --pprof: protobuf varints as the format has them, and a call's four values. */
static void test_pprof_varint_and_values(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t b[10];
	} cases[] = {
	    {0, 1, {0x00}},
	    {127, 1, {0x7f}},
	    {128, 2, {0x80, 0x01}},
	    {300, 2, {0xac, 0x02}},
	    {UINT64_MAX, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	};
	struct pl_syscall_event e = {.sys = PL_SYS_MADVISE, .args = {0x1000, 8192, 4}};
	int64_t v[PL_PPROF_NVALUES];
	uint8_t out[10];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pl_pb_varint(out, cases[i].v), cases[i].n);
		assert_memory_equal(out, cases[i].b, cases[i].n);
	}
	e.rss_delta[PL_RSS_ANON] = -4096;
	pl_pprof_values(&e, v);
	assert_int_equal(v[PL_PPROF_CALLS], 1);
	assert_int_equal(v[PL_PPROF_ADVISED], 8192);
	assert_int_equal(v[PL_PPROF_RELEASED], 4096);
	assert_int_equal(v[PL_PPROF_MAPPED], 0);
	e.args[2] = 14; /* MADV_HUGEPAGE: advice that gives nothing back */
	pl_pprof_values(&e, v);
	assert_int_equal(v[PL_PPROF_ADVISED], 0);
	e = (struct pl_syscall_event){.sys = PL_SYS_MMAP, .args = {0, 1 << 20}, .ret = 0x7f0000};
	pl_pprof_values(&e, v);
	assert_int_equal(v[PL_PPROF_MAPPED], 1 << 20);
	assert_int_equal(v[PL_PPROF_RELEASED], 0);
}

int main(void)
{
	const struct CMUnitTest sinks_tests[] = {
	    cmocka_unit_test(test_fan_out_and_quiet),
	    cmocka_unit_test(test_samples_wanted_only_by_who_draws_them),
	    cmocka_unit_test(test_stop_request),
	    cmocka_unit_test(test_room_is_bounded),
	    cmocka_unit_test(test_folded_stack_text_and_weight),
	    cmocka_unit_test(test_pprof_varint_and_values),
	};

	return cmocka_run_group_tests_name("sinks", sinks_tests, NULL, NULL);
}
