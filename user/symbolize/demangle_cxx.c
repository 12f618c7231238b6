// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * C++ names, Itanium ABI (https://itanium-cxx-abi.github.io/cxx-abi/abi.html,
 * "Mangling"), printed as GCC's c++filt prints them: "std::vector<int,
 * std::allocator<int> >::push_back(int const&)".
 *
 * A recursive-descent parser that prints as it goes. Every printed piece
 * is a slice of one fixed arena, so the memory a name may take is the
 * arena's, and the time is bounded by it too: a substitution or template
 * parameter copies an earlier slice, and once the arena is full the name
 * fails. Recursion is bounded by a depth counter. Constructs outside the
 * common subset (expressions, decltype, vendor operators) fail the name,
 * which then stays mangled.
 *
 * A type is printed in two parts around where a declarator goes, so that
 * pointers to functions and arrays come out inside-out: "void (*)(int)".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "symbolize/demangle.h"

#define ARENA_BYTES (64u << 10)
#define MAX_SUBS 256
#define MAX_TARGS 64
#define MAX_PARAMS 64
#define MAX_DEPTH 128
#define MAX_ELEMS 256 /* the elements of all packs of one name */

struct str {
	uint32_t off, len; /* in the arena */
};

/* A type: left + declarator + right. grouped: right holds a "(...)" or "[N]". */
struct type {
	struct str left, right;
	bool grouped;
};

/* A template argument: a type in its two parts, or a pack of elements. */
struct targ {
	struct type t; /* for a pack, its elements joined */
	uint16_t first, count;
	bool is_pack;
};

struct cxx {
	const char *s, *end;
	char arena[ARENA_BYTES];
	uint32_t used;
	struct type subs[MAX_SUBS];
	unsigned nsubs;
	struct targ targs[MAX_TARGS]; /* the innermost template's arguments */
	unsigned ntargs;
	struct type elems[MAX_ELEMS]; /* the packs' elements */
	unsigned nelems;
	/* Inside a pack expansion (Dp): which element, and the pack's length once seen. */
	int pack_index, pack_len;
	/* Template argument lists open: a local name inside one is not demangled. */
	unsigned in_targs;
	/* The last source name seen: a constructor's or destructor's name. */
	struct str last_name;
	unsigned depth;
	bool failed;
};

/* What parsing a name tells the encoding around it. */
struct name {
	struct str text;
	struct str quals;  /* a member function's " const", " &&", ... */
	bool templated;	   /* ends in template arguments: the encoding has a return type */
	bool ctor_or_conv; /* ...unless it is a constructor, destructor or conversion */
};

/* ---- the arena ----------------------------------------------------------- */

static bool fail(struct cxx *c)
{
	c->failed = true;
	return false;
}

static const char *at(const struct cxx *c, struct str s)
{
	return c->arena + s.off;
}

/* Appends bytes at the arena's end: the one slice being built. */
static void put(struct cxx *c, const char *p, size_t n)
{
	if (c->failed || n > ARENA_BYTES - c->used || c->used + n > ARENA_BYTES) {
		c->failed = true;
		return;
	}
	memmove(c->arena + c->used, p, n);
	c->used += (uint32_t)n;
}

static void puts_(struct cxx *c, const char *p)
{
	put(c, p, strlen(p));
}

/* An earlier slice copied onto the end (its bytes may move nothing: memmove). */
static void put_str(struct cxx *c, struct str s)
{
	put(c, c->arena + s.off, s.len);
}

static uint32_t begin(const struct cxx *c)
{
	return c->used;
}

static struct str done(const struct cxx *c, uint32_t start)
{
	return (struct str){start, c->used - start};
}

static struct str lit(struct cxx *c, const char *p)
{
	uint32_t b = begin(c);

	puts_(c, p);
	return done(c, b);
}

static struct str cat2(struct cxx *c, struct str a, struct str b)
{
	uint32_t start = begin(c);

	put_str(c, a);
	put_str(c, b);
	return done(c, start);
}

static bool ends_with(const struct cxx *c, struct str s, char ch)
{
	return s.len && c->arena[s.off + s.len - 1] == ch;
}

static struct type plain(struct str s)
{
	return (struct type){s, {0, 0}, false};
}

static struct str whole(struct cxx *c, const struct type *t)
{
	return cat2(c, t->left, t->right);
}

/* ---- the input ----------------------------------------------------------- */

static bool peek(const struct cxx *c, char ch)
{
	return c->s < c->end && *c->s == ch;
}

static bool peek2(const struct cxx *c, const char *two)
{
	return c->end - c->s >= 2 && c->s[0] == two[0] && c->s[1] == two[1];
}

static bool eat(struct cxx *c, char ch)
{
	if (!peek(c, ch))
		return false;
	c->s++;
	return true;
}

static bool number(struct cxx *c, uint64_t *n)
{
	uint64_t v = 0;
	const char *start = c->s;

	while (c->s < c->end && *c->s >= '0' && *c->s <= '9' && c->s - start < 9)
		v = v * 10 + (uint64_t)(*c->s++ - '0');
	*n = v;
	return c->s > start;
}

/* <seq-id> _: base 36 with digits and capitals; "_" alone is the first. */
static bool seq_id(struct cxx *c, unsigned *idx)
{
	unsigned v = 0;

	if (eat(c, '_')) {
		*idx = 0;
		return true;
	}
	while (c->s < c->end && *c->s != '_') {
		char ch = *c->s++;
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'A' && ch <= 'Z')
			d = (unsigned)(ch - 'A') + 10;
		else
			return fail(c);
		if (v > 100000)
			return fail(c);
		v = v * 36 + d;
	}
	if (!eat(c, '_'))
		return fail(c);
	*idx = v + 1;
	return true;
}

