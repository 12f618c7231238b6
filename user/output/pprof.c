// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The profile.proto fields written (github.com/google/pprof, proto/profile.proto):
 * Profile 1 sample_type, 2 sample, 4 location, 5 function, 6 string_table,
 * 9 time_nanos, 10 duration_nanos, 14 default_sample_type; ValueType 1 type,
 * 2 unit; Sample 1 location_id (packed), 2 value (packed); Location 1 id,
 * 3 address, 4 line; Line 1 function_id; Function 1 id, 2 name,
 * 3 system_name, 4 filename.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "output/pprof.h"
#include "symbolize/attribution.h"
#include "util/clock.h"

/* ---- a growable byte buffer and the protobuf encoding --------------------------- */

struct pb {
	uint8_t *b;
	size_t n, cap;
	bool oom; /* a failed growth: everything after it is dropped, and said */
};

size_t pl_pb_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	do {
		out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static void pb_put(struct pb *p, const void *data, size_t len)
{
	if (p->oom)
		return;
	if (p->n + len > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		uint8_t *b;

		while (cap < p->n + len)
			cap *= 2;
		b = realloc(p->b, cap);
		if (!b) {
			p->oom = true;
			return;
		}
		p->b = b;
		p->cap = cap;
	}
	memcpy(p->b + p->n, data, len);
	p->n += len;
}

static void pb_varint(struct pb *p, uint64_t v)
{
	uint8_t buf[10];

	pb_put(p, buf, pl_pb_varint(buf, v));
}

static void pb_uint(struct pb *p, unsigned field, uint64_t v)
{
	pb_varint(p, (uint64_t)field << 3); /* wire type 0: varint */
	pb_varint(p, v);
}

static void pb_bytes(struct pb *p, unsigned field, const void *data, size_t len)
{
	pb_varint(p, (uint64_t)field << 3 | 2); /* wire type 2: length-delimited */
	pb_varint(p, len);
	pb_put(p, data, len);
}

/* A nested message, from its own buffer, which is emptied for reuse. */
static void pb_message(struct pb *p, unsigned field, struct pb *m)
{
	p->oom |= m->oom;
	pb_bytes(p, field, m->b, m->n);
	m->n = 0;
	m->oom = false;
}

/* ---- interned strings, functions and locations ----------------------------------- */

/* An open-addressed set of 64-bit keys (never 0) to dense ids from 1. */
struct idset {
	uint64_t *keys;
	uint32_t *ids;
	size_t cap, n;
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h ? h : 1;
}

static uint64_t hash_str(const char *s, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return mix(h);
}

/* The id of key (new ids count from 1), or 0 when memory runs out. */
static uint32_t idset_get(struct idset *s, uint64_t key, bool *fresh)
{
	size_t i;

	*fresh = false;
	if ((s->n + 1) * 2 > s->cap) {
		struct idset g = {.cap = s->cap ? s->cap * 2 : 1024, .n = s->n};

		g.keys = calloc(g.cap, sizeof(*g.keys));
		g.ids = calloc(g.cap, sizeof(*g.ids));
		if (!g.keys || !g.ids) {
			free(g.keys);
			free(g.ids);
			return 0;
		}
		for (size_t j = 0; j < s->cap; j++) {
			if (!s->keys[j])
				continue;
			for (i = s->keys[j] & (g.cap - 1); g.keys[i]; i = (i + 1) & (g.cap - 1))
				;
			g.keys[i] = s->keys[j];
			g.ids[i] = s->ids[j];
		}
		free(s->keys);
		free(s->ids);
		*s = g;
	}
	for (i = key & (s->cap - 1); s->keys[i] && s->keys[i] != key; i = (i + 1) & (s->cap - 1))
		;
	if (!s->keys[i]) {
		s->keys[i] = key;
		s->ids[i] = (uint32_t)++s->n;
		*fresh = true;
	}
	return s->ids[i];
}

static void idset_free(struct idset *s)
{
	free(s->keys);
	free(s->ids);
}

/* ---- the sink --------------------------------------------------------------------- */

struct pp_sample {
	uint32_t n_locs;
	uint32_t *locs; /* location ids, the site first */
	int64_t v[PL_PPROF_NVALUES];
};

struct pprof {
	uint64_t t0_ns;
	/* Encoded as they are first seen: the string table, functions, locations. */
	struct pb strings, functions, locations, scratch, line;
	struct idset string_ids, function_ids, location_ids, stack_ids;
	struct pp_sample *samples;
	size_t n_samples, cap_samples;
	uint64_t dropped;
};

/* The string's index in the table (0 is ""), added when new. */
static uint64_t intern(struct pprof *pp, const char *s)
{
	bool fresh;
	uint32_t id;

	if (!s || !*s)
		return 0;
	id = idset_get(&pp->string_ids, hash_str(s, 0), &fresh);
	if (fresh)
		pb_bytes(&pp->strings, 6, s, strlen(s));
	return id; /* ids count from 1, after "" at 0 */
}

static const char *frame_name(const struct pl_frame *f, char *buf, size_t len)
{
	if (f->func)
		return f->func;
	snprintf(buf, len, "0x%llx", (unsigned long long)f->addr);
	return buf;
}

static uint32_t function_of(struct pprof *pp, const struct pl_frame *f)
{
	char addr[32];
	const char *name = frame_name(f, addr, sizeof(addr));
	uint64_t key = mix(hash_str(name, 1) ^ hash_str(f->module, 2) * 31);
	bool fresh;
	uint32_t id = idset_get(&pp->function_ids, key, &fresh);

	if (fresh) {
		uint64_t s = intern(pp, name);

		pb_uint(&pp->scratch, 1, id);
		pb_uint(&pp->scratch, 2, s);
		pb_uint(&pp->scratch, 3, s);
		pb_uint(&pp->scratch, 4, intern(pp, f->module));
		pb_message(&pp->functions, 5, &pp->scratch);
	}
	return id;
}

static uint32_t location_of(struct pprof *pp, const struct pl_frame *f)
{
	uint32_t fn = function_of(pp, f);
	bool fresh;
	uint32_t id = idset_get(&pp->location_ids, mix(f->addr ^ ((uint64_t)fn << 40)), &fresh);

	if (fresh && fn) {
		pb_uint(&pp->scratch, 1, id);
		pb_uint(&pp->scratch, 3, f->addr);
		pb_uint(&pp->line, 1, fn);
		pb_message(&pp->scratch, 4, &pp->line);
		pb_message(&pp->locations, 4, &pp->scratch);
	}
	return fn ? id : 0;
}

void pl_pprof_values(const struct pl_syscall_event *e, int64_t v[PL_PPROF_NVALUES])
{
	int64_t resident = pl_resident_delta(e->rss_delta);
	bool ok = !pl_syscall_failed(e);

	v[PL_PPROF_CALLS] = 1;
	v[PL_PPROF_ADVISED] = ok && pl_syscall_is_release(e) && pl_syscall_has_advice(e->sys)
				  ? (int64_t)pl_syscall_len(e)
				  : 0;
	v[PL_PPROF_RELEASED] = resident < 0 ? -resident : 0;
	v[PL_PPROF_MAPPED] = ok && e->sys == PL_SYS_MMAP ? (int64_t)pl_syscall_len(e) : 0;
}

static struct pp_sample *sample_for(struct pprof *pp, const struct pl_caller *c, int from)
{
	uint64_t key = 0x9e3779b97f4a7c15ull;
	struct pp_sample *s;
	bool fresh;
	uint32_t id;

	for (int i = from; i < c->nframes; i++)
		key = mix(key ^ c->frames[i].addr) + (uint64_t)i;
	id = idset_get(&pp->stack_ids, mix(key), &fresh);
	if (!id)
		return NULL;
	if (!fresh)
		return &pp->samples[id - 1];
	if (pp->n_samples == pp->cap_samples) {
		size_t cap = pp->cap_samples ? pp->cap_samples * 2 : 256;
		struct pp_sample *grown = realloc(pp->samples, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		pp->samples = grown;
		pp->cap_samples = cap;
	}
	s = &pp->samples[pp->n_samples++];
	memset(s, 0, sizeof(*s));
	s->locs = calloc((size_t)(c->nframes - from) + 1, sizeof(*s->locs));
	for (int i = from; s->locs && i < c->nframes; i++) {
		uint32_t loc = location_of(pp, &c->frames[i]);

		if (loc)
			s->locs[s->n_locs++] = loc;
	}
	return s;
}

static void pprof_record(struct pl_output *o, const struct pl_record *r)
{
	struct pprof *pp = o->priv;
	const struct pl_caller *c = r->caller;
	struct pp_sample *s;
	int64_t v[PL_PPROF_NVALUES];

	if (r->type != PL_EV_SYSCALL || !c || !c->nframes)
		return;
	if (pp->stack_ids.n >= PL_PPROF_MAX_STACKS) {
		pp->dropped++;
		return;
	}
	s = sample_for(pp, c, c->site > 0 ? c->site : 0);
	if (!s) {
		pp->dropped++;
		return;
	}
	pl_pprof_values(r->sys, v);
	for (int i = 0; i < PL_PPROF_NVALUES; i++)
		s->v[i] += v[i];
}

static void value_type(struct pprof *pp, struct pb *out, const char *type, const char *unit)
{
	pb_uint(&pp->scratch, 1, intern(pp, type));
	pb_uint(&pp->scratch, 2, intern(pp, unit));
	pb_message(out, 1, &pp->scratch);
}

/* A packed repeated field of varints. */
static void pb_packed(struct pb *p, unsigned field, struct pb *tmp, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pb_varint(tmp, v[i]);
	pb_message(p, field, tmp);
}

static void encode_samples(struct pprof *pp, struct pb *out)
{
	struct pb packed = {0};

	for (size_t i = 0; i < pp->n_samples; i++) {
		struct pp_sample *s = &pp->samples[i];
		uint64_t locs[PL_MAX_FRAMES + 1], vals[PL_PPROF_NVALUES];

		for (uint32_t k = 0; k < s->n_locs && k <= PL_MAX_FRAMES; k++)
			locs[k] = s->locs[k];
		for (int k = 0; k < PL_PPROF_NVALUES; k++)
			vals[k] = (uint64_t)s->v[k];
		pb_packed(&pp->scratch, 1, &packed, locs, s->n_locs);
		pb_packed(&pp->scratch, 2, &packed, vals, PL_PPROF_NVALUES);
		pb_message(out, 2, &pp->scratch);
	}
	free(packed.b);
}

/* The whole profile, uncompressed, into out. */
static void encode(struct pprof *pp, struct pb *out)
{
	struct pb head = {0};

	/* The sample types' strings first: interned now, they join the table. */
	value_type(pp, &head, "calls", "count");
	value_type(pp, &head, "advised", "bytes");
	value_type(pp, &head, "released", "bytes");
	value_type(pp, &head, "mapped", "bytes");
	pb_put(out, head.b, head.n);
	out->oom |= head.oom;
	free(head.b);
	encode_samples(pp, out);
	pb_put(out, pp->locations.b, pp->locations.n);
	pb_put(out, pp->functions.b, pp->functions.n);
	pb_bytes(out, 6, "", 0); /* string 0 is "" */
	pb_put(out, pp->strings.b, pp->strings.n);
	pb_uint(out, 9, pl_wall_of(pp->t0_ns));
	pb_uint(out, 10, pl_now_ns() - pp->t0_ns);
	pb_uint(out, 14, intern(pp, "released"));
	out->oom |= pp->strings.oom || pp->functions.oom || pp->locations.oom;
}

/* data as one gzip member to f. 0, or -1 (zlib failed). */
static int write_gzip(FILE *f, const uint8_t *data, size_t len)
{
	z_stream z = {0};
	uint8_t buf[65536];
	int rc;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
		return -1;
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		rc = deflate(&z, Z_FINISH);
		fwrite(buf, 1, sizeof(buf) - z.avail_out, f); /* the outfile checks every write */
	} while (rc == Z_OK);
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static void pprof_begin(struct pl_output *o, const struct pl_run_info *info)
{
	((struct pprof *)o->priv)->t0_ns = info->t0_ns;
}

static void pprof_end(struct pl_output *o)
{
	struct pprof *pp = o->priv;
	struct pb out = {0};

	encode(pp, &out);
	if (out.oom || out.n > UINT32_MAX || write_gzip(o->f, out.b, out.n))
		fprintf(stderr, "pageledger: --pprof: the profile could not be made (out of "
				"memory)\n");
	if (pp->dropped)
		fprintf(
		    stderr,
		    "pageledger: --pprof: %llu calls left out: more than %d distinct stacks, or "
		    "no memory\n",
		    (unsigned long long)pp->dropped, PL_PPROF_MAX_STACKS);
	for (size_t i = 0; i < pp->n_samples; i++)
		free(pp->samples[i].locs);
	free(pp->samples);
	free(out.b);
	free(pp->strings.b), free(pp->functions.b), free(pp->locations.b);
	free(pp->scratch.b), free(pp->line.b);
	idset_free(&pp->string_ids), idset_free(&pp->function_ids);
	idset_free(&pp->location_ids), idset_free(&pp->stack_ids);
	free(pp);
	o->priv = NULL;
}

static const struct pl_output_ops pprof_ops = {
    .begin = pprof_begin,
    .record = pprof_record,
    .end = pprof_end,
};

int pl_output_pprof_init(struct pl_output *o, FILE *f)
{
	struct pprof *pp = calloc(1, sizeof(*pp));

	if (!pp) {
		fprintf(stderr, "pageledger: out of memory\n");
		return -1;
	}
	*o = (struct pl_output){.ops = &pprof_ops, .f = f, .priv = pp};
	return 0;
}
