"""The live view (--top, and the default on a terminal), in a real 80x24
terminal: tmux runs pageledger on the steady workload, the test reads the
screen, checks its figures against what the workload does, presses q and
reads the summary that follows. Then the user's own case: the Go scavenge
workload in both GODEBUG madvdontneed modes, in a wider terminal."""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import BUILD, MiB, PAGELEDGER, workload

COLS, ROWS = 80, 24
HELD_MIB = 64
UNITS = {"B": 1, "K": 1024, "M": MiB, "G": 1024 * MiB}
COUNT_UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}


def size(text):
    m = re.fullmatch(r"(-?[\d.]+)([BKMG])", text)
    assert m, f"not a size: {text!r}"
    return float(m.group(1)) * UNITS[m.group(2)]


def count(text):
    m = re.fullmatch(r"([\d.]+)([KMG]?)", text)
    assert m, f"not a count: {text!r}"
    return float(m.group(1)) * COUNT_UNITS[m.group(2)]


class Terminal:
    """A tmux server of our own with one pane (80x24 unless asked) that stays after its command."""

    def __init__(self, cols=COLS, rows=ROWS):
        self.sock = f"pltop-{os.getpid()}-{time.monotonic_ns()}"
        self.cols, self.rows = cols, rows
        self.tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), "-s", "top",
                  "sleep 600", ";", "set-option", "-g", "remain-on-exit", "on")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=True, timeout=20).stdout

    def run(self, cmd, lang="C.UTF-8", env=""):
        # The exit status as text: tmux 3.3 has no #{pane_dead_status}.
        self.tmux("respawn-pane", "-k", "-t", "top",
                  f"env LANG={lang} LC_ALL={lang} {env} {cmd}; echo pageledger-exit=$?; sleep 5")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "top").split("\n")[:-1]

    def history(self):
        return self.tmux("capture-pane", "-p", "-J", "-t", "top", "-S", "-")

    def show(self, fmt):
        return self.tmux("display-message", "-p", "-t", "top", fmt).strip()

    def wait_for(self, ready, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.screen()
            if ready(lines):
                return lines
            time.sleep(0.25)
        raise AssertionError("screen never got ready:\n" + "\n".join(self.screen()))

    def wait_exit(self, timeout=20):
        """pageledger's exit status; the shell after it still holds the terminal."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.findall(r"^pageledger-exit=(\d+)$", self.history(), re.M)
            if found:
                assert len(found) == 1, self.history()
                return int(found[0])
            time.sleep(0.2)
        raise AssertionError("pageledger did not exit:\n" + self.history())

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


@pytest.fixture
def term():
    t = Terminal()
    yield t
    t.close()


def row(lines, label):
    found = [ln for ln in lines if ln.startswith(label)]
    assert len(found) == 1, f"expected one row {label!r} in:\n" + "\n".join(lines)
    return found[0]


def rates_known(lines):
    """The steady workload's rows are up and a second of rates is in."""
    mine = [ln for ln in lines if ln.startswith("  the program itself")]
    return bool(mine) and "/s" in mine[0] and "glibc free" in "\n".join(lines)


def history_known(blocks):
    """Rates are in and the anon sparkline holds two full columns: a condition,
    not a sleep, so a slow attach or a loaded machine only makes it wait longer."""
    def ready(lines):
        anon = [ln for ln in lines if ln.startswith("anon ")]
        return rates_known(lines) and bool(anon) and anon[0].rstrip().endswith(blocks[-1] * 2)
    return ready


def assert_fits(lines, cols=COLS, rows=ROWS):
    assert len(lines) <= rows
    for ln in lines:
        assert len(ln) <= cols, f"{len(ln)} columns: {ln!r}"


def check_view(lines, blocks):
    assert_fits(lines)
    m = re.match(r"pageledger  pid \d+ \(steady\)  up (\d+)s ", lines[0])
    assert m, lines[0]
    assert lines[0].endswith("q: quit and summarize")
    # The sparklines' span is what they hold, never more than the run.
    shown = int(re.match(r"RSS +NOW +last (\d+)s$", lines[1]).group(1))
    assert 2 <= shown <= int(m.group(1)) + 1, lines[:2]

    # The held 64 MiB, plus at most one round's 6 MiB in flight and the binary's own.
    anon = row(lines, "anon ")
    assert HELD_MIB * MiB <= size(anon.split()[1]) <= (HELD_MIB + 7) * MiB, anon
    assert anon.rstrip().endswith(blocks[-1] * 2), anon  # full-height: it holds steady
    assert set(anon[18:]) <= set(blocks), anon
    assert size(row(lines, "file ").split()[1]) > 0
    assert row(lines, "shmem ").split()[1] == "0B"
    assert row(lines, "swap ").split()[1] == "0B"

    # 1024 + 512 pages touched ten times a second: about 15K faults/s.
    faults = count(row(lines, "faults/s ").split()[1])
    assert 5000 <= faults <= 25000, faults

    # The program's MADV_DONTNEED gives back 40 MiB/s, glibc's free 20 MiB/s.
    own = row(lines, "  the program itself").split()
    assert 20 * MiB <= size(own[-2].removesuffix("/s")) <= 60 * MiB, own
    assert size(own[-1]) >= 40 * MiB, own
    glibc = row(lines, "  glibc free").split()
    assert 8 * MiB <= size(glibc[-2].removesuffix("/s")) <= 32 * MiB, glibc
    everything = row(lines, "  all ").split()
    assert size(everything[-1]) >= size(own[-1]) + size(glibc[-1])

    # The diagnosis's parts: steady frees with MADV_DONTNEED and munmap only.
    parts = diagnosis(lines)
    assert parts["MADV_FREE'd"] == 0, parts
    assert HELD_MIB * MiB <= parts["in use"] <= (HELD_MIB + 7) * MiB, parts
    assert parts["resident"] == pytest.approx(sum(v for k, v in parts.items()
                                                  if k != "resident"), abs=0.3 * MiB)

    head = lines.index(row(lines, "TOP RANGES"))
    assert lines[head].split()[2:] == ["NAME", "RESIDENT", "MAPPED", "FAULTED", "RELEASD",
                                       "LAZY", "REFAULT"]
    # The largest range is the 64 MiB steady holds, all of it faulted in and resident.
    top = lines[head + 1].split()
    assert re.fullmatch(r"[0-9a-f]+", top[0]), top
    assert top[1:5] == ["[anon]", "64.0M", "64.0M", "64.0M"], top


def diagnosis(lines):
    """The live view's "resident X = in use A + MADV_FREE'd B + ..." line(s), in bytes."""
    at = lines.index(row(lines, "resident "))
    text = " ".join(ln.strip() for ln in lines[at:at + 3]
                    if ln.startswith(("resident ", "  + ")))
    return sum_parts(text, "resident")


def sum_parts(text, whole):
    """"WHOLE X = A a + B b ..." as {WHOLE: X, A: a, B: b, ...}, in bytes."""
    total, rest = re.fullmatch(rf"{whole} (\S+) = (.*)", text).groups()
    parts = {whole: size(total)}
    for part in rest.split(" + "):
        label, value = part.rsplit(" ", 1)
        parts[label] = size(value)
    return parts


def quit_and_read_summary(term):
    term.tmux("send-keys", "-t", "top", "q")
    status = term.wait_exit()
    out = term.history()
    assert status == 0, out
    # The summary fits the terminal it is printed on: nothing wrapped (-J joins wrapped lines).
    summary = out[out.index("Summary for pid"):]
    for ln in summary.splitlines():
        assert len(ln) <= term.cols, f"{len(ln)} columns: {ln!r}"
    assert term.show("#{alternate_on}") == "0"  # the terminal is back
    assert term.show("#{cursor_flag}") == "1"
    assert "Summary for pid" in out
    assert re.search(r"madvise MADV_DONTNEED +\d+", out), out
    assert "target exited on signal 15" in out  # q stops the command it started
    return out


def test_top_live_view_then_q(term):
    term.run(f"{PAGELEDGER} --top -- {workload('steady')} {HELD_MIB} 60")
    blocks = " ▁▂▃▄▅▆▇█"
    lines = term.wait_for(history_known(blocks), timeout=60)
    check_view(lines, blocks)
    quit_and_read_summary(term)


def test_top_is_the_default_on_a_terminal_ascii_locale(term):
    term.run(f"{PAGELEDGER} -- {workload('steady')} {HELD_MIB} 60", lang="C")
    blocks = " .:-=+*#@"
    lines = term.wait_for(history_known(blocks), timeout=60)
    check_view(lines, blocks)
    out = quit_and_read_summary(term)
    assert "TIME(s)" not in out  # the live view, not the event stream


def test_json_on_a_terminal_is_no_live_view(term):
    term.run(f"{PAGELEDGER} -j -d 2 -- {workload('steady')} {HELD_MIB} 60")
    assert term.wait_exit() == 0
    out = term.history()
    assert '{"type":"summary"' in out
    assert "q: quit and summarize" not in out


# ---- the user's case: Go, both madvise modes ----------------------------------------

GO_COLS, GO_ROWS = 120, 40
GO_MIB = 200
GOHEAP_MIB = 240


def go_rows(lines):
    """The Go background scavenger's row: advised and freed, a second and in all."""
    found = [ln for ln in lines if ln.startswith("  Go background scavenger")]
    if not found:
        return None
    adv_rate, advised, free_rate, freed = found[0].split()[-4:]
    return size(advised), size(freed)


def proc_kb(pid, path, field):
    for ln in open(f"/proc/{pid}/{path}"):
        if ln.startswith(field + ":"):
            return int(ln.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/{path}")


def pid_of(lines):
    return int(re.match(r"pageledger  pid (\d+) ", lines[0]).group(1))


def wait_settled(term, ready, timeout=120):
    """A screen that is ready, that the next two refreshes (new uptimes) repeat,
    with the kernel's LazyFree unchanged around them: the scavenger and
    FreeOSMemory are done and the program idles. Returns it and that LazyFree."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        lines = term.screen()
        if ready(lines):
            lazy = proc_kb(pid_of(lines), "smaps_rollup", "LazyFree")
            key = (go_rows(lines), diagnosis(lines)["MADV_FREE'd"], lazy)
            if not seen or seen[-1][1] != lines[0]:
                seen.append((key, lines[0]))
            if len(seen) >= 3 and seen[-1][0] == seen[-2][0] == seen[-3][0]:
                return lines, lazy
        else:
            seen = []
        time.sleep(0.5)
    raise AssertionError("the screen never settled:\n" + "\n".join(term.screen()))


@pytest.mark.parametrize("madvdontneed", [0, 1])
def test_top_go_scavenger_both_modes(madvdontneed):
    term = Terminal(GO_COLS, GO_ROWS)
    try:
        term.run(f"{PAGELEDGER} --top -- {BUILD / 'go' / 'scavenge'} -mb {GO_MIB} -hold 120s",
                 env=f"GODEBUG=madvdontneed={madvdontneed}")

        def scavenged(lines):
            got = go_rows(lines)
            return got is not None and got[0] >= 0.8 * GO_MIB * MiB

        lines, lazy_kernel = wait_settled(term, scavenged)
        assert_fits(lines, GO_COLS, GO_ROWS)
        advised, freed = go_rows(lines)
        parts = diagnosis(lines)
        if madvdontneed == 0:
            # MADV_FREE: named, nothing left RSS at the call, and it stays resident.
            assert freed <= 0.05 * advised, (advised, freed)
            assert parts["MADV_FREE'd"] >= 0.7 * GO_MIB * MiB, parts
            assert lazy_kernel >= 0.7 * GO_MIB * MiB, lazy_kernel
        else:
            # MADV_DONTNEED: what was named left RSS in the call.
            assert freed >= 0.9 * advised, (advised, freed)
            assert parts["MADV_FREE'd"] == 0 and lazy_kernel == 0, (parts, lazy_kernel)
        # The live view's lazily freed figure is the per-range ledger's (from pagemap):
        # never under the kernel's LazyFree, never over what every caller advised.
        # It can be over LazyFree: when the runtime reuses a lazily freed page by
        # writing it, no fault tells us (README, "Lazily freed and reclaimed").
        advised_all = size(row(lines, "  all ").split()[-3])
        assert lazy_kernel - 1 * MiB <= parts["MADV_FREE'd"] <= advised_all + 1 * MiB, \
            (parts, lazy_kernel, advised_all)
        # Go maps its heap 4 MiB at a time; the view shows each region as one row.
        head = lines.index(row(lines, "TOP RANGES"))
        assert lines[head].split()[:3] == ["TOP", "RANGES", "END"], lines[head]
        ranges = [ln.split() for ln in lines[head + 1:] if re.match(r"[0-9a-f]+ ", ln)]
        assert ranges, lines[head:]
        for a in ranges:
            for b in ranges:
                assert not (a[1] == b[0] and a[2] == b[2]), (a, b)  # no two neighbours
        up = int(re.match(r"pageledger  pid \d+ \(\S+\)  up (\d+)s", lines[0]).group(1))
        shown = int(re.match(r"RSS +NOW +last (\d+)s$", lines[1]).group(1))
        assert shown <= up + 1, lines[:2]
        quit_and_read_summary_go(term)
    finally:
        term.close()


def quit_and_read_summary_go(term):
    term.tmux("send-keys", "-t", "top", "q")
    assert term.wait_exit() == 0
    out = term.history()
    summary = out[out.index("Summary for pid"):]
    assert "Go background scavenger:" in summary
    for ln in summary.splitlines():
        assert len(ln) <= GO_COLS, f"{len(ln)} columns: {ln!r}"


# ---- the Go heap's retained bytes, live -------------------------------------------

def go_split(lines):
    """The "  in use X = Go in use A + Go retained B + other C" line, in bytes; None if absent."""
    found = [ln for ln in lines if ln.startswith("  in use ")]
    return sum_parts(found[0].strip(), "in use") if found else None


def test_top_shows_the_go_heap_retained(tmp_path):
    """Go's idle, unreleased heap, live (issue 15): at the goheap workload's
    "half" pause the runtime has freed half its heap and not scavenged it
    (GOGC=400 keeps the goal far above), so Go retained is the runtime's own
    HeapIdle - HeapReleased, every freed page having been touched. The split
    of in use sums to it."""
    out = tmp_path / "lines.jsonl"
    term = Terminal(GO_COLS, GO_ROWS)
    try:
        term.run(f"{PAGELEDGER} --top -- {BUILD / 'go' / 'goheap'} -mb {GOHEAP_MIB} "
                 f"-out {out} -pause 120s",
                 env="GODEBUG=madvdontneed=1 GOMAXPROCS=2 GOGC=400")
        quiet = wait_quiet(out, "half")
        # The reading is at most a second old: three refreshes after the pause began.
        lines = wait_refreshes(term, 3)
        assert_fits(lines, GO_COLS, GO_ROWS)
        split = go_split(lines)
        assert split, "\n".join(lines)
        free_unscavenged = quiet["heap_idle"] - quiet["heap_released"]
        retained = split["Go retained"]
        assert retained >= 50 * MiB, split
        assert abs(retained - free_unscavenged) <= max(0.02 * free_unscavenged, MiB), \
            (split, quiet)
        assert split["in use"] == pytest.approx(
            split["Go in use"] + retained + split["other"], abs=0.2 * MiB), split
        assert split["in use"] == pytest.approx(diagnosis(lines)["in use"], abs=0.05 * MiB)
        term.tmux("send-keys", "-t", "top", "q")
        assert term.wait_exit() == 0
    finally:
        term.close()



def wait_quiet(path, phase, timeout=120):
    """The goheap workload's line for the pause it entered at phase."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        for ln in text.splitlines()[:-1] if not text.endswith("\n") else text.splitlines():
            rec = json.loads(ln)
            if rec["step"] == "quiet" and rec["phase"] == phase:
                return rec
        time.sleep(0.2)
    raise AssertionError(f"the workload never paused at {phase}")


def wait_refreshes(term, n, timeout=30):
    """The screen after n more refreshes (the header's uptime changes each second)."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        lines = term.screen()
        if lines and (not seen or seen[-1] != lines[0]):
            seen.append(lines[0])
            if len(seen) > n:
                return lines
        time.sleep(0.2)
    raise AssertionError("the screen stopped refreshing:\n" + "\n".join(term.screen()))
