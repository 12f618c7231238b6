// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/btf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "trace/sysenv.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static char tracefs_root[PATH_MAX];

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

static bool has_events(const char *root)
{
	char path[PATH_MAX];

	int n = snprintf(path, sizeof(path), "%s/events", root);

	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return access(path, R_OK | X_OK) == 0;
}

const char *pl_tracefs_root(void)
{
	const char *over = getenv("PAGELEDGER_TRACEFS");

	if (over && *over)
		return over;
	return tracefs_root[0] ? tracefs_root : "/sys/kernel/tracing";
}

static int use_tracefs(const char *root)
{
	snprintf(tracefs_root, sizeof(tracefs_root), "%s", root);
	return 0;
}

/*
 * The canonical place first, mounted there if need be; debugfs's copy
 * only if that mount fails. Looking at debugfs's copy first would mount
 * it there as a side effect (it is an automount), and which of the two a
 * run used would depend on what had touched debugfs before.
 */
int pl_require_tracefs(bool verbose)
{
	static const char canonical[] = "/sys/kernel/tracing";
	static const char legacy[] = "/sys/kernel/debug/tracing";
	const char *over = getenv("PAGELEDGER_TRACEFS");
	int err;

	if (over && *over) {
		if (has_events(over))
			return 0;
		fprintf(stderr, "pageledger: PAGELEDGER_TRACEFS=%s has no events/ directory\n",
			over);
		return -1;
	}
	if (has_events(canonical))
		return use_tracefs(canonical);
	if (mount("nodev", canonical, "tracefs", 0, NULL) == 0 && has_events(canonical)) {
		if (verbose) /* a step taken for the user, not a problem: quiet by default */
			fprintf(stderr, "pageledger: mounted tracefs at %s\n", canonical);
		return use_tracefs(canonical);
	}
	err = errno;
	if (has_events(legacy))
		return use_tracefs(legacy);
	fprintf(stderr,
		"pageledger: tracefs is not mounted and mounting it failed (%s); "
		"run: mount -t tracefs nodev /sys/kernel/tracing\n",
		strerror(err));
	return -1;
}

bool pl_tracepoint_exists(const char *category, const char *name)
{
	char path[PATH_MAX];

	int n = snprintf(path, sizeof(path), "%s/events/%s/%s", pl_tracefs_root(), category, name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

const struct btf *pl_vmlinux_btf(void)
{
	static struct btf *vmlinux;

	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	return vmlinux;
}

bool pl_btf_tracepoint_exists(const char *name)
{
	const struct btf *vmlinux = pl_vmlinux_btf();
	char type[128];

	if (!vmlinux)
		return false;
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
}
