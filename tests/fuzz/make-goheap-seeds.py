#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seeds of the go_heap fuzz targets (tests/fuzz/fuzz_go*.c):

  corpus/gobinary/    small ELF images with a Go function table (from
                      make-gopclntab-seeds.py, its first function renamed
                      runtime.(*mheap).alloc), build information naming
                      go1.19.8, and two callers that load the receiver with
                      LEAQ disp(RIP), AX before calling it; test_goheap.c
                      reads gobinary/mheap-le64.elf and expects MHEAP_VA
  corpus/gobuildinfo/ build information blobs, inline and pointer forms
  corpus/x86scan/     call sites as Go 1.19 emits them, and refused ones
  corpus/goheap_mem/  fake target memories (records of address, length,
                      bytes) holding a page allocator, as fuzz_goheap_mem.c
                      reads them

Usage: make-goheap-seeds.py [CORPUS_DIR]   (default: tests/fuzz/corpus)
"""
import importlib.util
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = 0x400000


def pclntab_seeds():
    spec = importlib.util.spec_from_file_location("gopclntab_seeds",
                                                  os.path.join(HERE, "make-gopclntab-seeds.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def call_site(at, lea_target, callee, between=b""):
    """LEAQ lea_target(RIP), AX; between; CALL callee: code placed at va `at`."""
    lea = b"\x48\x8d\x05" + struct.pack("<i", lea_target - (at + 7))
    call_at = at + 7 + len(between)
    return lea + between + b"\xe8" + struct.pack("<i", callee - (call_at + 5))


def gobinary_seed(mod):
    mod.NAMES[0] = "runtime.(*mheap).alloc"
    mod.FUNCS[0] = ("runtime.(*mheap).alloc",) + tuple(mod.FUNCS[0][1:])
    img = bytearray(mod.elf(mod.Layout(118), buildinfo=True))
    text = mod.TEXT_OFF
    alloc = BASE + text
    # The receiver: an address in the writable segment (the moduledata).
    bi = img.index(b"\xff Go buildinf:")
    mheap = BASE + bi - 0x40
    for fn in (0x40, 0x140):  # main.outer, main.main
        site = call_site(BASE + text + fn, mheap, alloc, b"\xb9\x02\x00\x00\x00\x48\x89\xd3")
        img[text + fn:text + fn + len(site)] = site
    # Build information, pre-1.18 form: a pointer to a string header in text.
    hdr = text + 0x100
    img[hdr:hdr + 24] = struct.pack("<QQ", BASE + hdr + 16, 8) + b"go1.19.8"
    img[bi + 16:bi + 24] = struct.pack("<Q", BASE + hdr)
    return bytes(img), mheap


def buildinfo_seeds():
    inline = bytearray(64)
    inline[0:16] = b"\xff Go buildinf:\x08\x02"
    inline[32] = 8
    inline[33:41] = b"go1.19.8"
    pointed = bytearray(96)
    pointed[0:16] = b"\xff Go buildinf:\x08\x00"
    pointed[16:24] = struct.pack("<Q", 0x500000 + 48)
    pointed[48:64] = struct.pack("<QQ", 0x500000 + 64, 8)
    pointed[64:72] = b"go1.16.3"
    return {"inline.bin": bytes(inline), "pointer.bin": bytes(pointed)}


def x86_seeds():
    va, callee = 0x401000, 0x402000
    forms = [b"", b"\xb9\x02\x00\x00\x00\x48\x89\xd3\x0f\x1f\x40\x00",
             b"\x48\x8b\x5c\x24\x30\x66\x90", b"\x89\xd1\x0f\xb6\x4c\x24\x60\x88\x4c\x24\x27",
             b"\xb8\x02\x00\x00\x00"]  # the last writes EAX: refused
    out = {}
    for i, between in enumerate(forms):
        code = call_site(va, va + 0x1000, callee, between)
        # fuzz_x86scan.c: 4 bytes callee offset from va, then the code.
        out[f"site{i}.bin"] = struct.pack("<I", callee - va) + code
    return out


# ---- fake memories: the layout of Go 1.19 (user/goheap/layout.c) ----------------
PAGES, CHUNKS, START, END, IN_USE, TOTAL = 16, 120, 65664, 65672, 65680, 65704
MHEAP, L2, RANGES, HEAP = 0x580000, 0x7F0000000000, 0x7F1000000000, 0xC000000000
ARENA_BASE = 0xFFFF800000000000
CHUNK = 4 << 20


def chunk_of(a):
    return ((a - ARENA_BASE) % (1 << 64)) // CHUNK


def records(regions, resident=0xFFFFFFFFFFFFFFFF):
    """fuzz_goheap_mem.c's input: resident mask, mheap address, then records."""
    out = struct.pack("<QQ", resident, MHEAP)
    for addr, data in regions:
        out += struct.pack("<QH", addr, len(data)) + data
    return out


def heap_memory(nchunks=2, alloc_pages=100, scav_pages=200):
    ci = chunk_of(HEAP)
    fields = {START: ci, END: ci + nchunks, IN_USE: RANGES, IN_USE + 8: 1, IN_USE + 16: 4,
              TOTAL: nchunks * CHUNK, CHUNKS + (ci >> 13) * 8: L2}
    regions = [(MHEAP + PAGES + off, struct.pack("<Q", v)) for off, v in sorted(fields.items())]
    regions.append((RANGES, struct.pack("<QQ", HEAP, HEAP + nchunks * CHUNK)))
    bits = bytearray()
    for c in range(nchunks):
        a = (1 << alloc_pages) - 1 if c == 0 else 0
        s = ((1 << scav_pages) - 1) << alloc_pages if c == 0 else (1 << 64) - 1
        bits += (a % (1 << 512)).to_bytes(64, "little") + (s % (1 << 512)).to_bytes(64, "little")
    regions.append((L2 + (ci & 8191) * 128, bytes(bits)))
    return records(regions)


def mem_seeds():
    return {"two-chunks.bin": heap_memory(), "one-chunk.bin": heap_memory(1, 0, 0),
            "half-resident.bin": records([], 0x5555555555555555) + heap_memory()[16:]}


def write(dirname, files):
    os.makedirs(dirname, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(dirname, name), "wb") as f:
            f.write(data)
        print(f"{os.path.basename(dirname)}/{name}: {len(data)} bytes")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    mod = pclntab_seeds()
    plain = {k: v for k, v in mod.seeds().items() if k in ("go113-le64.elf", "go120-pie-le64.elf")}
    img, mheap = gobinary_seed(mod)
    write(os.path.join(out, "gobinary"), {"mheap-le64.elf": img, **plain})
    print(f"MHEAP_VA = {mheap:#x}")
    write(os.path.join(out, "gobuildinfo"), buildinfo_seeds())
    write(os.path.join(out, "x86scan"), x86_seeds())
    write(os.path.join(out, "goheap_mem"), mem_seeds())


if __name__ == "__main__":
    main()
