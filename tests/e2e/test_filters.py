"""-e, --min-size and -t (issue 11, point 6): the outputs show only the calls
asked for, while the ledger, the summary and the closing identity still take
every call. Multi-threaded, as real targets are: racers' three releasing
threads and its faulting one."""
import json
import signal
import subprocess

from conftest import PAGELEDGER, TIMEOUT, MiB, Lines, parse_jsonl, run_traced, workload

CALL_TYPES = {"mmap", "munmap", "madvise", "mremap", "brk", "process_madvise"}


def calls(trace):
    return [r for r in trace.records if r["type"] in CALL_TYPES]


def summary_calls(summary, names):
    return sum(r["calls"] for r in summary["syscalls"] if r["syscall"] in names)


def test_syscall_list_shows_those_calls_and_the_summary_counts_all():
    t = run_traced([workload("racers"), "3", "60"], extra=["-e", "madvise,munmap"])
    assert t.returncode == 0, t.stderr
    shown = calls(t)
    assert {r["type"] for r in shown} == {"madvise", "munmap"}
    # Every madvise and munmap the summary counts is shown, and only those.
    assert len(shown) == summary_calls(t.summary, {"madvise", "munmap"}) >= 3 * 60
    # The rest are counted, not shown: racers maps a fresh window after each munmap.
    assert summary_calls(t.summary, {"mmap"}) > 0
    assert t.summary["closed"], t.summary["closure"]


def test_min_size_hides_smaller_calls_only():
    t = run_traced([workload("memops"), "dontneed", "8"], extra=["--min-size", "1M"])
    assert t.returncode == 0, t.stderr
    shown = calls(t)
    assert shown and all(r["len"] >= MiB for r in shown), shown
    assert {"mmap", "madvise", "munmap"} <= {r["type"] for r in shown}
    # The loader's small mmaps and the brk queries are counted, not shown.
    counted = summary_calls(t.summary, CALL_TYPES)
    assert counted > len(shown)
    assert t.summary["closed"], t.summary["closure"]


def test_tid_shows_one_threads_calls():
    """-t TID on a live racers: its three releasing threads run on, and only
    the chosen one's calls come out; the summary has all of theirs."""
    target = subprocess.Popen([workload("racers"), "3", "1000000"], stdout=subprocess.PIPE,
                              text=True)
    steps = Lines(target.stdout)
    try:
        steps.wait_for(lambda lines: len({json.loads(ln)["tid"] for ln in lines}) >= 3,
                       "three releasing threads")
        tid = json.loads(steps.lines[0])["tid"]
        p = subprocess.run([str(PAGELEDGER), "-j", "-d", "1", "-t", str(tid), "-p",
                            str(target.pid)], capture_output=True, text=True, timeout=TIMEOUT)
    finally:
        target.send_signal(signal.SIGTERM)
        target.wait(timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    records = parse_jsonl(p.stdout)
    shown = [r for r in records if r["type"] in CALL_TYPES]
    assert shown and {r["tid"] for r in shown} == {tid}, {r["tid"] for r in shown}
    summary = records[-1]
    assert summary["type"] == "summary"
    assert summary_calls(summary, CALL_TYPES) > 2 * len(shown)  # the other two, counted


def test_bad_filters_are_usage_errors():
    for args in (["-e", "madvise,read"], ["-e", ""], ["--min-size", "1X"], ["-t", "0"]):
        p = subprocess.run([str(PAGELEDGER), *args, "-p", "1"], capture_output=True,
                           text=True, timeout=TIMEOUT)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.splitlines()) == 1 and p.stderr.startswith("pageledger: invalid")


# ---- --folded ---------------------------------------------------------------------

def folded_key(rec):
    """The folded text pageledger writes for a call record: root first, the leaf
    the syscall and its advice."""
    def name(f):
        if f["func"]:
            return f["func"]
        if f["module"]:
            return "[" + f["module"].rsplit("/", 1)[-1] + "]"
        return hex(f["addr"])
    frames = [name(f).replace(";", ":") for f in reversed(rec["caller"]["frames"])]
    leaf = f"[{rec['type']} {rec['advice']}]" if rec.get("advice") else f"[{rec['type']}]"
    return ";".join(frames + [leaf])


def released(rec):
    resident = sum(rec["rss_delta"][m] for m in ("anon", "file", "shmem"))
    return -resident if resident < 0 else 0


def folded_lines(path):
    out = {}
    for line in path.read_text().splitlines():
        stack, weight = line.rsplit(" ", 1)
        assert stack not in out, f"stack twice: {stack}"
        out[stack] = int(weight)
    return out


def test_folded_weighs_each_stack_by_what_its_calls_released(tmp_path):
    """Issue 11, point 3: --folded against the JSON stream of the same run,
    exactly: per stack, the resident bytes its calls released, summing to
    the summary's total. Three releasing threads and a faulting one."""
    path = tmp_path / "out.folded"
    t = run_traced([workload("racers"), "3", "60"], extra=["--folded", str(path)])
    assert t.returncode == 0, t.stderr
    want = {}
    for r in calls(t):
        if released(r):
            want[folded_key(r)] = want.get(folded_key(r), 0) + released(r)
    got = folded_lines(path)
    assert got == want
    assert sum(got.values()) == t.summary["total"]["rss_released"]
    top = max(got, key=got.get)
    assert top.endswith(("[madvise MADV_DONTNEED]", "[munmap]")), top


def test_folded_by_mapped(tmp_path):
    path = tmp_path / "out.folded"
    t = run_traced([workload("memops"), "dontneed", "8"],
                   extra=["--folded", str(path), "--folded-by", "mapped"])
    assert t.returncode == 0, t.stderr
    want = {}
    for r in calls(t):
        if r["type"] == "mmap" and r["ret"] >= 0:
            want[folded_key(r)] = want.get(folded_key(r), 0) + r["len"]
    assert folded_lines(path) == want
    assert any(k.endswith(";[mmap]") and v == 8 * MiB for k, v in want.items()), want


def test_folded_needs_stacks():
    p = subprocess.run([str(PAGELEDGER), "--folded", "/tmp/x.folded", "--no-stacks", "-p", "1"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 2 and "--folded" in p.stderr and len(p.stderr.splitlines()) == 1
