"""The helper scripts (issue 5): scripts/why-rss-high on a live process, and
scripts/compare-madvise-modes on the repo's Go workload, against the real
pageledger and the real kernel."""
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD, PAGELEDGER, ROOT, TIMEOUT, MiB, wait_for_line, workload

WHY = ROOT / "scripts" / "why-rss-high"
COMPARE = ROOT / "scripts" / "compare-madvise-modes"
SCAVENGE = BUILD / "go" / "scavenge"
SIZES = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def env_with_build():
    return dict(os.environ, PAGELEDGER=str(PAGELEDGER))


def parse_size(text):
    """'64.0M' -> bytes (approximate: one decimal)."""
    m = re.fullmatch(r"(-?[0-9.]+)([BKMG])", text)
    assert m, text
    return float(m.group(1)) * SIZES[m.group(2)]


def proc_status_kb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field}")


class Held:
    """memops SCENARIO MIB, started, told to go, and holding still."""

    def __init__(self, scenario, mib):
        self.p = subprocess.Popen([workload("memops"), "--wait", scenario, str(mib)],
                                  stdout=subprocess.PIPE, text=True)
        wait_for_line(self.p.stdout, "ready")
        self.p.send_signal(signal.SIGUSR1)
        wait_for_line(self.p.stdout, "holding")
        self.pid = self.p.pid

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.send_signal(signal.SIGUSR2)
        self.p.wait(timeout=TIMEOUT)


# ---- why-rss-high ------------------------------------------------------------


def test_why_rss_high_json_names_the_lazily_freed_memory():
    with Held("free-hold", 64) as h:
        p = subprocess.run([str(WHY), "-j", str(h.pid), "2"], capture_output=True, text=True,
                           timeout=TIMEOUT, env=env_with_build())
        anon = proc_status_kb(h.pid, "RssAnon")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1, lines  # one object: composes with jq
    d = json.loads(lines[0])
    assert d["pid"] == h.pid and d["comm"] == "memops" and d["seconds"] == 2
    assert d["source"] == "kernel"  # the target was alive at the end: /proc's figures
    # 64 MiB MADV_FREE'd and still resident. Folios reach the lazy-free LRU in
    # per-CPU batches, so a last batch may still be pending (at most 2 MiB).
    assert 62 * MiB <= d["lazy_free"] <= 64 * MiB, d
    assert d["in_use"] < 2 * MiB, d
    # The split adds up to the anon RSS the kernel reports, to the byte.
    assert d["in_use"] + d["lazy_free"] + d["thp_filled"] == anon, (d, anon)
    assert d["resident"] >= 64 * MiB
    assert any("madvdontneed=1" in hint for hint in d["hints"])


def test_why_rss_high_composes_with_jq():
    with Held("free-hold", 32) as h:
        p = subprocess.run(f"{WHY} -j {h.pid} 1 | jq -e '.lazy_free'", shell=True,
                           capture_output=True, text=True, timeout=TIMEOUT,
                           env=env_with_build())
    assert p.returncode == 0, p.stderr
    assert 30 * MiB <= int(p.stdout.strip()) <= 32 * MiB, p.stdout


def test_why_rss_high_text_for_memory_in_use():
    with Held("hold", 48) as h:
        p = subprocess.run([str(WHY), str(h.pid), "1"], capture_output=True, text=True,
                           timeout=TIMEOUT, env=env_with_build())
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert f"pid {h.pid} (memops), traced 1 s" in out and "/proc's figures" in out, out
    rows = {m.group(1).strip(): m.group(2) for m in
            re.finditer(r"^  (.+?)\s+(-?[0-9.]+[BKMG]|unknown)$", out, re.M)}
    assert 48 * MiB <= parse_size(rows["in use (mapped and touched)"]) <= 50 * MiB, out
    assert rows["MADV_FREE'd, not yet reclaimed"] == "0B", out
    assert "largest share: in use (mapped and touched)" in out, out
    assert "hint:" not in out  # nothing lazily freed, no THP holes: no hint


