#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""pageledger benchmark: what tracing costs the traced process, what it
costs everything else, how fast it starts and stops, and how it compares
with its peers on the same work.

  1. Fault storm: build/workloads/faultstorm (mmap, touch every page, munmap),
     untraced vs `pageledger -j -q`, and the peers: bpftrace on the same
     tracepoints, strace and perf trace (which see the calls, not the
     faults). Goal: ratio <= 1.05.
  2. madvise storm: build/workloads/madvstorm (touch a chunk, MADV_DONTNEED
     it), untraced vs `pageledger -j -q`, `-j -o FILE` (every event written
     out as JSON), `--no-stacks`, and the same peers. Goal: ratio <= 1.30.
  3. Rate ladder: madvstorm paced at increasing call rates, traced with the
     full JSON stream and the default ring buffer: the highest rate with
     zero lost events.
  4. The cost to a process that is not traced: a getppid loop, alone and
     while pageledger traces another process (syscall tracepoints run on
     every task's syscalls).
  5. Start and stop: process start to the "tracing" line, and SIGINT to
     exit, on a small target. Goal: 300 ms each.
  6. Memory: the tracer's own peak RSS on Debian's prometheus scraping
     itself, stacks on, with a bounded query loop. Goal: 32 MiB.
  7. Scale: attach (start to "tracing"), end (SIGINT to exit) and the
     tracer's maxrss on manymaps targets (25 mappings with 8 GiB, 30,000
     with 2 GiB, 65,000), and under mapchurn (2,000 small mappings replaced
     without end) how long -d 20 and SIGINT take to end. `--scale` runs only
     this part.

Runs are interleaved (untraced, traced, untraced, traced, ...) so drift in
the machine's speed hits every variant alike, and the figure compared is
the median of the workload's own elapsed_ns: the time of its timed loop
only, so a tracer's start-up (loading and attaching BPF) is not counted.
Nothing is pinned unless --pin is given: users do not pin either.

Run as root, via `make bench` (which builds everything first) or directly:
  /usr/bin/python3 bench/bench.py [--runs N] [--quick] [--pin] [--no-peers]
Exit status: 0 when every run ran and every goal was met, 2 when a goal was
missed (not judged under --quick), 1 when something could not run, 130 on
Ctrl-C.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGELEDGER = os.path.join(ROOT, "build", "pageledger")
WORKLOADS = os.path.join(ROOT, "build", "workloads")
# --pin: the workload alone on the last CPU and the tracer on CPU 0, which
# takes most of the run-to-run noise out of the medians on a small VM.
_LAST_CPU = str((os.cpu_count() or 1) - 1)
PIN_WORKLOAD = []
PIN_TRACER = []
# The fault probes (rss_stat, which tracing needs, runs on every fault too):
# skipping them shows what fault attribution and the per-range ledger cost.
FAULT_PATH_PROBES = "tp_btf/page_fault_user tp_btf/page_fault_kernel"
GOALS = {"fault storm": 1.05, "madvise storm": 1.30}
START_STOP_GOAL_MS = 300.0

# The peers, each on the same work. bpftrace gets the tracepoints pageledger
# uses (the classic rss_stat: bpftrace 0.17 has no raw or BTF tracepoints),
# counting per process; strace and perf trace see the memory syscalls only.
BPFTRACE_FAULTS = ("tracepoint:exceptions:page_fault_user /pid == cpid/ { @faults = count(); } "
                   "tracepoint:kmem:rss_stat /pid == cpid/ { @rss[args->member] = sum(1); }")
BPFTRACE_CALLS = (BPFTRACE_FAULTS + " tracepoint:syscalls:sys_enter_madvise /pid == cpid/ "
                  "{ @start[tid] = nsecs; } tracepoint:syscalls:sys_exit_madvise "
                  "/pid == cpid/ { @calls = count(); delete(@start[tid]); }")
MEMORY_SYSCALLS = "mmap,munmap,madvise,mremap,brk"
PEERS = {
    "bpftrace": lambda cmd, script: ["bpftrace", "-q", "-e", script, "-c", " ".join(cmd)],
    "strace": lambda cmd, script: ["strace", "-f", "-qq", "-e", "trace=" + MEMORY_SYSCALLS,
                                   "-o", "/dev/null", "--"] + cmd,
    "perf trace": lambda cmd, script: ["perf", "trace", "-e", MEMORY_SYSCALLS,
                                       "-o", "/dev/null", "--"] + cmd,
}
PEER_SEES = {
    "bpftrace": "counts of the same tracepoints; no per-call RSS, no causes, no callers",
    "strace": "the calls and their arguments (ptrace: two stops per syscall); no RSS, "
              "no faults",
    "perf trace": "the calls and their arguments; no RSS (faults only as separate events "
                  "with -F)",
}


class BenchError(Exception):
    """Something could not run: the benchmark stops and exits 1."""


def log(msg=""):
    print(msg, flush=True)


