"""--perfetto and --report (issue 5): files drawn from a real run. The
Chrome JSON trace is parsed with a real JSON parser and held against the
JSON stream of the same run; the report is parsed as XML and rendered in
headless Chromium, whose screenshot must show the picture."""
import json
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from conftest import BUILD, MiB, TIMEOUT, run_traced, workload

SVG = "{http://www.w3.org/2000/svg}"
RSS_MEMBERS = ("anon", "file", "shmem", "swap")
SYSCALLS = {"mmap", "munmap", "madvise", "mremap", "brk", "process_madvise"}
REQUIRED = {
    "X": {"ph", "name", "pid", "tid", "ts", "dur", "cat", "args"},
    "C": {"ph", "name", "pid", "tid", "ts", "args"},
    "M": {"ph", "name", "pid", "tid", "args"},
    "i": {"ph", "name", "pid", "tid", "ts", "s"},
}


def scratch(suffix):
    return BUILD / f"e2e-viz-{os.getpid()}-{time.monotonic_ns()}{suffix}"


def traced_with_file(option, suffix, cmd):
    """The demo (or cmd) traced with -j and one file option; the file's text."""
    path = scratch(suffix)
    try:
        t = run_traced(cmd, extra=[option, str(path)])
        assert t.returncode == 0, t.stderr
        text = path.read_text()
    finally:
        path.unlink(missing_ok=True)
    return t, text


@pytest.fixture(scope="module")
def demo_trace():
    t, text = traced_with_file("--perfetto", ".json", [workload("demo")])
    return t, json.loads(text)


def test_perfetto_events_have_their_phase_keys(demo_trace):
    _, doc = demo_trace
    events = doc["traceEvents"]
    assert isinstance(events, list) and events
    for e in events:
        assert e["ph"] in REQUIRED, e
        assert REQUIRED[e["ph"]] <= e.keys(), e
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        if "ts" in e:
            assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
    phases = Counter(e["ph"] for e in events)
    assert phases["X"] >= 4 and phases["C"] >= 3 and phases["M"] >= 2, phases


def test_perfetto_names_the_process_and_every_thread(demo_trace):
    t, doc = demo_trace
    events = doc["traceEvents"]
    pid = t.records[0]["pid"]
    names = {(e["name"], e["pid"], e["tid"]): e["args"]["name"]
             for e in events if e["ph"] == "M"}
    assert ("process_name", pid, pid) in names
    for e in events:
        if e["ph"] == "X":
            assert ("thread_name", e["pid"], e["tid"]) in names, e


def test_perfetto_calls_match_the_json_stream(demo_trace):
    t, doc = demo_trace
    calls = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    stream = [r for r in t.records if r["type"] in SYSCALLS]
    assert len(calls) == len(stream)
    # Both sinks see the records in the same order.
    for e, r in zip(calls, stream):
        a = e["args"]
        assert e["cat"] == "syscall"
        assert (e["name"], e["pid"], e["tid"]) == (r["type"], r["pid"], r["tid"])
        assert (int(a["addr"], 16), a["len"], a["ret"]) == (r["addr"], r["len"], r["ret"])
        assert a.get("advice") == r.get("advice")
        assert e["dur"] == pytest.approx(r["duration_ns"] / 1000, abs=0.001)
        if r["rss_known"]:
            d = a["rss_delta"]
            assert {k: d[k] for k in RSS_MEMBERS} == r["rss_delta"]
            assert d["resident"] == d["anon"] + d["file"] + d["shmem"]
        if "caller" in r:
            assert a["caller"] == r["caller"]["class"]


def test_perfetto_madvise_carries_the_exact_rss_delta(demo_trace):
    _, doc = demo_trace
    madv = {e["args"]["advice"]: e for e in doc["traceEvents"]
            if e["ph"] == "X" and e["name"] == "madvise"}
    dontneed, free = madv["MADV_DONTNEED"], madv["MADV_FREE"]
    assert dontneed["args"]["len"] == 32 * MiB
    assert dontneed["args"]["rss_delta"]["anon"] == -32 * MiB
    assert dontneed["args"]["rss_delta"]["resident"] == -32 * MiB
    assert dontneed["args"]["caller"] == "app"
    # MADV_FREE gives nothing back at the call.
    assert free["args"]["rss_delta"]["resident"] == 0
    # The demo pauses 200 ms between them: the trace's clock shows it.
    assert free["ts"] - dontneed["ts"] >= 190_000


