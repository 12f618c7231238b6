"""Who released it: caller classes from kernel-captured user stacks,
symbolized in user space, on Go binaries plain, stripped, PIE and non-PIE,
and on glibc and jemalloc. The Go runtime's own figures (MemStats and
GODEBUG=scavtrace=1) are the independent oracle."""
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import (BUILD, MiB, PAGELEDGER, TIMEOUT, parse_jsonl, run_traced, wait_for_line,
                      workload)

GO_VARIANTS = ["scavenge", "scavenge-stripped", "scavenge-pie", "scavenge-pie-stripped"]
RELEASING = ("MADV_DONTNEED", "MADV_FREE")
HEAP_MB = 160


def run_go(binary, madvdontneed, extra=()):
    out_file = BUILD / f"e2e-go-{os.getpid()}-{binary}-{madvdontneed}.jsonl"
    env = dict(os.environ, GODEBUG=f"madvdontneed={madvdontneed},scavtrace=1")
    try:
        p = subprocess.run([str(PAGELEDGER), "-j", "-o", str(out_file), *extra, "--",
                            str(BUILD / "go" / binary), "-mb", str(HEAP_MB)],
                           capture_output=True, text=True, timeout=120, env=env)
        records = parse_jsonl(out_file.read_text())
    finally:
        out_file.unlink(missing_ok=True)
    assert p.returncode == 0, p.stderr
    steps = {r["step"]: r for r in parse_jsonl(p.stdout)}
    return records, steps, p.stderr


def advised(records, cls):
    """Bytes advised for release, and RSS released, by one caller class."""
    evs = [r for r in records if r["type"] == "madvise" and r.get("advice") in RELEASING
           and r["caller"]["class"] == cls]
    return (sum(e["len"] for e in evs),
            -sum(e["rss_delta"]["anon"] + e["rss_delta"]["file"] for e in evs))


def scavtrace_work_bytes(stderr):
    """GODEBUG=scavtrace=1 (Go 1.19) prints 'scav N KiB work, ...' per GC
    cycle for the background scavenger, and a line ending '(forced)' for
    debug.FreeOSMemory. Returns (background bytes, forced bytes)."""
    background = forced = 0
    for work, tail in re.findall(r"scav (\d+) KiB work,[^\n]*?( \(forced\))?\n", stderr):
        if tail:
            forced += int(work) * 1024
        else:
            background += int(work) * 1024
    return background, forced


@pytest.mark.parametrize("binary", GO_VARIANTS)
def test_go_scavenger_classes_with_madv_dontneed(binary):
    records, steps, stderr = run_go(binary, 1)
    released_bg = steps["background"]["heap_released"] - steps["gc"]["heap_released"]
    # FreeOSMemory's window: it runs a GC, which also wakes the background
    # scavenger, so the two share what the runtime released in that window.
    released_fom = steps["freeosmemory"]["heap_released"] - steps["refilled"]["heap_released"]
    released_all = steps["freeosmemory"]["heap_released"] - steps["gc"]["heap_released"]
    assert released_bg > HEAP_MB * MiB * 0.8, steps  # the workload did its part

    bg_bytes, bg_rss = advised(records, "go-scavenger-background")
    assert bg_bytes >= 0.95 * released_bg, (bg_bytes, released_bg)
    trace_bg, trace_forced = scavtrace_work_bytes(stderr)
    assert bg_bytes >= 0.95 * trace_bg, (bg_bytes, trace_bg)

    forced_bytes, forced_rss = advised(records, "go-scavenger-forced")
    # FreeOSMemory returned part of the 32 MiB refill (the background scavenger,
    # woken by its GC, races it for the rest).
    assert trace_forced >= 1 * MiB, trace_forced
    assert 0.95 * trace_forced <= forced_bytes <= 1.05 * trace_forced + 64 * 1024, \
        (forced_bytes, trace_forced)
    assert forced_bytes <= released_fom + 2 * MiB, (forced_bytes, released_fom)
    eager_bytes, _ = advised(records, "go-scavenger-eager")
    assert bg_bytes + forced_bytes + eager_bytes >= 0.95 * released_all

    # MADV_DONTNEED: the kernel drops the pages inside the call.
    total, rss = bg_bytes + forced_bytes, bg_rss + forced_rss
    assert rss >= 0.9 * total, (rss, total)

    # The summary groups the same figures by class.
    rows = [r for r in records[-1]["callers"] if r["class"] == "go-scavenger-background"
            and r["advice"] == "MADV_DONTNEED"]
    assert rows and rows[0]["bytes"] == bg_bytes
    # Heap growth is named too.
    assert any(r["caller"]["class"] == "go-heap-grow" for r in records if r["type"] == "mmap")


