"""go_heap: the Go runtime's page allocator, read from outside the process,
held against the runtime's own figures (runtime.ReadMemStats in the goheap
workload; go_memstats_* on Debian's prometheus). The workload pauses at
quiet points until SIGUSR1; the test signals it only once a balance was
taken inside the pause, so both readings see the same heap.

Where the two views differ by definition, the tolerance says so: the
bitmaps count the per-P page caches (at most 64 pages of 8 KiB per P) as
allocated, MemStats as idle; and goroutine stacks as allocated, MemStats
under StackInuse."""
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import (BUILD, MiB, PAGELEDGER, Prometheus, free_port, http_get, parse_jsonl,
                      run_traced, wait_until)

GO_DIR = BUILD / "go"
HEAP_MB = 240
RUN_TIMEOUT = 240
PHASES = ("half", "dropped", "freed")
SVG = "{http://www.w3.org/2000/svg}"
PCACHE_SLACK = 2 * 64 * 8192  # two Ps' page caches (this machine has 2 cores)


def go_release():
    out = subprocess.run(["go", "version"], capture_output=True, text=True, check=True).stdout
    return re.search(r"(go1\.\d+(\.\d+)?)", out).group(1)


def close_to(ours, theirs, pct=2.0, floor=MiB):
    return abs(ours - theirs) <= max(theirs * pct / 100.0, floor)


def read_jsonl(path):
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    # The last line may be half written.
    return parse_jsonl("\n".join(text.splitlines()[:-1]) if not text.endswith("\n") else text)


class LiveStream:
    """A tracer's stdout stream, read as it comes (an -o FILE appears only at
    the end of the run: it is written aside and renamed into place)."""

    def __init__(self, proc):
        self.proc, self.lines, self.lock = proc, [], threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line)

    def records(self):
        with self.lock:
            text = "".join(self.lines)
        return read_text_jsonl(text)

    def close(self):
        self.thread.join(timeout=60)
        return self.records()


def read_text_jsonl(text):
    # The last line may be half read.
    return parse_jsonl("\n".join(text.splitlines()[:-1]) if not text.endswith("\n") else text)


