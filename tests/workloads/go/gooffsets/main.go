// gooffsets prints, for each Go binary named, what tests/unit/test_goheap.c
// holds user/goheap/layout.c against: the release, runtime.mheap_'s address
// (from .symtab) and the offsets of the page allocator's fields, from the
// binary's own DWARF. One line per binary:
//
//	PATH release=go1.19.8 mheap_=5ADDR pages=16 chunks=120 ...
//
// A binary without DWARF or .symtab is skipped with a line on stderr.
package main

import (
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"strings"
)

// want: struct -> field -> the key printed.
var want = map[string]map[string]string{
	"runtime.mheap":      {"pages": "pages"},
	"runtime.pageAlloc":  {"chunks": "chunks", "start": "start", "end": "end", "inUse": "in_use"},
	"runtime.addrRanges": {"totalBytes": "in_use_total"},
	"runtime.pallocData": {"scavenged": "scavenged"},
}

var sizes = map[string]string{"runtime.pallocData": "palloc_size", "runtime.addrRange": "range_size"}

func offsets(d *dwarf.Data) (map[string]int64, error) {
	out := map[string]int64{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			return out, err
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if key, ok := sizes[name]; ok {
			out[key], _ = e.Val(dwarf.AttrByteSize).(int64)
		}
		fields, ok := want[name]
		if !ok || !e.Children {
			r.SkipChildren()
			continue
		}
		for {
			c, err := r.Next()
			if err != nil || c == nil || c.Tag == 0 {
				break
			}
			n, _ := c.Val(dwarf.AttrName).(string)
			if key, ok := fields[n]; ok {
				out[key], _ = c.Val(dwarf.AttrDataMemberLoc).(int64)
			}
		}
	}
}

func mheapAddr(f *elf.File) (uint64, bool) {
	syms, err := f.Symbols()
	if err != nil {
		return 0, false
	}
	for _, s := range syms {
		if s.Name == "runtime.mheap_" {
			return s.Value, true
		}
	}
	return 0, false
}

func one(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return err
	}
	d, err := f.DWARF()
	if err != nil {
		return err
	}
	off, err := offsets(d)
	if err != nil {
		return err
	}
	addr, ok := mheapAddr(f)
	if !ok {
		return fmt.Errorf("no runtime.mheap_ symbol")
	}
	// inUse.totalBytes is inUse's offset plus totalBytes' within addrRanges.
	off["in_use_total"] += off["in_use"]
	var b strings.Builder
	fmt.Fprintf(&b, "%s release=%s mheap_=%d", path, bi.GoVersion, addr)
	for _, k := range []string{"pages", "chunks", "start", "end", "in_use", "in_use_total",
		"palloc_size", "scavenged", "range_size"} {
		fmt.Fprintf(&b, " %s=%d", k, off[k])
	}
	fmt.Println(b.String())
	return nil
}

func main() {
	for _, p := range os.Args[1:] {
		if err := one(p); err != nil {
			fmt.Fprintf(os.Stderr, "gooffsets: %s: %v\n", p, err)
		}
	}
}
