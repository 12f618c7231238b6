"""The live view (--top, and the default on a terminal), in a real 80x24
terminal: tmux runs pageledger on the steady workload, the test reads the
screen, checks its figures against what the workload does, presses q and
reads the summary that follows."""
import os
import re
import subprocess
import time

import pytest

from conftest import MiB, PAGELEDGER, workload

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
    """A tmux server of our own with one 80x24 pane that stays after its command."""

    def __init__(self):
        self.sock = f"pltop-{os.getpid()}-{time.monotonic_ns()}"
        self.tmux("new-session", "-d", "-x", str(COLS), "-y", str(ROWS), "-s", "top",
                  "sleep 600", ";", "set-option", "-g", "remain-on-exit", "on")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=True, timeout=20).stdout

    def run(self, cmd, lang="C.UTF-8"):
        # The exit status as text: tmux 3.3 has no #{pane_dead_status}.
        self.tmux("respawn-pane", "-k", "-t", "top",
                  f"env LANG={lang} LC_ALL={lang} {cmd}; echo pageledger-exit=$?; sleep 5")

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


def assert_fits(lines):
    assert len(lines) <= ROWS
    for ln in lines:
        assert len(ln) <= COLS, f"{len(ln)} columns: {ln!r}"


def check_view(lines, blocks):
    assert_fits(lines)
    assert re.match(r"pageledger  pid \d+ \(steady\)  \d+s ", lines[0]), lines[0]
    assert lines[0].endswith("q: quit and summarize")

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

    lazy = row(lines, "lazily freed").split()[-1]
    assert size(lazy) == 0  # steady frees with MADV_DONTNEED and munmap only

    head = lines.index(row(lines, "TOP RANGES"))
    assert lines[head].split()[3:] == ["NAME", "MAPPED", "FAULTED", "RELEASD", "LAZY",
                                       "REFAULT"]
    # The largest range is the 64 MiB steady holds, all of it faulted in.
    top = lines[head + 1].split()
    assert re.fullmatch(r"[0-9a-f]+", top[0]) and int(top[1], 16) - int(top[0], 16) == 64 * 2**20
    assert top[2:5] == ["[anon]", "64.0M", "64.0M"], top


def quit_and_read_summary(term):
    term.tmux("send-keys", "-t", "top", "q")
    status = term.wait_exit()
    out = term.history()
    assert status == 0, out
    assert term.show("#{alternate_on}") == "0"  # the terminal is back
    assert term.show("#{cursor_flag}") == "1"
    assert "Summary for pid" in out
    assert re.search(r"madvise +MADV_DONTNEED +\d+", out), out
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
