// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per process: a table of mappings, snapshotted from /proc/PID/maps. Per
 * binary: a module (ELF symbols, Go pclntab), read once and shared by every
 * process that maps it. Mappings find their module lazily, on the first
 * address that falls in them.
 *
 * The binaries belong to untrusted users, and we run as root. So files are
 * opened as O_PATH first and only reopened for reading once they are known
 * to be regular files (no device opens, no FIFOs to block on); a path
 * taken from the maps text is resolved inside the process's root and must
 * still name the inode the maps line reported (else a swapped file or a
 * symlink could make us read, and print names from, a file of our choice).
 *
 * Not thread-safe: one caller at a time.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "symbolize/demangle.h"
#include "symbolize/debuginfo.h"
#include "symbolize/elfsym.h"
#include "symbolize/gopclntab.h"
#include "symbolize/procmaps.h"
#include "symbolize/symbolizer.h"
#include "util/clock.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Unknown addresses re-read a process's maps at most this often. */
#define REREAD_INTERVAL_NS (100ull * 1000 * 1000)
/* Distinct binaries kept; past this, new ones are not read. */
#define MAX_MODULES 8192
/* Inlining depth asked of the Go table. */
#define MAX_GO_FRAMES 32
/* The vDSO is a few pages; anything larger is not one. */
#define MAX_VDSO_SIZE (1u << 20)
/*
 * Memory stays bounded whatever the traced processes do (fork storms, huge
 * numbers of mappings or of distinct file names): past these, the least
 * recently used processes are forgotten, and new names are not kept.
 */
#define MAX_PROCS 4096
#define MAX_TOTAL_MAPPINGS (1u << 20)
#define MAX_STRING_BYTES (16u << 20)
/* Symbols and names all binaries may keep (each has its own caps too: elfsym.h). */
#define MAX_KEPT_BYTES (64u << 20)
/* Mappings of one file sit side by side; this many either way are checked. */
#define SIBLING_REACH 4
#define MODULE_BUCKETS 1024

enum map_kind {
	MAP_ANON,    /* no path: heap-like memory */
	MAP_SPECIAL, /* [stack], [heap], [vvar], anon_inode:..., and so on */
	MAP_VDSO,
	MAP_FILE,
};

/*
 * One binary. elf is NULL when the file could not be read as ELF. Size and
 * mtime join the key so a file rewritten in place, or a new file on a
 * recycled inode number, is read afresh.
 */
struct module {
	struct module *next;
	dev_t dev; /* from fstat; all 0 for the vDSO */
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct pl_elf *elf;
	struct pl_elf *debug; /* its separate debug file's symbols (debuginfo.h), or NULL */
	struct pl_pclntab *go;
};

struct mapping {
	uint64_t start, end, offset, inode;
	uint32_t dev_major, dev_minor;
	enum map_kind kind;
	bool executable;
	bool deleted;
	const char *name; /* interned: reported as the frame's module */
	const char *path; /* interned: the file's path, without " (deleted)" */
	bool resolved;	  /* module lookup done (mod may still be NULL) */
	struct module *mod;
};

struct proc {
	pid_t pid;
	struct mapping *maps; /* sorted by start, never overlapping */
	size_t n, cap;
	uint64_t last_read_ns;
	uint64_t last_used; /* s->tick when last asked about */
};

/* Interned strings: frames point at them, so they live as long as s. */
struct strset {
	char **slots;
	size_t cap, n;
	size_t bytes;
};

struct pl_symbolizer {
	struct proc **procs; /* sorted by pid */
	size_t nprocs, procs_cap;
	size_t total_maps;
	size_t snapshots; /* whole reads of a maps file */
	uint64_t tick;
	struct module *files[MODULE_BUCKETS]; /* chained, keyed by (dev, ino) */
	struct module *vdsos;		      /* vDSO images, keyed by content */
	size_t nmodules;
	size_t kept_bytes;  /* by the modules' ELF symbols */
	size_t over_budget; /* binaries a budget cut short */
	bool no_query;	    /* the kernel has no PROCMAP_QUERY */
	pl_symbolizer_warn_fn warn;
	void *warn_ctx;
	struct strset strings;
	const char *debug_root; /* where separate debug files are looked for */
	size_t debug_files;	/* modules named by one */
};

/* ---- interned strings ------------------------------------------------ */

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

static char **strset_slot(struct strset *set, const char *s, size_t len)
{
	size_t i = (size_t)hash_bytes(s, len) & (set->cap - 1);

	while (set->slots[i] && (strlen(set->slots[i]) != len || memcmp(set->slots[i], s, len)))
		i = (i + 1) & (set->cap - 1);
	return &set->slots[i];
}

