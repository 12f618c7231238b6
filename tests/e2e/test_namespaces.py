"""PIDs as the caller sees them. Inside a PID namespace (unshare --pid --fork
--mount-proc, as in a container) -p takes the namespace's numbers, and the
kernel's own number is found for the BPF side; a thread id names its
process; PID 1 of a namespace and of the host; a live process whose /proc
cannot be read is named as such, never as "has exited"."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import (MiB, PAGELEDGER, TIMEOUT, parse_jsonl, wait_for_line, workload)

# Runs inside the namespace (as its PID 1): starts the workload, traces it
# with -p by the number the namespace gives it, lets it run, and reports.
INSIDE = r"""
import json, signal, subprocess, sys
pageledger, cmd, pick = json.loads(sys.argv[1])
target = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
ready = json.loads(target.stdout.readline())
pid = ready["tids"][1] if pick == "thread" else ready["ready"]
tracer = subprocess.Popen([pageledger, "-j", "-p", str(pid)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
lines = []
for line in tracer.stderr:
    lines.append(line)
    if "tracing pid" in line:
        break
else:
    target.kill()
target.send_signal(signal.SIGUSR1)
steps = []
for line in target.stdout:
    steps.append(json.loads(line))
    if "done" in steps[-1]:
        target.send_signal(signal.SIGUSR2)
target.wait()
out, err = tracer.communicate()
print(json.dumps({"ready": ready, "traced": pid, "steps": steps, "out": out,
                  "err": "".join(lines) + err, "rc": tracer.returncode}))
"""


def run_in_new_namespace(cmd, pick):
    p = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c",
                        INSIDE, json.dumps([str(PAGELEDGER), cmd, pick])],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def released(records, steps):
    """The anon RSS change of each of the workload's own MADV_DONTNEED calls
    (glibc's thread exits make more, on their stacks)."""
    addrs = {s["addr"] for s in steps if s.get("op") == "madvise"}
    return [r["rss_delta"]["anon"] for r in records
            if r["type"] == "madvise" and r["advice"] == "MADV_DONTNEED" and r["addr"] in addrs]


def kernel_pid_in(stderr, pid):
    """The kernel's number for pid, from the "tracing" line."""
    line = next(l for l in stderr.splitlines() if "tracing pid" in l)
    assert line.startswith(f"pageledger: tracing pid {pid} ("), line
    assert "in the kernel's namespace" in line, line
    return int(line.split("; pid ")[1].split()[0])


def test_pid_inside_a_pid_namespace():
    """The workload is PID 2 or so in its namespace, and some other number
    for the kernel: traced by the namespace's number, its calls are seen
    exactly."""
    r = run_in_new_namespace([workload("threads"), "1", "8"], "process")
    assert r["rc"] == 0, r["err"]
    pid = r["ready"]["ready"]
    assert pid < 10  # a fresh namespace's numbers
    assert kernel_pid_in(r["err"], pid) != pid
    records = parse_jsonl(r["out"])
    assert records[0]["type"] == "start" and records[0]["pid"] == pid
    anon = released(records, r["steps"])
    assert anon == [-8 * MiB], anon
    assert records[-1]["type"] == "summary" and records[-1]["exited"] is True


def test_thread_id_inside_a_pid_namespace():
    """Multi-threaded: a thread's id, as the namespace numbers it, names its
    process; every thread's release is traced exactly."""
    r = run_in_new_namespace([workload("threads"), "4", "4"], "thread")
    assert r["rc"] == 0, r["err"]
    pid, tid = r["ready"]["ready"], r["traced"]
    assert tid != pid
    assert f"PID {tid} is a thread of process {pid}; tracing {pid}" in r["err"]
    kernel_pid_in(r["err"], pid)
    records = parse_jsonl(r["out"])
    anon = released(records, r["steps"])
    assert anon == [-4 * MiB] * 4, anon
    assert records[-1]["pid"] == pid


def children_of(pid):
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_pid_1_of_a_namespace():
    """The namespace's init, traced from inside with -p 1 (nsenter into its
    PID and mount namespaces, so /proc is the namespace's own)."""
    ns = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", workload("threads"),
                           "2", "4"], stdout=subprocess.PIPE, text=True)
    tracer = None
    try:
        ready = json.loads(ns.stdout.readline())
        assert ready["ready"] == 1
        init = children_of(ns.pid)[0]  # the namespace's PID 1, as the host numbers it
        tracer = subprocess.Popen(["nsenter", "-t", str(init), "-p", "-m", str(PAGELEDGER),
                                   "-j", "-p", "1"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = wait_for_line(tracer.stderr, "tracing pid")
        assert kernel_pid_in(line, 1) == init
        os.kill(init, signal.SIGUSR1)
        steps = []
        while "done" not in (steps[-1] if steps else {}):
            steps.append(json.loads(ns.stdout.readline()))
        # End the trace first: when the namespace's init exits, the kernel
        # kills everything in it, the tracer too.
        os.kill(children_of(tracer.pid)[0], signal.SIGINT)  # nsenter's child: pageledger
        out, err = tracer.communicate(timeout=TIMEOUT)
        assert tracer.returncode == 0, err
        os.kill(init, signal.SIGUSR2)
        ns.communicate(timeout=TIMEOUT)
    finally:
        for p in (tracer, ns):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    records = parse_jsonl(out)
    assert records[0]["pid"] == 1
    assert released(records, steps) == [-4 * MiB] * 2
    assert records[-1]["type"] == "summary" and records[-1]["exited"] is False


def test_pid_1_of_the_host():
    """Never "has exited": PID 1 is traced, or pageledger says exactly why
    not. (Where /proc/1 is guarded, as on sandboxes that protect their
    init, its maps cannot be read even by root.)"""
    p = subprocess.run([str(PAGELEDGER), "-j", "-q", "-d", "0.5", "--no-stacks", "-p", "1"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert "has exited" not in p.stderr
    try:
        with open("/proc/1/maps"):
            readable = True
    except PermissionError:
        readable = False
    if readable:
        assert p.returncode == 0, p.stderr
        s = parse_jsonl(p.stdout)[-1]
        assert s["type"] == "summary" and s["pid"] == 1 and s["exited"] is False
    else:
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert p.returncode == 1
        assert lines == ["pageledger: process 1 is alive, but /proc/1/maps cannot be read: "
                         "Permission denied"], lines


def test_live_process_with_unreadable_proc_is_named_as_such():
    """A live process whose /proc/PID/maps root may not read (a security
    module's doing; here a bind mount of a file even root cannot read, in a
    private mount namespace): one line that says so, exit 1."""
    target = subprocess.Popen(["sleep", "60"])
    try:
        guard = (f"mount --bind /proc/sys/vm/compact_memory /proc/{target.pid}/maps && "
                 f"exec {PAGELEDGER} -j -p {target.pid}")
        p = subprocess.run(["unshare", "--mount", "sh", "-c", guard], capture_output=True,
                           text=True, timeout=TIMEOUT)
    finally:
        target.kill()
        target.wait()
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == 1, p.stderr
    assert lines == [f"pageledger: process {target.pid} is alive, but /proc/{target.pid}/maps "
                     "cannot be read: Permission denied"], lines