def test_why_rss_high_text_for_lazily_freed_memory():
    with Held("free-hold", 40) as h:
        p = subprocess.run([str(WHY), str(h.pid), "1"], capture_output=True, text=True,
                           timeout=TIMEOUT, env=env_with_build())
    assert p.returncode == 0, p.stderr
    m = re.search(r"^  MADV_FREE'd, not yet reclaimed\s+([0-9.]+[BKMG])$", p.stdout, re.M)
    assert m and 38 * MiB <= parse_size(m.group(1)) <= 40 * MiB, p.stdout
    assert "largest share: MADV_FREE'd, not yet reclaimed" in p.stdout
    assert "hint: MADV_FREE'd pages stay resident" in p.stdout


def unused_pid():
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "usage: why-rss-high"),
    (["abc"], 2, "invalid PID 'abc'"),
    (["-5"], 2, "unknown option '-5'"),
    (["0"], 2, "invalid PID '0'"),
    (["1", "ten"], 2, "invalid SECONDS 'ten'"),
    (["1", "0"], 2, "invalid SECONDS '0'"),
    (["1", "2", "3"], 2, "usage: why-rss-high"),
    (["--bogus", "1"], 2, "unknown option '--bogus'"),
    ([str(unused_pid())], 1, "no such process"),
])
def test_why_rss_high_bad_input(args, code, message):
    p = subprocess.run([str(WHY), *args], capture_output=True, text=True, timeout=TIMEOUT,
                       env=env_with_build())
    assert p.returncode == code, (p.returncode, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], p.stderr


def test_why_rss_high_passes_pageledger_exit_status_through(tmp_path):
    # A kernel thread cannot be traced: the real pageledger exits 1.
    p = subprocess.run([str(WHY), "2", "1"], capture_output=True, text=True,
                       timeout=TIMEOUT, env=env_with_build())
    assert p.returncode == 1 and p.stdout == "", p
    assert "pageledger" in p.stderr
    # Whatever pageledger returns is returned; $PAGELEDGER picks the binary.
    fake = tmp_path / "fake-pageledger"
    fake.write_text("#!/bin/sh\necho \"fake: $*\" >&2\nexit 7\n")
    fake.chmod(0o755)
    p = subprocess.run([str(WHY), str(os.getpid()), "3"], capture_output=True, text=True,
                       timeout=TIMEOUT, env=dict(os.environ, PAGELEDGER=str(fake)))
    assert p.returncode == 7, p
    assert f"fake: -j -q -i 1 -d 3 -p {os.getpid()}" in p.stderr


