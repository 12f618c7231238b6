"""--until-rss-below/--until-rss-above SIZE (issue 5): stop once the
target's resident RSS gets there (exit 0, with the summary), exit 3 when the
run ends any other way first, exit 2 on a bad SIZE."""
import re
import signal
import subprocess
import time

import pytest

from conftest import MiB, PAGELEDGER, TIMEOUT, parse_jsonl, run_traced, wait_for_line, workload

REACHED = re.compile(r"pageledger: resident RSS \S+ \((\d+) bytes\) reached --until-rss-(\w+)")


def reached(stderr):
    m = REACHED.search(stderr)
    assert m, stderr
    return int(m.group(1)), m.group(2)


class Holding:
    """memops holding `mib` touched MiB, then traced with -p: RSS is already there."""

    def __init__(self, mib, extra):
        self.target = subprocess.Popen([workload("memops"), "--wait", "hold", str(mib)],
                                       stdout=subprocess.PIPE, text=True)
        wait_for_line(self.target.stdout, "ready")
        self.target.send_signal(signal.SIGUSR1)
        wait_for_line(self.target.stdout, "holding")
        start = time.monotonic()
        self.tracer = subprocess.run([str(PAGELEDGER), "-j", *extra, "-p", str(self.target.pid)],
                                     capture_output=True, text=True, timeout=TIMEOUT)
        self.elapsed = time.monotonic() - start
        self.alive = self.target.poll() is None
        self.target.send_signal(signal.SIGUSR2)
        self.target.wait(timeout=TIMEOUT)
        self.records = parse_jsonl(self.tracer.stdout)


def test_above_reached_while_the_target_grows():
    # From a fresh exec to 64 MiB touched: the stop comes on the way up.
    t = run_traced([workload("memops"), "hold", "64"],
                   extra=["--until-rss-above", "32M", "-d", "20"])
    assert t.returncode == 0, t.stderr
    resident, which = reached(t.stderr)
    assert which == "above" and resident > 32 * MiB
    # The summary is printed, and the run stopped long before -d.
    s = t.summary
    assert s["duration_ns"] < 15 * 10**9
    assert s["rss"]["peak_resident"] >= resident


def test_below_reached_stops_and_leaves_the_target_running():
    h = Holding(24, ["--until-rss-below", "64M", "-d", "20"])
    assert h.tracer.returncode == 0, h.tracer.stderr
    resident, which = reached(h.tracer.stderr)
    assert which == "below" and 24 * MiB <= resident < 64 * MiB
    assert h.alive and h.elapsed < 10
    assert h.records[-1]["type"] == "summary"


def test_below_on_a_started_command_waits_for_it_to_fall_back():
    # A started command begins below any SIZE: "below" counts only after RSS
    # has been above it. churn touches 32 MiB, drops it with MADV_DONTNEED,
    # and 300 ms later touches it again: the stop comes in that gap.
    t = run_traced([workload("memops"), "churn", "32"],
                   extra=["--until-rss-below", "16M", "-d", "20"])
    assert t.returncode == 0, t.stderr
    resident, which = reached(t.stderr)
    assert which == "below" and resident < 16 * MiB
    s = t.summary
    assert s["rss"]["peak_resident"] >= 32 * MiB  # it was above first
    dontneed = t.of("madvise", advice="MADV_DONTNEED")
    assert len(dontneed) == 1 and dontneed[0]["rss_delta"]["anon"] == -32 * MiB
    assert s["duration_ns"] < 15 * 10**9


def test_not_reached_before_the_duration_exits_3():
    h = Holding(24, ["--until-rss-below", "8M", "-d", "1"])
    assert h.tracer.returncode == 3, h.tracer.stderr
    assert not REACHED.search(h.tracer.stderr)
    # Still a full run: the summary is there, and RSS never went under 8M.
    s = h.records[-1]
    assert s["type"] == "summary" and s["rss"]["end"]["anon"] >= 24 * MiB


def test_not_reached_before_the_target_exits_3():
    t = run_traced([workload("memops"), "touch", "16"], extra=["--until-rss-above", "1G"])
    assert t.returncode == 3, t.stderr
    assert not REACHED.search(t.stderr)
    assert t.summary["exited"] is True and t.summary["rss"]["peak"]["anon"] >= 16 * MiB


@pytest.mark.parametrize("args", [
    ["--until-rss-above", "12X"],
    ["--until-rss-below", "-5"],
    ["--until-rss-below", ""],
    ["--until-rss-above", "1T"],
    ["--until-rss-above", "99999999999999999999"],
])
def test_bad_size_is_a_usage_error(args):
    p = subprocess.run([str(PAGELEDGER), *args, "--", "true"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 2
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "invalid RSS size" in lines[0], lines
    assert p.stdout == ""


def test_help_documents_exit_status_3():
    p = subprocess.run([str(PAGELEDGER), "--help"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0
    assert "--until-rss-below" in p.stdout and "--until-rss-above" in p.stdout
    assert re.search(r"^\s+3\s+--until-rss", p.stdout, re.M), p.stdout


def test_a_short_peak_between_polls_counts():
    """96 MiB mapped, touched and unmapped within a few ms, then exit: no
    100 ms poll sees the peak, but the kernel side decides on every reading."""
    t = run_traced([workload("memops"), "touch", "96"], extra=["--until-rss-above", "50M"])
    assert t.returncode == 0, t.stderr
    resident, which = reached(t.stderr)
    assert which == "above" and resident > 50 * MiB
    # The stop may come before the program's own peak: at the first reading above.
    assert t.summary["rss"]["peak_resident"] > 50 * MiB


def test_teardown_at_exit_never_meets_below():
    """Exit empties RSS: that is not the program getting below SIZE. (The
    program itself never goes under its libraries' ~1 MiB once it has run.)"""
    t = run_traced([workload("memops"), "touch", "32"], extra=["--until-rss-below", "256K"])
    assert t.returncode == 3, t.stderr
    assert not REACHED.search(t.stderr)