def tail(text, lines=15):
    text = (text or "").rstrip()
    return "\n".join("    " + ln for ln in text.splitlines()[-lines:]) or "    (nothing)"


def run(cmd, timeout, env=None):
    """Runs cmd in its own process group, returns (stdout, stderr).

    On timeout the whole group (pageledger and the workload it spawned) is
    killed. A non-zero exit status is an error.
    """
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True,
                                env=None if env is None else dict(os.environ, **env))
    except OSError as e:
        raise BenchError(f"cannot run {cmd[0]}: {e}") from e
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        raise BenchError(f"timed out after {timeout:g} s: {' '.join(cmd)}\n"
                         f"  stderr:\n{tail(err)}")
    except BaseException:
        # Ctrl-C or anything else: leave nothing running behind us.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        raise
    if proc.returncode != 0:
        how = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exit status {proc.returncode}")
        raise BenchError(f"{how}: {' '.join(cmd)}\n  stdout:\n{tail(out)}\n"
                         f"  stderr:\n{tail(err)}")
    return out, err


def workload_result(stdout, cmd):
    """The workload's own JSON line: the last stdout line with elapsed_ns."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{") or "elapsed_ns" not in line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("elapsed_ns"), int):
            return obj
    raise BenchError(f"no {{\"elapsed_ns\":...}} line in the output of {' '.join(cmd)}\n"
                     f"  stdout:\n{tail(stdout)}")


def stream_summary(path):
    """(summary dict, number of event lines) of a pageledger -j output file.

    The file can hold hundreds of thousands of events: the summary is read
    from its tail and the lines are counted in chunks. Batched rss_change,
    balance and ranges records are not events (the summary does not count them).
    """
    try:
        size = os.path.getsize(path)
        lines = 0
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 22)
                if not chunk:
                    break
                lines += chunk.count(b"\n")
                lines -= (chunk.count(b'{"type":"rss_change"') + chunk.count(b'{"type":"balance"') +
                          chunk.count(b'{"type":"ranges"'))
            f.seek(max(0, size - (1 << 20)))
            data = f.read()
    except OSError as e:
        raise BenchError(f"cannot read pageledger's output {path}: {e}") from e
    for line in reversed(data.splitlines()):
        if b'"summary"' not in line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if obj.get("type") == "summary":
            return obj, lines
    last = data.splitlines()[-1:] or [b"(empty file)"]
    raise BenchError(f"no summary line in pageledger's output {path} ({size} bytes); "
                     f"last line: {last[0][:300].decode(errors='replace')}")


def syscall_calls(summary, name):
    return sum(row.get("calls", 0) for row in summary.get("syscalls", [])
               if row.get("syscall") == name)


class Runner:
    def __init__(self, tmpdir, timeout):
        self.tmpdir = tmpdir
        self.timeout = timeout
        self.seq = 0

    def untraced(self, cmd):
        out, _ = run(PIN_WORKLOAD + cmd, self.timeout)
        return {"workload": workload_result(out, cmd)}

    def traced(self, cmd, stream, env=None, args=()):
        """cmd under pageledger -j, output to a file; -q unless stream.

        The default ring buffer throughout: the benchmark measures defaults.
        """
        self.seq += 1
        path = os.path.join(self.tmpdir, f"trace-{self.seq}.jsonl")
        full = (PIN_TRACER + [PAGELEDGER, "-j"] + ([] if stream else ["-q"]) + list(args) +
                ["-o", path, "--"] + PIN_WORKLOAD + cmd)
        try:
            out, err = run(full, self.timeout, env)
            res = {"workload": workload_result(out, full)}
            res["summary"], res["lines"] = stream_summary(path)
        finally:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        s = res["summary"]
        if not s.get("exited") or s.get("wait_status", 0) != 0:
            raise BenchError(f"the traced workload did not exit cleanly "
                             f"(exited={s.get('exited')}, wait_status={s.get('wait_status')}): "
                             f"{' '.join(full)}\n  stderr:\n{tail(err)}")
        for key in ("events", "lost_events"):
            if not isinstance(s.get(key), int):
                raise BenchError(f"pageledger's summary has no integer '{key}': {' '.join(full)}")
        return res


    def peer(self, cmd, wrap):
        """cmd under a peer tool: only the workload's own timing is kept."""
        full = wrap(PIN_WORKLOAD + cmd)
        out, _ = run(full, self.timeout)
        return {"workload": workload_result(out, full)}


def median(values):
    return statistics.median(values)


def fmt_s(ns):
    return f"{ns / 1e9:.3f} s"


def fmt_rate(r):
    return f"{r / 1000:.1f}k/s" if r >= 1000 else f"{r:.0f}/s"