static bool enter(struct cxx *c)
{
	if (++c->depth > MAX_DEPTH || c->failed)
		return fail(c);
	return true;
}

static bool leave(struct cxx *c, bool ok)
{
	c->depth--;
	return ok && !c->failed;
}

static void add_sub(struct cxx *c, struct type t)
{
	if (c->nsubs < MAX_SUBS)
		c->subs[c->nsubs++] = t;
	else
		c->failed = true;
}

static bool parse_type(struct cxx *c, struct type *out);
static bool substitution(struct cxx *c, struct type *out);
static bool function_type(struct cxx *c, struct type *out);
static bool template_param(struct cxx *c, struct type *out);
static bool parse_encoding(struct cxx *c, struct str *out, bool with_ret);
static bool parse_name(struct cxx *c, struct name *out, bool set_params);

/* ---- names ------------------------------------------------------------- */

static bool source_name(struct cxx *c, struct str *out)
{
	uint64_t n;

	if (!number(c, &n) || n == 0 || n > (uint64_t)(c->end - c->s))
		return fail(c);
	if (n >= 10 && !memcmp(c->s, "_GLOBAL__N", 10)) {
		*out = lit(c, "(anonymous namespace)");
	} else {
		uint32_t b = begin(c);

		put(c, c->s, (size_t)n);
		*out = done(c, b);
	}
	c->last_name = *out;
	c->s += n;
	return !c->failed;
}

static const struct {
	char code[3];
	const char *name;
} operators[] = {
    {"nw", "new"}, {"na", "new[]"}, {"dl", "delete"}, {"da", "delete[]"}, {"ps", "+"},
    {"ng", "-"},   {"ad", "&"},	    {"de", "*"},      {"co", "~"},	  {"pl", "+"},
    {"mi", "-"},   {"ml", "*"},	    {"dv", "/"},      {"rm", "%"},	  {"an", "&"},
    {"or", "|"},   {"eo", "^"},	    {"aS", "="},      {"pL", "+="},	  {"mI", "-="},
    {"mL", "*="},  {"dV", "/="},    {"rM", "%="},     {"aN", "&="},	  {"oR", "|="},
    {"eO", "^="},  {"ls", "<<"},    {"rs", ">>"},     {"lS", "<<="},	  {"rS", ">>="},
    {"eq", "=="},  {"ne", "!="},    {"lt", "<"},      {"gt", ">"},	  {"le", "<="},
    {"ge", ">="},  {"ss", "<=>"},   {"nt", "!"},      {"aa", "&&"},	  {"oo", "||"},
    {"pp", "++"},  {"mm", "--"},    {"cm", ","},      {"pm", "->*"},	  {"pt", "->"},
    {"cl", "()"},  {"ix", "[]"},    {"qu", "?"},      {"aw", "co_await"},
};

/* operator+, operator new, operator int (a conversion), operator"" _x. */
static bool operator_name(struct cxx *c, struct str *out, bool *conversion)
{
	uint32_t b;

	if (peek2(c, "cv")) {
		struct type t;

		c->s += 2;
		if (!parse_type(c, &t))
			return false;
		b = begin(c);
		puts_(c, "operator ");
		put_str(c, t.left);
		put_str(c, t.right);
		*out = done(c, b);
		*conversion = true;
		return !c->failed;
	}
	if (peek2(c, "li")) {
		struct str id;

		c->s += 2;
		if (!source_name(c, &id))
			return false;
		b = begin(c);
		puts_(c, "operator\"\" ");
		put_str(c, id);
		*out = done(c, b);
		return !c->failed;
	}
	for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
		if (!peek2(c, operators[i].code))
			continue;
		c->s += 2;
		b = begin(c);
		puts_(c, "operator");
		if (operators[i].name[0] >= 'a' && operators[i].name[0] <= 'z')
			puts_(c, " ");
		puts_(c, operators[i].name);
		*out = done(c, b);
		return !c->failed;
	}
	return fail(c);
}

/* [_ <digit>] or [__ <number> _]: which of several same-named locals; not printed. */
static void skip_discriminator(struct cxx *c)
{
	uint64_t n;

	if (!peek(c, '_'))
		return;
	c->s++;
	if (eat(c, '_')) {
		number(c, &n);
		eat(c, '_');
	} else {
		number(c, &n);
	}
}

/* [<number>] _ : the n-th of its kind, printed from 1. */
static bool ordinal(struct cxx *c, uint64_t *n)
{
	if (!number(c, n))
		*n = 0;
	else
		*n += 1;
	*n += 1;
	return eat(c, '_') || fail(c);
}

static void put_number(struct cxx *c, uint64_t n)
{
	char buf[24];

	put(c, buf, (size_t)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n));
}

static bool param_list(struct cxx *c, struct str *out, char end);

