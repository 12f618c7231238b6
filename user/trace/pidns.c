// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "trace/pidns.h"
#include "trace/sysenv.h"

/* The initial PID namespace's inode number: fixed by the kernel (PROC_PID_INIT_INO). */
#define PID_NS_INITIAL_INO 0xEFFFFFFCu

bool pl_pidns_is_initial(void)
{
	struct stat st;

	/* No /proc/self (an unrelated /proc): unknown, so not taken for initial. */
	return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == PID_NS_INITIAL_INO;
}

/* The number after "key:" in a /proc text file, or -1. */
static long read_field(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

pid_t pl_pidns_proc_pid(int pidfd)
{
	char path[64];
	long v;

	/* A pidfd's fdinfo numbers its process in /proc's namespace (0: not in it). */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	v = read_field(path, "Pid");
	return v > 0 ? (pid_t)v : -1;
}

int pl_pidns_depth_below_proc(void)
{
	char line[256];
	int depth = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	/* NSpid lists our PID from /proc's namespace down to our own. */
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6)) {
			for (char *p = line + 6; *p; p++)
				depth += *p == '\t' && p[1] >= '0' && p[1] <= '9';
			depth--;
			break;
		}
	fclose(f);
	return depth > 0 ? depth : 0;
}

/* Where the iterator program reads task_struct.tgid, from the kernel's BTF. */
static int btf_layout(int *iter_func, int *tgid_off)
{
	const struct btf *btf = pl_vmlinux_btf();
	const struct btf_type *t;
	const struct btf_member *m;
	int id;

	if (!btf)
		return -1;
	*iter_func = btf__find_by_name_kind(btf, "bpf_iter_task", BTF_KIND_FUNC);
	id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	if (*iter_func <= 0 || id <= 0)
		return -1;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, m[i].name_off), "tgid")) {
			*tgid_off = (int)(btf_member_bit_offset(t, i) / 8);
			return *tgid_off < 32768 ? 0 : -1; /* an instruction's offset is 16 bits */
		}
	return -1;
}

/*
 * A task iterator over the pidfd's threads that writes the first one's
 * tgid to the iterator's file:
 *	r6 = ctx->meta; r7 = ctx->task; if (!r7) return 0;
 *	u32 tgid = r7->tgid; bpf_seq_write(r6->seq, &tgid, 4); return 0;
 * Twelve instructions, so no object file of its own: the BPF side proper
 * (bpf/) stays the one program set that traces.
 */
static int load_tgid_iter(int iter_func, int tgid_off)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 6, .src_reg = 1, .off = 0},
	    {.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 7, .src_reg = 1, .off = 8},
	    {.code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = 7, .off = 7, .imm = 0},
	    {.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 1, .src_reg = 6, .off = 0},
	    {.code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 2, .src_reg = 7, .off = (short)tgid_off},
	    {.code = BPF_STX | BPF_MEM | BPF_W, .dst_reg = 10, .src_reg = 2, .off = -4},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 10},
	    {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = -4},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = 4},
	    {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_seq_write},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_ITER,
		    .attach_btf_id = (__u32)iter_func);

	return bpf_prog_load(BPF_PROG_TYPE_TRACING, "pl_kernel_tgid", "Dual BSD/GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &opts);
}

static pid_t run_tgid_iter(int prog, int pidfd)
{
	union bpf_iter_link_info info = {.task.pid_fd = (__u32)pidfd};
	LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &info, .iter_info_len = sizeof(info));
	int link, iter, err = 0;
	__u32 tgid = 0;
	ssize_t n;

	link = bpf_link_create(prog, 0, BPF_TRACE_ITER, &opts);
	if (link < 0)
		return -1;
	iter = bpf_iter_create(link);
	if (iter < 0) {
		err = errno;
		close(link);
		errno = err;
		return -1;
	}
	n = read(iter, &tgid, sizeof(tgid));
	err = n < 0 ? errno : ESRCH; /* nothing read: the kernel found no such task */
	close(iter);
	close(link);
	if (n == (ssize_t)sizeof(tgid) && tgid > 0)
		return (pid_t)tgid;
	errno = err;
	return -1;
}

pid_t pl_pidns_kernel_tgid(int pidfd)
{
	int iter_func, tgid_off, prog, err;
	pid_t tgid;

	if (btf_layout(&iter_func, &tgid_off)) {
		errno = ENOENT; /* no BTF for task iterators */
		return -1;
	}
	prog = load_tgid_iter(iter_func, tgid_off);
	if (prog < 0)
		return -1;
	tgid = run_tgid_iter(prog, pidfd);
	err = errno;
	close(prog);
	errno = err;
	return tgid;
}
