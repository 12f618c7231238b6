"""Huge-page refills (issue 4, part): a process that left 4 KiB holes in
2 MiB ranges gets them filled back, by MADV_COLLAPSE in its own call or by
khugepaged from its kthread, with no fault by the process."""
import signal
import time
from pathlib import Path

from conftest import TIMEOUT, Attached, Lines, MiB, parse_jsonl, read_past, wait_for_line, workload

KHUGEPAGED = Path("/sys/kernel/mm/transparent_hugepage/khugepaged")
PAGE = 4096
FILLED_PER_HUGE_PAGE = 511 * PAGE  # one page was touched, 511 holes are filled


def anon_huge(pid):
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1]) * 1024
    return 0


def holding_row(records):
    """The range holding the workload's huge-page holes, at the end."""
    end = [r for r in records if r["type"] == "ranges" and r["when"] == "end"][0]
    rows = [r for r in end["ranges"] if r["collapsed"]["madvise"] or r["collapsed"]["khugepaged"]]
    assert len(rows) == 1, rows
    return rows[0]


def run_holes(scenario, mib, wait_for=None):
    a = Attached([workload("memops"), "--wait", scenario, str(mib)], extra=["-i", "0.1"])
    lines = Lines(a.tracer.stdout)
    a.go()
    wait_for_line(a.target.stdout, "holding")
    if wait_for:
        wait_for(a.target.pid)
    read_past(lines, time.monotonic_ns())  # the change filed as it came
    huge_before = anon_huge(a.target.pid)
    a.tracer.send_signal(signal.SIGINT)
    out, err = lines.finish(a.tracer)
    huge_after = anon_huge(a.target.pid)
    a.target.send_signal(signal.SIGUSR2)
    a.target.wait(timeout=TIMEOUT)
    assert a.tracer.returncode == 0, err
    # khugepaged may still collapse a range while the tracer stops: bracket it.
    return parse_jsonl(out), (huge_before, huge_after)


def test_madv_collapse_fills_the_holes_inside_the_call():
    records, (huge, _) = run_holes("holes-collapse", 8)
    assert huge == 8 * MiB
    ev = [r for r in records if r["type"] == "madvise" and r.get("advice") == "MADV_COLLAPSE"]
    assert len(ev) == 1
    # The call's figure is its own task's updates only: the holes it filled,
    # 511 pages per huge page. khugepaged may have beaten it to some of the
    # four (filed under its own cause): between them, every hole, exactly.
    call = ev[0]["rss_delta"]["anon"]
    khugepaged = sum(r["rss_delta"]["anon"] for r in records
                     if r["type"] == "rss_change" and r["cause"] == "khugepaged-collapse")
    assert call > 0 and call % FILLED_PER_HUGE_PAGE == 0, call
    assert call + khugepaged == 4 * FILLED_PER_HUGE_PAGE, (call, khugepaged)
    # Per range: the call's own growth, on the range it named.
    row = holding_row(records)
    assert row["collapsed"]["madvise"] == call
    d = records[-1]["diagnosis"]
    assert d["thp_filled"] == 4 * FILLED_PER_HUGE_PAGE
    assert d["anon_huge"] == 8 * MiB
    assert any("max_ptes_none" in h for h in d["hints"])


def test_khugepaged_collapse_is_attributed():
    saved = {k: (KHUGEPAGED / k).read_text() for k in
             ("scan_sleep_millisecs", "alloc_sleep_millisecs")}
    try:
        (KHUGEPAGED / "scan_sleep_millisecs").write_text("10\n")
        (KHUGEPAGED / "alloc_sleep_millisecs").write_text("10\n")

        def until_collapsed(pid):
            deadline = time.monotonic() + 30
            while anon_huge(pid) < 8 * MiB and time.monotonic() < deadline:
                time.sleep(0.1)

        records, (huge, huge_after) = run_holes("holes", 8, wait_for=until_collapsed)
    finally:
        for k, v in saved.items():
            (KHUGEPAGED / k).write_text(v)
    assert huge >= 2 * MiB, "khugepaged collapsed nothing in 30 s"
    grown = sum(r["rss_delta"]["anon"] for r in records
                if r["type"] == "rss_change" and r["cause"] == "khugepaged-collapse")
    # Every collapsed range: its 511 holes, filled from the khugepaged kthread.
    # Per range: khugepaged's growth lands on the range whose chunks turned huge.
    assert holding_row(records)["collapsed"]["khugepaged"] == grown
    ranges = grown // FILLED_PER_HUGE_PAGE
    assert grown == ranges * FILLED_PER_HUGE_PAGE, grown
    assert huge // (2 * MiB) <= ranges <= huge_after // (2 * MiB), (grown, huge, huge_after)
