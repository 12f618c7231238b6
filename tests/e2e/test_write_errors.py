"""Every write checked. A write that fails (a full disk: /dev/full) gives one
line and exit 1, on every output. A reader that goes away (| head -1) ends
the run cleanly with exit 0, even while the target is silent. A file is
written beside FILE and renamed at the end, so FILE is never truncated
before tracing can start, and never left half-written."""
import os
import signal
import subprocess

from conftest import (PAGELEDGER, ROOT, TIMEOUT, parse_jsonl, wait_for_line, wait_until,
                      workload)

FULL = "pageledger: cannot write {}: No space left on device"


def error_lines(stderr):
    """stderr without the progress line and the workload's own JSON lines."""
    return [l for l in stderr.splitlines()
            if l.strip() and "tracing" not in l and not l.startswith("{")]


def memops(extra):
    return subprocess.run([str(PAGELEDGER), "-j", *extra, "--", workload("memops"),
                           "dontneed", "8"], capture_output=True, text=True, timeout=TIMEOUT)


def test_stream_to_a_full_disk_exits_1_with_one_line():
    p = memops(["-o", "/dev/full"])
    assert p.returncode == 1, p.stderr
    assert error_lines(p.stderr) == [FULL.format("/dev/full")]


def test_quiet_stream_to_a_full_disk_exits_1_with_one_line():
    """-q writes little (start and summary): its last write is checked too."""
    p = memops(["-q", "-o", "/dev/full"])
    assert p.returncode == 1, p.stderr
    assert error_lines(p.stderr) == [FULL.format("/dev/full")]


def test_stdout_on_a_full_disk_exits_1_with_one_line():
    with open("/dev/full", "w") as full:
        p = subprocess.run([str(PAGELEDGER), "-j", "--", workload("memops"), "dontneed", "8"],
                           stdout=full, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)
    assert p.returncode == 1, p.stderr
    assert error_lines(p.stderr) == [FULL.format("stdout")]


def test_perfetto_to_a_full_disk_exits_1_with_one_line():
    p = memops(["-q", "--perfetto", "/dev/full"])
    assert p.returncode == 1, p.stderr
    assert error_lines(p.stderr) == [FULL.format("/dev/full")]
    assert parse_jsonl(p.stdout)[-1]["type"] == "summary"  # the stream itself is whole


def test_folded_to_a_full_disk_exits_1_with_one_line():
    p = memops(["-q", "--folded", "/dev/full"])
    assert p.returncode == 1, p.stderr
    assert error_lines(p.stderr) == [FULL.format("/dev/full")]
    assert parse_jsonl(p.stdout)[-1]["type"] == "summary"


def test_pprof_to_a_full_disk_exits_1_with_one_line():
    p = memops(["-q", "--pprof", "/dev/full"])
    assert p.returncode == 1, p.stderr
    assert error_lines(p.stderr) == [FULL.format("/dev/full")]


def test_report_to_a_full_disk_exits_1_with_one_line(tmp_path):
    """--report needs a .svg or .html name: a link so named, to /dev/full."""
    full = tmp_path / "rss.svg"
    full.symlink_to("/dev/full")
    p = memops(["-q", "--report", str(full)])
    assert p.returncode == 1, p.stderr
    assert error_lines(p.stderr) == [FULL.format(full)]


def test_help_to_a_full_disk_exits_1():
    with open("/dev/full", "w") as full:
        for args in (["--help"], ["--version"]):
            p = subprocess.run([str(PAGELEDGER), *args], stdout=full, stderr=subprocess.PIPE,
                               text=True, timeout=TIMEOUT)
            assert p.returncode == 1, args
            assert p.stderr.strip() == FULL.format("stdout")