def compare(runner, name, cmd, variants, runs, per_op, op_name):
    """Interleaved runs of cmd: untraced, then each traced variant, runs times.

    variants: list of (label, stream flag[, environment]). Returns a result dict per variant.
    """
    shown = " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd)
    log(f"\n== {name}: {shown}")
    log(f"   {runs} interleaved runs of: untraced, " + ", ".join(v[0] for v in variants)
        + " (plus one warm-up round, not counted)")
    samples = {"untraced": []}
    for label, *_ in variants:
        samples[label] = []
    kept = {}
    for i in range(runs + 1):
        row = []
        res = runner.untraced(cmd)
        if i:
            samples["untraced"].append(res["workload"]["elapsed_ns"])
        row.append(f"untraced {fmt_s(res['workload']['elapsed_ns'])}")
        for label, stream, *more in variants:
            env = more[0] if len(more) > 0 else None
            args = more[1] if len(more) > 1 else ()
            wrap = more[2] if len(more) > 2 else None
            res = runner.peer(cmd, wrap) if wrap else runner.traced(cmd, stream, env, args)
            if i:
                samples[label].append(res["workload"]["elapsed_ns"])
                kept.setdefault(label, []).append(res)
            if wrap:
                row.append(f"{label} {fmt_s(res['workload']['elapsed_ns'])}")
                continue
            s = res["summary"]
            row.append(f"{label} {fmt_s(res['workload']['elapsed_ns'])} "
                       f"(events {s['events']}, lost {s['lost_events']}, "
                       f"faults {s.get('page_faults', '?')})")
        log(f"   {'warm-up' if i == 0 else f'run {i}/{runs}'}: " + "; ".join(row))

    base = median(samples["untraced"])
    out = {"name": name, "untraced": base, "untraced_samples": samples["untraced"],
           "per_op": per_op, "op_name": op_name, "variants": []}
    for label, stream, *more in variants:
        med = median(samples[label])
        results = kept[label]
        peer = len(more) > 2 and more[2] is not None
        v = {
            "label": label,
            "stream": stream,
            "peer": peer,
            "median": med,
            "samples": samples[label],
            "ratio": med / base,
            "slowdown": (med / base - 1) * 100,
            "events": None if peer else max(r["summary"]["events"] for r in results),
            "lost": None if peer else max(r["summary"]["lost_events"] for r in results),
            "page_faults": None if peer else min(r["summary"].get("page_faults", 0)
                                                 for r in results),
            "summaries": [] if peer else [r["summary"] for r in results],
            "lines": [] if peer else [r["lines"] for r in results],
        }
        out["variants"].append(v)
        log(f"   {label}: median {fmt_s(med)} vs untraced {fmt_s(base)}: "
            f"ratio {v['ratio']:.3f}, slowdown {v['slowdown']:+.1f}%  "
            f"(untraced {fmt_s(min(samples['untraced']))}..{fmt_s(max(samples['untraced']))}, "
            f"traced {fmt_s(min(samples[label]))}..{fmt_s(max(samples[label]))})")
    return out


def check_streams(result, flags):
    """Full-stream runs: one line per event plus the start and summary lines."""
    for v in result["variants"]:
        if not v["stream"]:
            continue
        for s, lines in zip(v["summaries"], v["lines"]):
            if lines != s["events"] + 2:
                flags.append(f"{result['name']}, {v['label']}: the stream file has {lines} lines "
                             f"but the summary counts {s['events']} events (expected events + 2)")
                break


def ladder(runner, rates, seconds, chunk_kib, ceiling, flags):
    """madvstorm at each rate (0: unthrottled), traced with the full stream.

    ceiling: the traced storm's measured unthrottled rate. A step asking for
    more runs only ceiling * seconds calls, so that it still lasts about
    `seconds` (the workload cannot go faster than that anyway).
    """
    log(f"\n== Rate ladder: madvstorm paced, ~{seconds:g} s of calls per step, traced with "
        f"the full JSON stream to a file, default ring buffer")
    steps = []
    for rate in rates:
        calls = int((min(rate, ceiling) if rate else ceiling) * seconds)
        calls = max(calls, 1000)
        cmd = [os.path.join(WORKLOADS, "madvstorm"), str(calls), str(chunk_kib), str(rate)]
        res = runner.traced(cmd, stream=True)
        w, s = res["workload"], res["summary"]
        madv = syscall_calls(s, "madvise")
        step = {
            "requested": rate,
            "calls": w["calls"],
            "achieved": w["rate"],
            "events": s["events"],
            "madvise": madv,
            "lost": s["lost_events"],
            "lost_ringbuf": s.get("lost_ringbuf"),
            "lost_untracked": s.get("lost_untracked"),
        }
        note = []
        if s["events"] < w["calls"]:
            note.append("EVENTS < CALLS")
            flags.append(f"ladder {rate or 'unthrottled'}: summary counts {s['events']} events "
                         f"for {w['calls']} madvise calls (lost {s['lost_events']})")
        if s["lost_events"] == 0 and madv != w["calls"]:
            note.append("MADVISE COUNT MISMATCH")
            flags.append(f"ladder {rate or 'unthrottled'}: zero events lost but the summary counts "
                         f"{madv} madvise calls for {w['calls']} made")
        if res["lines"] != s["events"] + 2:
            note.append("STREAM/SUMMARY MISMATCH")
            flags.append(f"ladder {rate or 'unthrottled'}: stream has {res['lines']} lines, "
                         f"summary {s['events']} events")
        if rate and w["rate"] < 0.95 * rate:
            note.append("rate not reached")
        step["note"] = ", ".join(note)
        steps.append(step)
        log(f"   requested {fmt_rate(rate) if rate else 'unthrottled':>11}: achieved "
            f"{fmt_rate(w['rate']):>9}, calls {w['calls']}, events {s['events']}, "
            f"lost {s['lost_events']}" + (f"  [{step['note']}]" if note else ""))
    return steps


