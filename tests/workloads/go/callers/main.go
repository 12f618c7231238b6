// callers makes memory calls whose askers a tracer must name (issue 9,
// point 4), on -g goroutines, each locked to its own OS thread:
//
//	-heap MB  allocate and touch MB MiB of heap in 1 MiB objects, so the
//	          runtime grows its heap with mmap ((*mheap).grow, sysMap; in
//	          a cgo build through x_cgo_mmap);
//	-mmap N   call mapRegion N times: syscall.Mmap 1 MiB, touch it,
//	          syscall.Madvise(MADV_DONTNEED), syscall.Munmap.
//
// Prints one JSON line per step on stdout: {"step":..., "cgo":..., ...}.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
)

const pageSize = 4096

var sink [][]byte
var sinkMu sync.Mutex

type report struct {
	Step      string `json:"step"`
	Cgo       bool   `json:"cgo"`
	Pid       int    `json:"pid"`
	HeapSys   uint64 `json:"heap_sys"`
	StackSys  uint64 `json:"stack_sys"`
	Regions   int    `json:"regions,omitempty"`
	RegionLen int    `json:"region_len,omitempty"`
}

func say(step string, regions, regionLen int) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	json.NewEncoder(os.Stdout).Encode(report{step, cgoLinked, os.Getpid(), m.HeapSys, m.StackSys,
		regions, regionLen})
}

func touch(b []byte) {
	for off := 0; off < len(b); off += pageSize {
		b[off] = 1
	}
}

// allocate grows the heap: the runtime maps more as the objects come.
func allocate(mb int) {
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		touch(b)
		sinkMu.Lock()
		sink = append(sink, b)
		sinkMu.Unlock()
	}
}

// mapRegion is the application code that asks: its calls go through the
// syscall package's wrappers (Mmap -> mmapper.Mmap -> mmap -> Syscall6 ->
// runtime/internal/syscall.Syscall6), which must not hide it.
//
//go:noinline
func mapRegion(size int) {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	touch(b)
	if err := syscall.Madvise(b, syscall.MADV_DONTNEED); err != nil {
		panic(err)
	}
	if err := syscall.Munmap(b); err != nil {
		panic(err)
	}
}

// onThreads runs work on g goroutines, each on its own OS thread.
func onThreads(g int, work func()) {
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			work()
		}()
	}
	wg.Wait()
}

func main() {
	heapMB := flag.Int("heap", 0, "MiB of heap to allocate and touch, over all goroutines")
	regions := flag.Int("mmap", 0, "mapRegion calls per goroutine")
	g := flag.Int("g", 4, "goroutines, each locked to an OS thread")
	flag.Parse()
	say("start", 0, 0)
	if *heapMB > 0 {
		// The collector takes its work buffers from the heap too
		// (mheap.allocManual), and MemStats counts them in GCSys, not
		// HeapSys: with it off, what (*mheap).grow maps is exactly
		// HeapSys + StackSys, the figure a test checks to the byte.
		debug.SetGCPercent(-1)
		onThreads(*g, func() { allocate(*heapMB / *g) })
		say("heap", 0, 0)
	}
	if *regions > 0 {
		onThreads(*g, func() {
			for i := 0; i < *regions; i++ {
				mapRegion(1 << 20)
			}
		})
		say("mmap", *regions**g, 1<<20)
	}
	runtime.KeepAlive(sink)
}
