"""When the symbolizer learns a process's mappings (issue 14, points 3 and
7): a new code mapping is learned alone, from its range, not by re-reading
every line of /proc/PID/maps; and a started command's maps are read at its
exec, so a short-lived one's stacks are named."""
import json
import signal
import subprocess
import time

import pytest

from conftest import BUILD, PAGELEDGER, TIMEOUT, run_traced, wait_for_line, workload

MAPPINGS = 30000
EXEC_MMAPS = 3000
DURATION = 5
# Loose, on purpose: the machine is shared. Re-reading 30,000 lines at each of
# the 3,000 mmaps took 55 s past -d 5; learning each mapping alone takes well
# under a second.
SLACK = 15


@pytest.mark.parametrize("threads", [1, 2])
def test_exec_mmaps_in_a_long_maps_table_end_on_time(threads, tmp_path):
    """30,000 mappings and 3,000 PROT_EXEC file mmaps: -d ends on time, as
    the tracer's own exit shows, and every mmap is seen and named."""
    target = subprocess.Popen([workload("mapbomb"), "execmaps", str(MAPPINGS), str(EXEC_MMAPS),
                               str(threads)], stdout=subprocess.PIPE, text=True)
    out = tmp_path / "trace.jsonl"
    try:
        wait_for_line(target.stdout, "ready")
        tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-o", str(out), "-d", str(DURATION),
                                   "-p", str(target.pid)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_line(tracer.stderr, "tracing pid", timeout=TIMEOUT)
        tracing = time.monotonic()
        target.send_signal(signal.SIGUSR1)
        wait_for_line(target.stdout, "done")
        _, err = tracer.communicate(timeout=TIMEOUT + DURATION)
        ended = time.monotonic()
    finally:
        target.send_signal(signal.SIGTERM)
        target.wait(timeout=TIMEOUT)
    assert tracer.returncode == 0, err
    assert ended - tracing <= DURATION + SLACK, f"-d {DURATION} took {ended - tracing:.1f} s"
    records = [json.loads(line) for line in out.read_text().splitlines()]
    code = [r for r in records if r["type"] == "mmap" and "x" in r["prot"] and r["fd"] >= 0]
    assert len(code) == EXEC_MMAPS
    assert records[-1]["lost_events"] == 0
    sites = {r["caller"]["site"] for r in code}
    assert sites == {"exec_calls_thread"}, sites


@pytest.mark.parametrize("goroutines", [1, 2])
def test_short_lived_static_target_is_named(goroutines):
    """A static Go binary that lives tens of milliseconds makes no code
    mmap of its own: its maps are read at its exec, so its calls are named
    (before, they were all unknown: the maps were read once the process had
    gone)."""
    t = run_traced([str(BUILD / "go" / "callers"), "-heap", "32", "-mmap", "2", "-g",
                    str(goroutines)])
    assert t.returncode == 0, t.stderr
    lived = t.one("exit")["ts_ns"] - t.one("exec")["ts_ns"]
    calls = [r for r in t.records if r["type"] in ("mmap", "munmap", "madvise")]
    unknown = [r for r in calls if not r["caller"]["frames"][0]["module"]]
    assert not unknown, (lived, unknown[:3])
    mine = [r for r in calls if "main.mapRegion" in [f["func"] for f in r["caller"]["frames"]]]
    assert len(mine) == 3 * 2 * goroutines, (lived, len(mine))
