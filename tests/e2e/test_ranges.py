"""The per-range ledger (issue 4, part 1): faults aggregated per range in the
kernel, releases, refaults and their delay, lazily freed pages per range,
and a layout that follows partial munmaps and mremap moves without counting
anything twice. Held workloads give quiescent points, where each range's
ledger figures meet the kernel's own (smaps) to the byte."""
import json
import signal

from conftest import TIMEOUT, MiB, Attached, parse_jsonl, wait_for_line, workload

PAGE = 4096


def held(scenario, mib, step, extra=("-d", "3")):
    """Attaches to memops SCENARIO, waits for its STEP line, lets the tracer
    end on its own (-d) while the workload still holds, then releases it."""
    a = Attached([workload("memops"), "--wait", scenario, str(mib)], extra=list(extra))
    a.go()
    steps = [json.loads(wait_for_line(a.target.stdout, step))]
    out, err = a.tracer.communicate(timeout=TIMEOUT)
    a.target.send_signal(signal.SIGUSR2)
    a.target.wait(timeout=TIMEOUT)
    assert a.tracer.returncode == 0, err
    return parse_jsonl(out), steps


def end_ranges(records):
    found = [r for r in records if r["type"] == "ranges" and r["when"] == "end"]
    assert len(found) == 1, [r["type"] for r in records]
    return found[0]


def row_at(ranges, addr):
    rows = [r for r in ranges["ranges"] if r["start"] <= addr < r["end"]]
    assert len(rows) == 1, (hex(addr), [(hex(r["start"]), hex(r["end"])) for r in ranges["ranges"]])
    return rows[0]


def test_churn_refaults_and_their_delay():
    records, steps = held("churn", 32, "refaulted")
    addr, length, delay_ms = steps[0]["addr"], steps[0]["len"], steps[0]["delay_ms"]
    row = row_at(end_ranges(records), addr)
    # Every page was released, then faulted back: exact, page by page.
    assert row["refaulted"] == length
    assert row["refaults"] == length // PAGE
    assert row["released"] == length
    assert row["advised"] == {"MADV_DONTNEED": length}
    # Touched twice: 2 x 32 MiB faulted in (the mapping is 2 MiB longer, untouched).
    assert row["faulted"] == 2 * length
    # The workload slept delay_ms between the release and the first touch.
    assert row["refault_delay_min_ns"] >= delay_ms * 1_000_000
    assert row["refault_delay_min_ns"] < (delay_ms + 250) * 1_000_000
    assert row["refault_delay_min_ns"] <= row["refault_delay_mean_ns"] <= row["refault_delay_max_ns"]
    assert row["refault_delay_max_ns"] < (delay_ms + 1000) * 1_000_000
    # At the quiescent end, the range's ledger meets smaps.
    assert row["kernel"]["rss"] == row["seeded"] + row["faulted"] - row["released"]
    d = records[-1]["diagnosis"]
    assert d["churn"]["refaulted"] == length and d["churn"]["refaults"] == length // PAGE
    assert d["churn"]["delay_min_ns"] == row["refault_delay_min_ns"]
    assert any("faulted straight back" in h for h in d["hints"])


def test_partial_munmap_and_mremap_move_keep_the_ledger_exact():
    records, steps = held("split", 32, "holding")
    quarter = 8 * MiB
    ev = {r["type"]: r for r in records if r["type"] in ("munmap", "mremap")}
    ranges = end_ranges(records)
    kept = row_at(ranges, steps[0]["addr"])
    moved = row_at(ranges, ev["mremap"]["ret"])
    rows = [kept] if kept is moved else [kept, moved]
    # The first quarter stayed, the last one moved with its history; the kernel
    # may merge them into one VMA with the reservation around the destination.
    assert sum(r["faulted"] for r in rows) == 2 * quarter
    assert sum(r["released"] for r in rows) == 0
    for r in rows:
        assert r["kernel"]["rss"] == r["seeded"] + r["faulted"] - r["released"], r
    # The middle half is history: faulted and released once, in the unmapped row.
    assert ranges["unmapped"]["faulted"] == 2 * quarter
    assert ranges["unmapped"]["released"] == 2 * quarter
    assert ev["munmap"]["rss_delta"]["anon"] == -2 * quarter
    # Nothing counted twice: every fault of the run is in exactly one row.
    assert ranges["mapped"]["faulted"] + ranges["unmapped"]["faulted"] == \
        sum(r["faulted"] for r in ranges["ranges"]) + ranges["unmapped"]["faulted"]
    assert ranges["mapped"]["faulted"] + ranges["unmapped"]["faulted"] >= 4 * quarter
    balance = [r for r in records if r["type"] == "balance"][-1]
    assert balance["exact"] is True, balance


def test_lazily_freed_pages_per_range_match_smaps():
    records, steps = held("free-hold", 16, "holding")
    row = row_at(end_ranges(records), steps[0]["addr"])
    assert row["advised"] == {"MADV_FREE": 16 * MiB}
    assert row["released"] == 0
    # Every freed page was resident at the call, and nothing reclaimed them.
    assert row["lazy_pending"] == 16 * MiB
    assert row["reclaimed"] == 0
    # The kernel's LazyFree lags by its per-CPU batches: one huge page allowed.
    assert 0 <= row["lazy_pending"] - row["kernel"]["lazy_free"] <= 2 * MiB
    assert row["kernel"]["rss"] == row["seeded"] + row["faulted"] - row["released"]


def test_ranges_are_seeded_from_smaps_at_attach():
    records, _ = held("hold", 8, "holding")
    attach = [r for r in records if r["type"] == "ranges" and r["when"] == "attach"]
    assert len(attach) == 1
    rows = attach[0]["ranges"]
    names = {r["name"] for r in rows}
    assert "memops" in names and "[stack]" in names and any(".so" in n for n in names)
    # Page-exact: what each range held at attach is what smaps said.
    for r in rows:
        assert r["seeded"] == r["kernel"]["rss"], r


def test_quiet_summary_carries_the_largest_ranges():
    # -q prints the summary alone: a script that asks "which range?" finds it there.
    records, steps = held("churn", 32, "refaulted", extra=("-q", "-d", "3"))
    assert "ranges" not in {r["type"] for r in records} and records[-1]["type"] == "summary"
    ranges = records[-1]["ranges"]
    row = row_at({"ranges": ranges["top"]}, steps[0]["addr"])
    assert row["refaulted"] == steps[0]["len"] and row["faulted"] == 2 * steps[0]["len"]
    assert ranges["mapped"]["refaulted"] + ranges["unmapped"]["refaulted"] == steps[0]["len"]
