"""Bad input: one clear line on stderr and a documented exit status
(1: cannot trace, 2: usage). Missing probes are skipped with a warning.
Events that cannot be delivered are counted and reported, never dropped
silently."""
import os
import subprocess
import time
from pathlib import Path

from conftest import MiB, PAGELEDGER, TIMEOUT, parse_jsonl, run_traced, wait_for_line, workload


def run(args, env=None, **kw):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([str(PAGELEDGER), *args], capture_output=True, text=True,
                          timeout=TIMEOUT, env=full_env, **kw)


def one_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("pageledger: "), lines
    return lines[0]


def unused_pid():
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    for pid in range(pid_max - 1, 2, -1):
        if not Path(f"/proc/{pid}").exists():
            return pid
    raise AssertionError("no free pid")


def test_unknown_pid():
    p = run(["-p", str(unused_pid())])
    assert p.returncode == 1
    assert "no process with PID" in one_line(p.stderr)


def test_exited_pid_is_refused():
    zombie = subprocess.Popen(["true"])
    # Not reaped yet: the process has exited and is a zombie.
    for _ in range(200):
        state = Path(f"/proc/{zombie.pid}/stat").read_text().split(")")[1].split()[0]
        if state == "Z":
            break
        subprocess.run(["sleep", "0.01"])
    p = run(["-p", str(zombie.pid)])
    zombie.wait()
    assert p.returncode == 1
    assert "has exited" in one_line(p.stderr)


def test_kernel_thread_is_refused():
    p = run(["-p", "2"])  # kthreadd
    assert p.returncode == 1
    assert "kernel thread" in one_line(p.stderr)


def test_not_root():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        str(PAGELEDGER), "-p", "1"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 1
    assert "must run as root" in one_line(p.stderr)


def test_no_btf():
    p = run(["-p", "1"], env={"PAGELEDGER_BTF": "/nonexistent/vmlinux"})
    assert p.returncode == 1
    assert "has no BTF" in one_line(p.stderr)


def test_tracefs_without_events_is_reported(tmp_path):
    p = run(["-p", "1"], env={"PAGELEDGER_TRACEFS": str(tmp_path)})
    assert p.returncode == 1
    assert "no events/ directory" in one_line(p.stderr)


def test_tracefs_is_mounted_when_missing():
    """On a fresh boot tracefs may be unmounted: pageledger mounts it (the
    syscall tracepoints are attached through it), and says so under -v only,
    so bad input keeps its one line on a fresh boot."""
    if os.path.ismount("/sys/kernel/tracing"):
        subprocess.run(["umount", "/sys/kernel/tracing"], check=False)
    unmounted = not os.path.ismount("/sys/kernel/tracing")
    t = run_traced([workload("memops"), "dontneed", "8"], extra=["-v"])
    assert t.returncode == 0, t.stderr
    assert os.path.ismount("/sys/kernel/tracing")
    if unmounted:
        assert "mounted tracefs" in t.stderr
    assert t.one("madvise")["rss_delta"]["anon"] == -8 * MiB


def test_usage_errors_exit_2():
    cases = [
        ["-p", "abc"],
        ["-p", "-5"],
        [],
        ["-d", "0", "-p", "1"],
        ["-d", "1x", "-p", "1"],
        ["-b", "1K", "-p", "1"],
        ["-p", "1", "--", "true"],
        ["-p", " 12"],  # strtol alone would take a blank
        ["-p", "+5"],  # and a sign
        ["-d", "1.", "-p", "1"],
        ["-d", "1e3", "-p", "1"],
        ["-i", "0.0", "-p", "1"],
        ["--stacks", "-j", "-p", "1"],  # -j records carry the frames already
    ]
    for args in cases:
        p = run(args)
        assert p.returncode == 2, (args, p.stderr)
        assert one_line(p.stderr), args
    p = run(["--no-such-option"])
    assert p.returncode == 2


def test_version_prints_the_version_and_exits_0():
    for flag in ("--version", "-V"):
        p = run([flag])
        assert p.returncode == 0 and p.stderr == ""
        assert p.stdout.startswith("pageledger ") and len(p.stdout.splitlines()) == 1
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    version = next(l.split(":=")[1].strip() for l in makefile.splitlines()
                   if l.startswith("VERSION"))
    assert run(["--version"]).stdout == f"pageledger {version}\n"
    # The man page's title names it too: kept in step with the one definition.
    man = (Path(__file__).resolve().parents[2] / "man" / "pageledger.8").read_text()
    assert f'"pageledger {version}"' in next(l for l in man.splitlines() if l.startswith(".TH"))


def test_stacks_with_json_is_refused():
    p = run(["--stacks", "-j", "-p", "1"])
    assert p.returncode == 2
    assert "--stacks" in one_line(p.stderr) and "-j" in one_line(p.stderr)


