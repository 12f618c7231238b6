// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "goheap/x86scan.h"

#define REG_RAX 0

struct insn {
	const uint8_t *p;
	size_t avail, at;
	bool opsize; /* 0x66 */
	uint8_t rex; /* 0 if none */
	bool writes_rax;
};

static bool take(struct insn *d, uint8_t *b)
{
	if (d->at >= d->avail)
		return false;
	*b = d->p[d->at++];
	return true;
}

static bool skip(struct insn *d, size_t n)
{
	if (n > d->avail - d->at)
		return false;
	d->at += n;
	return true;
}

/* The ModRM byte and what follows it (SIB, displacement); fields out. */
static bool modrm(struct insn *d, unsigned *mod, unsigned *reg, unsigned *rm)
{
	uint8_t m, sib;

	if (!take(d, &m))
		return false;
	*mod = m >> 6;
	*reg = ((m >> 3) & 7) | ((d->rex & 4) ? 8 : 0);
	*rm = (m & 7) | ((d->rex & 1) ? 8 : 0);
	if (*mod == 3)
		return true;
	if ((m & 7) == 4) {
		if (!take(d, &sib))
			return false;
		if (*mod == 0 && (sib & 7) == 5)
			return skip(d, 4);
	}
	if (*mod == 0 && (m & 7) == 5)
		return skip(d, 4); /* RIP-relative */
	return skip(d, *mod == 1 ? 1 : *mod == 2 ? 4 : 0);
}

/* An instruction that writes the register (reg or, for mod 3, rm) named. */
static bool to_reg(struct insn *d, bool into_reg_field, size_t imm)
{
	unsigned mod, reg, rm;

	if (!modrm(d, &mod, &reg, &rm) || !skip(d, imm))
		return false;
	if (into_reg_field)
		d->writes_rax |= reg == REG_RAX;
	else if (mod == 3)
		d->writes_rax |= rm == REG_RAX;
	return true;
}

/* A byte move into r/m8: without REX, register 4 is AH, part of RAX too. */
static bool byte_move(struct insn *d, size_t imm)
{
	unsigned mod, reg, rm;

	if (!modrm(d, &mod, &reg, &rm) || !skip(d, imm))
		return false;
	if (mod == 3)
		d->writes_rax |= rm == REG_RAX || (!d->rex && rm == 4);
	return true;
}

/* Flags only: TEST, CMP. */
static bool no_write(struct insn *d, size_t imm)
{
	unsigned mod, reg, rm;

	return modrm(d, &mod, &reg, &rm) && skip(d, imm);
}

/* Group 1 (0x81, 0x83): /7 is CMP (flags only); the rest write r/m. */
static bool group1(struct insn *d, size_t imm)
{
	unsigned mod, reg, rm;

	if (!modrm(d, &mod, &reg, &rm) || !skip(d, imm))
		return false;
	if ((reg & 7) != 7 && mod == 3)
		d->writes_rax |= rm == REG_RAX;
	return true;
}

static size_t imm_z(const struct insn *d)
{
	return d->opsize ? 2 : 4;
}

static bool two_byte(struct insn *d)
{
	uint8_t op;

	if (!take(d, &op))
		return false;
	switch (op) {
	case 0x1f: /* NOP r/m */
		return no_write(d, 0);
	case 0xb6: /* MOVZX */
	case 0xb7:
	case 0xbe: /* MOVSX */
	case 0xbf:
		return to_reg(d, true, 0);
	default:
		return false;
	}
}

/* MOV r, imm: imm64 with REX.W, imm16 with 0x66, else imm32. */
static bool mov_imm(struct insn *d, uint8_t op)
{
	unsigned r = (op & 7) | ((d->rex & 1) ? 8 : 0);

	d->writes_rax |= r == REG_RAX;
	return skip(d, (d->rex & 8) ? 8 : imm_z(d));
}

static bool one_byte(struct insn *d, uint8_t op)
{
	if (op >= 0xb8 && op <= 0xbf)
		return mov_imm(d, op);
	switch (op) {
	case 0x90:
		return d->rex == 0; /* with REX.B it is XCHG r8, RAX */
	case 0x0f:
		return two_byte(d);
	case 0x89: /* MOV r/m, r */
	case 0x31: /* XOR r/m, r */
		return to_reg(d, false, 0);
	case 0x8b: /* MOV r, r/m */
	case 0x8d: /* LEA */
	case 0x33: /* XOR r, r/m */
		return to_reg(d, true, 0);
	case 0x88: /* MOV r/m8, r8 */
		return byte_move(d, 0);
	case 0xc6: /* MOV r/m8, imm8 */
		return byte_move(d, 1);
	case 0xc7: /* MOV r/m, imm */
		return to_reg(d, false, imm_z(d));
	case 0x84: /* TEST */
	case 0x85:
	case 0x39: /* CMP */
	case 0x3b:
		return no_write(d, 0);
	case 0x83:
		return group1(d, 1);
	case 0x81:
		return group1(d, imm_z(d));
	default:
		return false;
	}
}

size_t pl_x86_harmless_len(const uint8_t *p, size_t avail, bool *writes_rax)
{
	struct insn d = {.p = p, .avail = avail};
	uint8_t b;

	if (!take(&d, &b))
		return 0;
	if (b == 0x66) {
		d.opsize = true;
		if (!take(&d, &b))
			return 0;
	}
	if ((b & 0xf0) == 0x40) {
		d.rex = b;
		if (!take(&d, &b))
			return 0;
	}
	if (!one_byte(&d, b))
		return 0;
	*writes_rax = d.writes_rax;
	return d.at;
}

/* From..to decodes as harmless instructions that leave RAX alone. */
static bool clean_path(const uint8_t *code, size_t from, size_t to)
{
	while (from < to) {
		bool writes = false;
		size_t len = pl_x86_harmless_len(code + from, to - from, &writes);

		if (!len || writes)
			return false;
		from += len;
	}
	return from == to;
}

static bool lea_rax_rip(const uint8_t *p)
{
	return p[0] == 0x48 && p[1] == 0x8d && p[2] == 0x05;
}

static int32_t rel32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return (int32_t)v;
}

/* The receiver address loaded for the call at offset call, if one is found. */
static bool receiver_of(const uint8_t *code, size_t call, uint64_t va, uint64_t *addr)
{
	for (size_t back = 7; back <= PL_X86_LEA_WINDOW && back <= call; back++) {
		size_t lea = call - back;

		if (!lea_rax_rip(code + lea) || !clean_path(code, lea + 7, call))
			continue;
		*addr = va + lea + 7 + (uint64_t)(int64_t)rel32(code + lea + 3);
		return true;
	}
	return false;
}

size_t pl_x86_call_receivers(const uint8_t *code, size_t n, uint64_t va, uint64_t callee,
			     uint64_t *out, size_t max, size_t *calls)
{
	return pl_x86_call_receivers_in(code, n, 0, n, va, callee, out, max, calls);
}

size_t pl_x86_call_receivers_in(const uint8_t *code, size_t n, size_t from, size_t to, uint64_t va,
				uint64_t callee, uint64_t *out, size_t max, size_t *calls)
{
	size_t found = 0, seen = 0;

	for (size_t i = from; i < to && i + 5 <= n; i++) {
		uint64_t target, addr;

		if (code[i] != 0xe8)
			continue;
		target = va + i + 5 + (uint64_t)(int64_t)rel32(code + i + 1);
		if (target != callee)
			continue;
		seen++;
		if (found < max && receiver_of(code, i, va, &addr))
			out[found++] = addr;
	}
	if (calls)
		*calls = seen;
	return found;
}
