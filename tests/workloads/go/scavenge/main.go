// scavenge plays the case users bring: a Go service whose heap grew, was
// freed, and whose RSS stays high. It allocates and touches -mb MiB of heap,
// drops it and runs a GC, waits for the background scavenger to return the
// memory, then calls debug.FreeOSMemory. After each step it prints the
// runtime's own view (runtime.MemStats) as one JSON line on stdout, so a test
// can hold pageledger's kernel-side figures against it.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

const pageSize = 4096

var sink [][]byte

type report struct {
	Step         string `json:"step"`
	HeapAlloc    uint64 `json:"heap_alloc"`
	HeapSys      uint64 `json:"heap_sys"`
	HeapIdle     uint64 `json:"heap_idle"`
	HeapReleased uint64 `json:"heap_released"`
	NumGC        uint32 `json:"num_gc"`
	TNs          int64  `json:"t_ns"`
}

var start = time.Now()

func say(step string) uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	json.NewEncoder(os.Stdout).Encode(report{step, m.HeapAlloc, m.HeapSys, m.HeapIdle,
		m.HeapReleased, m.NumGC, time.Since(start).Nanoseconds()})
	return m.HeapReleased
}

// allocate touches every page of mb MiB, in 1 MiB objects (large spans).
func allocate(mb int) {
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		for off := 0; off < len(b); off += pageSize {
			b[off] = 1
		}
		sink = append(sink, b)
	}
}

// waitForScavenger returns once HeapReleased has not grown for settle, or
// after limit.
// waitForScavenger returns once the background scavenger has released at
// least half of what was free and unreleased when the wait began, and then
// released nothing for settle; or at limit. Quiet time alone is no sign:
// on a loaded machine the scavenger may not start for longer than settle.
func waitForScavenger(settle, limit time.Duration) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	deadline := time.Now().Add(limit)
	enough := m.HeapReleased + (m.HeapIdle-m.HeapReleased)/2
	last, lastChange := say("waiting"), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		runtime.ReadMemStats(&m)
		if m.HeapReleased != last {
			last, lastChange = m.HeapReleased, time.Now()
		} else if m.HeapReleased >= enough && time.Since(lastChange) >= settle {
			return
		}
	}
}

func main() {
	mb := flag.Int("mb", 500, "MiB of heap to allocate and touch")
	settle := flag.Duration("settle", 1500*time.Millisecond, "quiet time that ends the wait for the background scavenger")
	limit := flag.Duration("limit", 20*time.Second, "longest wait for the background scavenger")
	fomMB := flag.Int("fom-mb", 32, "MiB allocated and dropped again just before debug.FreeOSMemory, for it to return")
	hold := flag.Duration("hold", 0, "stay alive this long at the end, like a service that idles")
	concurrent := flag.Bool("concurrent", false, "call debug.FreeOSMemory right after the GC, while the background scavenger is at work, then wait for it")
	flag.Parse()

	say("start")
	allocate(*mb)
	say("allocated")
	sink = nil
	runtime.GC()
	say("gc")
	if *concurrent {
		// The GC just woke the background scavenger: FreeOSMemory's
		// scavengeAll now releases on this goroutine while it works on its
		// own thread, both on the same page allocator.
		debug.FreeOSMemory()
		say("freeosmemory")
		waitForScavenger(*settle, *limit)
		say("background")
		time.Sleep(*hold)
		return
	}
	waitForScavenger(*settle, *limit)
	say("background")
	// Fresh garbage that the paced background scavenger has had no time to
	// return: FreeOSMemory's GC frees it and its scavengeAll returns it.
	allocate(*fomMB)
	sink = nil
	say("refilled")
	debug.FreeOSMemory()
	say("freeosmemory")
	time.Sleep(*hold)
}