def test_why_rss_high_finds_the_repo_build_without_env():
    env = {k: v for k, v in os.environ.items() if k != "PAGELEDGER"}
    env["PATH"] = "/usr/bin:/bin"  # no pageledger on PATH: the repo's build/ is used
    with Held("hold", 8) as h:
        p = subprocess.run([str(WHY), "-j", str(h.pid), "1"], capture_output=True, text=True,
                           timeout=TIMEOUT, env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["in_use"] >= 8 * MiB


# ---- compare-madvise-modes -------------------------------------------------------


@pytest.fixture(scope="module")
def both_modes_json():
    """One comparison run, -j piped through jq, shared by the assertions below.
    The caller's GODEBUG carries another setting that must survive."""
    assert SCAVENGE.exists(), "build first: make workloads"
    env = dict(env_with_build(), GODEBUG="gctrace=0,madvdontneed=1")
    p = subprocess.run(f"{COMPARE} -d 8 -j -- {SCAVENGE} -mb 64 -hold 60s | jq -c .",
                       shell=True, capture_output=True, text=True, timeout=3 * TIMEOUT,
                       env=env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1, p.stdout
    return json.loads(lines[0]), p.stderr


def test_compare_json_has_both_modes_and_keeps_godebug(both_modes_json):
    r, stderr = both_modes_json
    assert set(r) == {"madvdontneed=0", "madvdontneed=1"}
    assert r["madvdontneed=0"]["godebug"] == "gctrace=0,madvdontneed=0"
    assert r["madvdontneed=1"]["godebug"] == "gctrace=0,madvdontneed=1"
    for side in r.values():
        assert side["exit_code"] == 0 and side["lost_events"] == 0
        assert side["diagnosis"]["source"] == "kernel"  # still running when -d ended
        assert side["peak_resident"] >= 64 * MiB
    # The Go program's own output went to stderr, away from the JSON.
    assert '"step":"freeosmemory"' in stderr


def test_compare_advice_rows_are_free_versus_dontneed(both_modes_json):
    r, _ = both_modes_json
    free, dontneed = r["madvdontneed=0"]["advice"], r["madvdontneed=1"]["advice"]
    assert "MADV_FREE" in free and "MADV_DONTNEED" not in free, free
    assert "MADV_DONTNEED" in dontneed and "MADV_FREE" not in dontneed, dontneed
    # The scavenger returned at least the 64 MiB heap either way...
    assert free["MADV_FREE"]["bytes"] >= 64 * MiB
    assert dontneed["MADV_DONTNEED"]["bytes"] >= 64 * MiB
    # ...but only MADV_DONTNEED took it out of RSS at the call.
    assert free["MADV_FREE"]["rss_released"] == 0
    assert dontneed["MADV_DONTNEED"]["rss_released"] >= 60 * MiB
    assert r["madvdontneed=0"]["rss_released"] < 1 * MiB
    assert r["madvdontneed=1"]["rss_released"] >= 60 * MiB


def test_compare_lazy_free_pending_large_only_under_madv_free(both_modes_json):
    r, _ = both_modes_json
    lazy, eager = r["madvdontneed=0"], r["madvdontneed=1"]
    assert lazy["lazy_free_pending"] >= 56 * MiB, lazy
    assert eager["lazy_free_pending"] < 1 * MiB, eager
    assert lazy["lazy_free"]["resident_after_call"] >= 64 * MiB
    assert eager["lazy_free"]["advised"] == 0
    # The lazily freed pages are why the MADV_FREE side stays high.
    assert lazy["resident_end"] - eager["resident_end"] >= 56 * MiB
    assert lazy["diagnosis"]["lazy_free"] == lazy["lazy_free_pending"]


def test_compare_text_table():
    p = subprocess.run([str(COMPARE), "-d", "5", "--", str(SCAVENGE), "-mb", "32",
                        "-hold", "60s"], capture_output=True, text=True,
                       timeout=3 * TIMEOUT, env=env_with_build())
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "madvdontneed=0 (MADV_FREE)" in lines[0] and "madvdontneed=1 (MADV_DONTNEED)" in lines[0]
    rows = {}
    for line in lines[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    assert rows["MADV_FREE"][1] == "-" and rows["MADV_FREE"][0].endswith("M"), rows
    assert rows["MADV_DONTNEED"][0] == "-", rows
    pending_free, pending_dontneed = rows["lazily freed pending at end"]
    assert parse_size(pending_free) >= 24 * MiB, rows
    assert parse_size(pending_dontneed) < 1 * MiB, rows
    assert rows["pageledger exit status"] == ["0", "0"]


@pytest.mark.parametrize("args, message", [
    ([], "usage: compare-madvise-modes"),
    (["--"], "usage: compare-madvise-modes"),
    (["-d"], "-d needs SECONDS"),
    (["-d", "x", "--", "true"], "invalid SECONDS 'x'"),
    (["-d", "0", "--", "true"], "invalid SECONDS '0'"),
    (["-j"], "usage: compare-madvise-modes"),
])
def test_compare_bad_input(args, message):
    p = subprocess.run([str(COMPARE), *args], capture_output=True, text=True,
                       timeout=TIMEOUT, env=env_with_build())
    assert p.returncode == 2, p
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], p.stderr


def test_compare_command_that_cannot_run_exits_1():
    p = subprocess.run([str(COMPARE), "-j", "--", "/nonexistent/go-program"],
                       capture_output=True, text=True, timeout=TIMEOUT, env=env_with_build())
    assert p.returncode == 1, p
    r = json.loads(p.stdout)
    assert r["madvdontneed=0"]["exit_code"] == 1 and r["madvdontneed=1"]["exit_code"] == 1