static int strset_grow(struct strset *set)
{
	size_t ncap = set->cap ? set->cap * 2 : 256;
	char **slots = calloc(ncap, sizeof(*slots));
	struct strset bigger = {.slots = slots, .cap = ncap, .n = set->n, .bytes = set->bytes};

	if (!slots)
		return -1;
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i])
			*strset_slot(&bigger, set->slots[i], strlen(set->slots[i])) = set->slots[i];
	free(set->slots);
	*set = bigger;
	return 0;
}

/* The one copy of s; NULL once MAX_STRING_BYTES are used (or no memory). */
static const char *intern(struct strset *set, const char *s, size_t len)
{
	char **slot;

	if (set->n + 1 > set->cap / 2 && strset_grow(set) < 0)
		return NULL;
	slot = strset_slot(set, s, len);
	if (*slot)
		return *slot;
	if (set->bytes + len + 1 > MAX_STRING_BYTES)
		return NULL;
	*slot = strndup(s, len);
	if (!*slot)
		return NULL;
	set->n++;
	set->bytes += len + 1;
	return *slot;
}

static void strset_free(struct strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
}

/* ---- opening a mapped file safely ----------------------------------- */

/*
 * Reopens an O_PATH descriptor for reading if it is a regular file (and,
 * when want_ino is non-zero, that inode; map_files needs no check). The
 * O_PATH step means a device is never opened for real, and a FIFO never
 * waited on. O_NONBLOCK: a lease another user holds on the file fails the
 * open instead of stalling it.
 */
