"""Truth under concurrency (issue 9): several threads release at once while
another faults continuously. Each releasing thread counts its window's
resident pages with mincore() just before the call, and nobody else touches
that window, so the kernel's RSS change for the call is exactly -resident
(0 for MADV_FREE). Every call's figure is its own task's updates, so it must
match to the byte, in every run; a call a concurrent per-CPU counter fold
may have moved is flagged (rss_exact false) and counted, never silent."""
import pytest

from conftest import BUILD, MiB, SANITIZED, Attached, parse_jsonl, run_traced, workload

THREADS, ROUNDS, RUNS = 3, 300, 20
# Measured on this project's 2-CPU machine: 0.1-0.5% of calls are flagged in
# this storm (two folds of the same counter within ~50 ns on two CPUs; see
# README "Concurrency"). The bound leaves room for a loaded machine.
MAX_FLAGGED = 0.01


def expected_anon(step):
    return 0 if step["op"] == "free" else -step["resident"]


def match_calls(trace):
    """Each workload line with its call record: same thread, same address, in order."""
    by_key = {}
    for r in trace.records:
        if r["type"] in ("madvise", "munmap"):
            by_key.setdefault((r["tid"], r["addr"]), []).append(r)
    pairs = []
    for step in trace.workload:
        if "op" not in step:
            continue
        found = by_key.get((step["tid"], step["addr"]))
        assert found, f"no record for {step}"
        pairs.append((step, found.pop(0)))
    return pairs


# A known defect: a call not flagged can still carry another CPU's fold. Measured
# at 1 call in 38,289 (40 runs of this storm; off by 512 pages); README,
# Limitations. Held here to at most one call in 6,000, so a rise fails.
MAX_UNFLAGGED_WRONG = 1 / 6000


def test_concurrent_releases_are_exact_in_every_run():
    calls = flagged = 0
    wrong = []
    for run in range(RUNS):
        t = run_traced([workload("racers"), str(THREADS), str(ROUNDS)])
        assert t.returncode == 0, t.stderr
        pairs = match_calls(t)
        assert len(pairs) >= THREADS * ROUNDS
        run_flagged = 0
        for step, rec in pairs:
            assert rec["rss_known"], rec
            if not rec["rss_exact"]:
                run_flagged += 1
                continue
            if rec["rss_delta"]["anon"] != expected_anon(step):
                # With the run's late count: is it the race's late case, or not?
                wrong.append((run, step, rec, t.summary["rss_inexact_late"]))
        s = t.summary
        assert s["rss_inexact_calls"] >= run_flagged
        assert s["closed"], s["closure"]
        assert s["lost_events"] == 0
        calls += len(pairs)
        flagged += run_flagged
    assert flagged <= MAX_FLAGGED * calls, (flagged, calls)
    assert len(wrong) <= MAX_UNFLAGGED_WRONG * calls, (calls, wrong)


def test_calls_that_cannot_change_rss_show_zero_under_concurrency():
    """MADV_FREE leaves RSS as it is: only the calling task's own updates
    count, so the faults of the other threads never land in it."""
    t = run_traced([workload("racers"), str(THREADS), "90"])
    assert t.returncode == 0, t.stderr
    frees = [rec for step, rec in match_calls(t) if step["op"] == "free"]
    assert len(frees) == THREADS * 30
    assert all(r["rss_delta"] == {"anon": 0, "file": 0, "shmem": 0, "swap": 0}
               for r in frees if r["rss_exact"])


