"""The per-range ledger at scale (issue 14 point 3, issue 10 points 1-3): work
in proportion to the change, not to the history. Under churn (thousands of
small mappings at random addresses, replaced without end) the tracer ends
on time after -d and SIGINT, its memory stays flat and loss is counted; with
tens of thousands of mappings it attaches, and its per-range totals meet the
kernel's. The timings here are loose on purpose (the machine is shared);
the figures themselves belong to `make bench`."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (BUILD, PAGELEDGER, SANITIZED, TIMEOUT, MiB, parse_jsonl, wait_for_line,
                      workload)


def vm_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def mapping_count(pid):
    try:
        with open(f"/proc/{pid}/maps") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


class Churn:
    """pageledger -j -q -o FILE [extra] -- mapchurn THREADS 0, its RSS sampled."""

    def __init__(self, threads, extra=()):
        self.out = BUILD / f"churn-{os.getpid()}-{time.monotonic_ns()}.jsonl"
        self.t0 = time.monotonic()
        self.tracer = subprocess.Popen(
            [str(PAGELEDGER), "-j", "-q", "-o", str(self.out), *extra, "--",
             workload("mapchurn"), str(threads), "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = wait_for_line(self.tracer.stderr, "tracing")
        self.tracing = time.monotonic()  # -d counts from here
        self.target = int(re.search(r"pid (\d+)", line).group(1))
        self.rss = []

    def sample_until(self, done, timeout=TIMEOUT):
        """Samples the tracer's RSS every 0.2 s until done() or the tracer exits."""
        deadline = time.monotonic() + timeout
        while self.tracer.poll() is None and not done():
            assert time.monotonic() < deadline, "the condition never came"
            rss = vm_rss_mib(self.tracer.pid)
            if rss is not None:
                self.rss.append(rss)
            time.sleep(0.2)

    def finish(self):
        _, err = self.tracer.communicate(timeout=TIMEOUT)
        end = time.monotonic()
        records = parse_jsonl(self.out.read_text())
        self.out.unlink(missing_ok=True)
        return records[-1], err, end

    def churning(self):
        """The target holds a thousand mappings and the tracer has worked a second on them."""
        return mapping_count(self.target) > 1000 and cpu_seconds(self.tracer.pid) >= 1.0

    def kill(self):
        if self.tracer.poll() is None:
            self.tracer.kill()
            self.tracer.wait()
        self.out.unlink(missing_ok=True)


def assert_bounded(rss):
    """The issue saw 84 MB and rising: here the tracer's memory stays small
    (not under ASan, whose quarantine holds freed memory back by design)."""
    assert rss
    if not SANITIZED:
        assert max(rss) < 64, rss


def assert_counted(summary, err):
    for key in ("lost_events", "lost_ringbuf", "lost_untracked", "chunks_dropped"):
        assert isinstance(summary[key], int), key
    if summary["lost_events"]:
        assert "events lost" in err, err


@pytest.mark.parametrize("threads", [1, 4])
def test_duration_ends_on_time_under_churn(threads):
    c = Churn(threads, ["-d", "8"])
    try:
        c.sample_until(lambda: False)
        summary, err, end = c.finish()
    finally:
        c.kill()
    assert c.tracer.returncode == 0, err
    # -d 8 from the "tracing" line: loosely (a shared, loaded machine), well under
    # the minutes it once took; `make bench` has the figure.
    assert end - c.tracing < 8 + 8, end - c.tracing
    assert summary["type"] == "summary" and summary["events"] > 1000
    assert summary["ranges"]["unmapped"]["faulted"] > 0  # dropped chunks' history is kept
    assert_bounded(c.rss)
    assert_counted(summary, err)


@pytest.mark.parametrize("threads", [1, 4])
def test_memory_flat_and_sigint_at_once_under_churn(threads):
    c = Churn(threads)
    try:
        # Warmed up (chunks come and go a walk later), then two more seconds of
        # the tracer's own work: the second stretch needs no more memory.
        c.sample_until(lambda: c.churning() and cpu_seconds(c.tracer.pid) >= 2.0)
        warm = list(c.rss)
        c.rss = []
        c.sample_until(lambda: cpu_seconds(c.tracer.pid) >= 4.0)
        assert c.rss
        if not SANITIZED:  # ASan's quarantine grows with every free, by design
            assert max(c.rss) <= max(warm) + 4, (warm, c.rss)
        sent = time.monotonic()
        c.tracer.send_signal(signal.SIGINT)
        summary, err, end = c.finish()
    finally:
        c.kill()
    assert c.tracer.returncode == 0, err
    assert end - sent < 3, end - sent  # the issue saw 84 s
    assert summary["type"] == "summary" and summary["events"] > 1000
    assert_counted(summary, err)


def traced_many_mappings(n):
    """manymaps holding n mappings over 256 MiB, traced for a second by PID:
    its stdout records and its ready line."""
    target = subprocess.Popen([workload("manymaps"), str(n), "256"], stdout=subprocess.PIPE,
                              text=True)
    try:
        ready = json.loads(wait_for_line(target.stdout, "ready"))
        p = subprocess.run([str(PAGELEDGER), "-j", "-d", "1", "-p", str(ready["ready"])],
                           capture_output=True, text=True, timeout=TIMEOUT)
    finally:
        target.send_signal(signal.SIGTERM)
        target.wait(timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    records = parse_jsonl(p.stdout)
    ranges = {r["when"]: r for r in records if r["type"] == "ranges"}
    assert set(ranges) == {"attach", "end"}, ranges.keys()
    return ranges, ready


def test_many_mappings_attach_and_totals_meet_the_kernel():
    # 8,000 mappings: twice the rows a record holds, and an end smaps read
    # well inside its 150 ms bound (about 20,000 mappings here).
    n = 8000
    ranges, ready = traced_many_mappings(n)
    attach, end = ranges["attach"], ranges["end"]
    # Rows are capped, the totals are not: every mapping is seeded, page-exact.
    assert len(attach["ranges"]) == 4096
    mapped = attach["mapped"]
    assert mapped["seeded"] >= ready["resident"]
    # The target holds still: both readings settle, and meet smaps to the byte.
    assert attach["settled"]
    assert mapped["seeded"] == mapped["kernel"]["rss"]
    assert end["settled"]
    m = end["mapped"]
    if m["kernel"]["rss"] is None:
        assert SANITIZED, "the end's smaps read of 8,000 mappings was cut"
    else:
        assert m["seeded"] + m["faulted"] - m["released"] == m["kernel"]["rss"]
    assert mapped["mapped"] >= n * (256 * MiB // n // 4096 * 4096)


def test_cut_end_smaps_read_gives_no_partial_total():
    """50,000 mappings: smaps takes longer to read than the end allows, so
    some mappings have no kernel figures, and the total of the mappings has
    none either, rather than the sum of those reached (which, shown as
    smaps' total, would be wrong by everything past the cut)."""
    ranges, _ = traced_many_mappings(50000)
    attach, end = ranges["attach"], ranges["end"]
    assert attach["mapped"]["kernel"]["rss"] == attach["mapped"]["seeded"]
    assert end["mapped"]["kernel"] == {"rss": None, "lazy_free": None, "anon_huge": None}
    # Those read keep their own.
    assert any(r["kernel"]["rss"] is not None for r in end["ranges"])