def markdown(cfg, results, steps, verdicts, sym=None, others=None):
    lines = []
    lines.append(f"Measured on Linux {platform.release()}, {os.cpu_count()} CPUs, "
                 f"{cfg['runs']} interleaved runs per variant, medians of the workload's own "
                 f"timed loop (tracer start-up excluded).")
    lines.append("")
    lines.append("| Workload | Tracing | Median time | Per op | Ratio | Slowdown | Events | Lost |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        lines.append(f"| {r['name']} | none | {fmt_s(r['untraced'])} | "
                     f"{r['untraced'] / r['per_op']:.0f} ns/{r['op_name']} | 1.000 | - | - | - |")
        for v in r["variants"]:
            label = v["label"] if v["peer"] else f"`{v['label']}`"
            events = "-" if v["events"] is None else v["events"]
            lost = "-" if v["lost"] is None else v["lost"]
            lines.append(f"| {r['name']} | {label} | {fmt_s(v['median'])} | "
                         f"{v['median'] / r['per_op']:.0f} ns/{r['op_name']} | {v['ratio']:.3f} | "
                         f"{v['slowdown']:+.1f}% | {events} | {lost} |")
    lines.append("")
    lines.append(f"A madvise-storm call re-touches a {cfg['chunk_kib']} KiB chunk "
                 f"({cfg['chunk_kib'] // 4} page faults) and drops it with one "
                 f"madvise(MADV_DONTNEED); `-j -q` writes only the summary, `-j -o FILE` "
                 f"writes every event as JSON.")
    if steps:
        lines.append("")
        lines.append("madvise rate ladder (`pageledger -j -o FILE`, default 4 MiB ring buffer, "
                     f"{cfg['chunk_kib']} KiB chunks):")
        lines.append("")
        lines.append("| Requested | Achieved | Calls | Events | Lost | Note |")
        lines.append("|---:|---:|---:|---:|---:|---|")
        for s in steps:
            req = f"{s['requested']:,}/s" if s["requested"] else "unthrottled"
            lines.append(f"| {req} | {s['achieved']:,.0f}/s | {s['calls']:,} | {s['events']:,} | "
                         f"{s['lost']:,} | {s['note'] or 'ok'} |")
        ok = [s for s in steps if s["lost"] == 0]
        lines.append("")
        if ok:
            best = max(ok, key=lambda s: s["achieved"])
            capped = not best["requested"] or best["achieved"] < 0.95 * best["requested"]
            lines.append(f"Highest madvise rate traced with zero lost events: "
                         f"**{best['achieved']:,.0f} calls/s**"
                         + (" (the traced workload's own ceiling: it could go no faster, so "
                            "no rate that loses events was reached)" if capped else ""))
        else:
            lines.append("Every step of the ladder lost events.")
    if sym:
        verdict = "PASS" if sym["median_ms"] <= SYM_TARGET_MS else "MISS"
        lines.append("")
        lines.append(f"Cold symbolization of a {sym['size'] / 1e6:.1f} MB Go binary (Go's own "
                     f"compiler, built here), page cache dropped, 1000 addresses: "
                     f"**{sym['median_ms']:.1f} ms** median, {sym['resolved']}/1000 resolved "
                     f"(target <= {SYM_TARGET_MS} ms): {verdict}")
    if any(v["peer"] for r in results for v in r["variants"]):
        lines.append("")
        lines.append("What each peer sees: "
                     + "; ".join(f"**{k}**: {v}" for k, v in PEER_SEES.items()) + ".")
    for line in others or []:
        lines.append("")
        lines.append(line)
    if verdicts:
        lines.append("")
        lines.append("Goals: " + "; ".join(verdicts)
                     + (" [--quick: too few, too short runs to judge]" if cfg["quick"] else ""))
    return "\n".join(lines)