/* Ut [n] _ : an unnamed type; Ul <params> E [n] _ : a lambda. */
static bool unnamed_type(struct cxx *c, struct str *out)
{
	struct str params = {0, 0};
	uint64_t n;
	uint32_t b;
	bool lambda = c->s[1] == 'l';

	c->s += 2;
	if (lambda && !param_list(c, &params, 'E'))
		return false;
	if (!ordinal(c, &n))
		return false;
	b = begin(c);
	puts_(c, lambda ? "{lambda" : "{unnamed type#");
	if (lambda) {
		put_str(c, params);
		puts_(c, "#");
	}
	put_number(c, n);
	puts_(c, "}");
	*out = done(c, b);
	return !c->failed;
}

/* B <source-name>: [abi:cxx11] after the name it tags. */
static bool abi_tags(struct cxx *c, struct str *name)
{
	while (peek(c, 'B')) {
		struct str tag, last = c->last_name;
		uint32_t b;

		c->s++;
		if (!source_name(c, &tag))
			return false;
		c->last_name = last; /* a tag is no class name */
		b = begin(c);
		put_str(c, *name);
		puts_(c, "[abi:");
		put_str(c, tag);
		puts_(c, "]");
		*name = done(c, b);
	}
	return !c->failed;
}

/*
 * An unqualified name; a constructor or destructor is named after the
 * last source name seen (its class's), and says so in *ctor_or_conv.
 */
static bool unqualified_name(struct cxx *c, struct str *out, bool *ctor_or_conv)
{
	struct str last = c->last_name;

	bool ok;

	if (!enter(c))
		return false;
	eat(c, 'L'); /* internal linkage: nothing to print */
	if (c->s >= c->end)
		return leave(c, fail(c));
	if (*c->s >= '0' && *c->s <= '9') {
		ok = source_name(c, out);
	} else if (peek2(c, "Ut") || peek2(c, "Ul")) {
		ok = unnamed_type(c, out);
	} else if (peek(c, 'C') && c->end - c->s >= 2 && c->s[1] >= '1' && c->s[1] <= '5') {
		c->s += 2;
		*out = last;
		*ctor_or_conv = true;
		ok = last.len > 0;
	} else if (peek2(c, "CI")) {
		struct type base;

		c->s += 3; /* CI1 or CI2, then the base class the constructor is inherited from */
		ok = parse_type(c, &base);
		*out = last;
		*ctor_or_conv = true;
	} else if (peek(c, 'D') && c->end - c->s >= 2 && c->s[1] >= '0' && c->s[1] <= '5') {
		uint32_t b = begin(c);

		c->s += 2;
		puts_(c, "~");
		put_str(c, last);
		*out = done(c, b);
		*ctor_or_conv = true;
		ok = last.len > 0;
	} else if (*c->s >= 'a' && *c->s <= 'z') {
		ok = operator_name(c, out, ctor_or_conv);
	} else {
		ok = fail(c);
	}
	return leave(c, ok && abi_tags(c, out));
}

static bool template_args(struct cxx *c, struct str *out, bool set_params);

/* A template's name and its arguments: "operator< <int>" keeps them apart. */
static struct str with_args(struct cxx *c, struct str name, struct str args)
{
	uint32_t b = begin(c);

	put_str(c, name);
	if (ends_with(c, name, '<'))
		puts_(c, " ");
	put_str(c, args);
	return done(c, b);
}

/* prefix + "::" + piece (or piece alone, for the first). */
static struct str join_scope(struct cxx *c, struct str prefix, struct str piece)
{
	uint32_t b = begin(c);

	if (prefix.len) {
		put_str(c, prefix);
		puts_(c, "::");
	}
	put_str(c, piece);
	return done(c, b);
}

/* [r] [V] [K] and then [R | O]: a member function's qualifiers, as printed after it. */
static struct str member_quals(struct cxx *c)
{
	bool r = eat(c, 'r'), v = eat(c, 'V'), k = eat(c, 'K');
	uint32_t b = begin(c);

	if (k)
		puts_(c, " const");
	if (v)
		puts_(c, " volatile");
	if (r)
		puts_(c, " restrict");
	if (eat(c, 'R'))
		puts_(c, " &");
	else if (eat(c, 'O'))
		puts_(c, " &&");
	return done(c, b);
}

/* One component of a nested name, onto prefix; *from_sub: it was a substitution. */
static bool nested_component(struct cxx *c, struct str *prefix, struct name *out, bool set_params,
			     bool *from_sub)
{
	struct str piece;
	struct type t;

	*from_sub = false;
	if (peek2(c, "St")) {
		c->s += 2;
		*prefix = lit(c, "std");
		*from_sub = true; /* "std" alone is no substitution candidate */
		return true;
	}
	/* Not through parse_type: template arguments after them are the next component. */
	if (peek(c, 'S')) {
		if (!substitution(c, &t))
			return false;
		*prefix = t.left;
		*from_sub = true;
		return true;
	}
	if (peek(c, 'T')) {
		if (!template_param(c, &t))
			return false;
		*prefix = whole(c, &t);
		return true;
	}
	if (peek(c, 'I')) {
		if (!template_args(c, &piece, set_params))
			return false;
		*prefix = with_args(c, *prefix, piece);
		out->templated = true;
		return true;
	}
	out->templated = false;
	if (!unqualified_name(c, &piece, &out->ctor_or_conv))
		return false;
	*prefix = join_scope(c, *prefix, piece);
	return true;
}