class GoHeapRun:
    """pageledger -j -i 1 over the goheap workload, releasing each quiet point
    once a balance falls inside it; stop_at ends the run there (SIGINT)."""

    def __init__(self, binary, madvdontneed=1, stop_at=None, text=False, extra=()):
        self.dir = Path(tempfile.mkdtemp(prefix="goheap-", dir=BUILD))
        self.lines_path = self.dir / "lines.jsonl"
        # GOGC=400: the heap goal after "half" stays far above the heap, so the
        # scavenger leaves the freed half alone and retained is large.
        env = dict(os.environ, GODEBUG=f"madvdontneed={madvdontneed}", GOMAXPROCS="2",
                   GOGC="400")
        fmt = [] if text else ["-j"]
        # The stream on stdout, read as it comes: an -o FILE appears only at
        # the end (it is written aside and renamed), and the run is driven by
        # the balances it holds.
        self.proc = subprocess.Popen(
            [str(PAGELEDGER), *fmt, "-i", "1", "-v", *extra, "--",
             str(GO_DIR / binary), "-mb", str(HEAP_MB), "-out", str(self.lines_path),
             "-pause", "120s"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.text = text
        self.stop_at = stop_at
        self.stream = []
        self.stream_lock = threading.Lock()
        self.reader = threading.Thread(target=self._read_stream, daemon=True)
        self.reader.start()

    def _read_stream(self):
        for line in self.proc.stdout:
            with self.stream_lock:
                self.stream.append(line)

    def lines(self):
        return read_jsonl(self.lines_path)

    def records(self):
        if self.text:
            return []
        with self.stream_lock:
            lines = list(self.stream)
        return parse_jsonl("".join(lines))

    def target_pid(self):
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None

    def balance_after(self, t_ns):
        return any(r["type"] == "balance" and r["ts_ns"] > t_ns for r in self.records())

    def drive(self):
        deadline = time.monotonic() + RUN_TIMEOUT
        released = set()
        pid = None
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "the goheap run did not finish"
            pid = pid or self.target_pid()
            quiet = [ln for ln in self.lines() if ln["step"] == "quiet"]
            for q in quiet:
                if q["phase"] in released:
                    continue
                if q["phase"] == self.stop_at:
                    # The end balance is then taken while the target still pauses.
                    released.add(q["phase"])
                    self.proc.send_signal(signal.SIGINT)
                elif pid and self.balance_after(q["t_ns"] + 300_000_000):
                    released.add(q["phase"])
                    os.kill(pid, signal.SIGUSR1)
            time.sleep(0.05)
        err = self.proc.stderr.read()
        self.proc.wait()
        self.reader.join()
        self.stderr = err
        self.output = "".join(self.stream)
        self.all_lines = self.lines()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert self.proc.returncode == 0, err
        return self

    def quiet_points(self):
        """phase -> (quiet line, resume line, balances taken between them)."""
        recs = parse_jsonl(self.output)
        out = {}
        for phase in PHASES:
            q = [ln for ln in self.all_lines if ln["step"] == "quiet" and ln["phase"] == phase]
            r = [ln for ln in self.all_lines if ln["step"] == "resume" and ln["phase"] == phase]
            if not q:
                continue
            end = r[0]["t_ns"] if r else float("inf")
            bal = [b for b in recs if b["type"] == "balance"
                   and q[0]["t_ns"] + 300_000_000 < b["ts_ns"] < end]
            out[phase] = (q[0], r[0] if r else q[0], bal)
        return out


def check_quiet_point(phase, q, r, balances, madvdontneed):
    assert balances, f"no balance inside the {phase} pause"
    # Quiet: the runtime's figures did not move during the pause.
    for key in ("heap_idle", "heap_released", "heap_inuse"):
        assert close_to(r[key], q[key], 0.5, 256 * 1024), (phase, key, q, r)
    free_unscavenged = q["heap_idle"] - q["heap_released"]
    allocated = q["heap_inuse"] + q["stack_inuse"]
    for b in balances:
        g = b["go_heap"]
        assert g is not None, b
        assert close_to(g["idle"] - g["released"], free_unscavenged), (phase, g, q)
        # Per-P page caches: allocated in the bitmaps, idle in MemStats.
        assert allocated - MiB <= g["inuse"] <= allocated + PCACHE_SLACK + MiB, (phase, g, q)
        if q["heap_inuse"] >= 64 * MiB:
            assert close_to(g["inuse"], q["heap_inuse"], 2.0, 0), (phase, g, q)
        assert g["retained"] <= g["idle"] - g["released"], g
        assert g["inuse"] + g["idle"] == sum(rg["limit"] - rg["base"] for rg in g["ranges"])
        if phase == "half":
            # Every freed page had been touched, and none scavenged is counted.
            assert close_to(g["retained"], free_unscavenged), (g, q)
            assert g["retained"] >= 50 * MiB, g
        if phase == "freed":
            assert g["idle"] - g["released"] <= MiB and g["retained"] <= MiB, g
            if madvdontneed == 0:
                # MADV_FREE'd pages stay resident, lazily freed: scavenged, so not retained.
                assert b["kernel"]["lazy_free"] >= 100 * MiB, b["kernel"]


@pytest.mark.parametrize("binary,madvdontneed", [
    ("goheap", 1), ("goheap", 0), ("goheap-pie-stripped", 1), ("goheap-pie-stripped", 0)])
def test_go_heap_matches_memstats_at_quiet_points(binary, madvdontneed):
    run = GoHeapRun(binary, madvdontneed).drive()
    points = run.quiet_points()
    assert set(points) == set(PHASES), (points.keys(), run.stderr[-2000:])
    for phase, (q, r, balances) in points.items():
        check_quiet_point(phase, q, r, balances, madvdontneed)
    recs = parse_jsonl(run.output)
    known = [b["go_heap"] for b in recs if b["type"] == "balance" and b["go_heap"]]
    assert known and all(g["version"] == go_release() for g in known)
    assert all(g["retained"] <= g["idle"] - g["released"] for g in known)
    assert "go_heap: null" not in run.stderr


def test_diagnosis_splits_in_use_by_the_go_heap():
    run = GoHeapRun("goheap-pie-stripped", stop_at="half").drive()
    summary = parse_jsonl(run.output)[-1]
    d, end = summary["diagnosis"], summary["balance"]
    assert d["source"] == "kernel" and end["when"] == "end"
    g, split = end["go_heap"], d["go_heap"]
    assert split["inuse"] + split["retained"] + split["other"] == d["in_use"]
    assert split["retained"] == g["retained"] >= 50 * MiB
    assert split["inuse"] == min(g["inuse_resident"], d["in_use"])
    hint = [h for h in d["hints"] if "GOMEMLIMIT" in h]
    assert len(hint) == 1 and "debug.FreeOSMemory()" in hint[0], d["hints"]
    assert f"{split['retained'] / MiB:.1f}M" in hint[0]


def test_text_summary_shows_the_go_heap_rows():
    run = GoHeapRun("goheap", stop_at="half", text=True).drive()
    text = run.output
    m = re.search(r"^\s+Go heap retained \(not scavenged\)\s+([\d.]+)M$", text, re.M)
    assert m and float(m.group(1)) >= 50, text[-3000:]
    assert re.search(r"^\s+Go heap in use\s+[\d.]+[KM]$", text, re.M)
    # The hint, under its row: what lowers it, with the figures.
    assert re.search(r"^\s+Go heap retained [\d.]+[KMG] \(free in the runtime's eyes", text, re.M)
    assert re.search(rf"^  go heap \({go_release()}\): in use [\d.]+M idle [\d.]+M "
                     r"released [\d.]+M retained [\d.]+M$", text, re.M)


def test_metrics_exporter_shows_the_go_heap_retained():
    """--metrics carries the Go heap split (issue 15, point 3), held to the
    runtime's own MemStats at the "half" quiet point: retained is the freed
    half, still resident and not scavenged."""
    port = free_port()
    run = GoHeapRun("goheap-pie-stripped", extra=["--metrics", f"127.0.0.1:{port}"])
    try:
        def quiet_half():
            assert run.proc.poll() is None, "the run ended before its quiet point"
            q = [ln for ln in run.lines() if ln["step"] == "quiet" and ln["phase"] == "half"]
            # The live reading is at most a second old: wait past it.
            return q[0] if q and run.balance_after(q[0]["t_ns"] + 1_300_000_000) else None
        q = wait_until(quiet_half, "the half quiet point", RUN_TIMEOUT)
        text = http_get(f"http://127.0.0.1:{port}/metrics")
        got = {m.group(1): (m.group(2), int(m.group(3))) for m in re.finditer(
            r'^pageledger_go_heap_bytes\{.*,state="(\w+)",version="([^"]*)"\} (\d+)$', text, re.M)}
        assert set(got) == {"inuse", "idle", "released", "retained"}, text
        assert all(v == go_release() for v, _ in got.values()), got
        free_unscavenged = q["heap_idle"] - q["heap_released"]
        g = {k: n for k, (_, n) in got.items()}
        assert close_to(g["idle"] - g["released"], free_unscavenged), (g, q)
        assert close_to(g["retained"], free_unscavenged), (g, q)
        assert g["retained"] >= 50 * MiB, g
    finally:
        run.proc.send_signal(signal.SIGINT)
        run.proc.communicate(timeout=RUN_TIMEOUT)
        shutil.rmtree(run.dir, ignore_errors=True)


# ---- not Go, or Go that cannot be read -----------------------------------------

def null_everywhere(trace, reason):
    balances = trace.of("balance")
    assert balances and all(b["go_heap"] is None for b in balances)
    said = [ln for ln in trace.stderr.splitlines() if "go_heap: null" in ln]
    assert len(said) == 1 and reason in said[0], trace.stderr
    assert trace.returncode == 0, trace.stderr
    assert all(b["exact"] for b in balances if b["settled"]), balances


def test_non_go_target_has_null_go_heap():
    trace = run_traced(["sleep", "2.5"], extra=["-i", "1", "-v"])
    null_everywhere(trace, "not a Go binary")
    assert trace.summary["diagnosis"]["go_heap"] is None


def elf_sections(data):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    names_off = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)[0]
    out = {}
    for i in range(shnum):
        at = shoff + i * shentsize
        name, = struct.unpack_from("<I", data, at)
        end = data.index(b"\0", names_off + name)
        out[data[names_off + name:end].decode()] = at
    return out


def corrupt_copy(how):
    """The stripped PIE workload, its Go function table broken for readers
    while the runtime (which never looks at section headers or at these
    names) still runs it."""
    data = bytearray((GO_DIR / "goheap-pie-stripped").read_bytes())
    if how == "section":
        secs = elf_sections(data)
        at = secs.get(".gopclntab") or secs[".data.rel.ro.gopclntab"]  # PIE: the latter
        struct.pack_into("<QQ", data, at + 0x18, 0x40, 0x1000)  # sh_offset, sh_size: garbage
    else:
        for name in (b"alloc", b"allocManual", b"freeManual", b"freeSpan"):
            old = b"runtime.(*mheap)." + name + b"\0"
            assert data.count(old) == 1
            data[data.index(old) + 17] ^= 0x20  # "Alloc": no such method
    path = BUILD / f"goheap-corrupt-{how}"
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("how,reason", [
    ("section", "not a Go binary"), ("names", "no caller of runtime.(*mheap).alloc")])
def test_corrupt_pclntab_gives_null_go_heap(how, reason):
    path = corrupt_copy(how)
    try:
        trace = run_traced([str(path), "-mb", "16", "-pause", "0s", "-settle", "1s"],
                           extra=["-i", "1", "-v"], timeout=120)
    finally:
        path.unlink(missing_ok=True)
    null_everywhere(trace, reason)
    assert trace.summary["exited"] and trace.summary["wait_status"] == 0


# ---- Debian's prometheus ----------------------------------------------------------

def memstats(port):
    """go_memstats_* from /metrics, with the monotonic times around the request."""
    t0 = time.monotonic_ns()
    text = http_get(f"http://127.0.0.1:{port}/metrics")
    t1 = time.monotonic_ns()
    v = {}
    for key in ("heap_idle_bytes", "heap_released_bytes", "heap_inuse_bytes"):
        v[key] = float(re.search(rf"^go_memstats_{key} (\S+)$", text, re.M).group(1))
    return t0, t1, v


def test_prometheus_go_heap_matches_its_metrics():
    prom = Prometheus()
    port = prom.port
    tracer = None
    try:
        tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-i", "1", "-p", str(prom.proc.pid)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stream = LiveStream(tracer)
        # A bounded load: queries and scrapes on loopback only.
        for i in range(40):
            http_get(f"http://127.0.0.1:{port}/api/v1/query?query=up")
            http_get(f"http://127.0.0.1:{port}/metrics")
        matched, compared = 0, []
        for attempt in range(20):
            _, a1, m1 = memstats(port)
            deadline = time.monotonic() + 10
            while not [b for b in stream.records()
                       if b["type"] == "balance" and b["ts_ns"] > a1]:
                assert time.monotonic() < deadline, "no balance"
                time.sleep(0.05)
            b0, _, m2 = memstats(port)
            bal = [b for b in stream.records()
                   if b["type"] == "balance" and a1 < b["ts_ns"] < b0]
            fu1 = m1["heap_idle_bytes"] - m1["heap_released_bytes"]
            fu2 = m2["heap_idle_bytes"] - m2["heap_released_bytes"]
            if len(bal) != 1 or not close_to(fu1, fu2, 0.5, 256 * 1024):
                continue  # not a quiet moment
            g = bal[0]["go_heap"]
            assert g is not None and g["version"].startswith("go1.19"), bal[0]
            compared.append((g, m1, m2))
            if close_to(g["idle"] - g["released"], fu1) and close_to(g["idle"] - g["released"], fu2):
                matched += 1
            assert g["retained"] <= g["idle"] - g["released"]
            if matched >= 3:
                break
        assert matched >= 1 and matched == len(compared), compared
    finally:
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.communicate(timeout=60)
        prom.close()


# ---- another release: Go 1.24, when this machine has a binary of it ---------------

GO124 = Path("/usr/bin/gcloud-crc32c")  # ships with the image's Cloud SDK, stripped, go1.24


@pytest.mark.skipif(not GO124.exists(), reason="no Go 1.24 binary on this machine")
def test_go124_stripped_binary_reads_consistently():
    """No MemStats to hold it against: the reader's own checks (ranges that
    sum to inUse.totalBytes, bitmaps that never say allocated and scavenged)
    and the figures adding up over the ranges."""
    # It reads its stdin to the end: with the pipe held open, it waits.
    target = subprocess.Popen([str(GO124), "/dev/stdin"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-i", "1", "-v", "-p", str(target.pid)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stream = LiveStream(tracer)
        deadline = time.monotonic() + 30
        while not [b for b in stream.records()
                   if b["type"] == "balance" and b["when"] == "interval"]:
            assert time.monotonic() < deadline and tracer.poll() is None, "no interval balance"
            time.sleep(0.05)
        tracer.send_signal(signal.SIGINT)
        err = tracer.stderr.read()
        tracer.wait(timeout=60)
        recs = stream.close()
        assert tracer.returncode == 0, err
    finally:
        target.kill()
        target.wait()
    balances = [b for b in recs if b["type"] == "balance"]
    assert len(balances) >= 3 and "go_heap: null" not in err
    for b in balances:
        g = b["go_heap"]
        assert g["version"].startswith("go1.24"), g
        assert g["inuse"] + g["idle"] == sum(rg["limit"] - rg["base"] for rg in g["ranges"])
        assert 0 < g["inuse"] and g["released"] <= g["idle"]
        assert g["retained"] <= g["idle"] - g["released"]
        assert g["inuse_resident"] <= g["inuse"]


def test_report_shows_the_go_heap_rows(tmp_path):
    """--report draws the diagnosis's Go rows with the JSON summary's figures
    (issue 15): in use split into Go heap in use, retained and the rest."""
    page = tmp_path / "report.svg"
    run = GoHeapRun("goheap", stop_at="half", extra=["--report", str(page)]).drive()
    split = parse_jsonl(run.output)[-1]["diagnosis"]["go_heap"]
    assert split["retained"] >= 50 * MiB, split
    svg = ET.parse(page).getroot()
    diag = next(g for g in svg.iter(SVG + "g") if g.get("class") == "diagnosis")
    cells = ["".join(t.itertext()) for t in diag.iter(SVG + "text")]
    for label, key in (("Go heap in use", "inuse"), ("Go heap retained (not scavenged)",
                                                     "retained"),
                       ("other anon (stacks, runtime, non-heap)", "other")):
        shown = cells[cells.index(label) + 1]
        assert re.fullmatch(r"[\d.]+[BKMG]", shown), (label, shown)
        assert abs(parse_size(shown) - split[key]) <= 0.05 * MiB + split[key] * 0.0005, \
            (label, shown, split)
    # The hint under retained says what lowers it.
    assert any("GOMEMLIMIT" in c for c in cells), cells


def parse_size(text):
    units = {"B": 1, "K": 1024, "M": MiB, "G": 1024 * MiB}
    return float(text[:-1]) * units[text[-1]]