def test_perfetto_counters_are_consistent(demo_trace):
    t, doc = demo_trace
    counters = [e for e in doc["traceEvents"] if e["ph"] == "C"]
    rss = [e for e in counters if e["name"] == "rss"]
    totals = [e for e in counters if e["name"] == "page_faults"]
    rates = [e for e in counters if e["name"] == "page_faults_per_sec"]
    assert len(rss) >= 3 and len(totals) == len(rss) and len(rates) == len(rss) - 1
    for e in rss:
        assert set(e["args"]) == set(RSS_MEMBERS)
    summary = t.summary
    # Every poll lies under the peaks; the demo holds 64 MiB for 200 ms.
    peak = summary["rss"]["peak"]
    for e in rss:
        for m in RSS_MEMBERS:
            assert 0 <= e["args"][m] <= peak[m], (e, peak)
    assert max(e["args"]["anon"] for e in rss) >= 64 * MiB
    # Cumulative faults never drop, end at the summary's, and the rate is their slope.
    counts = [e["args"]["total"] for e in totals]
    assert counts == sorted(counts) and counts[-1] == summary["page_faults"]
    assert counts[-1] >= 64 * MiB // 4096
    for prev, cur, rate in zip(totals, totals[1:], rates):
        assert rate["ts"] == cur["ts"]
        slope = (cur["args"]["total"] - prev["args"]["total"]) / ((cur["ts"] - prev["ts"]) / 1e6)
        assert rate["args"]["rate"] == pytest.approx(slope, rel=1e-3, abs=0.1)
    # Unknown lazily freed bytes are left out, never written as 0.
    for e in counters:
        if e["name"] == "lazy_free_pending":
            assert e["args"]["bytes"] >= 0


# ---- --report ----------------------------------------------------------------

def svg_of(text, html):
    root = ET.fromstring(text)
    if not html:
        assert root.tag == SVG + "svg"
        return root
    assert root.tag == "{http://www.w3.org/1999/xhtml}html"
    svgs = list(root.iter(SVG + "svg"))
    assert len(svgs) == 1
    return svgs[0]


def texts(el):
    return ["".join(t.itertext()) for t in el.iter(SVG + "text")]


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_report_structure(suffix):
    t, text = traced_with_file("--report", suffix, [workload("demo")])
    svg = svg_of(text, suffix == ".html")
    members = [p.get("data-member") for p in svg.iter(SVG + "polygon")
               if p.get("class") == "area"]
    assert members == ["anon", "file", "shmem"]
    # Each series has a point per poll, there and back.
    anon = next(p for p in svg.iter(SVG + "polygon") if p.get("data-member") == "anon")
    assert len(anon.get("points").split()) >= 2 * 5
    # One marker per releasing call of the program: DONTNEED, FREE, munmap.
    releases = [c for c in svg.iter(SVG + "circle") if c.get("class") == "release"]
    app = [c for c in releases if c.get("data-class") == "app"]
    assert len(app) == 3, [c.get("data-class") for c in releases]
    titles = ["".join(c.itertext()) for c in app]
    assert any(s.startswith("madvise MADV_DONTNEED 32.0M, RSS -32.0M") for s in titles), titles
    legend = next(g for g in svg.iter(SVG + "g") if g.get("class") == "legend")
    legend_text = texts(legend)
    for label in ("anon", "file", "shmem", "app (3)"):
        assert label in legend_text, legend_text
    diagnosis = next(g for g in svg.iter(SVG + "g") if g.get("class") == "diagnosis")
    diag_text = " ".join(texts(diagnosis))
    assert "Diagnosis: resident" in diag_text
    assert "MADV_FREE'd, not yet reclaimed" in diag_text
    # The JSON summary's diagnosis and the picture's agree: the demo has exited,
    # and the per-range ledger saw its MADV_FREE'd half unmapped: none pending.
    d = t.summary["diagnosis"]
    assert d["source"] == "ledger" and "the ledger's figures" in diag_text
    assert d["lazy_free"] == 0 and "unknown" not in diag_text
    # Self-contained: nothing to fetch, nothing to run.
    assert "<script" not in text and "src=" not in text and "@import" not in text
    for el in svg.iter():
        for k, v in el.attrib.items():
            if k.endswith("href") or "url(" in v:
                assert v.startswith("#") or v == "url(#lazyhatch)", (k, v)


def chromium():
    for name in ("chromium-headless-shell", "chromium"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("no headless Chromium: make deps installs chromium-headless-shell")


def screenshot(page, png):
    subprocess.run([chromium(), "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", "--window-size=1000,620", page.as_uri()],
                   capture_output=True, timeout=TIMEOUT, check=True)


def near(px, rgb, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(px, rgb))


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_report_renders_in_chromium(suffix):
    from PIL import Image

    page, png = scratch(suffix), scratch(".png")
    try:
        t = run_traced([workload("demo")], extra=["--report", str(page)])
        assert t.returncode == 0, t.stderr
        screenshot(page, png)
        img = Image.open(png).convert("RGB")
        pixels = list(img.getdata())
    finally:
        page.unlink(missing_ok=True)
        png.unlink(missing_ok=True)
    background = Counter(pixels).most_common(1)[0][0]
    assert near(background, (255, 255, 255), 5), background
    drawn = [p for p in pixels if not near(p, background, 10)]
    assert len(drawn) > 0.05 * len(pixels), len(drawn)
    # Several real colors, not antialiasing noise: each covers 50+ pixels.
    colors = [c for c, n in Counter(drawn).items() if n >= 50]
    assert len(colors) >= 5, colors
    # The anon area (#4e79a7) is the biggest thing on the page; the app's
    # markers (#ffd700) are there too.
    assert sum(near(p, (0x4e, 0x79, 0xa7)) for p in drawn) > 0.05 * len(pixels)
    assert sum(near(p, (0xff, 0xd7, 0x00)) for p in drawn) >= 30