/* N [quals] <prefix> <unqualified-name> E, every prefix a substitution candidate. */
static bool nested_name(struct cxx *c, struct name *out, bool set_params)
{
	struct str prefix = {0, 0};

	c->s++; /* N */
	out->quals = member_quals(c);
	while (!eat(c, 'E')) {
		bool from_sub;

		if (c->s >= c->end || !nested_component(c, &prefix, out, set_params, &from_sub))
			return fail(c);
		if (!from_sub && !peek(c, 'E'))
			add_sub(c, plain(prefix));
	}
	out->text = prefix;
	return prefix.len > 0 && !c->failed;
}

/* Z <encoding> E <entity> [<discriminator>]: a name local to a function. */
static bool local_name(struct cxx *c, struct name *out)
{
	struct str fn, entity;
	struct name inner = {0};

	/*
	 * A lambda's closure type as a template argument: how its encoding's
	 * substitutions count is not settled here; better mangled than wrong.
	 */
	if (c->in_targs)
		return fail(c);
	c->s++; /* Z */
	/* c++filt names the function without its return type here */
	if (!parse_encoding(c, &fn, false) || !eat(c, 'E'))
		return fail(c);
	if (eat(c, 's')) {
		entity = lit(c, "string literal");
	} else {
		if (!parse_name(c, &inner, true))
			return false;
		entity = inner.text;
		out->templated = inner.templated;
		out->ctor_or_conv = inner.ctor_or_conv;
		out->quals = inner.quals;
	}
	skip_discriminator(c);
	out->text = join_scope(c, fn, entity);
	return !c->failed;
}

/* An unscoped name (std:: or not), with its template arguments if it has them. */
static bool unscoped_name(struct cxx *c, struct name *out, bool set_params)
{
	struct str name, args;
	bool std = false;

	if (peek2(c, "St")) {
		c->s += 2;
		std = true;
	}
	if (peek(c, 'S') && !std) {
		struct type t;

		if (!substitution(c, &t))
			return false;
		name = t.left;
		if (!peek(c, 'I'))
			return fail(c); /* a substitution as a name is a template's */
	} else {
		if (!unqualified_name(c, &name, &out->ctor_or_conv))
			return false;
		if (std)
			name = join_scope(c, lit(c, "std"), name);
		if (peek(c, 'I'))
			add_sub(c, plain(name));
	}
	if (peek(c, 'I')) {
		if (!template_args(c, &args, set_params))
			return false;
		name = with_args(c, name, args);
		out->templated = true;
	}
	out->text = name;
	return !c->failed;
}

static bool parse_name(struct cxx *c, struct name *out, bool set_params)
{
	bool ok;

	if (!enter(c))
		return false;
	memset(out, 0, sizeof(*out));
	if (peek(c, 'N'))
		ok = nested_name(c, out, set_params);
	else if (peek(c, 'Z'))
		ok = local_name(c, out);
	else
		ok = unscoped_name(c, out, set_params);
	return leave(c, ok);
}

/* ---- template arguments and literals ------------------------------------- */

static const char *literal_suffix(char type)
{
	switch (type) {
	case 'i':
		return "";
	case 'j':
		return "u";
	case 'l':
		return "l";
	case 'm':
		return "ul";
	case 'x':
		return "ll";
	case 'y':
		return "ull";
	default:
		return NULL;
	}
}

/* L <type> <value> E, or L _Z <encoding> E. */
static bool literal(struct cxx *c, struct str *out)
{
	const char *suffix, *digits;
	struct type t;
	uint32_t b;
	bool neg;

	c->s++; /* L */
	if (peek2(c, "_Z")) {
		c->s += 2;
		return parse_encoding(c, out, true) && (eat(c, 'E') || fail(c));
	}
	if (c->s >= c->end)
		return fail(c);
	suffix = literal_suffix(*c->s);
	if (eat(c, 'b')) {
		*out = lit(c, eat(c, '0') ? "false" : eat(c, '1') ? "true" : "?");
		return (eat(c, 'E') && !c->failed) || fail(c);
	}
	if (suffix)
		c->s++;
	else if (!parse_type(c, &t))
		return false;
	neg = eat(c, 'n');
	digits = c->s;
	while (c->s < c->end && *c->s >= '0' && *c->s <= '9')
		c->s++;
	if (c->s == digits || !eat(c, 'E'))
		return fail(c);
	b = begin(c);
	if (!suffix) {
		puts_(c, "(");
		put_str(c, t.left);
		put_str(c, t.right);
		puts_(c, ")");
	}
	if (neg)
		puts_(c, "-");
	put(c, digits, (size_t)(c->s - 1 - digits));
	if (suffix)
		puts_(c, suffix);
	*out = done(c, b);
	return !c->failed;
}

static bool template_arg(struct cxx *c, struct targ *out);

/* a, b, c: the non-empty pieces (an empty pack prints as nothing). */
static struct str join_list(struct cxx *c, const struct type *items, unsigned n,
			    const struct targ *args)
{
	uint32_t b = begin(c);
	bool any = false;

	for (unsigned i = 0; i < n; i++) {
		const struct type *t = args ? &args[i].t : &items[i];

		if (!t->left.len && !t->right.len)
			continue;
		if (any)
			puts_(c, ", ");
		put_str(c, t->left);
		put_str(c, t->right);
		any = true;
	}
	return done(c, b);
}

