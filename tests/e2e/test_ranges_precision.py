"""The per-range ledger at mapping precision (issue 9, point 6): mappings that
share a 2 MiB chunk keep their own faults, and at every settled reading each
range's resident figure (seeded + faulted - released) is its smaps Rss, to
the byte, for anonymous and file-backed mappings alike (the shared
libraries' segments), after partial munmaps and mremap moves, with one
thread or several at once."""
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import BUILD, PAGELEDGER, TIMEOUT, parse_jsonl, wait_for_line, workload

KIB = 1024
SMALL, MOVED = 52 * KIB, 16 * KIB


class FifoRecords:
    """The tracer's records as they come, through a FIFO given to -o (a FIFO
    is written in place; a regular -o FILE appears only when the run ends)."""

    def __init__(self, path):
        self.path, self.lines, self.lock = path, [], threading.Lock()
        os.mkfifo(path)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        with open(self.path) as f:  # blocks until the tracer opens it
            for line in f:
                with self.lock:
                    self.lines.append(line)

    def records(self):
        with self.lock:
            whole = [line for line in self.lines if line.endswith("\n")]
        return parse_jsonl("".join(whole))

    def close(self):
        self.thread.join(timeout=TIMEOUT)
        return self.records()


def settled_ranges(records, after_ns=0):
    return [r for r in records
            if r["type"] == "ranges" and r["settled"] and r["ts_ns"] > after_ns]


def run_neighbours(threads, attach, name="neighbours", rounds=3):
    """Traces NAME THREADS ROUNDS with -i 1 until two settled readings of its
    laid-out, quiet state, then lets it go. Returns (records, laid lines)."""
    out = BUILD / f"precision-{os.getpid()}-{time.monotonic_ns()}.jsonl"
    cmd = [workload(name)] + (["--wait"] if attach else []) + [str(threads), str(rounds)]
    target = tracer = None
    stream = FifoRecords(out)
    try:
        if attach:
            target = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            pid = json.loads(wait_for_line(target.stdout, "ready"))["ready"]
            tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-o", str(out), "-i", "1", "-p",
                                       str(pid)], stderr=subprocess.PIPE, text=True)
            wait_for_line(tracer.stderr, "tracing pid")
            target.send_signal(signal.SIGUSR1)
            lines = target.stdout
        else:
            tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-o", str(out), "-i", "1", "--",
                                       *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
            lines = tracer.stdout
        laid = []
        while True:
            line = wait_for_line(lines, '"op"' if len(laid) < threads else '"done"')
            if '"done"' in line:
                break
            laid.append(json.loads(line))
        done_ns = time.monotonic_ns()
        deadline = time.monotonic() + TIMEOUT
        while len(settled_ranges(stream.records(), done_ns)) < 2:
            assert time.monotonic() < deadline, "no two settled readings of the quiet target"
            time.sleep(0.05)
        pid = stream.records()[0]["pid"]
        os.kill(pid, signal.SIGUSR2)
        _, err = tracer.communicate(timeout=TIMEOUT)
        assert tracer.returncode == 0, err
        return stream.close(), laid, done_ns
    finally:
        for p in (tracer, target):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        out.unlink(missing_ok=True)


def resident(row):
    return row["seeded"] + row["faulted"] - row["released"]


# Two CPUs folding the target's per-CPU RSS counter at the same instant: one
# claim takes both folds (rss.bpf.c). The update that lost is counted
# (rss_inexact_updates), and from then on ranges readings say "exact": false,
# since the taker's row holds the other fold and the loser's row lacks its own
# update. A fold is less than one batch (max(32, 2 x CPUs) pages) plus one
# update, and an update is at most one call's whole change: fault-around's 16
# pages, or a release's zap (an ASan run lost a 191-page one, more than a
# batch and fault-around allow). So each such update may leave two rows off
# by that much; readings that say "exact" are held to the byte.
BATCH_BYTES = max(32, 2 * (os.cpu_count() or 1)) * 4096
FAULT_AROUND_BYTES = 16 * 4096


