// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/btf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "trace/sysenv.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"


int pl_require_root(void)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "pageledger: must run as root (BPF programs and tracepoints need it)\n");
	return -1;
}

int pl_require_btf(void)
{
	/* $PAGELEDGER_BTF lets the tests name a missing file; nothing else uses it. */
	const char *path = getenv("PAGELEDGER_BTF");

	if (!path || !*path)
		path = VMLINUX_BTF;
	if (access(path, R_OK) == 0)
		return 0;
	fprintf(stderr,
		"pageledger: this kernel has no BTF (%s missing): "
		"CONFIG_DEBUG_INFO_BTF=y is required\n",
		path);
	return -1;
}

bool pl_btf_tracepoint_exists(const char *name)
{
	static struct btf *vmlinux;
	char type[128];

	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return false;
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
}