/* J <template-arg>* E: a pack; its elements go to the pool, for expansions. */
static bool pack(struct cxx *c, struct targ *out)
{
	struct type items[MAX_PARAMS];
	unsigned n = 0, first;

	c->s++; /* J */
	while (!eat(c, 'E')) {
		struct targ item;

		if (n == MAX_PARAMS || c->s >= c->end || !template_arg(c, &item) || item.is_pack)
			return fail(c);
		items[n++] = item.t;
	}
	/* Contiguous in the pool, after any pack inside its elements. */
	if (n > MAX_ELEMS - c->nelems)
		return fail(c);
	first = c->nelems;
	memcpy(c->elems + first, items, n * sizeof(items[0]));
	c->nelems += n;
	out->is_pack = true;
	out->first = (uint16_t)first;
	out->count = (uint16_t)(c->nelems - first);
	out->t = plain(join_list(c, c->elems + first, out->count, NULL));
	return !c->failed;
}

static bool template_arg(struct cxx *c, struct targ *out)
{
	struct str s;

	if (!enter(c))
		return false;
	memset(out, 0, sizeof(*out));
	if (peek(c, 'L')) {
		if (!literal(c, &s))
			return leave(c, false);
		out->t = plain(s);
		return leave(c, true);
	}
	if (peek(c, 'J'))
		return leave(c, pack(c, out));
	if (peek(c, 'X'))
		return leave(c, fail(c)); /* expressions: not demangled */
	return leave(c, parse_type(c, &out->t));
}

/* I <template-arg>+ E: "<a, b>", or "<a, b<c> >" as GCC spaces it. */
static bool template_args(struct cxx *c, struct str *out, bool set_params)
{
	struct targ args[MAX_TARGS];
	struct str last = c->last_name, list;
	unsigned n = 0;
	uint32_t b;

	c->s++; /* I */
	c->in_targs++;
	while (!eat(c, 'E')) {
		if (n == MAX_TARGS || c->s >= c->end || !template_arg(c, &args[n++]))
			return fail(c);
	}
	c->in_targs--;
	c->last_name = last; /* A<B>::A(), not A<B>::B() */
	list = join_list(c, NULL, n, args);
	b = begin(c);
	puts_(c, "<");
	put_str(c, list);
	if (ends_with(c, done(c, b), '>'))
		puts_(c, " ");
	puts_(c, ">");
	*out = done(c, b);
	if (set_params) {
		memcpy(c->targs, args, n * sizeof(args[0]));
		c->ntargs = n;
	}
	return !c->failed;
}

/* ---- types ----------------------------------------------------------------- */

static const struct {
	char code;
	const char *name;
} builtins[] = {
    {'v', "void"},	  {'w', "wchar_t"},
    {'b', "bool"},	  {'c', "char"},
    {'a', "signed char"}, {'h', "unsigned char"},
    {'s', "short"},	  {'t', "unsigned short"},
    {'i', "int"},	  {'j', "unsigned int"},
    {'l', "long"},	  {'m', "unsigned long"},
    {'x', "long long"},	  {'y', "unsigned long long"},
    {'n', "__int128"},	  {'o', "unsigned __int128"},
    {'f', "float"},	  {'d', "double"},
    {'e', "long double"}, {'g', "__float128"},
    {'z', "..."},
};

static const struct {
	char code;
	const char *name;
} d_builtins[] = {
    {'i', "char32_t"},	{'s', "char16_t"},	 {'u', "char8_t"},
    {'a', "auto"},	{'c', "decltype(auto)"}, {'n', "decltype(nullptr)"},
    {'f', "decimal32"}, {'d', "decimal64"},	 {'e', "decimal128"},
    {'h', "half"},
};

static bool builtin(struct cxx *c, struct type *out)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (eat(c, builtins[i].code)) {
			*out = plain(lit(c, builtins[i].name));
			return true;
		}
	return false;
}

/* As c++filt expands them, and the class name a constructor after one takes. */
static const struct {
	char code;
	const char *name, *last;
} abbreviations[] = {
    {'a', "std::allocator", "allocator"},
    {'b', "std::basic_string", "basic_string"},
    {'s', "std::basic_string<char, std::char_traits<char>, std::allocator<char> >", "basic_string"},
    {'i', "std::basic_istream<char, std::char_traits<char> >", "basic_istream"},
    {'o', "std::basic_ostream<char, std::char_traits<char> >", "basic_ostream"},
    {'d', "std::basic_iostream<char, std::char_traits<char> >", "basic_iostream"},
};

/* S_, S<seq>_, and the std:: abbreviations (Sa, Sb, Ss...). */
static bool substitution(struct cxx *c, struct type *out)
{
	unsigned idx;

	c->s++; /* S */
	for (size_t i = 0; i < sizeof(abbreviations) / sizeof(abbreviations[0]); i++)
		if (eat(c, abbreviations[i].code)) {
			*out = plain(lit(c, abbreviations[i].name));
			c->last_name = lit(c, abbreviations[i].last);
			return !c->failed;
		}
	if (!seq_id(c, &idx) || idx >= c->nsubs)
		return fail(c);
	*out = c->subs[idx];
	return true;
}

/* T_, T<n>_: one of the innermost template's arguments. */
static bool template_param(struct cxx *c, struct type *out)
{
	uint64_t n = 0;

	c->s++; /* T */
	if (!eat(c, '_')) {
		if (!number(c, &n) || !eat(c, '_'))
			return fail(c);
		n++;
	}
	if (n >= c->ntargs)
		return fail(c);
	if (!c->targs[n].is_pack || c->pack_index < 0) {
		*out = c->targs[n].t;
		return true;
	}
	/* Inside a pack expansion: this element of the pack. */
	if (c->pack_len < 0)
		c->pack_len = c->targs[n].count;
	*out = c->pack_index < c->targs[n].count
		   ? c->elems[c->targs[n].first + (unsigned)c->pack_index]
		   : plain((struct str){0, 0});
	return true;
}

