#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes small synthetic ELF images holding a Go pc-line table (.gopclntab),
one per table layout, as seeds for tests/fuzz/fuzz_gopclntab.c. The unit test
tests/unit/test_gopclntab.c also reads them to check the layouts that no local
Go toolchain produces.

Usage: make-gopclntab-seeds.py [OUTDIR]   (default: tests/fuzz/corpus/gopclntab)

Every image describes the same tiny program (text at TEXT, offsets below are
from it):

  main.first  [0x000, 0x040)  a.go:10, then a.go:11 from 0x20
  main.outer  [0x040, 0x140)  with main.middle inlined into it, and main.leaf
                              inlined into main.middle:
      +0x00 outer.go:20   +0x10 outer.go:21 (call of middle)
      +0x20 mid.go:31     (in middle: call of leaf)
      +0x30 leaf.go:41    (in leaf)
      +0x50 outer.go:22
  main.main   [0x140, 0x180)  main.go:50

so a lookup of main.outer+0x38 gives leaf leaf.go:41, middle mid.go:31,
outer outer.go:21. Layouts: Go 1.2-1.11 (int32 nfuncdata, 16-byte inline
entries), 1.12, 1.13-1.15, 1.16-1.17, 1.18-1.19, 1.20+; 64- and 32-bit,
little- and big-endian, position-independent (header textStart and
moduledata left zero, with RELATIVE relocations), table inside .data.rel.ro
without its own section, and no section headers at all.
"""
import os
import struct
import sys

TEXT_OFF = 0x100  # the executable part of the image starts here
NAMES = ["main.first", "main.outer", "main.main"]
CALLEES = ["main.middle", "main.leaf"]
FILES = ["a.go", "outer.go", "mid.go", "leaf.go", "main.go"]
FUNCS = [  # name, start, size, file-index ranges, line ranges, inline ranges
    ("main.first", 0x000, 0x40, [(0, 0x40)], [(10, 0x20), (11, 0x40)], None),
    (
        "main.outer",
        0x040,
        0x100,
        [(1, 0x20), (2, 0x30), (3, 0x50), (1, 0x100)],
        [(20, 0x10), (21, 0x20), (31, 0x30), (41, 0x50), (22, 0x100)],
        [(-1, 0x20), (0, 0x30), (1, 0x50), (-1, 0x100)],
    ),
    ("main.main", 0x140, 0x40, [(4, 0x40)], [(50, 0x40)], None),
]
TEXT_SIZE = 0x180
# inline tree of main.outer: (callee, parent, call-site file, line, parentPc)
INLTREE = [(0, -1, 1, 21, 0x10), (1, 0, 2, 31, 0x20)]


class Layout:
    def __init__(self, ver, ptr=8, be=False, quantum=1, old=False, pcdata=2, funcdata=3):
        self.ver, self.ptr, self.be, self.q = ver, ptr, be, quantum
        self.old = old  # 1.2-1.11 _func and inline layout
        self.pcdata, self.funcdata = pcdata, funcdata
        self.e = ">" if be else "<"

    def u(self, fmt, *v):
        return struct.pack(self.e + fmt, *v)

    def word(self, v):
        return self.u("Q" if self.ptr == 8 else "I", v)


def uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pcvalue(ranges, quantum):
    """(value, end offset) pairs -> Go's delta-encoded pc-value table."""
    out, val, pc = bytearray(), -1, 0
    for v, end in ranges:
        d = v - val
        out += uvarint((d << 1) if d >= 0 else (((-d - 1) << 1) | 1))
        out += uvarint((end - pc) // quantum)
        val, pc = v, end
    out.append(0)
    return bytes(out)


class Blob:
    def __init__(self):
        self.b = bytearray()

    def align(self, a):
        while len(self.b) % a:
            self.b.append(0)

    def add(self, data, align=1):
        self.align(align)
        off = len(self.b)
        self.b += data
        return off


def build_table(L, text, tab_va, inl_va, gofunc):
    """The table bytes and its funcnametab offset. inl_va: where the inline
    tree will be; gofunc: base of 1.18+ funcdata offsets."""
    nf = len(FUNCS)
    ps = L.ptr
    v12 = L.ver == 12
    # Pieces that other parts point at.
    names = Blob()
    nameoff = {}
    names.add(b"\0")  # offset 0 is no name
    for n in NAMES + CALLEES:
        nameoff[n] = names.add(n.encode() + b"\0")
    pct = Blob()
    pct.add(b"\0")  # offset 0 means "no table"
    tabs = []
    for _, _, _, fr, lr, ir in FUNCS:
        # 1.2 file numbers are global, 1-based; later ones index the CU list.
        fr = [((f + 1) if v12 else f, e) for f, e in fr]
        t = {"file": pct.add(pcvalue(fr, L.q)), "line": pct.add(pcvalue(lr, L.q))}
        t["inl"] = pct.add(pcvalue(ir, L.q)) if ir else 0
        tabs.append(t)
    fstr = Blob()
    fileoff = [fstr.add(f.encode() + b"\0") for f in FILES]

    hdr_words = {12: 1, 116: 7, 118: 8, 120: 8}[L.ver]
    hdr = 8 + hdr_words * ps
    if v12:
        # names, files and pc tables all share the table's own offsets.
        tab = Blob()
        tab.add(b"\0" * hdr)
        ftab_off = tab.add(b"\0" * ((2 * nf + 1) * ps + 4), ps)
        names_base = tab.add(bytes(names.b))
        files_base = tab.add(bytes(fstr.b))
        pct_base = tab.add(bytes(pct.b))
        filetab = tab.add(
            L.u("I", len(FILES) + 1) + b"".join(L.u("I", files_base + o) for o in fileoff), 4
        )
        func_base = 0
    else:
        tab = Blob()
        tab.add(b"\0" * hdr)
        names_base = tab.add(bytes(names.b))
        cu_base = tab.add(b"".join(L.u("I", o) for o in fileoff), 4)
        files_base = tab.add(bytes(fstr.b))
        pct_base = tab.add(bytes(pct.b))
        func_base = tab.add(b"", ps)  # pclntab: ftab then the _funcs
        fsz = 4 if L.ver >= 118 else ps
        ftab_off = tab.add(b"\0" * ((2 * nf + 1) * fsz))
    pcoff = (lambda o: pct_base + o) if v12 else (lambda o: o)
    nmoff = (lambda o: names_base + o) if v12 else (lambda o: o)

    funcoffs = []
    for i, (name, start, size, _, _, ir) in enumerate(FUNCS):
        tab.align(ps)
        foff = len(tab.b)
        funcoffs.append(foff - func_base)
        t = tabs[i]
        npcdata = L.pcdata + 1 if ir else 0
        nfuncdata = L.funcdata + 1 if ir else 0
        entry = L.u("I", start) if L.ver >= 118 else L.word(text + start)
        f = entry + L.u("iiIIIII", nmoff(nameoff[name]), 0, 0, 0, pcoff(t["file"]), pcoff(t["line"]), npcdata)
        if L.ver >= 116:
            f += L.u("I", 0)  # cuOffset
        if L.ver >= 120:
            f += L.u("i", 1)  # startLine
        if L.old:
            f += L.u("i", nfuncdata)
        else:
            f += bytes([0, 0, 0, nfuncdata])
        for k in range(npcdata):
            f += L.u("I", pcoff(t["inl"]) if k == L.pcdata else 0)
        tab.add(f)
        if L.ver >= 118:
            for k in range(nfuncdata):
                tab.add(L.u("I", (inl_va - gofunc) if k == L.funcdata else 0xFFFFFFFF))
        elif nfuncdata:
            tab.align(ps)  # the table is placed pointer-aligned
            for k in range(nfuncdata):
                tab.add(L.word(inl_va if k == L.funcdata else 0))
    # Function table.
    fsz = 4 if L.ver >= 118 else ps
    ent = (lambda o: L.u("I", o)) if L.ver >= 118 else (lambda o: L.word(text + o))
    off = (lambda o: L.u("I", o)) if L.ver >= 118 else (lambda o: L.word(o))
    ft = b"".join(ent(FUNCS[i][1]) + off(funcoffs[i]) for i in range(nf)) + ent(TEXT_SIZE)
    tab.b[ftab_off : ftab_off + len(ft)] = ft
    if v12:
        tab.b[ftab_off + len(ft) : ftab_off + len(ft) + 4] = L.u("I", filetab)
    # Header.
    magic = {12: 0xFFFFFFFB, 116: 0xFFFFFFFA, 118: 0xFFFFFFF0, 120: 0xFFFFFFF1}[L.ver]
    h = L.u("I", magic) + bytes([0, 0, L.q, ps])
    if v12:
        h += L.word(nf)
    elif L.ver == 116:
        h += b"".join(map(L.word, [nf, len(FILES), names_base, cu_base, files_base, pct_base, func_base]))
    else:
        h += b"".join(
            map(L.word, [nf, len(FILES), text, names_base, cu_base, files_base, pct_base, func_base])
        )
    tab.b[0 : len(h)] = h
    return bytes(tab.b), (0 if v12 else names_base)


def inline_tree(L, tab, nameoff_base):
    """Bytes of main.outer's inline tree (names as offsets into the table)."""
    out = b""
    for callee, parent, cfile, line, ppc in INLTREE:
        name = CALLEES[callee].encode() + b"\0"
        noff = tab.index(name) - nameoff_base
        if L.ver >= 120:
            out += bytes([0, 0, 0, 0]) + L.u("iii", noff, ppc, 1)
        elif L.old:
            out += L.u("iiii", parent, cfile + 1, line, noff)
        else:
            f = (cfile + 1) if L.ver == 12 else cfile
            out += L.u("hBBiiii", parent, 0, 0, f, line, noff, ppc)
    return out


def elf(L, embed=False, pie=False, nosec=False, buildinfo=None, machine=62):
    """Lays out: [ehdr phdrs] [text] [rodata: gofunc+inline tree] [table]
    [noptrdata: moduledata] [.go.buildinfo] [rela] [shstrtab] [shdrs].
    Virtual address = BASE + file offset."""
    is64 = L.ptr == 8
    BASE = 0x400000
    text_va = BASE + TEXT_OFF
    rod_off = TEXT_OFF + TEXT_SIZE
    gofunc = BASE + rod_off
    inl_va = gofunc + 0x10
    # The table's address depends on the inline tree's size, known up front.
    inl_size = len(INLTREE) * (16 if (L.ver >= 120 or L.old) else 20)
    rod_size = 0x10 + inl_size
    tab_off = (rod_off + rod_size + 31) // 32 * 32
    if embed:
        tab_off += 0x40  # somewhere inside .data.rel.ro
    tab_va = BASE + tab_off
    # A position-independent image may hold 0 for textStart (1.18+).
    tab, names_base = build_table(L, 0 if pie else text_va, tab_va, inl_va, gofunc)
    inl = inline_tree(L, tab, names_base)
    assert len(inl) == inl_size
    img = bytearray(tab_off + len(tab))
    img[TEXT_OFF : TEXT_OFF + TEXT_SIZE] = b"\xcc" * TEXT_SIZE
    img[rod_off + 0x10 : rod_off + 0x10 + inl_size] = inl
    img[tab_off : tab_off + len(tab)] = tab
    relocs = []
    # moduledata (1.16+): pcHeader, funcnametab ptr, ..., minpc [20], text
    # [22], gofunc [38] (1.18-1.19) or [40] (1.20+).
    while len(img) % 32:
        img.append(0)
    md_off = len(img)
    md = [0] * 48
    if L.ver >= 116:
        md[0] = tab_va
        md[1] = tab_va + names_base
        md[20] = text_va
        md[22] = text_va
        if L.ver >= 118:
            md[40 if L.ver >= 120 else 38] = gofunc
    if pie:
        for i, v in enumerate(md):
            if v:
                relocs.append((BASE + md_off + i * L.ptr, v))
        md = [0] * 48
        relocs.append((tab_va + 8 + 2 * L.ptr, text_va))
    img += b"".join(map(L.word, md))
    data_end = len(img)
    bi_off = None
    if buildinfo:
        bi_off = len(img)
        img += b"\xff Go buildinf:" + bytes([L.ptr, 0]) + b"\0" * 16
    rela_off = None
    if relocs:
        while len(img) % 8:
            img.append(0)
        rela_off = len(img)
        for off, add in relocs:
            img += L.u("QQq", off, 8, add) if is64 else L.u("IIi", off, 8, add)
    # Section headers.
    secs = []  # name, type, flags, off, size, entsize
    secs.append((".text", 1, 6, TEXT_OFF, TEXT_SIZE, 0))
    secs.append((".rodata", 1, 2, rod_off, rod_size, 0))
    if embed:
        secs.append((".data.rel.ro", 1, 3, tab_off - 0x40, 0x40 + len(tab), 0))
    else:
        secs.append((".gopclntab", 1, 2, tab_off, len(tab), 0))
    secs.append((".noptrdata", 1, 3, md_off, data_end - md_off, 0))
    if bi_off is not None:
        secs.append((".go.buildinfo", 1, 3, bi_off, 32, 0))
    if rela_off is not None:
        secs.append((".rela.dyn", 4, 2, rela_off, len(relocs) * (24 if is64 else 12), 24 if is64 else 12))
    shstr = bytearray(b"\0")
    name_at = {}
    for s in secs + [(".shstrtab",)]:
        name_at[s[0]] = len(shstr)
        shstr += s[0].encode() + b"\0"
    shstr_off = len(img)
    img += shstr
    secs.append((".shstrtab", 3, 0, shstr_off, len(shstr), 0))
    while len(img) % 8:
        img.append(0)
    sh_off = len(img)
    shent = 64 if is64 else 40
    img += b"\0" * shent  # SHT_NULL
    for name, typ, flags, off, size, ent in secs:
        addr = BASE + off if flags & 2 else 0
        if is64:
            img += L.u("IIQQQQIIQQ", name_at[name], typ, flags, addr, off, size, 0, 0, 1, ent)
        else:
            img += L.u("IIIIIIIIII", name_at[name], typ, flags, addr, off, size, 0, 0, 1, ent)
    # Program headers: text (R+X), everything else read-only then writable.
    phdrs = [
        (1, 5, TEXT_OFF, TEXT_SIZE),
        (1, 4, rod_off, md_off - rod_off),
        (1, 6, md_off, len(img) - md_off),
    ]
    ph_off = 64 if is64 else 52
    phent = 56 if is64 else 32
    assert ph_off + phent * len(phdrs) <= TEXT_OFF
    for i, (typ, flags, off, size) in enumerate(phdrs):
        va = BASE + off
        if is64:
            p = L.u("IIQQQQQQ", typ, flags, off, va, va, size, size, 1)
        else:
            p = L.u("IIIIIIII", typ, off, va, va, size, size, flags, 1)
        img[ph_off + i * phent : ph_off + (i + 1) * phent] = p
    # ELF header.
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 2 if L.be else 1, 1, 0]) + b"\0" * 8
    etype = 3 if pie else 2
    nsh = 0 if nosec else len(secs) + 1
    if is64:
        eh = ident + L.u(
            "HHIQQQIHHHHHH", etype, machine, 1, text_va, ph_off, 0 if nosec else sh_off, 0, 64, phent,
            len(phdrs), shent, nsh, 0 if nosec else len(secs),
        )
    else:
        eh = ident + L.u(
            "HHIIIIIHHHHHH", etype, machine, 1, text_va, ph_off, 0 if nosec else sh_off, 0, 52, phent,
            len(phdrs), shent, nsh, 0 if nosec else len(secs),
        )
    img[0 : len(eh)] = eh
    if nosec:
        del img[sh_off:]
    return bytes(img)


