"""Hostile ELF files for the symbolizer's budget tests, made from real
binaries with the standard library's struct: the kernel runs them as
before (it reads only program headers), and a symbol reader meets what the
section headers claim."""
import struct

SHT_SYMTAB = 2
SHT_STRTAB = 3
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM_SIZE = 24


def _header(data):
    fields = list(EHDR.unpack_from(data, 0))
    ident = fields[0]
    assert ident[:4] == b"\x7fELF" and ident[4] == 2 and ident[5] == 1, "a 64-bit LE ELF file"
    return fields


def _sections(data, fields):
    shoff, shnum = fields[6], fields[12]
    return [list(SHDR.unpack_from(data, shoff + i * SHDR.size)) for i in range(shnum)]


def add_misaligned_symtabs(src, dst, tables=8, region=200 * 1024 * 1024):
    """Copies src to dst with `tables` more symbol tables, each at an odd
    offset (misaligned for any reader that wants 8-byte alignment) and
    together spanning a sparse region of `region` bytes after the file's
    own bytes, linked to the file's own .strtab. Returns the new sections'
    indexes."""
    data = open(src, "rb").read()
    fields = _header(data)
    sections = _sections(data, fields)
    symtab = next(s for s in sections if s[1] == SHT_SYMTAB)
    strtab_index = symtab[6]
    hole = (len(data) + 4095) // 4096 * 4096
    share = region // tables
    size = (share - 64) // SYM_SIZE * SYM_SIZE
    added = []
    for i in range(tables):
        offset = hole + i * share + 1 + 2 * i  # odd: never 8-byte aligned
        added.append(len(sections))
        sections.append([0, SHT_SYMTAB, 0, 0, offset, size, strtab_index, 1, 8, SYM_SIZE])
    shoff = hole + region
    fields[6] = shoff
    fields[12] = len(sections)
    with open(dst, "wb") as f:
        f.write(data)
        f.seek(0)
        f.write(EHDR.pack(*fields))
        f.seek(shoff)  # the gap stays a hole: no disk, no page cache until read
        for s in sections:
            f.write(SHDR.pack(*s))
    return added