def largest_update(records):
    """The most one counter update of the run can move: its largest call."""
    calls = [abs(sum(r["rss_delta"][m] for m in ("anon", "file", "shmem")))
             for r in records if "rss_delta" in r and "len" in r]
    return max([FAULT_AROUND_BYTES, *calls])


def inexact_updates(reading, records):
    """Counter updates another CPU's claim may have robbed, if the reading says so."""
    if reading["exact"]:
        return 0
    return [r for r in records if r["type"] == "summary"][0]["rss_inexact_updates"]


def inexact_slack(reading, records):
    """Bytes a reading may be off by because of folds lost to another CPU."""
    if reading["exact"]:
        return 0
    lost = inexact_updates(reading, records)
    assert lost >= 1, "a reading said inexact with no inexact update counted"
    return 2 * (BATCH_BYTES + largest_update(records)) * lost


def kept(records):
    """Writes a failing run's records to build/, for the failure message: rare
    failures are read from the records, not rerun."""
    path = BUILD / f"failed-precision-{os.getpid()}-{time.monotonic_ns()}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def row_at(ranges, addr):
    rows = [r for r in ranges["ranges"] if r["start"] <= addr < r["end"]]
    assert len(rows) == 1, (hex(addr), [(hex(r["start"]), hex(r["end"])) for r in ranges["ranges"]])
    return rows[0]


# Attached to four threads at once, a race (about one run in four on a loaded
# machine) still leaves one page of a cut with its neighbour: see the README's
# Limitations. The test below allows that page; the sum of the pieces is exact.
@pytest.mark.parametrize("threads,attach", [(1, False), (4, False), (1, True)],
                         ids=["one-thread", "four-threads", "attach"])
def test_every_settled_reading_meets_smaps_per_mapping(threads, attach):
    records, laid, done_ns = run_neighbours(threads, attach)
    readings = settled_ranges(records)
    assert len(settled_ranges(records, done_ns)) >= 2
    checked = 0
    # A started program's loader runs while its records wait: one page of a reading may
    # be off there on a loaded machine (README, Limitations). Attached: to the byte.
    for reading in readings:
        slack = (0 if attach else 4 * KIB) + inexact_slack(reading, records)
        off = 0
        for row in reading["ranges"]:
            if row["kernel"]["rss"] is None:
                continue
            # Anonymous and file-backed (the libraries' segments) alike, to the byte.
            off += abs(resident(row) - row["kernel"]["rss"])
            assert off <= slack, (reading["when"], row, kept(records))
            # A fold robbed by another CPU ("exact": false) can leave a row one fold
            # short, even below zero; inexact_slack allows that much only then.
            assert -slack <= resident(row) <= row["mapped"] + slack, (row, kept(records))
            checked += 1
    assert checked >= 10 * threads


@pytest.mark.parametrize("threads", [1, 4])
def test_a_small_mapping_beside_a_busy_one_gets_none_of_its_faults(threads):
    # Attached before the threads start: every fault and refault is counted as such.
    records, laid, done_ns = run_neighbours(threads, True)
    last = settled_ranges(records, done_ns)[-1]
    lost = inexact_slack(last, records)
    for l in laid:
        small = row_at(last, l["small"])
        # Touched once, 52 KiB, and the last 16 KiB moved away with their faults.
        assert abs(small["faulted"] - (SMALL - MOVED)) <= lost, small
        assert small["released"] == 0 and small["kernel"]["rss"] == SMALL - MOVED
        moved = row_at(last, l["moved"])
        assert abs(moved["faulted"] - MOVED) <= lost and moved["kernel"]["rss"] == MOVED, moved
        # The busy neighbour, cut in two inside the chunk: each piece holds its own.
        # The head lies in the half given back last; the tail stayed resident.
        head, tail = row_at(last, l["busy"]), row_at(last, l["busy"] + 768 * KIB)
        assert head["kernel"]["rss"] == 0 and tail["kernel"]["rss"] == 768 * KIB, (head, tail)
        assert abs(resident(head) + resident(tail) - 768 * KIB) <= lost, (head, tail)
        # Four threads cutting while others fault: one page of the cut may sit with its
        # neighbour (README, Limitations), seen about once in four runs on a loaded machine.
        slack = (4 * KIB if threads > 1 else 0) + lost
        assert abs(resident(head)) <= slack, head
        assert abs(resident(tail) - 768 * KIB) <= slack, tail
        # Rounds 2 and 3 fault the released half (768 KiB) back: 2 x 192 refaults,
        # kept by the head, whose segment held them; none landed beside it, but
        # for the page of the cut that may sit with its neighbour (once a round).
        # A fold another CPU took leaves the loser's fault update at 0 bytes, so that
        # fault marks no page: one refault short per inexact update (a loaded run
        # showed 383 with "exact": false), never more, and never one extra.
        short = inexact_updates(last, records)
        assert 2 * 192 - short <= head["refaults"] + tail["refaults"] <= 2 * 192, (head, tail)
        assert tail["refaults"] <= (2 if threads > 1 else 0), (head, tail)
        assert small["refaults"] == 0 and moved["refaults"] == 0