def seeds():
    go13 = dict(pcdata=2, funcdata=4)  # 1.13-1.15 indexes
    go112 = dict(pcdata=1, funcdata=2)  # 1.9-1.12 indexes
    return {
        "go111-le64.elf": elf(Layout(12, old=True, **go112)),
        "go112-le64.elf": elf(Layout(12, **go112)),
        "go113-le64.elf": elf(Layout(12, **go13), buildinfo=True),
        "go113-le32.elf": elf(Layout(12, ptr=4, **go13), buildinfo=True, machine=3),
        "go116-le64.elf": elf(Layout(116)),
        "go116-le32.elf": elf(Layout(116, ptr=4), machine=3),
        "go118-le64.elf": elf(Layout(118)),
        "go118-pie-le64.elf": elf(Layout(118), pie=True),
        "go118-embedded-le64.elf": elf(Layout(118), embed=True),
        "go120-le64.elf": elf(Layout(120)),
        "go120-pie-le64.elf": elf(Layout(120), pie=True),
        "go120-le32.elf": elf(Layout(120, ptr=4), machine=40),
        "go120-be64.elf": elf(Layout(120, be=True, quantum=4), machine=21),
        "go120-nosections-le64.elf": elf(Layout(120), nosec=True),
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "gopclntab")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