/* A pointer or reference to t: "int*", "void (*)(int)", references collapsed. */
static struct type modified(struct cxx *c, const struct type *t, const char *mod)
{
	struct type r = *t;
	uint32_t b;

	if (t->right.len && !t->grouped) {
		/* a function or array: the declarator goes in parentheses */
		b = begin(c);
		put_str(c, t->left);
		puts_(c, ends_with(c, t->left, ' ') ? "(" : " (");
		puts_(c, mod);
		r.left = done(c, b);
		b = begin(c);
		puts_(c, at(c, t->right)[0] == '[' ? ") " : ")");
		put_str(c, t->right);
		r.right = done(c, b);
		r.grouped = true;
		return r;
	}
	/* References collapse: T& && is T&, T&& && is T&&, T& & and T&& & are T&. */
	if (mod[0] == '&' && ends_with(c, t->left, '&')) {
		if (!mod[1] && t->left.len >= 2 && c->arena[t->left.off + t->left.len - 2] == '&')
			r.left.len--;
		return r;
	}
	r.left = cat2(c, t->left, lit(c, mod));
	return r;
}

/* The slice being built since start ends with word. */
static bool ends_with_word(const struct cxx *c, uint32_t start, const char *word)
{
	size_t n = strlen(word);

	return c->used - start >= n && !memcmp(c->arena + c->used - n, word, n);
}

/* r, V, K: "int const", "char const volatile*"; a function's go after its parameters. */
static bool qualified(struct cxx *c, struct type *out)
{
	bool r = eat(c, 'r'), v = eat(c, 'V'), k = eat(c, 'K');
	struct type inner;
	struct str *side;
	uint32_t b;

	/*
	 * Qualifiers before a function type are a member function's "this":
	 * the unqualified function type is no substitution candidate.
	 */
	if (peek(c, 'F') ? !function_type(c, &inner) : !parse_type(c, &inner))
		return false;
	*out = inner;
	/* A function's qualifiers follow its parameters; an array's are its element's. */
	side = inner.right.len && !inner.grouped && at(c, inner.right)[0] == '(' ? &out->right
										 : &out->left;
	b = begin(c);
	put_str(c, *side);
	if (ends_with(c, *side, ' ')) /* an array's "char " */
		c->used--;
	/* const const is const: a template argument may be const already */
	if (k && !ends_with_word(c, b, " const"))
		puts_(c, " const");
	if (v && !ends_with_word(c, b, " volatile"))
		puts_(c, " volatile");
	if (r)
		puts_(c, " restrict");
	if (ends_with(c, *side, ' '))
		puts_(c, " ");
	*side = done(c, b);
	return !c->failed;
}

/* (a, b): function parameters, up to E (eaten if end is 'E'), a clone suffix or the end. */
static bool param_list(struct cxx *c, struct str *out, char end)
{
	struct type params[MAX_PARAMS];
	struct str list;
	unsigned n = 0;
	uint32_t b;

	while (c->s < c->end && *c->s != 'E' && *c->s != '.') {
		if (n == MAX_PARAMS || !parse_type(c, &params[n++]))
			return fail(c);
	}
	if (end && !eat(c, end))
		return fail(c);
	/* f(void) is f() */
	if (n == 1 && params[0].left.len == 4 && !params[0].right.len &&
	    !memcmp(at(c, params[0].left), "void", 4))
		n = 0;
	list = join_list(c, params, n, NULL);
	b = begin(c);
	puts_(c, "(");
	put_str(c, list);
	puts_(c, ")");
	*out = done(c, b);
	return !c->failed;
}

/* F [Y] <return> <params> [R | O] E: "void (int)". */
static bool function_type(struct cxx *c, struct type *out)
{
	struct type ret;
	struct str params;
	uint32_t b;

	c->s++; /* F */
	eat(c, 'Y');
	if (!parse_type(c, &ret))
		return false;
	if (!param_list(c, &params, 'E'))
		return false;
	b = begin(c);
	put_str(c, ret.left);
	put_str(c, ret.right);
	puts_(c, " ");
	out->left = done(c, b);
	out->right = params;
	out->grouped = false;
	return !c->failed;
}

/* A <number> _ <type>, A _ <type>: "int [10]". */
static bool array_type(struct cxx *c, struct type *out)
{
	const char *digits;
	struct type elem;
	size_t ndigits;
	uint32_t b;

	c->s++; /* A */
	digits = c->s;
	while (c->s < c->end && *c->s >= '0' && *c->s <= '9')
		c->s++;
	ndigits = (size_t)(c->s - digits);
	if (!eat(c, '_'))
		return fail(c);
	if (!parse_type(c, &elem))
		return false;
	b = begin(c);
	puts_(c, "[");
	put(c, digits, ndigits);
	puts_(c, "]");
	out->right = cat2(c, done(c, b), elem.right);
	out->left = cat2(c, elem.left, lit(c, ends_with(c, elem.left, ' ') ? "" : " "));
	out->grouped = false;
	return !c->failed;
}