@pytest.mark.parametrize("binary", ["scavenge", "scavenge-pie-stripped"])
def test_go_scavenger_with_madv_free_releases_nothing_at_the_call(binary):
    records, steps, _ = run_go(binary, 0)
    released_bg = steps["background"]["heap_released"] - steps["gc"]["heap_released"]
    frees = [r for r in records if r["type"] == "madvise" and r.get("advice") == "MADV_FREE"]
    assert frees, "GODEBUG=madvdontneed=0 must use MADV_FREE"
    bg_bytes, bg_rss = advised(records, "go-scavenger-background")
    assert bg_bytes >= 0.95 * released_bg
    assert bg_rss <= 0.05 * bg_bytes  # lazily freed: still resident
    lazy = records[-1]["lazy_free"]
    assert lazy["advised"] >= bg_bytes and lazy["resident_after_call"] >= 0.95 * lazy["advised"]


def test_text_summary_names_the_scavenger_and_lazy_free():
    env = dict(os.environ, GODEBUG="madvdontneed=0")
    p = subprocess.run([str(PAGELEDGER), "--", str(BUILD / "go" / "scavenge-stripped"),
                        "-mb", "64"], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    # Wrapped to the width: read as words.
    words = " ".join(p.stdout.split())
    m = re.search(r"Go background scavenger: ([\d.]+)M advised in [\d,]+ calls? "
                  r"\(MADV_FREE\); (RSS unchanged|freed [\d.]+[BK])", words)
    assert m and float(m.group(1)) > 0, p.stdout
    assert re.search(r"note: [\d.]+M advised with MADV_FREE; [\d.]+[BKM] left RSS at the call "
                     r"and [\d.]+M stayed resident, lazily freed", words), p.stdout


def test_stacks_option_prints_symbolized_frames():
    p = subprocess.run([str(PAGELEDGER), "--stacks", "--", str(BUILD / "go" / "scavenge-stripped"),
                        "-mb", "32"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "runtime.madvise" in p.stdout
    assert "runtime.(*pageAlloc).scavengeOne" in p.stdout
    assert "<- call site" in p.stdout


def test_glibc_malloc_trim_and_free_are_classified():
    t = run_traced([workload("gtrim"), "64"])
    assert t.returncode == 0, t.stderr
    records = t.records
    big = t.steps("big-malloc")[0]
    unmap = t.one("munmap", len=big["len"] + 4096)  # the chunk header's page too
    assert unmap["caller"]["class"] == "glibc-free", unmap["caller"]
    assert unmap["rss_delta"]["anon"] <= -big["len"]
    trims = [r for r in records if r["type"] == "madvise" and r.get("advice") == "MADV_DONTNEED"]
    assert trims, records
    assert all(r["caller"]["class"] == "glibc-trim" for r in trims), [r["caller"] for r in trims]
    assert -sum(r["rss_delta"]["anon"] for r in trims) >= 60 * MiB


LIBC_DEBUG = Path("/usr/lib/debug/.build-id")


def test_glibc_internals_are_named_from_libc6_dbg():
    """Issue 12, point 2: Debian's libc is stripped, so malloc's own mmap showed
    only __mmap, class unknown. With libc6-dbg's separate debug files (found by
    build ID) the frame above it is named, and so the class; ld.so's frames
    too. Exact bytes: the one mmap of the big chunk, and every loader mapping."""
    assert LIBC_DEBUG.is_dir(), "install libc6-dbg (make deps)"
    t = run_traced([workload("gtrim"), "64"])
    assert t.returncode == 0, t.stderr
    big = t.steps("big-malloc")[0]
    # malloc's mapping starts a page below the pointer it hands out (the chunk header).
    mapped = t.one("mmap", len=big["len"] + 4096)
    assert mapped["ret"] == big["addr"] - 16, (mapped, big)
    frames = mapped["caller"]["frames"]
    assert [f["func"] for f in frames[:1]] == ["__mmap"], frames
    assert len(frames) >= 2 and frames[1]["func"].startswith("sysmalloc"), frames
    assert mapped["caller"]["class"] == "glibc-malloc", mapped["caller"]
    loader = [r for r in t.records if r["type"] == "mmap" and r.get("caller")
              and r["caller"]["class"] == "loader"]
    assert loader and all(r["caller"]["site"] for r in loader), [r["caller"] for r in loader]
    assert any(r["caller"]["site"] == "_dl_map_object_from_fd" for r in loader)
    # Every byte gtrim maps, other than the break's growth (libc's sbrk is not a
    # leaf: the walk ends in it), has a class and a named site.
    maps = [r for r in t.records if r["type"] == "mmap"]
    named = sum(r["len"] for r in maps if r["caller"]["class"] != "unknown"
                and r["caller"]["site"])
    assert named == sum(r["len"] for r in maps), [r["caller"] for r in maps
                                                   if not r["caller"]["site"]]


PYTHON = Path("/usr/bin/python3")
ARENAS_PY = Path(__file__).resolve().parents[1] / "workloads" / "python" / "arenas.py"


@pytest.mark.parametrize("threads", [1, 3])
def test_python_arenas_are_classified_to_the_arena(threads):
    """Issue 12, point 4: Debian's python3 maps and unmaps its obmalloc arenas;
    each such call is python-arena, and their count and bytes are exactly the
    allocator's own (sys._debugmallocstats: arenas allocated, reclaimed)."""
    t = run_traced([str(PYTHON), str(ARENAS_PY), str(threads), "2"])
    assert t.returncode == 0, t.stderr
    stats = t.steps("arenas")[0]
    size = stats["arena_size"]
    arena = [r for r in t.records if r["type"] in ("mmap", "munmap")
             and r["caller"]["class"] == "python-arena" and r["len"] == size]
    maps = [r for r in arena if r["type"] == "mmap"]
    unmaps = [r for r in arena if r["type"] == "munmap"]
    assert len(maps) == stats["allocated_total"], (len(maps), stats)
    assert len(unmaps) == stats["reclaimed"], (len(unmaps), stats)
    assert sum(r["len"] for r in unmaps) == stats["reclaimed"] * size
    # No arena-sized map or unmap of the run is left out, or named by anything else.
    sized = [r for r in t.records if r["type"] in ("mmap", "munmap") and r["len"] == size]
    assert len(sized) == len(arena), [r["caller"] for r in sized if r not in arena]
    assert all(r["caller"]["frames"][1]["module"] == str(PYTHON.resolve())
               for r in arena), [r["caller"]["frames"] for r in arena]


def test_jemalloc_purge_is_classified():
    t = run_traced([workload("jepurge"), "64"])
    assert t.returncode == 0, t.stderr
    records = t.records
    # jemalloc also advises single pages at start-up to probe the kernel: not purges.
    purges = [r for r in records if r["type"] == "madvise"
              and r.get("advice") in ("MADV_FREE", "MADV_DONTNEED") and r["len"] > 4096]
    assert purges, records
    assert all(r["caller"]["class"] == "jemalloc-purge" for r in purges), \
        [r["caller"] for r in purges]
    assert sum(r["len"] for r in purges) >= 60 * MiB


def test_tcmalloc_release_is_classified():
    t = run_traced([workload("tcrelease"), "64"])
    assert t.returncode == 0, t.stderr
    releases = [r for r in t.records if r["type"] == "madvise"
                and r.get("advice") == "MADV_DONTNEED"]
    assert releases
    assert all(r["caller"]["class"] == "tcmalloc-release" for r in releases), \
        [r["caller"] for r in releases]
    assert -sum(r["rss_delta"]["anon"] for r in releases) >= 24 * MiB


def test_no_stacks_means_no_callers():
    p = subprocess.run([str(PAGELEDGER), "-j", "--no-stacks", "--", workload("memops"),
                        "dontneed", "8"], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    records = [r for r in parse_jsonl(p.stdout) if "type" in r]
    assert all("caller" not in r for r in records)


# ---- who asked, on Go servers: goroutine roots, cgo shims, syscall wrappers ----

PLUMBING_SITES = {"x_cgo_mmap", "x_cgo_munmap", "runtime/internal/syscall.Syscall6",
                  "syscall.Syscall", "syscall.Syscall6", "syscall.RawSyscall6"}


def run_callers(binary, *args):
    t = run_traced([str(BUILD / "go" / binary), *args])
    assert t.returncode == 0, t.stderr
    calls = [r for r in t.records if r["type"] in ("mmap", "munmap", "madvise")]
    assert not [c["caller"] for c in calls if c["caller"]["site"] in PLUMBING_SITES], \
        "a shim or a syscall wrapper named as the site"
    return t, calls


def funcs(call):
    return [f["func"] for f in call["caller"]["frames"]]


@pytest.mark.parametrize("goroutines", [1, 4])
def test_cgo_runtime_mmaps_are_named_by_their_go_caller(goroutines):
    """A cgo-linked build: the runtime's mmap goes through libc's mmap from
    x_cgo_mmap. The site is the Go caller above the shim, and the heap's
    growth adds up, to the byte, to what the runtime says it has."""
    t, calls = run_callers("callers-cgo", "-heap", "64", "-g", str(goroutines))
    heap = [w for w in t.workload if w["step"] == "heap"][0]
    assert heap["cgo"] is True
    shimmed = [c for c in calls if "x_cgo_mmap" in funcs(c) or "x_cgo_munmap" in funcs(c)]
    assert len(shimmed) >= 10, len(shimmed)
    for c in shimmed:
        names, site = funcs(c), c["caller"]["site"]
        shim = names.index("x_cgo_mmap" if "x_cgo_mmap" in names else "x_cgo_munmap")
        assert site and site.startswith("runtime.") and site in names[shim + 1:], c["caller"]
        assert c["caller"]["class"].startswith("go-"), c["caller"]
    # (*mheap).grow's sysMap calls map exactly what the heap and the stacks hold.
    grown = sum(c["len"] for c in shimmed if c["type"] == "mmap" and "FIXED" in c["flags"]
                and c["caller"]["site"] == "runtime.(*mheap).grow")
    assert all(c["caller"]["class"] == "go-heap-grow" for c in shimmed
               if c["caller"]["site"] == "runtime.(*mheap).grow")
    assert grown == heap["heap_sys"] + heap["stack_sys"], (grown, heap)


@pytest.mark.parametrize("binary", ["callers", "callers-cgo"])
@pytest.mark.parametrize("goroutines", [1, 4])
def test_syscall_wrappers_name_the_app_function(binary, goroutines):
    """main.mapRegion calls syscall.Mmap, Madvise and Munmap on goroutines
    whose stacks end in runtime.goexit: each call is the app's, and its site
    is main.mapRegion, not a wrapper and not the runtime."""
    t, calls = run_callers(binary, "-heap", "32", "-mmap", "5", "-g", str(goroutines))
    step = [w for w in t.workload if w["step"] == "mmap"][0]
    n, size = step["regions"], step["region_len"]
    assert n == 5 * goroutines
    for kind, extra in (("mmap", {}), ("madvise", {"advice": "MADV_DONTNEED"}), ("munmap", {})):
        mine = [c for c in calls if c["type"] == kind and c["caller"]["site"] == "main.mapRegion"
                and all(c.get(k) == v for k, v in extra.items())]
        assert len(mine) == n, (kind, len(mine), n)
        assert sum(c["len"] for c in mine) == n * size
        assert all(c["caller"]["class"] == "app" for c in mine), [c["caller"] for c in mine]
        assert all(funcs(c)[-1] == "runtime.goexit" for c in mine if funcs(c)[-1]), \
            "the walk reached the goroutine's root"


# ---- names as people read them: C++ demangled in every output ----------------

def run_cxxpool(threads, extra):
    """Starts cxxpool under pageledger, lets it go once tracing, returns the output file's text."""
    out = BUILD / f"e2e-cxx-{os.getpid()}-{threads}-{len(extra)}.out"
    try:
        tracer = subprocess.Popen([str(PAGELEDGER), *extra, "-o", str(out), "--",
                                   workload("cxxpool"), str(threads)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = wait_for_line(tracer.stderr, "tracing")
        child = int(re.search(r"\(pid (\d+)\)", line).group(1))
        wait_for_line(tracer.stdout, "ready")
        os.kill(child, signal.SIGUSR1)
        done = json.loads(wait_for_line(tracer.stdout, "calls"))
        _, err = tracer.communicate(timeout=TIMEOUT)
        assert tracer.returncode == 0, err
        return out.read_text(), done
    finally:
        out.unlink(missing_ok=True)


@pytest.mark.parametrize("threads", [1, 3])
def test_cxx_call_sites_are_demangled(threads):
    """pl::Pool<T>::grow maps and release unmaps: the sites come out as C++
    reads them, in the JSON stream and the summary alike."""
    text, done = run_cxxpool(threads, ["-j"])
    records = parse_jsonl(text)
    for kind, method in (("mmap", "grow(unsigned long)"), ("munmap", "release()")):
        for cls in ("int", "std::pair<char, long> "):
            site = f"pl::Pool<{cls}>::{method}"
            mine = [r for r in records if r["type"] == kind
                    and (r["caller"]["site"] or "").startswith(site)]
            assert len(mine) == done["calls"] // 2, (kind, site, len(mine), done)
            assert all(r["len"] == done["len"] for r in mine)
            assert all(r["caller"]["class"] == "app" for r in mine)
    sites = {row["site"] for row in records[-1]["call_sites"]}
    assert "pl::Pool<int>::grow(unsigned long)" in sites, sites
    assert not [s for s in sites if s and s.startswith("_Z")], sites


def test_cxx_stacks_are_demangled():
    text, _ = run_cxxpool(1, ["--stacks"])
    assert "pl::Pool<std::pair<char, long> >::grow(unsigned long)+0x" in text, text[-3000:]
    assert "_ZN2pl" not in text
