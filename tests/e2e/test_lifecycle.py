"""A command pageledger starts never runs untraced: it is checked before
anything is loaded, held until every probe is attached, dies with the
tracer, and never runs if the tracer dies first. SIGHUP ends a run like
SIGTERM. The data stream is pageledger's alone: a started command's stdout
goes to stderr when the stream is on stdout."""
import json
import os
import select
import shutil
import signal
import subprocess

import pytest

from conftest import MiB, PAGELEDGER, TIMEOUT, parse_jsonl, wait_for_line, workload

STOP_BEFORE_RELEASE = "PAGELEDGER_TEST_STOP_BEFORE_RELEASE"


def one_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def wait_exit(pid, timeout=TIMEOUT):
    """Waits for a process that is not our child to exit: its pidfd turns
    readable. False on timeout."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def spawned_pid(tracing_line):
    """The started command's pid, from "tracing 'CMD' (pid N)"."""
    return int(tracing_line.split("(pid ")[1].split(")")[0].split(";")[0])


def children_of(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def test_sighup_ends_a_started_command_with_a_summary():
    """(An attached run: test_targets.py, with SIGINT and SIGTERM.)"""
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "--", "sleep", "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = wait_for_line(tracer.stderr, "tracing")
    tracer.send_signal(signal.SIGHUP)
    out, err = tracer.communicate(timeout=TIMEOUT)
    assert tracer.returncode == 0, err
    s = parse_jsonl(out)[-1]
    assert s["type"] == "summary" and s["exited"] is True  # stopped, and reaped
    assert wait_exit(spawned_pid(line), 0)


@pytest.mark.parametrize("cmd", [["sleep", "600"], [workload("threads"), "4", "4"]],
                         ids=["single-threaded", "multi-threaded"])
def test_started_command_dies_with_the_tracer(cmd):
    """kill -9 of the tracer: the command it started goes too (parent-death
    signal), instead of running on untraced. (threads waits for a signal
    that never comes.)"""
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "--", *cmd],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = wait_for_line(tracer.stderr, "tracing")
    command = spawned_pid(line)
    assert not wait_exit(command, 0)  # running, traced
    tracer.kill()
    tracer.wait(timeout=TIMEOUT)
    tracer.stdout.close()
    tracer.stderr.close()
    assert wait_exit(command), f"pid {command} outlived its tracer"


def test_tracer_killed_during_start_up_never_runs_the_command(tmp_path):
    """The tracer stops itself with the command forked and held, before it
    would release it (a test-only hook); SIGKILL then. The held command must
    never exec: it would create a file."""
    marker = tmp_path / "ran"
    env = dict(os.environ, **{STOP_BEFORE_RELEASE: "1"})
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "--", "touch", str(marker)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status = os.waitpid(tracer.pid, os.WUNTRACED)  # stopped at the known point
    assert os.WIFSTOPPED(status), status
    held = children_of(tracer.pid)
    assert len(held) == 1
    pidfd = os.pidfd_open(held[0])
    try:
        tracer.kill()
        tracer.wait(timeout=TIMEOUT)
        assert select.select([pidfd], [], [], TIMEOUT)[0], "the held command still lives"
    finally:
        os.close(pidfd)
    tracer.stdout.close()
    tracer.stderr.close()
    assert not marker.exists()