def untraced_cost(runner, runs, calls):
    """A getppid loop that is not traced, alone and while pageledger traces
    another (sleeping) process: what enabling the syscall and fault
    tracepoints costs everything else on the machine."""
    cmd = [os.path.join(WORKLOADS, "sysloop"), str(calls)]
    log(f"\n== Cost to an untraced process: {calls} getppid calls, alone and while "
        f"pageledger traces another process, {runs} interleaved runs")
    alone, beside = [], []
    for i in range(runs + 1):
        a = runner.untraced(cmd)["workload"]["elapsed_ns"]
        with Background(["sleep", "600"]) as sleeper, \
                Background([PAGELEDGER, "-j", "-q", "-p", str(sleeper.pid)], ready="tracing pid"):
            b = runner.untraced(cmd)["workload"]["elapsed_ns"]
        if i:
            alone.append(a)
            beside.append(b)
        log(f"   {'warm-up' if i == 0 else f'run {i}/{runs}'}: alone {fmt_s(a)}, "
            f"beside pageledger {fmt_s(b)}")
    ratio = median(beside) / median(alone)
    per_call = (median(beside) - median(alone)) / calls
    log(f"   ratio {ratio:.3f}: {per_call:+.1f} ns per syscall of a process that is not traced")
    return {"ratio": ratio, "per_call_ns": per_call, "alone": median(alone),
            "beside": median(beside)}


class Background:
    """A process for the length of a with-block; ready: a stderr line to wait for."""

    def __init__(self, cmd, ready=None, timeout=30.0):
        self.cmd, self.ready, self.timeout = cmd, ready, timeout

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        if self.ready:
            wait_for_stderr(self.proc, self.ready, self.timeout)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return False


def wait_for_stderr(proc, needle, timeout):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise BenchError(f"never saw {needle!r} from {' '.join(proc.args)}: {''.join(seen)[-500:]}")