/* M <class> <member>: "int A::*", "void (A::*)(int)". */
static bool member_pointer(struct cxx *c, struct type *out)
{
	struct type cls, member;
	struct str mod;
	uint32_t b;

	c->s++; /* M */
	if (!parse_type(c, &cls) || !parse_type(c, &member))
		return false;
	b = begin(c);
	put_str(c, cls.left);
	puts_(c, "::*");
	mod = done(c, b);
	if (member.right.len && !member.grouped) {
		b = begin(c);
		put_str(c, member.left);
		puts_(c, "(");
		put_str(c, mod);
		out->left = done(c, b);
		out->right = cat2(c, lit(c, ")"), member.right);
		out->grouped = true;
	} else {
		out->left = cat2(c, cat2(c, member.left, lit(c, " ")), mod);
		out->right = member.right;
		out->grouped = member.grouped;
	}
	return !c->failed;
}

/*
 * Dp <pattern>: the pattern once per element of the pack it names
 * ("errc&&, char const (&) [30]"). Each element after the first parses
 * the pattern again; the candidates the first made stay the only ones.
 */
static bool pack_expansion(struct cxx *c, struct type *out)
{
	int saved_index = c->pack_index, saved_len = c->pack_len;
	struct type items[MAX_PARAMS];
	const char *pattern = c->s, *after;
	unsigned nsubs;
	int len;

	c->pack_index = 0;
	c->pack_len = -1;
	if (!parse_type(c, &items[0]))
		return false;
	after = c->s;
	nsubs = c->nsubs;
	len = c->pack_len;
	for (int i = 1; i < len && !c->failed; i++) {
		if (i == MAX_PARAMS)
			return fail(c);
		c->s = pattern;
		c->pack_index = i;
		if (!parse_type(c, &items[i]) || c->s != after)
			return fail(c);
		c->nsubs = nsubs;
	}
	c->pack_index = saved_index;
	c->pack_len = saved_len;
	if (len < 0) /* no pack in the pattern: itself */
		*out = items[0];
	else
		*out = plain(join_list(c, items, (unsigned)len, NULL));
	return !c->failed;
}

/* D...: the builtins with two letters, pack expansions; decltype and vectors fail. */
static bool d_type(struct cxx *c, struct type *out, bool *candidate)
{
	c->s++; /* D */
	if (eat(c, 'p')) {
		*candidate = true;
		return pack_expansion(c, out);
	}
	if (eat(c, 'F')) {
		uint64_t bits;
		uint32_t b;

		if (!number(c, &bits) || !eat(c, '_'))
			return fail(c);
		b = begin(c);
		puts_(c, "_Float");
		put_number(c, bits);
		*out = plain(done(c, b));
		return !c->failed;
	}
	for (size_t i = 0; i < sizeof(d_builtins) / sizeof(d_builtins[0]); i++)
		if (eat(c, d_builtins[i].code)) {
			*out = plain(lit(c, d_builtins[i].name));
			return true;
		}
	return fail(c);
}

/* A class or enum type by name: N..., Z..., or an unqualified name. */
static bool class_type(struct cxx *c, struct type *out)
{
	struct name n;

	if (!parse_name(c, &n, false))
		return false;
	*out = plain(n.text);
	return true;
}

/* St<name>, or a substitution, perhaps with template arguments after it. */
static bool s_type(struct cxx *c, struct type *out, bool *candidate)
{
	struct str args;

	if (peek2(c, "St")) {
		*candidate = true;
		return class_type(c, out);
	}
	if (!substitution(c, out))
		return false;
	if (peek(c, 'I')) {
		if (!template_args(c, &args, false))
			return false;
		*out = plain(cat2(c, whole(c, out), args));
		*candidate = true;
	}
	return true;
}

static bool type_by_letter(struct cxx *c, struct type *out, bool *candidate)
{
	struct type inner;
	char ch = *c->s;

	*candidate = true;
	switch (ch) {
	case 'r':
	case 'V':
	case 'K':
		return qualified(c, out);
	case 'P':
	case 'R':
	case 'O':
		c->s++;
		if (!parse_type(c, &inner))
			return false;
		*out = modified(c, &inner, ch == 'P' ? "*" : ch == 'R' ? "&" : "&&");
		return !c->failed;
	case 'F':
		return function_type(c, out);
	case 'A':
		return array_type(c, out);
	case 'M':
		return member_pointer(c, out);
	case 'T':
		if (!template_param(c, out))
			return false;
		if (peek(c, 'I')) { /* a template template parameter, and its arguments */
			struct str args;

			add_sub(c, *out);
			if (!template_args(c, &args, false))
				return false;
			*out = plain(cat2(c, whole(c, out), args));
		}
		return true;
	case 'S':
		*candidate = false;
		return s_type(c, out, candidate);
	case 'D':
		*candidate = false;
		return d_type(c, out, candidate);
	case 'u': {
		struct str vendor;

		c->s++;
		if (!source_name(c, &vendor))
			return false;
		*out = plain(vendor);
		return true;
	}
	default:
		return class_type(c, out);
	}
}

static bool parse_type(struct cxx *c, struct type *out)
{
	bool candidate = false, ok;

	if (!enter(c))
		return false;
	if (c->s >= c->end)
		return leave(c, fail(c));
	if (builtin(c, out))
		return leave(c, true);
	ok = type_by_letter(c, out, &candidate);
	if (ok && candidate)
		add_sub(c, *out);
	return leave(c, ok);
}

/* ---- encodings ------------------------------------------------------------ */