static int reopen_regular(int pathfd, uint64_t want_ino)
{
	char proc_path[64];
	struct stat st;

	if (fstat(pathfd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	if (want_ino && (uint64_t)st.st_ino != want_ino)
		return -1;
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", pathfd);
	return open(proc_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

static int open_checked(int pathfd, uint64_t want_ino)
{
	int fd;

	if (pathfd < 0)
		return -1;
	fd = reopen_regular(pathfd, want_ino);
	close(pathfd);
	return fd;
}

/* The very file mapped, even if deleted or replaced; gone with the process. */
static int open_map_file(pid_t pid, const struct mapping *m)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	return open_checked(open(path, O_PATH | O_CLOEXEC), 0);
}

/*
 * The path as the process sees it. RESOLVE_IN_ROOT keeps absolute symlinks
 * inside its root; without openat2 (Linux < 5.6) the inode check is what
 * stops a symlink from redirecting us.
 */
static int open_in_proc_root(pid_t pid, const struct mapping *m)
{
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char root[64];
	int rootfd, pathfd;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	pathfd = (int)syscall(SYS_openat2, rootfd, m->path, &how, sizeof(how));
	if (pathfd < 0 && errno == ENOSYS)
		pathfd = openat(rootfd, m->path + 1, O_PATH | O_CLOEXEC);
	close(rootfd);
	return open_checked(pathfd, m->inode);
}

static int open_mapped_file(pid_t pid, const struct mapping *m)
{
	int fd = open_map_file(pid, m);

	/* Without an inode to check, a path could name anything. */
	if (fd >= 0 || m->inode == 0)
		return fd;
	fd = open_in_proc_root(pid, m);
	if (fd >= 0)
		return fd;
	/* The process is gone: its root too. Last, the path as we see it. */
	return open_checked(open(m->path, O_PATH | O_CLOEXEC), m->inode);
}

/* ---- modules ------------------------------------------------------ */

/* Names, once, a binary that a budget cut short: what was left out, and how much. */
static void warn_over_budget(struct pl_symbolizer *s, const char *name,
			     const struct pl_elf_skips *sk)
{
	char msg[512];

	s->over_budget++;
	if (!s->warn)
		return;
	snprintf(msg, sizeof(msg),
		 "symbols of %s partly skipped: %s (%u part%s, %llu bytes, left out)",
		 name ? name : "?", sk->first, sk->parts, sk->parts == 1 ? "" : "s",
		 (unsigned long long)sk->bytes);
	s->warn(s->warn_ctx, msg);
}

static bool has_symtab(const struct pl_elf *elf)
{
	struct pl_elf_section sec;

	for (size_t i = 1; pl_elf_section(elf, i, &sec); i++)
		if (sec.type == SHT_SYMTAB)
			return true;
	return false;
}

/*
 * A stripped binary's local names from its separate debug file, when the
 * machine has one (libc6-dbg: sysmalloc, systrim, ld.so's internals).
 */
static void load_debug_file(struct pl_symbolizer *s, struct module *mod, const char *path)
{
	if (mod->go || has_symtab(mod->elf) || s->kept_bytes >= MAX_KEPT_BYTES)
		return;
	mod->debug =
	    pl_debuginfo_open(mod->elf, path, s->debug_root ? s->debug_root : PL_DEBUG_ROOT);
	if (!mod->debug)
		return;
	pl_elf_end_load(mod->debug);
	pl_elf_drop_image(mod->debug);
	s->kept_bytes += pl_elf_kept_bytes(mod->debug);
	s->debug_files++;
}

/* Loads both symbol sources; the file's view is kept only for Go. */
static void module_load(struct pl_symbolizer *s, struct module *mod, struct pl_elf *elf,
			const char *name, const char *path)
{
	mod->elf = elf;
	if (!elf)
		return;
	mod->go = pl_pclntab_open(elf);
	load_debug_file(s, mod, path);
	pl_elf_end_load(elf);
	if (!mod->go)
		pl_elf_drop_image(elf);
	s->kept_bytes += pl_elf_kept_bytes(elf);
	if (pl_elf_skips(elf)->parts)
		warn_over_budget(s, name, pl_elf_skips(elf));
}

/* Past the budget of all binaries, new ones are not read (and say so once each). */
static struct pl_elf *open_within_budget(struct pl_symbolizer *s, int fd, const char *name)
{
	struct pl_elf_skips sk = {.parts = 1};

	if (s->kept_bytes < MAX_KEPT_BYTES)
		return pl_elf_open_fd(fd);
	snprintf(sk.first, sizeof(sk.first),
		 "all of it: the %uM all binaries' symbols may keep is used", MAX_KEPT_BYTES >> 20);
	warn_over_budget(s, name, &sk);
	return NULL;
}

static void module_free(struct module *mod)
{
	if (mod->go)
		pl_pclntab_close(mod->go);
	pl_elf_close(mod->elf);
	pl_elf_close(mod->debug);
	free(mod);
}

static bool module_is_file(const struct module *mod, const struct stat *st)
{
	return mod->dev == st->st_dev && mod->ino == st->st_ino && mod->size == st->st_size &&
	       mod->mtime.tv_sec == st->st_mtim.tv_sec && mod->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static struct module *module_new(struct pl_symbolizer *s)
{
	struct module *mod;

	if (s->nmodules >= MAX_MODULES)
		return NULL;
	mod = calloc(1, sizeof(*mod));
	if (mod)
		s->nmodules++;
	return mod;
}

static struct module **file_bucket(struct pl_symbolizer *s, const struct stat *st)
{
	uint64_t h = ((uint64_t)st->st_dev * 0x9e3779b97f4a7c15ull) ^ (uint64_t)st->st_ino;

	return &s->files[(h ^ (h >> 29)) % MODULE_BUCKETS];
}

static struct module *module_for_fd(struct pl_symbolizer *s, int fd, const char *name,
				    const char *path)
{
	struct module *mod, **bucket;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	bucket = file_bucket(s, &st);
	for (mod = *bucket; mod; mod = mod->next)
		if (module_is_file(mod, &st))
			return mod;
	mod = module_new(s);
	if (!mod)
		return NULL;
	mod->dev = st.st_dev;
	mod->ino = st.st_ino;
	mod->size = st.st_size;
	mod->mtime = st.st_mtim;
	module_load(s, mod, open_within_budget(s, fd, name), name, path);
	mod->next = *bucket;
	*bucket = mod;
	return mod;
}

static struct module *module_for_file(struct pl_symbolizer *s, pid_t pid, const struct mapping *m)
{
	struct module *mod;
	int fd = open_mapped_file(pid, m);

	if (fd < 0)
		return NULL;
	mod = module_for_fd(s, fd, m->name, m->path);
	close(fd);
	return mod;
}

static bool same_image(const struct pl_elf *elf, const uint8_t *bytes, size_t size)
{
	size_t have;
	const uint8_t *image = pl_elf_image(elf, &have);

	return image && have == size && !memcmp(image, bytes, size);
}

/* vDSO images are tiny and keep their bytes, to be compared by content. */
static struct module *vdso_module(struct pl_symbolizer *s, const uint8_t *bytes, size_t size)
{
	struct module *mod;

	for (mod = s->vdsos; mod; mod = mod->next)
		if (mod->elf && same_image(mod->elf, bytes, size))
			return mod;
	mod = module_new(s);
	if (!mod)
		return NULL;
	mod->elf = pl_elf_from_memory(bytes, size);
	pl_elf_end_load(mod->elf);
	mod->next = s->vdsos;
	s->vdsos = mod;
	return mod;
}

/*
 * The vDSO image: the kernel maps the same one into every process of an
 * ABI, so we read our own. Reading the target's through /proc/PID/mem would
 * fault its pages into the target and change the RSS we are measuring.
 */
static struct module *module_for_vdso(struct pl_symbolizer *s, pid_t pid, const struct mapping *m)
{
	uint64_t size = m->end - m->start;
	const void *own = (const void *)getauxval(AT_SYSINFO_EHDR);
	struct pl_maps self;
	const struct pl_map *mine;
	struct module *mod = NULL;

	(void)pid;
	if (!own || size > MAX_VDSO_SIZE || pl_maps_read(getpid(), &self) < 0)
		return NULL;
	mine = pl_maps_find(&self, (uint64_t)(uintptr_t)own);
	/* A different size is a different ABI's vDSO (a 32-bit process): not ours to lend. */
	if (mine && mine->end - mine->start == size && mine->start == (uint64_t)(uintptr_t)own)
		mod = vdso_module(s, own, (size_t)size);
	pl_maps_free(&self);
	return mod;
}

/* ---- a process's mappings ------------------------------------------- */

static enum map_kind kind_of(const struct pl_map *pm)
{
	if (!pm->path)
		return MAP_ANON;
	if (pm->path[0] == '/')
		return MAP_FILE;
	if (!strcmp(pm->path, "[vdso]"))
		return MAP_VDSO;
	return MAP_SPECIAL;
}

/* The name frames report: the maps path, " (deleted)" included. */
static const char *display_name(struct pl_symbolizer *s, const struct pl_map *pm)
{
	char *full;
	const char *name;

	if (!pm->deleted)
		return intern(&s->strings, pm->path, pm->path_len);
	if (asprintf(&full, "%s (deleted)", pm->path) < 0)
		return NULL;
	name = intern(&s->strings, full, strlen(full));
	free(full);
	return name;
}

/* Never fails: past the name budget a mapping is kept, just nameless. */
static void mapping_init(struct pl_symbolizer *s, struct mapping *m, const struct pl_map *pm)
{
	memset(m, 0, sizeof(*m));
	m->start = pm->start;
	m->end = pm->end;
	m->offset = pm->offset;
	m->inode = pm->inode;
	m->dev_major = pm->dev_major;
	m->dev_minor = pm->dev_minor;
	m->executable = pm->executable;
	m->deleted = pm->deleted;
	m->kind = kind_of(pm);
	if (m->kind == MAP_ANON)
		return;
	m->path = intern(&s->strings, pm->path, pm->path_len);
	m->name = display_name(s, pm);
	if (!m->path || !m->name)
		m->kind = MAP_SPECIAL;
}

/* Index of the last mapping starting below limit, or n if none does. */
static size_t last_starting_below(const struct mapping *v, size_t n, uint64_t limit)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].start < limit)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : n;
}

static struct mapping *find_mapping(const struct proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->n;

	/* The last mapping starting at or below addr is the only candidate. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->maps[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= p->maps[lo - 1].end)
		return NULL;
	return &p->maps[lo - 1];
}

static bool overlaps_any(const struct mapping *v, size_t n, uint64_t start, uint64_t end)
{
	size_t i = last_starting_below(v, n, end);

	/* Sorted and disjoint: only the last one starting below end can. */
	return i < n && v[i].end > start;
}

static bool same_mapping(const struct mapping *a, const struct mapping *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && a->kind == b->kind && a->path == b->path;
}

/* A mapping unchanged since the last snapshot keeps its module. */
static void carry_over(const struct proc *old, struct mapping *m)
{
	struct mapping *prev = find_mapping(old, m->start);

	if (prev && same_mapping(prev, m)) {
		m->resolved = prev->resolved;
		m->mod = prev->mod;
	}
}

static int by_mapping_start(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Files that were mapped and are no longer (a dlclose'd library) keep
 * their old entries: events recorded before the unmap still name them.
 */
static size_t keep_unmapped_files(const struct proc *old, struct mapping *v, size_t n, size_t cap)
{
	size_t kept = n;

	for (size_t i = 0; i < old->n && kept < cap; i++) {
		const struct mapping *m = &old->maps[i];

		if (m->kind == MAP_FILE && !overlaps_any(v, n, m->start, m->end))
			v[kept++] = *m;
	}
	if (kept > n)
		qsort(v, kept, sizeof(*v), by_mapping_start);
	return kept;
}

/*
 * Anonymous memory that is not code, right after more of the same: one
 * entry covers both. A frame there reads the same either way (no module,
 * not code), and a heap split into 65,000 mappings costs one entry, not
 * 5 MB. Only touching ones: an address in a gap must stay unknown, so
 * that the maps are read again for it.
 */
static bool joins_plain_anon(const struct pl_map *prev, const struct pl_map *pm)
{
	return !prev->path && !prev->executable && !pm->path && !pm->executable &&
	       prev->end == pm->start;
}

static size_t table_entries(const struct pl_maps *maps)
{
	size_t n = 0;

	for (size_t i = 0; i < maps->n; i++)
		n += !i || !joins_plain_anon(&maps->v[i - 1], &maps->v[i]);
	return n;
}

static struct mapping *build_table(struct pl_symbolizer *s, const struct proc *old,
				   const struct pl_maps *maps, bool merge, size_t *count)
{
	size_t n = table_entries(maps), cap = n + (merge ? old->n : 0), used = 0;
	struct mapping *v;

	if (cap > PL_MAPS_MAX_ENTRIES)
		cap = n;
	v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < maps->n; i++) {
		if (used && joins_plain_anon(&maps->v[i - 1], &maps->v[i])) {
			v[used - 1].end = maps->v[i].end;
			continue;
		}
		mapping_init(s, &v[used], &maps->v[i]);
		carry_over(old, &v[used++]);
	}
	*count = merge ? keep_unmapped_files(old, v, used, cap) : used;
	return v;
}

/* ---- the process table ------------------------------------------------ */

static size_t proc_index(const struct pl_symbolizer *s, pid_t pid)
{
	size_t lo = 0, hi = s->nprocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->procs[mid]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void proc_remove(struct pl_symbolizer *s, size_t i)
{
	struct proc *p = s->procs[i];

	s->total_maps -= p->n;
	free(p->maps);
	free(p);
	memmove(&s->procs[i], &s->procs[i + 1], (s->nprocs - i - 1) * sizeof(*s->procs));
	s->nprocs--;
}

/* Forgets the least recently used process other than keep. */
static bool evict_one(struct pl_symbolizer *s, const struct proc *keep)
{
	size_t victim = s->nprocs;

	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i] != keep &&
		    (victim == s->nprocs || s->procs[i]->last_used < s->procs[victim]->last_used))
			victim = i;
	if (victim == s->nprocs)
		return false;
	proc_remove(s, victim);
	return true;
}

static void enforce_mapping_budget(struct pl_symbolizer *s, const struct proc *keep)
{
	while (s->total_maps > MAX_TOTAL_MAPPINGS && evict_one(s, keep))
		;
}

static int procs_reserve(struct pl_symbolizer *s)
{
	size_t ncap;
	struct proc **nv;

	if (s->nprocs >= MAX_PROCS)
		evict_one(s, NULL);
	if (s->nprocs < s->procs_cap)
		return 0;
	ncap = s->procs_cap ? s->procs_cap * 2 : 16;
	nv = realloc(s->procs, ncap * sizeof(*nv));
	if (!nv)
		return -1;
	s->procs = nv;
	s->procs_cap = ncap;
	return 0;
}

/* The process's entry, created empty (never read) on first sight. */
static struct proc *proc_get(struct pl_symbolizer *s, pid_t pid)
{
	size_t i = proc_index(s, pid);
	struct proc *p;

	if (i < s->nprocs && s->procs[i]->pid == pid) {
		s->procs[i]->last_used = ++s->tick;
		return s->procs[i];
	}
	if (procs_reserve(s) < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->last_used = ++s->tick;
	i = proc_index(s, pid); /* eviction may have moved it */
	memmove(&s->procs[i + 1], &s->procs[i], (s->nprocs - i) * sizeof(*s->procs));
	s->procs[i] = p;
	s->nprocs++;
	return p;
}

/*
 * Reads the maps again. merge keeps old file mappings that are gone now;
 * without it (a new process behind the pid) the table is replaced.
 */
static int snapshot(struct pl_symbolizer *s, struct proc *p, bool merge)
{
	struct pl_maps maps;
	struct mapping *v;
	size_t n = 0;

	p->last_read_ns = pl_now_ns();
	s->snapshots++;
	if (pl_maps_read(p->pid, &maps) < 0)
		return -1; /* gone, most likely: what we knew still holds */
	v = build_table(s, p, &maps, merge, &n);
	pl_maps_free(&maps);
	if (!v)
		return -1;
	free(p->maps);
	s->total_maps = s->total_maps - p->n + n;
	p->maps = v;
	p->n = p->cap = n;
	enforce_mapping_budget(s, p);
	return 0;
}

static bool may_reread(const struct proc *p)
{
	return p->last_read_ns == 0 || pl_now_ns() - p->last_read_ns >= REREAD_INTERVAL_NS;
}

/* ---- one mapping learned alone (PROCMAP_QUERY) ----------------------- */

/* Mappings learned per call: a call maps one range, which is one VMA or a few. */
#define MAX_QUERIED 64

static bool table_reserve(struct proc *p, size_t more)
{
	size_t ncap;
	struct mapping *nv;

	if (p->n + more <= p->cap)
		return true;
	ncap = p->cap ? p->cap * 2 : 64;
	while (ncap < p->n + more)
		ncap *= 2;
	nv = realloc(p->maps, ncap * sizeof(*nv));
	if (!nv)
		return false;
	p->maps = nv;
	p->cap = ncap;
	return true;
}

/* Index of the first mapping ending above addr (sorted and disjoint: ends ascend too). */
static size_t first_ending_above(const struct mapping *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Plain anonymous memory: the entries build_table may have joined into one. */
static bool plain_anon(const struct mapping *m)
{
	return m->kind == MAP_ANON && !m->executable;
}

/*
 * Puts m in the table in place of the entries it overlaps (the kernel
 * replaced them, or merged them into m). One that is the very same
 * mapping keeps its module. Plain anonymous entries sticking out on either
 * side keep what sticks out: one of those may stand for many mappings
 * (build_table), and the rest of it is still there.
 */
static void table_put(struct pl_symbolizer *s, struct proc *p, struct mapping *m)
{
	size_t lo = first_ending_above(p->maps, p->n, m->start), hi, gone, put = 1, at;
	struct mapping head = {0}, tail = {0};

	for (hi = lo; hi < p->n && p->maps[hi].start < m->end; hi++)
		if (same_mapping(&p->maps[hi], m)) {
			m->resolved = p->maps[hi].resolved;
			m->mod = p->maps[hi].mod;
		}
	gone = hi - lo;
	if (gone && plain_anon(&p->maps[lo]) && p->maps[lo].start < m->start) {
		head = p->maps[lo];
		head.end = m->start;
		put++;
	}
	if (gone && plain_anon(&p->maps[hi - 1]) && p->maps[hi - 1].end > m->end) {
		tail = p->maps[hi - 1];
		tail.start = m->end;
		put++;
	}
	if (put > gone && !table_reserve(p, put - gone))
		return;
	memmove(&p->maps[lo + put], &p->maps[hi], (p->n - hi) * sizeof(*p->maps));
	at = lo;
	if (head.end)
		p->maps[at++] = head;
	p->maps[at++] = *m;
	if (tail.end)
		p->maps[at] = tail;
	p->n = p->n - gone + put;
	s->total_maps = s->total_maps - gone + put;
}

/* One PROCMAP_QUERY session on a process's maps, bounded by MAX_QUERIED answers. */
struct query {
	struct pl_symbolizer *s;
	struct proc *p;
	int fd, left, err;
	bool failed;
	char name[PATH_MAX + 64];
};

/* The mapping covering addr (or the next one); puts it in the table. False: none, or an error. */
static bool query_put(struct query *q, uint64_t addr, struct pl_map *pm)
{
	struct mapping m;
	int r;

	if (q->left <= 0)
		return false;
	q->left--;
	r = pl_maps_query(q->fd, addr, pm, q->name, sizeof(q->name));
	if (r < 0) {
		q->err = errno;
		q->failed = true;
	}
	if (r <= 0)
		return false;
	mapping_init(q->s, &m, pm);
	table_put(q->s, q->p, &m);
	return true;
}

static bool same_file_map(const struct pl_map *a, const struct pl_map *b)
{
	return a->inode && a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

/*
 * The rest of the file around a new mapping: a library's other segments
 * (or the reservation ld.so maps them into) sit right beside it, and a
 * frame the walk finds in them still names the library.
 */
static void query_neighbours(struct query *q, const struct pl_map *first, const struct pl_map *last)
{
	struct pl_map pm;
	uint64_t addr = last->end;

	while (query_put(q, addr, &pm) && pm.start == addr && same_file_map(&pm, last))
		addr = pm.end;
	addr = first->start;
	while (addr > 0 && query_put(q, addr - 1, &pm) && pm.end == addr &&
	       same_file_map(&pm, first))
		addr = pm.start;
}

/*
 * Learns the mappings over [start, end) of p alone, and their file's
 * neighbours, by PROCMAP_QUERY: the work of one call, not of the whole
 * table. 0 (also when the process is gone), or -1 when the kernel cannot
 * answer this way.
 */
static int query_range(struct pl_symbolizer *s, struct proc *p, uint64_t start, uint64_t end)
{
	struct query *q = calloc(1, sizeof(*q));
	struct pl_map pm, first = {0}, last = {0};
	char path[64];
	uint64_t addr = start;
	int ret;

	if (!q)
		return -1;
	*q = (struct query){.s = s, .p = p, .left = MAX_QUERIED};
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
	q->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (q->fd < 0) {
		free(q);
		return 0;
	}
	while (addr < end && query_put(q, addr, &pm) && pm.start < end) {
		if (!first.end)
			first = pm;
		last = pm;
		addr = pm.end;
	}
	if (first.end)
		query_neighbours(q, &first, &last);
	close(q->fd);
	if (q->failed && q->err == ENOTTY)
		s->no_query = true; /* an older kernel: whole re-reads from now on */
	ret = q->failed && q->err != ESRCH ? -1 : 0;
	free(q);
	return ret;
}

/* ---- from a mapping to its module ------------------------------------ */

static bool same_file(const struct mapping *a, const struct mapping *b)
{
	return a->kind == MAP_FILE && b->kind == MAP_FILE && a->inode && a->inode == b->inode &&
	       a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

/*
 * A neighbouring mapping of the same file already found its module (a
 * binary is mapped 4-5 times in a row: one open per process is enough).
 */
static struct module *sibling_module(const struct proc *p, const struct mapping *m)
{
	size_t i = (size_t)(m - p->maps);
	size_t lo = i > SIBLING_REACH ? i - SIBLING_REACH : 0;
	size_t hi = i + SIBLING_REACH < p->n ? i + SIBLING_REACH + 1 : p->n;

	for (size_t j = lo; j < hi; j++)
		if (j != i && p->maps[j].resolved && p->maps[j].mod && same_file(&p->maps[j], m))
			return p->maps[j].mod;
	return NULL;
}

/* The mapping's module, looked up once (a failure is remembered too). */
static struct module *resolve(struct pl_symbolizer *s, const struct proc *p, struct mapping *m)
{
	if (m->resolved)
		return m->mod;
	m->resolved = true;
	if (m->kind == MAP_VDSO) {
		m->mod = module_for_vdso(s, p->pid, m);
	} else if (m->kind == MAP_FILE) {
		m->mod = sibling_module(p, m);
		if (!m->mod)
			m->mod = module_for_file(s, p->pid, m);
	}
	return m->mod;
}

/*
 * What vanishes with the process is read now: the vDSO (only in its
 * memory) and deleted binaries (only through map_files). The rest can
 * still be found by path later.
 */
static void preload_vanishing(struct pl_symbolizer *s, struct proc *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct mapping *m = &p->maps[i];

		if (m->kind == MAP_VDSO || (m->kind == MAP_FILE && m->deleted && m->executable))
			resolve(s, p, m);
	}
}

/* ---- frames ------------------------------------------------------------ */

static bool mapping_vaddr(const struct mapping *m, const struct module *mod, uint64_t addr,
			  uint64_t *vaddr)
{
	uint64_t off = addr - m->start;

	if (m->offset + off < m->offset)
		return false;
	return pl_elf_offset_to_vaddr(mod->elf, m->offset + off, vaddr);
}

/*
 * A symbol as people read it: C++ and Rust names demangled (kept for as
 * long as s), anything else as it is. Demangled at lookup, not at load:
 * only the names that frames show pay for it.
 */
static const char *readable(struct pl_symbolizer *s, const char *sym)
{
	char out[PL_DEMANGLE_MAX_OUT];
	const char *name;

	if (!sym || sym[0] != '_' || !pl_demangle(sym, strlen(sym), out, sizeof(out)))
		return sym;
	name = intern(&s->strings, out, strlen(out));
	return name ? name : sym;
}

/* The debug file's names first: they are the binary's own, locals included. */
static const char *module_lookup(const struct module *mod, uint64_t vaddr, uint64_t *start)
{
	const char *sym = mod->debug ? pl_elf_lookup(mod->debug, vaddr, start) : NULL;

	return sym ? sym : pl_elf_lookup(mod->elf, vaddr, start);
}

static void elf_frame(struct pl_symbolizer *s, const struct module *mod, uint64_t vaddr,
		      struct pl_frame *f)
{
	uint64_t start;
	const char *sym = module_lookup(mod, vaddr, &start);

	f->func = readable(s, sym);
	f->func_off = sym ? vaddr - start : 0;
}

/* Inlined frames first; the outermost gets its offset from ELF if it can. */
/* A name of the lookup's, kept for as long as s (the table reuses its copy). */
static const char *keep_name(struct pl_symbolizer *s, const char *name)
{
	return name ? intern(&s->strings, name, strlen(name)) : NULL;
}

static int go_frames(struct pl_symbolizer *s, const struct module *mod, uint64_t vaddr,
		     struct pl_frame *out, int max)
{
	struct pl_go_frame gf[MAX_GO_FRAMES];
	int n = pl_pclntab_lookup(mod->go, vaddr, gf, MAX_GO_FRAMES);
	int written;
	uint64_t start;
	const char *sym;

	if (n > MAX_GO_FRAMES)
		n = MAX_GO_FRAMES;
	if (n <= 0 || !gf[n - 1].func)
		return 0;
	written = n < max ? n : max;
	for (int i = 0; i < written; i++) {
		out[i] = out[0];
		out[i].func = keep_name(s, gf[i].func);
		out[i].func_off = 0;
		out[i].file = keep_name(s, gf[i].file);
		out[i].line = gf[i].line;
		out[i].inlined = i < n - 1;
	}
	sym = pl_elf_lookup(mod->elf, vaddr, &start);
	if (written == n && sym && out[n - 1].func && !strcmp(sym, out[n - 1].func))
		out[n - 1].func_off = vaddr - start;
	return written;
}

static int describe(struct pl_symbolizer *s, const struct proc *p, struct mapping *m, uint64_t addr,
		    struct pl_frame *out, int max)
{
	struct module *mod;
	uint64_t vaddr;
	int n;

	out->module = m->name;
	out->code = m->executable || m->kind == MAP_VDSO;
	if (m->kind != MAP_FILE && m->kind != MAP_VDSO)
		return 1;
	mod = resolve(s, p, m);
	if (!mod || !mod->elf || !mapping_vaddr(m, mod, addr, &vaddr))
		return 1;
	if (mod->go && (n = go_frames(s, mod, vaddr, out, max)) > 0)
		return n;
	elf_frame(s, mod, vaddr, out);
	return 1;
}

/* ---- the interface ----------------------------------------------------- */

struct pl_symbolizer *pl_symbolizer_new(void)
{
	return calloc(1, sizeof(struct pl_symbolizer));
}

void pl_symbolizer_set_debug_root(struct pl_symbolizer *s, const char *root)
{
	s->debug_root = root;
}

size_t pl_symbolizer_debug_files(const struct pl_symbolizer *s)
{
	return s ? s->debug_files : 0;
}

void pl_symbolizer_set_warn(struct pl_symbolizer *s, pl_symbolizer_warn_fn fn, void *ctx)
{
	s->warn = fn;
	s->warn_ctx = ctx;
}

size_t pl_symbolizer_over_budget(const struct pl_symbolizer *s)
{
	return s ? s->over_budget : 0;
}

int pl_symbolizer_add_process(struct pl_symbolizer *s, pid_t pid)
{
	struct proc *p = s ? proc_get(s, pid) : NULL;

	if (!p || snapshot(s, p, false) < 0)
		return -1;
	preload_vanishing(s, p);
	return 0;
}

/* What vanishes with the process, among the mappings over [start, end). */
static void preload_range(struct pl_symbolizer *s, struct proc *p, uint64_t start, uint64_t end)
{
	for (size_t i = first_ending_above(p->maps, p->n, start);
	     i < p->n && p->maps[i].start < end; i++) {
		struct mapping *m = &p->maps[i];

		if (m->kind == MAP_VDSO || (m->kind == MAP_FILE && m->deleted && m->executable))
			resolve(s, p, m);
	}
}

int pl_symbolizer_add_range(struct pl_symbolizer *s, pid_t pid, uint64_t start, uint64_t end)
{
	struct proc *p = s ? proc_get(s, pid) : NULL;

	if (!p || start >= end)
		return -1;
	if (p->last_read_ns && !s->no_query && query_range(s, p, start, end) == 0) {
		preload_range(s, p, start, end);
		enforce_mapping_budget(s, p);
		return 0;
	}
	if (p->last_read_ns && !may_reread(p))
		return 0;
	if (snapshot(s, p, p->last_read_ns != 0) < 0)
		return -1;
	preload_vanishing(s, p);
	return 0;
}

int pl_symbolize(struct pl_symbolizer *s, pid_t pid, uint64_t addr, struct pl_frame *out, int max)
{
	struct mapping *m = NULL;
	struct proc *p;

	if (!out || max < 1)
		return 0;
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	p = s ? proc_get(s, pid) : NULL;
	if (!p)
		return 1;
	m = find_mapping(p, addr);
	if (!m && may_reread(p) && snapshot(s, p, true) == 0)
		m = find_mapping(p, addr);
	if (!m)
		return 1;
	return describe(s, p, m, addr, out, max);
}

static void free_modules(struct module *mod)
{
	while (mod) {
		struct module *next = mod->next;

		module_free(mod);
		mod = next;
	}
}

size_t pl_symbolizer_mappings(const struct pl_symbolizer *s)
{
	return s ? s->total_maps : 0;
}

size_t pl_symbolizer_snapshots(const struct pl_symbolizer *s)
{
	return s ? s->snapshots : 0;
}

void pl_symbolizer_free(struct pl_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprocs; i++) {
		free(s->procs[i]->maps);
		free(s->procs[i]);
	}
	free(s->procs);
	for (size_t i = 0; i < MODULE_BUCKETS; i++)
		free_modules(s->files[i]);
	free_modules(s->vdsos);
	strset_free(&s->strings);
	free(s);
}
