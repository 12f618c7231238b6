// pclnprobe prints, as JSON lines, the Go runtime's own view of some of its
// program counters, so tests/unit/test_gopclntab.c can check a .gopclntab
// reader against it. Each line is one physical pc (relative to main.main's
// entry, so PIE load addresses do not matter) and the logical frames the
// runtime expands it into, innermost first:
//
//	{"probe":"leaf","rel":-279,"frames":[{"func":"main.leaf","file":"/…/main.go","line":40},…]}
//
// The first line gives main.main's runtime entry: {"main":4724000}; lines
// like {"entry":"main.outer","rel":-300} give real functions' entries.
package main

import (
	"encoding/json"
	"os"
	"reflect"
	"runtime"
	"strings"
)

type frame struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
}

type record struct {
	Probe  string  `json:"probe"`
	Rel    int64   `json:"rel"`
	Frames []frame `json:"frames"`
}

// entry is a real function's entry pc, relative to main.main's.
type entry struct {
	Entry string `json:"entry"`
	Rel   int64  `json:"rel"`
}

var (
	out       = json.NewEncoder(os.Stdout)
	mainEntry uintptr
	sink      int
)

// capture records the stack above its caller, grouping the runtime's frames
// by physical pc: inlined frames (Func == nil) belong to the next real one.
//
//go:noinline
func capture(probe string) int {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var group []frame
	var first uintptr
	for {
		f, more := frames.Next()
		if f.Function == "" {
			break
		}
		if len(group) == 0 {
			first = f.PC
		}
		group = append(group, frame{f.Function, f.File, f.Line})
		if f.Func != nil {
			// A real (outermost) frame closes the group.
			out.Encode(record{probe, int64(first) - int64(mainEntry), group})
			group = nil
			if strings.HasPrefix(f.Function, "runtime.") || f.Function == "main.main" {
				break
			}
		}
		if !more {
			break
		}
	}
	return n
}

// leaf is small enough to be inlined into its callers.
func leaf(x int) int {
	return capture("leaf") + x*3
}

// middle is inlinable and calls another inlinable function, giving a two
// level inline tree in outer2.
func middle(x int) int {
	return leaf2(x+1) * 2
}

func leaf2(x int) int {
	return capture("leaf2") - x
}

//go:noinline
func outer(x int) int {
	y := x * 7
	y += leaf(y)
	return y
}

//go:noinline
func outer2(x int) int {
	return middle(x) + 1
}

type counter struct{ n int }

//go:noinline
func (c *counter) bump() int {
	c.n++
	return capture("method") + c.n
}

//go:noinline
func generic[T int | string](v T) int {
	return capture("generic") + len([]T{v})
}

func main() {
	mainEntry = runtime.FuncForPC(reflect.ValueOf(main).Pointer()).Entry()
	out.Encode(map[string]uint64{"main": uint64(mainEntry)})
	// Entries of some real (never inlined) functions, also relative.
	for _, f := range []interface{}{outer, outer2, capture, (*counter).bump} {
		fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer())
		out.Encode(entry{fn.Name(), int64(fn.Entry()) - int64(mainEntry)})
	}

	sink += outer(3)
	sink += outer2(4)
	c := &counter{}
	sink += c.bump()
	sink += generic(5)
	func() {
		sink += capture("closure")
	}()
	sink += capture("main")
}