SLOT, KEPT = 16 * 4096, 8 * 4096


# A mapping made again at the address of one just unmapped shares its segment
# with it; the program runs ahead of its records, so the new faults are read
# before the munmap's record comes. Before the fix, nearly every slot's row
# lacked them (they went with the unmapped history), and the guard page after
# each slot took the old mapping's 16 pages as well.
@pytest.mark.parametrize("threads,attach", [(1, False), (4, False), (4, True)],
                         ids=["one-thread", "four-threads", "attach"])
def test_a_mapping_made_where_one_was_unmapped_keeps_its_own_faults(threads, attach):
    records, laid, done_ns = run_neighbours(threads, attach, "reuse", 64)
    last = settled_ranges(records, done_ns)[-1]
    lost = inexact_slack(last, records)
    off = misfiled = 0
    for l in laid:
        for i in range(l["n"]):
            row = row_at(last, l["first"] + i * l["stride"])
            assert row["mapped"] == SLOT and row["kernel"]["rss"] == KEPT, row
            if row["faulted"] == KEPT + SLOT and row["released"] == SLOT:
                misfiled += 1  # the old mapping's whole history, resident still right
            else:
                off += abs(row["faulted"] - KEPT)
    assert off <= lost, (off, kept(records))
    # Four threads: one slot of 256 kept its old mapping's history (16 pages
    # faulted and released) in about one run in eight (README, Limitations).
    assert misfiled <= (1 if threads > 1 else 0), (misfiled, kept(records))
    # Every row, the guard pages' and the loader's included, meets smaps.
    seam = 0 if attach else 4 * KIB
    for row in last["ranges"]:
        if row["kernel"]["rss"] is not None:
            off += abs(resident(row) - row["kernel"]["rss"])
    assert off <= lost + seam, (off, kept(records))
    # What went with the old mappings, 16 pages a slot, was released by their
    # munmaps: all of it is counted, and what is filed as unmapped is not
    # resident (a misfiled history, above, is counted on its row).
    gone = last["unmapped"]
    released = gone["released"] + sum(r["released"] for r in last["ranges"])
    assert released >= threads * 64 * SLOT, (gone, kept(records))
    assert abs(gone["faulted"] - gone["released"]) <= lost + seam, (gone, kept(records))


def test_shared_library_segments_are_ranges_of_their_own():
    records, _, done_ns = run_neighbours(1, False)
    last = settled_ranges(records, done_ns)[-1]
    assert last["exact"], "one thread cannot fold on two CPUs at once"
    libc = [r for r in last["ranges"] if r["name"].startswith("libc.so")]
    # Several segments of one file, in one or two chunks: each its own figure.
    assert len(libc) >= 2, [r["name"] for r in last["ranges"]]
    for row in libc:
        assert resident(row) == row["kernel"]["rss"], (row, kept(records))
        assert row["faulted"] <= row["mapped"], (row, kept(records))