def start_stop(runs):
    """Process start to the "tracing" line, and SIGINT to exit, on a sleeping
    target: the wait before tracing starts and the wait at the end."""
    log(f"\n== Start and stop: pageledger -j -q -p <a sleeping process>, {runs} runs")
    starts, stops = [], []
    for i in range(runs + 1):
        with Background(["sleep", "600"]) as sleeper:
            t0 = time.monotonic()
            proc = subprocess.Popen([PAGELEDGER, "-j", "-q", "-p", str(sleeper.pid)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            wait_for_stderr(proc, "tracing pid", 30)
            t1 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
            t2 = time.monotonic()
        if i:
            starts.append((t1 - t0) * 1e3)
            stops.append((t2 - t1) * 1e3)
        log(f"   {'warm-up' if i == 0 else f'run {i}/{runs}'}: start {(t1 - t0) * 1e3:.0f} ms, "
            f"stop {(t2 - t1) * 1e3:.0f} ms")
    return {"start_ms": median(starts), "stop_ms": median(stops)}


PROMETHEUS = shutil.which("prometheus")
MAXRSS_GOAL_MIB = 32.0


def prometheus_maxrss(seconds, timeout):
    """The tracer's own peak RSS (summary tracer.maxrss) on Debian's
    prometheus scraping itself on 127.0.0.1, with stacks on and a bounded
    query loop: a real Go server, stripped, 100 MB of binary to symbolize."""
    import urllib.request
    log(f"\n== Tracer memory: pageledger -j -q on prometheus scraping itself, {seconds:g} s of "
        f"queries on 127.0.0.1")
    with tempfile.TemporaryDirectory(prefix="pageledger-bench-prom-") as work:
        port = 19190
        with open(os.path.join(work, "p.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n"
                    f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={work}/p.yml",
                                 f"--storage.tsdb.path={work}/data",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if b"Ready" in urllib.request.urlopen(url + "/-/ready", timeout=1).read():
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise BenchError("prometheus did not become ready")
                    time.sleep(0.2)
            out = os.path.join(work, "trace.jsonl")
            tracer = subprocess.Popen([PAGELEDGER, "-j", "-q", "-o", out, "-p", str(prom.pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            wait_for_stderr(tracer, "tracing pid", timeout)
            end = time.monotonic() + seconds
            queries = 0
            while time.monotonic() < end:
                urllib.request.urlopen(url + "/api/v1/query?query=rate(go_gc_duration_seconds_sum[1m])",
                                       timeout=5).read()
                queries += 1
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=timeout)
            summary, _ = stream_summary(out)
        finally:
            prom.terminate()
            prom.wait()
    mib = summary["tracer"]["maxrss"] / 2**20
    log(f"   {queries} queries; tracer peak RSS {mib:.1f} MiB "
        f"({summary['events']} events, {summary['stacks_captured']} stacks)")
    return mib


def judge(results, lifecycle, maxrss_mib=None):
    """The goals, each with its measured figure: (verdict lines, all met)."""
    verdicts, met = [], True
    for r in results:
        goal = next((g for k, g in GOALS.items() if r["name"].startswith(k)), None)
        if goal is None:
            continue
        ratio = r["variants"][0]["ratio"]
        ok = ratio <= goal
        met &= ok
        verdicts.append(f"{r['name'].split(',')[0]} x{ratio:.3f} (goal x{goal:.2f}): "
                        f"{'PASS' if ok else 'MISS'}")
    if maxrss_mib is not None:
        ok = maxrss_mib <= MAXRSS_GOAL_MIB
        met &= ok
        verdicts.append(f"tracer RSS on prometheus {maxrss_mib:.1f} MiB (goal {MAXRSS_GOAL_MIB:.0f} "
                        f"MiB): {'PASS' if ok else 'MISS'}")
    if lifecycle:
        for key, what in (("start_ms", "start"), ("stop_ms", "stop")):
            ok = lifecycle[key] <= START_STOP_GOAL_MS
            met &= ok
            verdicts.append(f"{what} {lifecycle[key]:.0f} ms (goal {START_STOP_GOAL_MS:.0f} ms): "
                            f"{'PASS' if ok else 'MISS'}")
    return verdicts, met


SYMBENCH = os.path.join(ROOT, "build", "bench", "symbench")
BIG_GO = os.path.join(ROOT, "build", "go", "big-compile")
SYM_TARGET_MS = 200


def symbolization(runs, timeout):
    """Cold symbolization of a big Go binary: page cache dropped, a fresh
    symbolizer, 1000 addresses over its code. Median of runs."""
    log(f"\n== Cold symbolization: {os.path.relpath(BIG_GO, ROOT)}, 1000 addresses, "
        f"page cache dropped before each of {runs} runs")
    totals = []
    result = None
    for i in range(runs):
        subprocess.run(["sync"], check=False)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        out, _ = run([SYMBENCH, BIG_GO, "1000"], timeout)
        result = json.loads(out.strip().splitlines()[-1])
        totals.append(result["total_ms"])
        log(f"   run {i + 1}/{runs}: {result['total_ms']:.1f} ms "
            f"(first address {result['first_ms']:.1f} ms), {result['resolved']}/1000 resolved")
    result["median_ms"] = median(totals)
    return result


# ---- scale: attach, end and the tracer's memory, and churn ---------------------------

SCALE_CASES = [(25, 8192), (30000, 2048), (65000, 256)]  # (mappings, MiB resident)
ATTACH_TARGET_S = 1.0   # for 2 GiB in 30,000 mappings
END_TARGET_S = 0.3
MAXRSS_TARGET_MIB = 32
CHURN_D = 20


def tracer_maxrss_mib(path, cmd):
    """The tracer's own peak RSS, from its summary record (tracer.maxrss). Not wait4's
    ru_maxrss: for `-- CMD` that is the larger of the tracer and the command it started."""
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("type") == "summary":
                return rec["tracer"]["maxrss"] / (1 << 20)
    raise BenchError(f"no summary record with tracer.maxrss: {' '.join(cmd)}")


def traced_until(cmd, stop, timeout):
    """Runs pageledger cmd (its `-o os.devnull` becomes a file for the summary); stop(proc,
    started) decides when to send SIGINT (or None). Returns (seconds to "tracing", seconds
    from SIGINT or start to exit, the tracer's maxrss MiB, stderr)."""
    with tempfile.NamedTemporaryFile(prefix="pl-bench-", suffix=".jsonl") as out:
        cmd = [out.name if a == os.devnull else a for a in cmd]
        started, ended, _, err = run_traced_until(cmd, stop, timeout)
        return started, ended, tracer_maxrss_mib(out.name, cmd), err


def run_traced_until(cmd, stop, timeout):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    started = None
    lines = []
    try:
        for line in p.stderr:
            lines.append(line)
            if "tracing" in line:
                started = time.monotonic()
                break
        if started is None:
            raise BenchError(f"pageledger never started: {' '.join(cmd)}\n{tail(''.join(lines))}")
        sent = stop(p, started)
        rest = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        end = time.monotonic()
    except BaseException:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        raise
    if status:
        raise BenchError(f"pageledger exit status {status}: {' '.join(cmd)}\n{tail(rest)}")
    return started - t0, end - (sent or t0), ru.ru_maxrss / 1024, "".join(lines) + rest


def sigint_after(seconds):
    def stop(p, started):
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        return sent
    return stop


def scale(runs, timeout, flags):
    """manymaps targets: attach (start to "tracing"), end (SIGINT to exit) and maxrss,
    medians of runs; then mapchurn's -d and SIGINT endings."""
    log(f"\n== Scale: attach to manymaps N MIB (-p), SIGINT 1 s later; {runs} runs each")
    rows = []
    for n, mib in SCALE_CASES:
        target = subprocess.Popen([os.path.join(WORKLOADS, "manymaps"), str(n), str(mib)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            pid = json.loads(target.stdout.readline())["ready"]
            got = [traced_until([PAGELEDGER, "-j", "-q", "-o", os.devnull, "-p", str(pid)],
                                sigint_after(1.0), timeout) for _ in range(runs)]
        finally:
            target.send_signal(signal.SIGTERM)
            target.wait()
        row = {"n": n, "mib": mib, "attach": median([g[0] for g in got]),
               "end": median([g[1] for g in got]), "maxrss": max(g[2] for g in got)}
        rows.append(row)
        log(f"   {n} mappings, {mib} MiB: attach {row['attach']:.3f} s, end {row['end']:.3f} s, "
            f"maxrss {row['maxrss']:.1f} MiB")
        if (n, mib) == (30000, 2048) and row["attach"] > ATTACH_TARGET_S:
            flags.append(f"attach with 2 GiB in 30,000 mappings took {row['attach']:.3f} s "
                         f"(target <= {ATTACH_TARGET_S:g} s)")
        if row["end"] > END_TARGET_S:
            flags.append(f"end after SIGINT with {n} mappings took {row['end']:.3f} s "
                         f"(target <= {END_TARGET_S:g} s)")
        if row["maxrss"] > MAXRSS_TARGET_MIB:
            flags.append(f"maxrss with {n} mappings {row['maxrss']:.1f} MiB "
                         f"(target <= {MAXRSS_TARGET_MIB} MiB)")
    churn = []
    for threads in (1, 4):
        cmd = [os.path.join(WORKLOADS, "mapchurn"), str(threads), "0"]
        d = traced_until([PAGELEDGER, "-j", "-q", "-o", os.devnull, "-d", str(CHURN_D), "--"]
                         + cmd, lambda p, started: None, timeout)
        i = traced_until([PAGELEDGER, "-j", "-q", "-o", os.devnull, "--"] + cmd,
                         sigint_after(10.0), timeout)
        # -d counts from "tracing": the run's length past that is the end's cost.
        row = {"threads": threads, "d": d[1] - d[0], "sigint": i[1], "maxrss": max(d[2], i[2])}
        churn.append(row)
        log(f"   mapchurn, {threads} thread(s): -d {CHURN_D} ended after {row['d']:.2f} s, "
            f"SIGINT after {row['sigint']:.3f} s, maxrss {row['maxrss']:.1f} MiB")
        if row["d"] > CHURN_D + 1:
            flags.append(f"mapchurn {threads}: -d {CHURN_D} ended after {row['d']:.2f} s")
        if row["sigint"] > 1:
            flags.append(f"mapchurn {threads}: SIGINT took {row['sigint']:.3f} s")
    return rows, churn


def scale_markdown(rows, churn):
    lines = ["", "| Mappings | Resident | Attach | End (SIGINT) | Tracer maxrss |",
             "|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['mib']:,} MiB | {r['attach']:.3f} s | {r['end']:.3f} s | "
                     f"{r['maxrss']:.1f} MiB |")
    lines += ["", f"| mapchurn threads | `-d {CHURN_D}` ends after | SIGINT ends after | maxrss |",
              "|---:|---:|---:|---:|"]
    for c in churn:
        lines.append(f"| {c['threads']} | {c['d']:.2f} s | {c['sigint']:.3f} s | "
                     f"{c['maxrss']:.1f} MiB |")
    return "\n".join(lines)


def preflight():
    if os.geteuid() != 0:
        print("bench.py: must run as root: pageledger loads BPF programs "
              "(try: sudo make bench)", file=sys.stderr)
        sys.exit(1)
    missing = [p for p in [PAGELEDGER] + [os.path.join(WORKLOADS, w)
                                          for w in ("faultstorm", "madvstorm", "sysloop",
                                                    "manymaps", "mapchurn")]
               if not os.access(p, os.X_OK)]
    if missing:
        print("bench.py: not built: " + ", ".join(os.path.relpath(p, ROOT) for p in missing)
              + "\n  run `make bench` (or `make all workloads`) first", file=sys.stderr)
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description="pageledger overhead and event-rate benchmark")
    ap.add_argument("--runs", type=int, default=None,
                    help="interleaved runs per variant (default 7, --quick 3)")
    ap.add_argument("--quick", action="store_true",
                    help="fewer and smaller runs: a smoke check, not a measurement")
    ap.add_argument("--timeout", type=float, default=180.0,
                    help="seconds allowed for any one run (default 180)")
    ap.add_argument("--pin", action="store_true",
                    help="pin the workload to the last CPU and the tracer to CPU 0")
    ap.add_argument("--no-peers", action="store_true",
                    help="leave out bpftrace, strace and perf trace")
    ap.add_argument("--scale", action="store_true",
                    help="only the scale section: attach, end and maxrss at size, and churn")
    args = ap.parse_args()
    global PIN_WORKLOAD, PIN_TRACER
    if args.pin and (os.cpu_count() or 1) > 1:
        PIN_WORKLOAD = ["taskset", "-c", _LAST_CPU]
        PIN_TRACER = ["taskset", "-c", "0"]
    if args.runs is not None and args.runs < 1:
        ap.error("--runs must be at least 1")
    preflight()

    if args.quick:
        cfg = {"quick": True, "runs": args.runs or 3, "fault_mib": 64, "fault_rounds": 4,
               "madv_calls": 30000, "chunk_kib": 16, "ladder_s": 0.5,
               "rates": [20000, 100000, 400000, 0], "sys_calls": 200000, "prom_s": 3}
    else:
        cfg = {"quick": False, "runs": args.runs or 7, "fault_mib": 128, "fault_rounds": 8,
               "madv_calls": 200000, "chunk_kib": 16, "ladder_s": 2.0,
               "rates": [20000, 50000, 100000, 200000, 400000, 0], "sys_calls": 2000000,
               "prom_s": 15}

    started = time.monotonic()
    thp = ""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            thp = f.read().strip()
    except OSError:
        thp = "unknown"
    log(f"pageledger benchmark{' (--quick: a smoke check)' if args.quick else ''}: "
        f"Linux {platform.release()}, {os.cpu_count()} CPUs, THP {thp}")

    flags = []
    results = []
    steps = []
    sym = None
    if args.scale:
        try:
            rows, churn = scale(cfg["runs"] if args.runs else 3, args.timeout, flags)
        except BenchError as e:
            print(f"\nbench.py: error: {e}", file=sys.stderr)
            return 1
        log(scale_markdown(rows, churn))
        for f in flags:
            log(f"  - MISS: {f}")
        return 0
    others = []
    lifecycle = None
    maxrss_mib = None
    peers = [] if args.no_peers else [p for p in PEERS if shutil.which(p.split()[0])]
    try:
        with tempfile.TemporaryDirectory(prefix="pageledger-bench-") as tmp:
            runner = Runner(tmp, args.timeout)

            faults = cfg["fault_mib"] * 256 * cfg["fault_rounds"]
            fr = compare(runner,
                         f"fault storm, {cfg['fault_mib']} MiB x {cfg['fault_rounds']} rounds",
                         [os.path.join(WORKLOADS, "faultstorm"), str(cfg["fault_mib"]),
                          str(cfg["fault_rounds"])],
                         [("-j -q", False),
                          ("-j -q, page-fault probes skipped", False,
                           {"PAGELEDGER_SKIP_PROBES": FAULT_PATH_PROBES})]
                         + [(p, False, None, (), lambda c, p=p: PEERS[p](c, BPFTRACE_FAULTS))
                            for p in peers],
                         cfg["runs"], faults, "fault")
            results.append(fr)
            for v in fr["variants"][:1]:
                if v["page_faults"] < faults:
                    flags.append(f"fault storm, {v['label']}: summary counts {v['page_faults']} "
                                 f"page faults for {faults} pages touched")

            calls = cfg["madv_calls"]
            mr = compare(runner, f"madvise storm, {calls} x {cfg['chunk_kib']} KiB",
                         [os.path.join(WORKLOADS, "madvstorm"), str(calls),
                          str(cfg["chunk_kib"])],
                         [("-j -q", False), ("-j -o FILE", True),
                          ("-j -q --no-stacks", False, None, ["--no-stacks"])]
                         + [(p, False, None, (), lambda c, p=p: PEERS[p](c, BPFTRACE_CALLS))
                            for p in peers],
                         cfg["runs"], calls, "call")
            results.append(mr)
            check_streams(mr, flags)
            for v in mr["variants"]:
                for s in v["summaries"]:
                    if s["events"] < calls:
                        flags.append(f"madvise storm, {v['label']}: summary counts {s['events']} "
                                     f"events for {calls} madvise calls (lost {s['lost_events']})")
                        break
            # How fast the storm goes under full tracing: sizes the ladder's steps.
            ceiling = calls * 1e9 / mr["variants"][1]["median"]

            steps = ladder(runner, cfg["rates"], cfg["ladder_s"], cfg["chunk_kib"],
                           ceiling, flags)
            cost = untraced_cost(runner, cfg["runs"], cfg["sys_calls"])
            others.append(f"A process that is not traced pays x{cost['ratio']:.3f} "
                          f"({cost['per_call_ns']:+.1f} ns per syscall) while pageledger "
                          f"traces another: {cfg['sys_calls']} getppid calls, "
                          f"{fmt_s(cost['alone'])} alone, {fmt_s(cost['beside'])} beside it.")
            lifecycle = start_stop(cfg["runs"])
            if PROMETHEUS:
                maxrss_mib = prometheus_maxrss(cfg["prom_s"], args.timeout)
                others.append(f"Tracer peak RSS on prometheus scraping itself (stacks on): "
                              f"**{maxrss_mib:.1f} MiB**.")
            others.append(f"Start (process start to the \"tracing\" line) "
                          f"**{lifecycle['start_ms']:.0f} ms**, stop (SIGINT to exit) "
                          f"**{lifecycle['stop_ms']:.0f} ms**, medians on a sleeping target.")
            sym = symbolization(cfg["runs"], args.timeout)
            scaled = scale(1 if args.quick else 3, args.timeout, flags)
    except BenchError as e:
        print(f"\nbench.py: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench.py: interrupted", file=sys.stderr)
        return 130

    verdicts, met = judge(results, lifecycle, maxrss_mib)
    log(f"\n== Results ({time.monotonic() - started:.0f} s)\n")
    log(markdown(cfg, results, steps, verdicts, sym, others))
    log(scale_markdown(*scaled))
    if flags:
        log("\nFLAGGED:")
        for f in flags:
            log(f"  - {f}")
    if args.quick:
        log("\n(--quick: small runs, for a smoke check only; run without it to measure.)")
        return 0
    return 0 if met else 2


if __name__ == "__main__":
    sys.exit(main())