def test_reader_gone_ends_an_attached_run_at_once():
    """-j -p PID | head -1 on a target that makes no call: the reader's
    leaving is seen without a write, the run ends, exit 0, nothing said."""
    target = subprocess.Popen(["sleep", "600"])
    try:
        p = subprocess.run(["bash", "-c", '"$0" -j -p "$1" | head -1; '
                            'echo "status ${PIPESTATUS[0]}" >&2',
                            str(PAGELEDGER), str(target.pid)],
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert target.poll() is None  # the target lives on: only the tracer ended
    finally:
        target.kill()
        target.wait()
    assert parse_jsonl(p.stdout)[0]["type"] == "start"
    assert [l for l in p.stderr.splitlines() if "tracing" not in l] == ["status 0"], p.stderr


def test_reader_gone_stops_a_started_command():
    """-j -- CMD | head -1: the run ends, and so does the command it started."""
    p = subprocess.run(["bash", "-c", '"$0" -j -- sleep 600 | head -1; '
                        'echo "status ${PIPESTATUS[0]}" >&2', str(PAGELEDGER)],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert parse_jsonl(p.stdout)[0]["type"] == "start"
    assert [l for l in p.stderr.splitlines() if "tracing" not in l] == ["status 0"], p.stderr


def test_reader_gone_mid_stream_after_writes():
    """The reader takes some records, then closes: the next write gets EPIPE
    (SIGPIPE is ignored), and the run ends with exit 0, long before the
    command would (steady makes calls for 600 s)."""
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "--", workload("steady"), "8", "600"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(3):
            assert tracer.stdout.readline()
        tracer.stdout.close()
        rc = tracer.wait(timeout=TIMEOUT)  # its stderr is a few lines: no pipe fills
    finally:
        if tracer.poll() is None:
            tracer.kill()
            tracer.wait()
    err = tracer.stderr.read().decode()
    assert rc == 0, err
    assert error_lines(err) == [], err


def test_output_file_is_untouched_when_tracing_cannot_start(tmp_path):
    out = tmp_path / "trace.jsonl"
    out.write_text("the last run's trace\n")
    for args in (["-p", "2"], ["--", "/nonexistent"]):  # a kernel thread; no program
        p = subprocess.run([str(PAGELEDGER), "-j", "-o", str(out), *args], capture_output=True,
                           text=True, timeout=TIMEOUT)
        assert p.returncode == 1, p.stderr
        assert out.read_text() == "the last run's trace\n"
        assert sorted(os.listdir(tmp_path)) == ["trace.jsonl"]  # no temporary left


def test_output_file_is_replaced_only_when_the_run_ends(tmp_path):
    out = tmp_path / "trace.jsonl"
    out.write_text("the last run's trace\n")
    out.chmod(0o640)
    target = subprocess.Popen(["sleep", "600"])
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-i", "0.2", "-o", str(out), "-p",
                               str(target.pid)], stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(tracer.stderr, "tracing pid")
        temps = [n for n in os.listdir(tmp_path) if n != "trace.jsonl"]
        assert len(temps) == 1 and temps[0].startswith(".trace.jsonl.partial-"), temps
        temp = tmp_path / temps[0]
        wait_until(lambda: b'"when":"interval"' in temp.read_bytes(), "an interval record")  # written as it goes
        assert out.read_text() == "the last run's trace\n"
        tracer.send_signal(signal.SIGINT)
        assert tracer.wait(timeout=TIMEOUT) == 0
    finally:
        target.kill()
        target.wait()
    records = parse_jsonl(out.read_text())
    assert records[0]["type"] == "start" and records[-1]["type"] == "summary"
    assert sorted(os.listdir(tmp_path)) == ["trace.jsonl"]
    assert out.stat().st_mode & 0o777 == 0o640  # the file's mode carries over


def test_killed_run_leaves_the_output_file_as_it_was(tmp_path):
    """kill -9 mid-run: FILE is still the last run's; what this run wrote is
    only in the temporary, whose name says it is partial."""
    out = tmp_path / "trace.jsonl"
    out.write_text("the last run's trace\n")
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-o", str(out), "--", "sleep", "600"],
                              stderr=subprocess.PIPE, text=True)
    wait_for_line(tracer.stderr, "tracing")
    tracer.kill()
    tracer.wait(timeout=TIMEOUT)
    tracer.stderr.close()
    assert out.read_text() == "the last run's trace\n"
    temps = [n for n in os.listdir(tmp_path) if n != "trace.jsonl"]
    assert len(temps) == 1 and temps[0].startswith(".trace.jsonl.partial-"), temps


def run_into_closed_pipe(cmd):
    """cmd with stdout a pipe whose reader has already gone: every write
    gets EPIPE, whatever the timing."""
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run(cmd, stdout=w, stderr=subprocess.PIPE, text=True,
                              timeout=TIMEOUT)
    finally:
        os.close(w)


def test_scripts_end_quietly_when_the_reader_leaves():
    """why-rss-high --help | head: no BrokenPipeError traceback, exit 0."""
    for script in ("why-rss-high", "compare-madvise-modes"):
        path = ROOT / "scripts" / script
        p = run_into_closed_pipe([str(path), "--help"])
        assert p.returncode == 0, (script, p.stderr)
        assert p.stderr == "", (script, p.stderr)


def test_help_into_a_closed_pipe_is_quiet():
    for args in (["--help"], ["--version"]):
        p = run_into_closed_pipe([str(PAGELEDGER), *args])
        assert p.returncode == 0 and p.stderr == "", (args, p.stderr)
