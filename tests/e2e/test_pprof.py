"""--pprof FILE (issue 11, point 3): a gzipped profile.proto, read back by
`go tool pprof` from Debian's golang-go. Its four sample types sum, to the
byte, to the JSON stream of the same run; the top entry by released bytes
is the workload's own release site."""
import re
import subprocess

from conftest import TIMEOUT, MiB, run_traced, workload

CALL_TYPES = {"mmap", "munmap", "madvise", "mremap", "brk", "process_madvise"}
RELEASING = {"MADV_DONTNEED", "MADV_FREE", "MADV_REMOVE", "MADV_PAGEOUT", "MADV_COLD",
             "MADV_DONTNEED_LOCKED"}


def pprof(*args):
    p = subprocess.run(["go", "tool", "pprof", *args], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    return p.stdout


def raw_samples(path):
    """The profile's samples as read by pprof -raw: (values by type, location ids)."""
    text = pprof("-raw", str(path))
    head = text.index("Samples:\n")
    lines = text[head:].splitlines()
    types = [t.split("/")[0] for t in lines[1].replace("[dflt]", "").split()]
    samples = []
    for line in lines[2:]:
        m = re.match(r"\s+([\d ]+):\s*([\d ]*)$", line)
        if not m:
            break
        samples.append((dict(zip(types, map(int, m.group(1).split()))), m.group(2).split()))
    return types, samples


def expected(trace):
    calls = [r for r in trace.records if r["type"] in CALL_TYPES and r["caller"]["frames"]]
    released = sum(max(0, -sum(r["rss_delta"][m] for m in ("anon", "file", "shmem")))
                   for r in calls)
    mapped = sum(r["len"] for r in calls if r["type"] == "mmap" and r["ret"] >= 0)
    advised = sum(r["len"] for r in calls if r.get("advice") in RELEASING and r["ret"] == 0)
    return {"calls": len(calls), "released": released, "mapped": mapped, "advised": advised}


def test_pprof_sums_to_the_stream_under_three_releasing_threads(tmp_path):
    path = tmp_path / "rss.pb.gz"
    t = run_traced([workload("racers"), "3", "60"], extra=["--pprof", str(path)])
    assert t.returncode == 0, t.stderr
    types, samples = raw_samples(path)
    assert types == ["calls", "advised", "released", "mapped"]
    got = {k: sum(s[0][k] for s in samples) for k in types}
    assert got == expected(t)
    assert got["released"] == t.summary["total"]["rss_released"]
    # One sample per distinct stack.
    stacks = [tuple(s[1]) for s in samples]
    assert len(stacks) == len(set(stacks))


def test_pprof_top_is_the_workloads_site(tmp_path):
    path = tmp_path / "rss.pb.gz"
    t = run_traced([workload("memops"), "dontneed", "8"], extra=["--pprof", str(path)])
    assert t.returncode == 0, t.stderr
    top = pprof("-top", "-sample_index=released", str(path))
    rows = [ln.split() for ln in top.splitlines() if re.match(r"\s+[\d.]+[kMG]?B\s", ln)]
    assert rows and rows[0][-1] == "scenario_advise", top
    # Exact, from the raw samples: the site's released bytes are the madvise's 8 MiB.
    types, samples = raw_samples(path)
    assert sum(s[0]["released"] for s in samples) == expected(t)["released"]
    assert max(s[0]["released"] for s in samples) == 8 * MiB
    traces = pprof("-traces", "-sample_index=released", str(path))
    assert "scenario_advise" in traces
