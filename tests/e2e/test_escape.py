"""Names the target controls never reach a terminal raw (issue 14), and the
JSON, the Chrome trace and the report stay valid UTF-8 whatever they hold
(issue 11). The evilnames workload names its release function, a file, a
memfd and itself with escape sequences, BEL, a newline and bytes that are
not UTF-8; the test also runs it from a path that holds them."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from conftest import PAGELEDGER, TIMEOUT, wait_for_line, workload

EVIL_DIR_NAME = b"d\x1b[31m\xff\x07"
EVIL_BIN_NAME = b"evil\x1b]0;bin\x07\xfe\x9b"
SYMBOL_SHOWN = r"evil\x1b[31mRED\x1b]0;pwned\x07\x9b2J\x0aFORGED LINE"
# The live view's own sequences: the alternate screen, home, erase line and below.
OWN_SEQUENCES = [b"\x1b[?1049h", b"\x1b[?25l", b"\x1b[H", b"\x1b[2J", b"\x1b[?1049l",
                 b"\x1b[?25h", b"\x1b[2K", b"\x1b[J"]


@pytest.fixture(scope="module")
def evil():
    """The workload copied to a path whose every part is hostile; its scratch dir."""
    top = tempfile.mkdtemp(prefix="pl-evil-")
    d = os.path.join(os.fsencode(top), EVIL_DIR_NAME)
    os.mkdir(d)
    binary = os.path.join(d, EVIL_BIN_NAME)
    shutil.copy(workload("evilnames"), binary)
    os.chmod(binary, 0o755)
    yield binary, d
    shutil.rmtree(top)


def assert_terminal_safe(out, what):
    """No byte a terminal acts on but the newline: no C0 control, DEL, C1
    control (valid UTF-8 is checked first, so 0x9b here would be a code point)."""
    text = out.decode("utf-8")  # strict: any invalid byte fails here
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch == "\n":
            continue
        assert code >= 0x20 and code != 0x7f and not 0x80 <= code <= 0x9f, \
            f"{what}: raw control U+{code:04X} at {i}: {text[max(0, i - 60):i + 20]!r}"
        assert not 0x2028 <= code <= 0x202e and not 0x2066 <= code <= 0x2069, \
            f"{what}: U+{code:04X} at {i}"
    return text


def run(args, timeout=TIMEOUT, env=None):
    p = subprocess.run([os.fsencode(str(PAGELEDGER)), *args], capture_output=True,
                       timeout=timeout, env=env)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p


@pytest.mark.parametrize("stacks", [False, True])
@pytest.mark.parametrize("threads", [0, 3])
def test_text_output_is_safe(evil, stacks, threads):
    binary, d = evil
    p = run([b"--no-top", *([b"--stacks"] if stacks else []), b"--", binary, d,
             str(threads).encode(), b"0"])
    out = assert_terminal_safe(p.stdout, "stdout")
    assert_terminal_safe(p.stderr, "stderr")
    # Every release went through the hostile function: one call site, escaped.
    sites = out[out.index("Top call sites"):]
    rows = [ln for ln in sites.splitlines() if " munmap  evil" in ln]
    assert len(rows) == 1, sites
    assert rows[0].split()[1] == str(threads + 1), rows[0]  # CALLS: every thread's
    assert rows[0].split()[-1].startswith(SYMBOL_SHOWN[:30]), rows[0]
    # Nothing forged a line of its own.
    assert not re.search(r"^FORGED", out, re.M)
    if stacks:
        frames = [ln for ln in out.splitlines() if SYMBOL_SHOWN in ln]
        # madvise and munmap from each thread, each with the symbol as its call site.
        assert len(frames) == 2 * (threads + 1), out
        assert all(ln.rstrip().endswith("<- call site") or ln.endswith("~") for ln in frames)


def test_comm_and_mapped_names_are_safe_when_attached(evil):
    """-p: the comm comes from /proc, and the mapped files are named from maps."""
    binary, d = evil
    target = subprocess.Popen([binary, b"--wait", d, b"2", b"30"], stdout=subprocess.PIPE,
                              text=True)
    try:
        wait_for_line(target.stdout, "ready")
        tracer = subprocess.Popen([str(PAGELEDGER), "--no-top", "-i", "1", "-p",
                                   str(target.pid)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        line = tracer.stderr.readline()  # "tracing pid N (comm)...": the comm escaped
        assert b"(ev\\x1b[2Jil\\x07)" in line, line
        target.send_signal(signal.SIGUSR1)
        wait_for_line(target.stdout, "holding")
        tracer.send_signal(signal.SIGINT)
        out, err = tracer.communicate(timeout=TIMEOUT)
    finally:
        target.kill()
        target.wait()
    assert tracer.returncode == 0, err
    text = assert_terminal_safe(out, "stdout")
    assert_terminal_safe(line + err, "stderr")
    # The ranges table names the hostile file and memfd, escaped.
    ranges = text[text.index("Ranges by resident bytes"):]
    assert re.search(r"^    [0-9a-f]+ +map\\x1b\]0;o", ranges, re.M), ranges
    assert re.search(r"^    [0-9a-f]+ +memfd:mfd\\x1", ranges, re.M), ranges


def strip_own_sequences(screen):
    for seq in OWN_SEQUENCES:
        screen = screen.replace(seq, b"")
    return screen.replace(b"\r\n", b"\n")


def test_live_view_is_safe(evil):
    """--top off a terminal writes the screen to the file: every escape in
    it is one of the live view's own."""
    binary, d = evil
    p = run([b"--top", b"-i", b"1", b"-d", b"3", b"--", binary, d, b"1", b"30"])
    screen = strip_own_sequences(p.stdout)
    text = assert_terminal_safe(screen, "live view")
    assert "q: quit and summarize" in text
    # The header names the target escaped, and keeps room for the key.
    assert re.search(r"^pageledger  pid \d+ \(evil\\x1b\]0;bin\\x07.*\)  up \d+s   q: quit",
                     text, re.M), text
    assert re.search(r"memfd:mfd\\x1b|map\\x1b\]0", text), text


def test_json_trace_and_report_stay_valid_utf8(evil, tmp_path):
    """Issue 11: a binary named with 0xff bytes broke the JSON and the SVG."""
    binary, d = evil
    report, trace = tmp_path / "r.svg", tmp_path / "t.json"
    p = run([b"-j", b"--report", bytes(report), b"--perfetto", bytes(trace), b"--",
             binary, d, b"1", b"0"])
    records = [json.loads(ln) for ln in p.stdout.decode("utf-8").splitlines()]
    assert records[-1]["type"] == "summary"
    sites = [s for s in records[-1]["call_sites"] if s["syscall"] == "munmap"
             and s["site"].startswith("evil")]
    assert sites and sites[0]["site"] == "evil\x1b[31mRED\x1b]0;pwned\x07\\x9b2J\nFORGED LINE"
    # The module path: its non-UTF-8 bytes as text, its valid control bytes as themselves.
    assert sites[0]["module"].endswith("/d\x1b[31m\\xff\x07/evil\x1b]0;bin\x07\\xfe\\x9b")
    json.loads(trace.read_bytes().decode("utf-8"))
    svg = report.read_bytes()
    svg.decode("utf-8")
    ET.fromstring(svg)
    assert b"\x1b" not in svg and b"\x07" not in svg