def test_released_command_runs_when_the_tracer_lives(tmp_path):
    """The same hook, then SIGCONT: the command runs, traced (the check above
    is not passing because the command could never have run)."""
    marker = tmp_path / "ran"
    env = dict(os.environ, **{STOP_BEFORE_RELEASE: "1"})
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "--", "touch", str(marker)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status = os.waitpid(tracer.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status
    os.kill(tracer.pid, signal.SIGCONT)
    out, err = tracer.communicate(timeout=TIMEOUT)
    assert tracer.returncode == 0, err
    assert marker.exists()
    assert parse_jsonl(out)[-1]["exited"] is True


def test_command_that_cannot_run_fails_before_anything_is_loaded(tmp_path):
    """One line, exit 1. Under -v, libbpf would print as the programs load:
    one line under -v too means nothing was loaded."""
    not_exec = tmp_path / "data.txt"
    not_exec.write_text("not a program\n")
    cases = {
        "/nonexistent": "No such file or directory",
        "no-such-command-on-path": "No such file or directory",
        str(tmp_path): "Permission denied",  # a directory
        str(not_exec): "Permission denied",  # no execute bit
    }
    for cmd, why in cases.items():
        for extra in ([], ["-v"]):
            p = subprocess.run([str(PAGELEDGER), *extra, "--", cmd], capture_output=True,
                               text=True, timeout=TIMEOUT)
            assert p.returncode == 1, (cmd, p.stderr)
            assert one_line(p.stderr) == f"pageledger: cannot run '{cmd}': {why}", cmd


def test_started_command_stdout_stays_out_of_the_json_stream():
    """-j -- CMD | jq -c . : CMD prints JSON lines of its own (memops's
    steps); they go to stderr, and the stream stays pageledger's."""
    assert shutil.which("jq"), "jq is installed by make deps"
    p = subprocess.run(["bash", "-c", 'set -o pipefail; "$0" -j -- "$1" dontneed 8 | jq -c .',
                        str(PAGELEDGER), workload("memops")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    records = parse_jsonl(p.stdout)
    assert records[0]["type"] == "start" and records[-1]["type"] == "summary"
    assert all("type" in r and "op" not in r for r in records)
    steps = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
    assert [s["op"] for s in steps] == ["madvise", "munmap"]
    dn = [r for r in records if r["type"] == "madvise"]
    assert [r["addr"] for r in dn] == [steps[0]["addr"]]
    assert dn[0]["rss_delta"]["anon"] == -8 * MiB


def test_started_command_stdout_stays_out_of_the_text_stream():
    p = subprocess.run([str(PAGELEDGER), "--no-top", "--", workload("memops"), "dontneed", "8"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0].split()[0] == "TIME(s)"  # the header: the stream's own
    assert not any(l.startswith("{") for l in p.stdout.splitlines())
    assert [json.loads(l)["op"] for l in p.stderr.splitlines() if l.startswith("{")] == \
        ["madvise", "munmap"]


def test_started_command_keeps_stdout_when_the_stream_goes_to_a_file(tmp_path):
    out = tmp_path / "trace.jsonl"
    p = subprocess.run([str(PAGELEDGER), "-j", "-o", str(out), "--", workload("memops"),
                        "dontneed", "8"], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert [json.loads(l)["op"] for l in p.stdout.splitlines()] == ["madvise", "munmap"]
    assert parse_jsonl(out.read_text())[-1]["type"] == "summary"


def test_fractional_duration_ends_the_run():
    target = subprocess.Popen(["sleep", "60"])
    try:
        p = subprocess.run([str(PAGELEDGER), "-j", "-d", "0.3", "-p", str(target.pid)],
                           capture_output=True, text=True, timeout=TIMEOUT)
    finally:
        target.kill()
        target.wait()
    assert p.returncode == 0, p.stderr
    records = parse_jsonl(p.stdout)
    assert records[-1]["type"] == "summary" and records[-1]["exited"] is False


def test_fractional_interval_takes_balances():
    """-i 0.2: interval balance records come (waited for in the stream), then
    SIGINT ends the run."""
    target = subprocess.Popen(["sleep", "60"])
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-i", "0.2", "-p", str(target.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(2):
            wait_for_line(tracer.stdout, '"when":"interval"')
        tracer.send_signal(signal.SIGINT)
        out, err = tracer.communicate(timeout=TIMEOUT)
    finally:
        target.kill()
        target.wait()
    assert tracer.returncode == 0, err
    assert parse_jsonl(out)[-1]["type"] == "summary"
