"""Shared helpers for the end-to-end tests: they run the real pageledger, as
root, against the real kernel, on workloads that the repo builds."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
# $PAGELEDGER picks another build of the tracer (make SANITIZE=1 e2e: the ASan one).
PAGELEDGER = Path(os.environ.get("PAGELEDGER") or BUILD / "pageledger")
# Under ASan the tracer's own memory and speed are the sanitizer's, not ours:
# the tests of those budgets skip, with this reason.
SANITIZED = "sanitize" in PAGELEDGER.parts
NOT_UNDER_SANITIZER = "ASan's shadow memory and slowdown are not the tracer's own"
WORKLOADS = BUILD / "workloads"
MiB = 1024 * 1024
TIMEOUT = 60


def workload(name):
    return str(WORKLOADS / name)


@pytest.fixture(autouse=True, scope="session")
def _require_root_and_build():
    assert os.geteuid() == 0, "the end-to-end tests load BPF programs: run them as root"
    assert PAGELEDGER.exists(), "build first: make all workloads"


class Trace:
    """One pageledger run: its JSON records, the workload's lines, stderr."""

    def __init__(self, records, workload_lines, stderr, returncode):
        self.records = records
        self.workload = workload_lines
        self.stderr = stderr
        self.returncode = returncode

    def of(self, type_, **fields):
        return [r for r in self.records
                if r["type"] == type_ and all(r.get(k) == v for k, v in fields.items())]

    def one(self, type_, **fields):
        found = self.of(type_, **fields)
        assert len(found) == 1, f"expected one {type_} {fields}, got {found}"
        return found[0]

    @property
    def summary(self):
        assert self.records and self.records[-1]["type"] == "summary", self.records[-3:]
        return self.records[-1]

    def steps(self, op):
        return [w for w in self.workload if w.get("op") == op]


# Every pageledger record any test reads is held to the installed schema
# (issue 11, point 5): a field the schema does not name, a missing one or a
# wrong type fails the test that met it. The workloads' own lines carry no
# "type" and are not pageledger's.
SCHEMA = jsonschema.Draft202012Validator(
    json.loads((ROOT / "schema" / "pageledger.schema.json").read_text()))


def check_record(record):
    errors = sorted(SCHEMA.iter_errors(record), key=lambda e: list(e.absolute_path))
    assert not errors, (f"{record.get('type')} record against the schema: "
                        f"{list(errors[0].absolute_path)}: {errors[0].message}")


def parse_jsonl(text):
    """Every line must be one JSON object: a real parser, no regexes."""
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))
            if isinstance(out[-1], dict) and "type" in out[-1]:
                check_record(out[-1])
    return out


def run_traced(cmd, extra=(), timeout=TIMEOUT, env=None):
    """Runs `pageledger -j -o FILE [extra] -- cmd` and parses both streams."""
    out_file = BUILD / f"e2e-{os.getpid()}-{time.monotonic_ns()}.jsonl"
    try:
        p = subprocess.run([str(PAGELEDGER), "-j", "-o", str(out_file), *extra, "--", *cmd],
                           capture_output=True, text=True, timeout=timeout, env=env)
        records = parse_jsonl(out_file.read_text()) if out_file.exists() else []
    finally:
        out_file.unlink(missing_ok=True)
    return Trace(records, parse_jsonl(p.stdout), p.stderr, p.returncode)


def wait_for_line(stream, needle, timeout=20):
    """Reads a pipe line by line until one contains needle."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"never saw {needle!r}; got {seen!r}")


class Lines:
    """A tracer's stdout, read to its end by a thread: a test can wait on what
    has come, and the pipe never fills while it waits for something else."""

    def __init__(self, pipe):
        self.lines = []
        self.ended = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe):
        for line in pipe:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def wait_for(self, done, what, timeout=TIMEOUT):
        """Waits until done(lines so far) holds."""
        with self.cond:
            ok = self.cond.wait_for(lambda: done(self.lines) or self.ended, timeout)
            assert ok and done(self.lines), f"never saw {what}"

    def finish(self, proc, timeout=TIMEOUT):
        """After the tracer was told to stop: (its stdout, its stderr)."""
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the tracer's stdout never ended"
        err = proc.stderr.read()
        proc.wait(timeout)
        return "".join(self.lines), err


def read_past(lines, after_ns):
    """Waits on a tracer's -j -i stream (a Lines) for two interval readings
    stamped after AFTER_NS: the second one's drain began after that moment,
    so the tracer has read everything the target did before it."""
    def later(seen):
        return sum(json.loads(line)["ts_ns"] > after_ns for line in seen
                   if '"type":"ranges"' in line and '"when":"interval"' in line) >= 2
    lines.wait_for(later, f"two readings after {after_ns}")


class Attached:
    """A workload started first, then traced with -p, as users do."""

    def __init__(self, cmd, extra=()):
        self.target = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.ready = json.loads(wait_for_line(self.target.stdout, "ready"))
        self.tracer = subprocess.Popen([str(PAGELEDGER), "-j", *extra, "-p",
                                        str(self.target.pid)],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
        wait_for_line(self.tracer.stderr, "tracing pid")

    def go(self):
        self.target.send_signal(signal.SIGUSR1)

    def finish(self, timeout=TIMEOUT):
        rest, _ = self.target.communicate(timeout=timeout)
        out, err = self.tracer.communicate(timeout=timeout)
        return Trace(parse_jsonl(out), parse_jsonl(rest), err, self.tracer.returncode)


def wait_until(condition, what, timeout=TIMEOUT):
    """Polls condition() until it returns something true, and returns that."""
    deadline = time.monotonic() + timeout
    while not (got := condition()):
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)  # a poll interval, not a wait for an outcome
    return got


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PROMETHEUS = Path("/usr/bin/prometheus")


class Prometheus:
    """Debian's prometheus on 127.0.0.1, ready; scraping target every second,
    or nothing (then only a Go service to trace)."""

    def __init__(self, target=None):
        assert PROMETHEUS.exists(), "install Debian's prometheus (make deps)"
        self.port = free_port()
        self.work = Path(tempfile.mkdtemp(prefix="prom-", dir=BUILD))
        config = "global:\n  scrape_interval: 1h\n"
        if target:
            config = ("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                      "scrape_configs:\n  - job_name: pageledger\n"
                      f"    static_configs:\n      - targets: ['{target}']\n")
        (self.work / "prometheus.yml").write_text(config)
        self.proc = subprocess.Popen(
            [str(PROMETHEUS), f"--config.file={self.work / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.work / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._ready, "prometheus ready")

    def _ready(self):
        assert self.proc.poll() is None, "prometheus exited"
        try:
            return "Ready" in http_get(f"http://127.0.0.1:{self.port}/-/ready")
        except OSError:
            return False

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=TIMEOUT)
        shutil.rmtree(self.work, ignore_errors=True)
