// goheap is the oracle for pageledger's go_heap: the runtime's own figures
// (runtime.ReadMemStats) beside the heap pageledger reads from outside.
// It grows a heap of -mb MiB (1 MiB objects, every page touched), then goes
// through three phases, and after each one waits for the background
// scavenger to settle and pauses at a quiet point until SIGUSR1 (or
// -pause), so the test can take pageledger's reading while nothing moves:
//
//	half     every other object dropped, GC: half the heap free, and the
//	         scavenger leaves it alone (the heap goal is still high)
//	dropped  everything dropped, GC: the scavenger returns most of it
//	freed    debug.FreeOSMemory: all of it returned
//
// Every 100 ms, and at each quiet point and resume, it writes one JSON line
// to -out: step, phase, t_ns (CLOCK_MONOTONIC, the clock of pageledger's
// ts_ns), heap_inuse, heap_idle, heap_released, heap_sys, stack_inuse,
// num_gc. The lines are built without allocating, so writing them moves
// nothing in the heap.
package main

import (
	"flag"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

const pageSize = 4096

var (
	sink  [][]byte
	out   *os.File
	mu    sync.Mutex
	phase = "grow"
	ms    runtime.MemStats
	line  = make([]byte, 0, 512)
)

func monoNs() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func field(name string, v uint64) {
	line = append(line, ",\""...)
	line = append(line, name...)
	line = append(line, "\":"...)
	line = strconv.AppendUint(line, v, 10)
}

// say writes one line: the step, the phase and the runtime's figures now.
func say(step string) {
	mu.Lock()
	defer mu.Unlock()
	runtime.ReadMemStats(&ms)
	t := monoNs()
	line = append(line[:0], "{\"step\":\""...)
	line = append(line, step...)
	line = append(line, "\",\"phase\":\""...)
	line = append(line, phase...)
	line = append(line, '"')
	field("t_ns", uint64(t))
	field("heap_inuse", ms.HeapInuse)
	field("heap_idle", ms.HeapIdle)
	field("heap_released", ms.HeapReleased)
	field("heap_sys", ms.HeapSys)
	field("stack_inuse", ms.StackInuse)
	field("num_gc", uint64(ms.NumGC))
	line = append(line, "}\n"...)
	out.Write(line)
}

func setPhase(p string) {
	mu.Lock()
	phase = p
	mu.Unlock()
}

func ticker() {
	for range time.Tick(100 * time.Millisecond) {
		say("tick")
	}
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

func released() uint64 {
	mu.Lock()
	defer mu.Unlock()
	runtime.ReadMemStats(&ms)
	return ms.HeapReleased
}

// settle returns once HeapReleased has reached at least want and then not
// moved for quiet, or after limit. Quiet time alone is no sign that the
// scavenger is done: on a loaded machine it may not start for longer.
func settle(want uint64, quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, since := released(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if r := released(); r != last {
			last, since = r, time.Now()
		} else if r >= want && time.Since(since) >= quiet {
			return
		}
	}
}

// halfOfIdle is HeapReleased once the scavenger has returned half of what
// is free and not yet released: where it goes when nearly all is free.
func halfOfIdle() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapReleased + (ms.HeapIdle-ms.HeapReleased)/2
}

// pause is a quiet point: until SIGUSR1, or limit.
func pause(sig chan os.Signal, limit time.Duration) {
	say("quiet")
	select {
	case <-sig:
	case <-time.After(limit):
	}
	say("resume")
}

func main() {
	mb := flag.Int("mb", 300, "MiB of heap to grow, touched")
	outPath := flag.String("out", "", "file for the JSON lines (default stderr)")
	quiet := flag.Duration("settle", 1500*time.Millisecond, "time HeapReleased must stay still before a quiet point")
	limit := flag.Duration("limit", 30*time.Second, "longest wait for the scavenger to settle")
	hold := flag.Duration("pause", 60*time.Second, "longest pause at a quiet point without SIGUSR1")
	flag.Parse()
	out = os.Stderr
	if *outPath != "" {
		f, err := os.Create(*outPath)
		if err != nil {
			panic(err)
		}
		out = f
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go ticker()

	allocate(*mb)
	say("grown")

	setPhase("half")
	for i := 0; i < len(sink); i += 2 {
		sink[i] = nil
	}
	runtime.GC()
	settle(0, *quiet, *limit) // the goal stays above the heap: no scavenging is due
	pause(sig, *hold)

	setPhase("dropped")
	sink = nil
	runtime.GC()
	settle(halfOfIdle(), *quiet, *limit)
	pause(sig, *hold)

	setPhase("freed")
	debug.FreeOSMemory()
	settle(0, *quiet, *limit) // FreeOSMemory returns all before it returns
	pause(sig, *hold)
	say("done")
}