static const struct {
	char code[3];
	const char *text;
	bool type; /* a type follows, else a name */
} specials[] = {
    {"TV", "vtable for ", true},
    {"TT", "VTT for ", true},
    {"TI", "typeinfo for ", true},
    {"TS", "typeinfo name for ", true},
    {"TH", "TLS init function for ", false},
    {"TW", "TLS wrapper function for ", false},
    {"GV", "guard variable for ", false},
};

/* Th <offset> _ , Tv <offset> _ <offset> _: a thunk's adjustments. */
static bool call_offset(struct cxx *c, char kind)
{
	uint64_t n;

	for (int i = 0; i < (kind == 'v' ? 2 : 1); i++) {
		eat(c, 'n');
		if (!number(c, &n) || !eat(c, '_'))
			return fail(c);
	}
	return true;
}

static bool special_name(struct cxx *c, struct str *out, bool *handled)
{
	*handled = true;
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		struct type t;
		struct name n;

		if (!peek2(c, specials[i].code))
			continue;
		c->s += 2;
		if (specials[i].type ? !parse_type(c, &t) : !parse_name(c, &n, false))
			return false;
		*out = cat2(c, lit(c, specials[i].text), specials[i].type ? whole(c, &t) : n.text);
		return !c->failed;
	}
	if (peek2(c, "GT") && c->end - c->s >= 3 && (c->s[2] == 't' || c->s[2] == 'n')) {
		struct str target;

		c->s += 3;
		if (!parse_encoding(c, &target, true))
			return false;
		*out = cat2(c, lit(c, "transaction clone for "), target);
		return !c->failed;
	}
	if (peek2(c, "Th") || peek2(c, "Tv")) {
		char kind = c->s[1];
		struct str target;

		c->s += 2;
		if (!call_offset(c, kind) || !parse_encoding(c, &target, true))
			return false;
		*out = cat2(c, lit(c, kind == 'h' ? "non-virtual thunk to " : "virtual thunk to "),
			    target);
		return !c->failed;
	}
	*handled = false;
	return true;
}

/* The return type around a name: "int f()", "void (*f(int))(char)". */
static struct str with_return(struct cxx *c, const struct type *ret, struct str decl)
{
	uint32_t b = begin(c);

	put_str(c, ret->left);
	if (!ret->grouped && !ends_with(c, ret->left, ' '))
		puts_(c, " ");
	put_str(c, decl);
	put_str(c, ret->right);
	return done(c, b);
}

static bool parse_encoding(struct cxx *c, struct str *out, bool with_ret)
{
	struct str params;
	struct type ret;
	struct name n;
	bool handled;

	if (!enter(c))
		return false;
	if (!special_name(c, out, &handled))
		return leave(c, false);
	if (handled)
		return leave(c, true);
	if (!parse_name(c, &n, true))
		return leave(c, false);
	/* A data object: no function type follows. */
	if (c->s >= c->end || *c->s == 'E' || *c->s == '.') {
		*out = n.text;
		return leave(c, true);
	}
	if (n.templated && !n.ctor_or_conv && !parse_type(c, &ret))
		return leave(c, false);
	if (!param_list(c, &params, 0))
		return leave(c, false);
	*out = cat2(c, cat2(c, n.text, params), n.quals);
	if (n.templated && !n.ctor_or_conv && with_ret)
		*out = with_return(c, &ret, *out);
	return leave(c, !c->failed);
}

/* .cold, .constprop.0, .isra.0: GCC's clones, as " [clone .cold]". */
static bool clone_suffixes(struct cxx *c, struct str *out)
{
	while (c->s < c->end && *c->s == '.') {
		const char *start = c->s++;
		uint32_t b;

		while (c->s < c->end && ((*c->s >= 'a' && *c->s <= 'z') || *c->s == '_'))
			c->s++;
		while (c->end - c->s >= 2 && c->s[0] == '.' && c->s[1] >= '0' && c->s[1] <= '9') {
			c->s++;
			while (c->s < c->end && *c->s >= '0' && *c->s <= '9')
				c->s++;
		}
		if (c->s == start + 1)
			return fail(c);
		b = begin(c);
		put_str(c, *out);
		puts_(c, " [clone ");
		put(c, start, (size_t)(c->s - start));
		puts_(c, "]");
		*out = done(c, b);
	}
	return !c->failed;
}

bool pl_demangle_cxx(const char *name, size_t len, char *out, size_t out_len)
{
	static struct cxx c; /* 64 KiB and tables: one demangling at a time */
	struct str text;

	if (!name || !out || out_len == 0 || len < 3 || len > PL_DEMANGLE_MAX_IN)
		return false;
	/* _Z, and __Z as Mach-O has it, followed by the encoding. */
	if (name[0] == '_' && name[1] == '_')
		name++, len--;
	if (name[0] != '_' || name[1] != 'Z')
		return false;
	memset(&c, 0, offsetof(struct cxx, arena));
	c.used = 0;
	c.nsubs = c.ntargs = c.depth = c.nelems = c.in_targs = 0;
	c.pack_index = c.pack_len = -1;
	c.last_name = (struct str){0, 0};
	c.failed = false;
	c.s = name + 2;
	c.end = name + len;
	if (!parse_encoding(&c, &text, true) || !clone_suffixes(&c, &text) || c.s != c.end ||
	    c.failed)
		return false;
	if (text.len + 1 > out_len || text.len + 1 > PL_DEMANGLE_MAX_OUT)
		return false;
	memcpy(out, at(&c, text), text.len);
	out[text.len] = '\0';
	return true;
}
