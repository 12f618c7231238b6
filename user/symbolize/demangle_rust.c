// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rust names. Both manglings print the way rustc-demangle's alternate form
 * does: no hash, no crate disambiguator ("core::fmt::Formatter::pad",
 * "<alloc::vec::Vec<u8>>::push").
 *
 * Legacy: _ZN <len><component>... 17h<16 hex digits> E, components with
 * $..$ escapes ($LT$ <, $u20$ space...) and ".." for "::".
 *
 * v0 (RFC 2603): _R [<version>] <path> [<instantiating-crate>] [<suffix>].
 * A recursive-descent printer. Back-references ("B<offset>_") point to an
 * earlier position of the same name and are printed again from there, so
 * a name could expand exponentially: output is capped, recursion is
 * bounded, and every step counts against a fixed budget. A name that
 * breaks any of them is left as it is.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "symbolize/demangle.h"

#define MAX_DEPTH 64
#define MAX_STEPS 100000

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void emit(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void emits(struct out *o, const char *s)
{
	emit(o, s, strlen(s));
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static int hex_value(char ch)
{
	return ch <= '9' ? ch - '0' : ch - 'a' + 10;
}

/* A code point as UTF-8; false if it is none. */
static bool emit_utf8(struct out *o, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	emit(o, b, n);
	return true;
}

/* ---- legacy ---------------------------------------------------------------- */

static const struct {
	const char *code, *text;
} legacy_escapes[] = {
    {"$SP$", "@"}, {"$BP$", "*"}, {"$RF$", "&"}, {"$LT$", "<"},
    {"$GT$", ">"}, {"$LP$", "("}, {"$RP$", ")"}, {"$C$", ","},
};

/* $u7e$: a code point in hex. Returns the bytes taken, 0 if it is not one. */
static size_t legacy_unicode(struct out *o, const char *s, size_t n)
{
	uint32_t cp = 0;
	size_t i = 2;

	if (n < 4 || s[1] != 'u')
		return 0;
	for (; i < n && i < 8 && is_hex(s[i]); i++)
		cp = cp << 4 | (uint32_t)hex_value(s[i]);
	if (i == 2 || i >= n || s[i] != '$' || !emit_utf8(o, cp))
		return 0;
	return i + 1;
}

static bool legacy_component(struct out *o, const char *s, size_t n)
{
	size_t i = 0;

	if (n >= 2 && s[0] == '_' && s[1] == '$') /* a leading '$' is escaped with '_' */
		i = 1;
	while (i < n) {
		size_t took = 0;

		if (s[i] == '$') {
			for (size_t k = 0; k < sizeof(legacy_escapes) / sizeof(legacy_escapes[0]);
			     k++) {
				size_t len = strlen(legacy_escapes[k].code);

				if (n - i >= len && !memcmp(s + i, legacy_escapes[k].code, len)) {
					emits(o, legacy_escapes[k].text);
					took = len;
					break;
				}
			}
			if (!took)
				took = legacy_unicode(o, s + i, n - i);
			if (!took)
				return false;
		} else if (s[i] == '.' && i + 1 < n && s[i + 1] == '.') {
			emits(o, "::");
			took = 2;
		} else {
			emit(o, s + i, 1);
			took = 1;
		}
		i += took;
	}
	return !o->full;
}

static bool is_legacy_hash(const char *s, size_t n)
{
	if (n != 17 || s[0] != 'h')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

/* Splits <len><component>... up to E; the last must be the hash. */
static bool legacy_walk(const char *s, size_t len, struct out *o)
{
	size_t i = 0, printed = 0;

	while (i < len && s[i] != 'E') {
		size_t n = 0;

		if (s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9' && n < 100000)
			n = n * 10 + (size_t)(s[i++] - '0');
		if (n == 0 || n > len - i)
			return false;
		/* The hash ends the path: it is not printed. */
		/* Past E, a ".1234" a compiler or linker numbered local copies with. */
		if (i + n < len && s[i + n] == 'E' && is_legacy_hash(s + i, n))
			return printed > 0 && (i + n + 1 == len || s[i + n + 1] == '.');
		if (printed++)
			emits(o, "::");
		if (!legacy_component(o, s + i, n))
			return false;
		i += n;
	}
	return false;
}

/* The ".llvm.1234" LLVM appends after a name it cloned: not part of it. */
static size_t without_llvm_suffix(const char *s, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++)
		if (!memcmp(s + i, ".llvm.", 6))
			return i;
	return len;
}

/* The caller's buffer gets the result only when there is one. */
static bool deliver(const struct out *o, char *out, size_t out_len)
{
	if (o->full || o->len + 1 > out_len)
		return false;
	memcpy(out, o->p, o->len + 1);
	return true;
}

bool pl_demangle_rust_legacy(const char *name, size_t len, char *out, size_t out_len)
{
	char buf[PL_DEMANGLE_MAX_OUT] = "";
	struct out o = {buf, 0, sizeof(buf), false};

	if (!name || !out || out_len == 0 || len > PL_DEMANGLE_MAX_IN)
		return false;
	len = without_llvm_suffix(name, len);
	if (len >= 3 && name[0] == '_' && name[1] == '_') /* macOS's extra underscore */
		name++, len--;
	if (len < 4 || memcmp(name, "_ZN", 3) != 0)
		return false;
	return legacy_walk(name + 3, len - 3, &o) && deliver(&o, out, out_len);
}

/* ---- v0 -------------------------------------------------------------------- */

struct v0 {
	const char *s; /* after "_R" */
	size_t len, pos;
	struct out *o;
	unsigned depth, steps;
	unsigned skip; /* > 0: parse without printing (impl paths, the instantiating crate) */
	uint64_t bound_lifetimes;
	bool failed;
};

static bool vfail(struct v0 *v)
{
	v->failed = true;
	return false;
}

static void vput(struct v0 *v, const char *s)
{
	if (!v->skip)
		emits(v->o, s);
}

static void vputn(struct v0 *v, const char *s, size_t n)
{
	if (!v->skip)
		emit(v->o, s, n);
}

static bool veat(struct v0 *v, char ch)
{
	if (v->pos < v->len && v->s[v->pos] == ch) {
		v->pos++;
		return true;
	}
	return false;
}

static char vpeek(const struct v0 *v)
{
	return v->pos < v->len ? v->s[v->pos] : '\0';
}

static char vnext(struct v0 *v)
{
	return v->pos < v->len ? v->s[v->pos++] : '\0';
}

static bool step(struct v0 *v)
{
	if (v->failed || ++v->steps > MAX_STEPS || v->o->full)
		return vfail(v);
	return true;
}

/* <base-62-number> = {0-9a-zA-Z} "_": "_" is 0, else the digits' value + 1. */
static bool base62(struct v0 *v, uint64_t *n)
{
	uint64_t x = 0;

	if (veat(v, '_')) {
		*n = 0;
		return true;
	}
	for (;;) {
		char ch = vnext(v);
		uint64_t d;

		if (ch == '_')
			break;
		if (ch >= '0' && ch <= '9')
			d = (uint64_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'z')
			d = (uint64_t)(ch - 'a') + 10;
		else if (ch >= 'A' && ch <= 'Z')
			d = (uint64_t)(ch - 'A') + 36;
		else
			return vfail(v);
		if (x > (UINT64_MAX - d) / 62)
			return vfail(v);
		x = x * 62 + d;
	}
	*n = x + 1;
	return true;
}

static bool decimal(struct v0 *v, uint64_t *n)
{
	uint64_t x = 0;
	size_t start = v->pos;

	if (vpeek(v) == '0') {
		v->pos++;
		*n = 0;
		return true;
	}
	while (vpeek(v) >= '0' && vpeek(v) <= '9' && v->pos - start < 10)
		x = x * 10 + (uint64_t)(vnext(v) - '0');
	*n = x;
	return v->pos > start || vfail(v);
}

/* [s <base-62-number>]: 0 when absent, else the number + 1. */
static bool disambiguator(struct v0 *v, uint64_t *n)
{
	*n = 0;
	if (!veat(v, 's'))
		return true;
	if (!base62(v, n))
		return false;
	*n += 1;
	return true;
}

struct ident {
	const char *p;
	size_t n;
	bool punycode;
};

static bool undisambiguated_ident(struct v0 *v, struct ident *id)
{
	uint64_t n;

	id->punycode = veat(v, 'u');
	if (!decimal(v, &n))
		return false;
	veat(v, '_');
	if (n > v->len - v->pos)
		return vfail(v);
	id->p = v->s + v->pos;
	id->n = (size_t)n;
	v->pos += (size_t)n;
	return true;
}

/* RFC 3492 with v0's '_' for the delimiter: the decoded code points, as UTF-8. */
static bool print_punycode(struct v0 *v, const struct ident *id)
{
	uint32_t cps[256];
	size_t ncp = 0, basic = 0, i;
	uint64_t n = 128, bias = 72, idx = 0;
	bool delim = false;

	for (i = 0; i < id->n; i++)
		if (id->p[i] == '_')
			basic = i, delim = true;
	if (basic > sizeof(cps) / sizeof(cps[0]))
		return vfail(v);
	for (i = 0; i < basic; i++)
		cps[ncp++] = (uint8_t)id->p[i];
	for (i = delim ? basic + 1 : 0; i < id->n;) {
		uint64_t old = idx, w = 1;

		for (uint64_t k = 36;; k += 36) {
			char ch = i < id->n ? id->p[i++] : 0;
			uint64_t d, t;

			if (ch >= 'a' && ch <= 'z')
				d = (uint64_t)(ch - 'a');
			else if (ch >= '0' && ch <= '9')
				d = (uint64_t)(ch - '0') + 26;
			else
				return vfail(v);
			if (w && d > (UINT64_MAX / 2) / w)
				return vfail(v);
			idx += d * w;
			t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
			if (d < t)
				break;
			w *= 36 - t;
			if (w > UINT32_MAX)
				return vfail(v);
		}
		if (ncp == sizeof(cps) / sizeof(cps[0]))
			return vfail(v);
		{
			uint64_t delta = old == 0 ? (idx - old) / 700 : (idx - old) / 2, k = 0;

			delta += delta / (ncp + 1);
			while (delta > 455)
				delta /= 35, k += 36;
			bias = k + 36 * delta / (delta + 38);
		}
		n += idx / (ncp + 1);
		idx %= ncp + 1;
		if (n > 0x10ffff)
			return vfail(v);
		memmove(&cps[idx + 1], &cps[idx], (ncp - idx) * sizeof(cps[0]));
		cps[idx++] = (uint32_t)n;
		ncp++;
	}
	for (i = 0; i < ncp; i++)
		if (!v->skip && !emit_utf8(v->o, cps[i]))
			return vfail(v);
	return true;
}

static bool print_ident(struct v0 *v, const struct ident *id)
{
	if (id->punycode)
		return print_punycode(v, id);
	vputn(v, id->p, id->n);
	return true;
}

static void vput_number(struct v0 *v, uint64_t n)
{
	char buf[24];

	vputn(v, buf, (size_t)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n));
}

static bool print_path(struct v0 *v, bool in_value);
static bool print_type(struct v0 *v);
static bool print_const(struct v0 *v);

/* B <offset>: the same again, from an earlier position. */
static bool backref(struct v0 *v, bool (*fn)(struct v0 *, bool), bool arg)
{
	size_t here = v->pos - 1, saved;
	uint64_t target;
	bool ok;

	if (!base62(v, &target) || target >= here)
		return vfail(v);
	saved = v->pos;
	v->pos = (size_t)target;
	ok = fn(v, arg);
	v->pos = saved;
	return ok;
}

static bool enter(struct v0 *v)
{
	if (++v->depth > MAX_DEPTH)
		return vfail(v);
	return step(v);
}

static bool leave(struct v0 *v, bool ok)
{
	v->depth--;
	return ok && !v->failed;
}

/* N <namespace> <path> <identifier>: "::name", "::{closure#0}", "::{shim:vtable#0}". */
static bool nested_path(struct v0 *v, bool in_value)
{
	char ns = vnext(v);
	struct ident id;
	uint64_t dis;

	if (!ns || !print_path(v, in_value) || !disambiguator(v, &dis) ||
	    !undisambiguated_ident(v, &id))
		return false;
	if (ns >= 'a' && ns <= 'z') {
		vput(v, "::");
		return print_ident(v, &id);
	}
	if (ns < 'A' || ns > 'Z')
		return vfail(v);
	vput(v, "::{");
	vput(v, ns == 'C' ? "closure" : ns == 'S' ? "shim" : (char[]){ns, 0});
	if (id.n) {
		vput(v, ":");
		if (!print_ident(v, &id))
			return false;
	}
	vput(v, "#");
	vput_number(v, dis);
	vput(v, "}");
	return true;
}

/* The path of an impl is not printed: "<Type>" and "<Type as Trait>" say it. */
static bool skipped_impl_path(struct v0 *v)
{
	uint64_t dis;
	bool ok;

	v->skip++;
	ok = disambiguator(v, &dis) && print_path(v, false);
	v->skip--;
	return ok;
}

/* Items up to E, sep between them; *count says how many (NULL: not needed). */
static bool print_list(struct v0 *v, bool (*item)(struct v0 *), const char *sep, unsigned *count)
{
	unsigned i = 0;

	for (; !veat(v, 'E'); i++) {
		if (v->pos >= v->len)
			return vfail(v);
		if (i)
			vput(v, sep);
		if (!item(v))
			return false;
	}
	if (count)
		*count = i;
	return true;
}

static bool generic_arg(struct v0 *v);

/* I <path> {<generic-arg>} E: "path::<A, B>" in a value, "path<A, B>" in a type. */
static bool generic_path(struct v0 *v, bool in_value)
{
	if (!print_path(v, in_value))
		return false;
	vput(v, in_value ? "::<" : "<");
	if (!print_list(v, generic_arg, ", ", NULL))
		return false;
	vput(v, ">");
	return true;
}

static bool print_path_inner(struct v0 *v, bool in_value)
{
	struct ident id;
	uint64_t dis;

	switch (vnext(v)) {
	case 'C':
		return disambiguator(v, &dis) && undisambiguated_ident(v, &id) &&
		       print_ident(v, &id);
	case 'N':
		return nested_path(v, in_value);
	case 'M':
		if (!skipped_impl_path(v))
			return false;
		vput(v, "<");
		if (!print_type(v))
			return false;
		vput(v, ">");
		return true;
	case 'X':
		if (!skipped_impl_path(v))
			return false;
		__attribute__((fallthrough)); /* the rest is <type> <path>, as for Y */
	case 'Y':
		vput(v, "<");
		if (!print_type(v))
			return false;
		vput(v, " as ");
		if (!print_path(v, false))
			return false;
		vput(v, ">");
		return true;
	case 'I':
		return generic_path(v, in_value);
	case 'B':
		return backref(v, print_path, in_value);
	default:
		return vfail(v);
	}
}

static bool print_path(struct v0 *v, bool in_value)
{
	if (!enter(v))
		return false;
	return leave(v, print_path_inner(v, in_value));
}

/* 'a, 'b... for lifetimes bound by for<...>; '_ for an erased one. */
static void print_lifetime(struct v0 *v, uint64_t idx)
{
	uint64_t depth;

	if (idx == 0 || idx > v->bound_lifetimes) {
		vput(v, "'_");
		return;
	}
	depth = v->bound_lifetimes - idx;
	if (depth < 26) {
		char name[3] = {'\'', (char)('a' + depth), 0};

		vput(v, name);
	} else {
		vput(v, "'_");
		vput_number(v, depth);
	}
}

/* G <base-62-number>: for<'a, 'b> ... (the caller restores the count). */
static bool binder(struct v0 *v)
{
	uint64_t n;

	if (!veat(v, 'G'))
		return true;
	if (!base62(v, &n) || n + 1 > 26 * 26)
		return vfail(v);
	vput(v, "for<");
	for (uint64_t i = 0; i <= n; i++) {
		if (i)
			vput(v, ", ");
		v->bound_lifetimes++;
		print_lifetime(v, 1);
	}
	vput(v, "> ");
	return true;
}

static const char *basic_type(char ch)
{
	static const char *const names[26] = {
	    ['a' - 'a'] = "i8",	  ['b' - 'a'] = "bool",	 ['c' - 'a'] = "char",
	    ['d' - 'a'] = "f64",  ['e' - 'a'] = "str",	 ['f' - 'a'] = "f32",
	    ['h' - 'a'] = "u8",	  ['i' - 'a'] = "isize", ['j' - 'a'] = "usize",
	    ['l' - 'a'] = "i32",  ['m' - 'a'] = "u32",	 ['n' - 'a'] = "i128",
	    ['o' - 'a'] = "u128", ['s' - 'a'] = "i16",	 ['t' - 'a'] = "u16",
	    ['u' - 'a'] = "()",	  ['v' - 'a'] = "...",	 ['x' - 'a'] = "i64",
	    ['y' - 'a'] = "u64",  ['z' - 'a'] = "!",	 ['p' - 'a'] = "_",
	};

	return ch >= 'a' && ch <= 'z' ? names[ch - 'a'] : NULL;
}

/* F: [for<...>] [unsafe] [extern "abi"] fn(A, B) -> R. */
static bool fn_type(struct v0 *v)
{
	uint64_t saved = v->bound_lifetimes;
	struct ident abi;

	if (!binder(v))
		return false;
	if (veat(v, 'U'))
		vput(v, "unsafe ");
	if (veat(v, 'K')) {
		vput(v, "extern \"");
		if (veat(v, 'C')) {
			vput(v, "C");
		} else {
			if (!undisambiguated_ident(v, &abi))
				return false;
			for (size_t i = 0; i < abi.n; i++)
				vputn(v, abi.p[i] == '_' ? "-" : &abi.p[i], 1);
		}
		vput(v, "\" ");
	}
	vput(v, "fn(");
	if (!print_list(v, print_type, ", ", NULL))
		return false;
	vput(v, ")");
	if (veat(v, 'u')) { /* returning () is not printed */
		v->bound_lifetimes = saved;
		return true;
	}
	vput(v, " -> ");
	if (!print_type(v))
		return false;
	v->bound_lifetimes = saved;
	return true;
}

/* One trait of a dyn, with its associated types: "Iterator<Item = u8>". */
static bool dyn_trait(struct v0 *v)
{
	bool open = false;

	if (vpeek(v) == 'I') { /* its generic arguments stay open for the bindings */
		v->pos++;
		if (!print_path(v, false))
			return false;
		vput(v, "<");
		if (!print_list(v, generic_arg, ", ", NULL))
			return false;
		open = true;
	} else if (!print_path(v, false)) {
		return false;
	}
	while (veat(v, 'p')) {
		struct ident name;

		vput(v, open ? ", " : "<");
		open = true;
		if (!undisambiguated_ident(v, &name) || !print_ident(v, &name))
			return false;
		vput(v, " = ");
		if (!print_type(v))
			return false;
	}
	if (open)
		vput(v, ">");
	return true;
}

/* D: dyn A + B [+ 'a]. */
static bool dyn_type(struct v0 *v)
{
	uint64_t saved = v->bound_lifetimes, lt;

	vput(v, "dyn ");
	if (!binder(v))
		return false;
	if (!print_list(v, dyn_trait, " + ", NULL))
		return false;
	if (!veat(v, 'L') || !base62(v, &lt))
		return vfail(v);
	if (lt) {
		vput(v, " + ");
		print_lifetime(v, lt);
	}
	v->bound_lifetimes = saved;
	return true;
}

/* R, Q: "&T", "&mut T", with a named lifetime when there is one. */
static bool reference(struct v0 *v, bool mut)
{
	uint64_t lt;

	vput(v, "&");
	if (veat(v, 'L')) {
		if (!base62(v, &lt))
			return false;
		if (lt) {
			print_lifetime(v, lt);
			vput(v, " ");
		}
	}
	if (mut)
		vput(v, "mut ");
	return print_type(v);
}

static bool print_type_arg(struct v0 *v, bool unused)
{
	(void)unused;
	return print_type(v);
}

static bool print_type_inner(struct v0 *v)
{
	const char *basic = basic_type(vpeek(v));
	char ch;

	if (basic) {
		v->pos++;
		vput(v, basic);
		return true;
	}
	switch ((ch = vnext(v))) {
	case 'R':
	case 'Q':
		return reference(v, ch == 'Q');
	case 'P':
	case 'O':
		vput(v, ch == 'P' ? "*const " : "*mut ");
		return print_type(v);
	case 'A':
	case 'S':
		vput(v, "[");
		if (!print_type(v))
			return false;
		if (ch == 'A') {
			vput(v, "; ");
			if (!print_const(v))
				return false;
		}
		vput(v, "]");
		return true;
	case 'T': {
		unsigned n;

		vput(v, "(");
		if (!print_list(v, print_type, ", ", &n))
			return false;
		vput(v, n == 1 ? ",)" : ")"); /* (T,) is a tuple, (T) is not */
		return true;
	}
	case 'F':
		return fn_type(v);
	case 'D':
		return dyn_type(v);
	case 'B':
		return backref(v, print_type_arg, false);
	default:
		v->pos--;
		return print_path(v, false);
	}
}

static bool print_type(struct v0 *v)
{
	if (!enter(v))
		return false;
	return leave(v, print_type_inner(v));
}

/* <const-data> = ["n"] {<hex-digit>} "_", printed for its type. */
static bool const_value(struct v0 *v, char type)
{
	uint64_t x = 0;
	size_t start;
	bool neg = veat(v, 'n');

	start = v->pos;
	while (is_hex(vpeek(v))) {
		if (v->pos - start >= 16)
			return vfail(v); /* past 64 bits: not printed */
		x = x << 4 | (uint64_t)hex_value(vnext(v));
	}
	if (!veat(v, '_'))
		return vfail(v);
	if (type == 'b') {
		if (x > 1)
			return vfail(v);
		vput(v, x ? "true" : "false");
		return true;
	}
	if (type == 'c') {
		vput(v, "'");
		if (!v->skip && !emit_utf8(v->o, (uint32_t)x))
			return vfail(v);
		vput(v, "'");
		return true;
	}
	if (neg)
		vput(v, "-");
	vput_number(v, x);
	return true;
}

static bool print_const_arg(struct v0 *v, bool unused)
{
	(void)unused;
	return print_const(v);
}

static bool print_const(struct v0 *v)
{
	char type;
	bool ok;

	if (!enter(v))
		return false;
	if (veat(v, 'p')) {
		vput(v, "_");
		return leave(v, true);
	}
	if (veat(v, 'B'))
		return leave(v, backref(v, print_const_arg, false));
	type = vnext(v);
	/* integers, bool and char; str and structural constants are not printed */
	ok = strchr("abcfhijlmnostxy", type) && type && const_value(v, type);
	return leave(v, ok || vfail(v));
}

static bool generic_arg(struct v0 *v)
{
	uint64_t lt;

	if (veat(v, 'L')) {
		if (!base62(v, &lt))
			return false;
		print_lifetime(v, lt);
		return true;
	}
	if (veat(v, 'K'))
		return print_const(v);
	return print_type(v);
}

bool pl_demangle_rust_v0(const char *name, size_t len, char *out, size_t out_len)
{
	char buf[PL_DEMANGLE_MAX_OUT] = "";
	struct out o = {buf, 0, sizeof(buf), false};
	struct v0 v = {0};
	uint64_t version;

	if (!name || !out || out_len == 0 || len > PL_DEMANGLE_MAX_IN)
		return false;
	if (len >= 3 && name[0] == '_' && name[1] == '_')
		name++, len--;
	if (len < 3 || name[0] != '_' || name[1] != 'R')
		return false;
	v.s = name + 2;
	v.len = len - 2;
	v.o = &o;
	/* An optional encoding version (a decimal) comes first; only 0 exists. */
	if (vpeek(&v) >= '0' && vpeek(&v) <= '9' && (!decimal(&v, &version) || version != 0))
		return false;
	if (vpeek(&v) < 'A' || vpeek(&v) > 'Z' || !print_path(&v, true))
		return false;
	/* The instantiating crate, parsed and not printed; then a vendor suffix. */
	if (vpeek(&v) >= 'A' && vpeek(&v) <= 'Z') {
		v.skip++;
		if (!print_path(&v, false))
			return false;
		v.skip--;
	}
	if (v.pos != v.len && vpeek(&v) != '.' && vpeek(&v) != '$')
		return false;
	return !v.failed && deliver(&o, out, out_len);
}