def test_ledger_closes_and_settled_balances_are_exact():
    """Attached with -i 1: balances during the storm may be unsettled (and
    say so); the ones taken while the target is idle are settled, exact to
    the byte against /proc, and the ledger's identity closes at each."""
    out = BUILD / "e2e-concurrency-balances.jsonl"
    # To a file: a pipe nobody reads until the end would hold the tracer up.
    a = Attached([workload("racers"), "--wait", str(THREADS), "600", "2500"],
                 extra=["-i", "1", "-o", str(out)])
    a.go()
    t = a.finish()
    assert t.returncode == 0, t.stderr
    t.records = parse_jsonl(out.read_text())
    out.unlink()
    balances = t.of("balance")
    settled = [b for b in balances if b["settled"]]
    assert any(b["when"] == "attach" for b in settled), balances
    assert len(settled) >= 2, balances  # attach, and at least one while it lingers
    for b in settled:
        assert b["exact"], b
        assert b["closed"], b
    for b in balances:
        assert b["exact"] == (b["settled"] and b["diff"] == {"anon": 0, "file": 0,
                                                                "shmem": 0, "swap": 0})
    s = t.summary
    assert s["closed"], s["closure"]
    # The known defect (MAX_UNFLAGGED_WRONG above, README Limitations): about one
    # call in 38,000 carries a fold unflagged; a run of this size may meet one.
    wrong = [(step, rec) for step, rec in match_calls(t)
             if rec["rss_exact"] and rec["rss_delta"]["anon"] != expected_anon(step)]
    assert len(wrong) <= 1, wrong


def test_no_stacks_reaches_the_kernel():
    """--no-stacks turns stack capture off in the kernel, not just in the output."""
    t = run_traced([workload("memops"), "dontneed", "8"], extra=["--no-stacks"])
    assert t.returncode == 0, t.stderr
    assert t.summary["stacks_captured"] == 0
    assert "caller" not in t.one("madvise")
    t = run_traced([workload("memops"), "dontneed", "8"])
    assert t.summary["stacks_captured"] > 0


def test_go_background_and_forced_scavenging_at_once():
    """debug.FreeOSMemory right after a GC, while the background scavenger is
    at work on another thread: no call may claim more than its own length,
    and the scavenger's bytes match the runtime's own accounts."""
    import os
    import re
    import subprocess

    from conftest import PAGELEDGER

    out = BUILD / "e2e-go-concurrent.jsonl"
    env = dict(os.environ, GODEBUG="madvdontneed=1,scavtrace=1")
    p = subprocess.run([str(PAGELEDGER), "-j", "-o", str(out), "--",
                        str(BUILD / "go" / "scavenge"), "-mb", "256", "-concurrent"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    records = parse_jsonl(out.read_text())
    out.unlink()
    steps = {r["step"]: r for r in parse_jsonl(p.stdout)}
    calls = [r for r in records if r["type"] in ("madvise", "munmap", "mmap")]
    for r in calls:
        assert abs(r["rss_delta"]["anon"]) <= r["len"] + 4095 or not r["rss_exact"], r
    releases = [r for r in records if r["type"] == "madvise"
                and r.get("advice") == "MADV_DONTNEED"]
    by_class = {}
    for r in releases:
        cls = r["caller"]["class"]
        by_class[cls] = by_class.get(cls, 0) + r["len"]
    scavenged = sum(v for k, v in by_class.items() if k.startswith("go-scavenger"))
    # Seen once in CI: no "background" line. Its output, to tell why next time.
    assert "background" in steps and "gc" in steps, (p.stdout, p.stderr[-4000:])
    released = steps["background"]["heap_released"] - steps["gc"]["heap_released"]
    assert released > 200 * 1024 * 1024, steps
    assert abs(scavenged - released) <= 0.03 * released, (by_class, released)
    forced = sum(int(w) * 1024 for w in
                 re.findall(r"scav (\d+) KiB work,[^\n]*\(forced\)", p.stderr))
    assert forced > 0, p.stderr
    assert abs(by_class.get("go-scavenger-forced", 0) - forced) <= 0.02 * forced, \
        (by_class, forced)
    # DONTNEED: the pages leave RSS inside the calls that released them.
    rss = -sum(r["rss_delta"]["anon"] for r in releases if r["rss_exact"])
    assert rss >= 0.9 * scavenged, (rss, scavenged)


def test_tracer_maxrss_is_reported():
    """The summary says what tracing cost us in memory: present and plausible
    (more than the binary alone, far less than the target's 3 x 2 MiB windows
    could make it if they were copied)."""
    t = run_traced([workload("racers"), "2", "30"])
    assert t.returncode == 0, t.stderr
    maxrss = t.summary["tracer"]["maxrss"]
    ceiling = 1024 * MiB if SANITIZED else 64 * MiB  # ASan's shadow is not ours
    assert MiB < maxrss < ceiling, maxrss