def test_help_has_usage_and_examples():
    p = run(["--help"])
    assert p.returncode == 0
    assert "USAGE:" in p.stdout and "EXAMPLES:" in p.stdout and "EXIT STATUS:" in p.stdout


def test_command_that_cannot_run():
    p = run(["--", "/nonexistent/program"])
    assert p.returncode == 1
    assert "cannot run" in p.stderr


def test_missing_optional_probe_is_skipped_and_the_rest_work():
    """A kernel without an optional tracepoint (kernel-mode page faults here,
    as if absent): that program is skipped with one warning; calls are still
    exact."""
    env = dict(os.environ, PAGELEDGER_SKIP_PROBES="tp_btf/page_fault_kernel")
    t = run_traced([workload("memops"), "mremap", "8"], env=env)
    assert t.returncode == 0, t.stderr
    assert "skipping tp_btf/page_fault_kernel" in t.stderr
    assert t.of("mremap")
    assert t.of("munmap")[-1]["rss_delta"]["anon"] == -8 * MiB


def test_missing_syscall_tracepoint_is_skipped_and_the_rest_work(tmp_path):
    """A kernel without sys_enter_mremap: that call is not traced, with one
    warning; the other calls are, exactly."""
    real = Path("/sys/kernel/tracing/events")
    if not real.exists():
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=True)
    fake = tmp_path / "events"
    fake.mkdir()
    for entry in real.iterdir():
        if entry.name != "syscalls":
            (fake / entry.name).symlink_to(entry)
    (fake / "syscalls").mkdir()
    for entry in (real / "syscalls").iterdir():
        if entry.name != "sys_enter_mremap":
            (fake / "syscalls" / entry.name).symlink_to(entry)
    env = dict(os.environ, PAGELEDGER_TRACEFS=str(tmp_path))
    t = run_traced([workload("memops"), "mremap", "8"], env=env)
    assert t.returncode == 0, t.stderr
    warnings = [l for l in t.stderr.splitlines() if "warning" in l]
    assert any("sys_enter_mremap" in l and "mremap is not traced" in l for l in warnings), \
        t.stderr
    assert not t.of("mremap")
    assert t.of("munmap")[-1]["rss_delta"]["anon"] == -8 * MiB


def test_missing_essential_probe_stops_in_one_line():
    env = dict(os.environ, PAGELEDGER_SKIP_PROBES="tp_btf/rss_stat")
    p = subprocess.run([str(PAGELEDGER), "-j", "--", workload("memops"), "dontneed", "8"],
                       capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert p.returncode == 1
    assert "lacks tp_btf/rss_stat, which tracing needs" in one_line(p.stderr)


def child_of(pid):
    """The one child a tracer started (its command)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return int(f.read().split()[0])


def ended(pid):
    """Exited (a zombie its tracer has not reaped yet, or gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_lost_events_are_counted_and_reported(tmp_path):
    """A consumer that cannot keep up: the output is a FIFO nobody reads
    until the storm is over, so the 4 KiB ring buffer fills. What is not
    delivered is counted, so delivered + lost covers every call."""
    calls = 20000
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    tracer = subprocess.Popen([str(PAGELEDGER), "-j", "-b", "4K", "-o", str(fifo), "--",
                               workload("madvstorm"), str(calls), "16"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(tracer.stderr, "tracing")
        # The storm runs to its end while the output pipe is full.
        storm = child_of(tracer.pid)
        deadline = time.monotonic() + TIMEOUT
        while not ended(storm):
            assert time.monotonic() < deadline, "the storm never ended"
            time.sleep(0.05)
        os.set_blocking(reader, True)
        chunks = []
        while True:
            data = os.read(reader, 1 << 16)
            if not data:
                break
            chunks.append(data)
        err = tracer.stderr.read()
        assert tracer.wait(timeout=TIMEOUT) == 0, err
    finally:
        os.close(reader)
        if tracer.poll() is None:
            tracer.kill()
    records = parse_jsonl(b"".join(chunks).decode())
    s = records[-1]
    assert s["type"] == "summary"
    delivered = len([r for r in records if r["type"] == "madvise"])
    assert s["lost_events"] > 0
    assert delivered + s["lost_events"] >= calls
    assert s["lost_ringbuf"] == s["lost_events"] - s["lost_untracked"]
    assert "events lost" in err and "--ringbuf-size" in err


def test_default_ring_buffer_keeps_up_with_a_moderate_storm():
    calls = 20000
    t = run_traced([workload("madvstorm"), str(calls), "16"])
    assert t.returncode == 0, t.stderr
    assert t.summary["lost_events"] == 0
    assert len(t.of("madvise")) == calls
