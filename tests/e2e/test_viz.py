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


def released(svg):
    """The release markers, whatever their shape (a class's shape is its allocator's)."""
    return [el for el in svg.iter() if el.get("class") == "release"]


def marker_area(el):
    if el.tag == SVG + "circle":
        return 3.14159 * float(el.get("r")) ** 2
    if el.tag == SVG + "rect":
        return float(el.get("width")) * float(el.get("height"))
    raise AssertionError(f"no area for {el.tag}")


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_report_structure(suffix):
    t, text = traced_with_file("--report", suffix, [workload("demo")])
    svg = svg_of(text, suffix == ".html")
    # As wide as the window it is shown in; its height follows from the viewBox.
    assert svg.get("width") == "100%" and svg.get("height") is None
    assert svg.get("viewBox").startswith("0 0 1000 ")
    members = [p.get("data-member") for p in svg.iter(SVG + "polygon")
               if p.get("class") == "area"]
    assert members == ["anon", "file", "shmem"]
    # Each series has a point per poll, there and back.
    anon = next(p for p in svg.iter(SVG + "polygon") if p.get("data-member") == "anon")
    assert len(anon.get("points").split()) >= 2 * 5
    # One marker per releasing call of the program: DONTNEED, FREE, munmap.
    app = [c for c in released(svg) if c.get("data-class") == "app"]
    assert len(app) == 3, [c.get("data-class") for c in released(svg)]
    titles = {"".join(c.itertext()).split(",")[0]: c for c in app}
    assert set(titles) == {"madvise MADV_DONTNEED 32.0M", "madvise MADV_FREE 32.0M",
                           "munmap 64.0M"}, titles
    assert "".join(titles["madvise MADV_DONTNEED 32.0M"].itertext()).startswith(
        "madvise MADV_DONTNEED 32.0M, RSS -32.0M")
    # Marker area in proportion to the bytes named: the munmap named twice the advice's.
    dontneed, free, unmap = (marker_area(titles[k]) for k in (
        "madvise MADV_DONTNEED 32.0M", "madvise MADV_FREE 32.0M", "munmap 64.0M"))
    assert unmap == pytest.approx(2 * dontneed, rel=0.03) and free == pytest.approx(dontneed)
    # Filled where RSS was freed: DONTNEED and munmap freed 32M each, MADV_FREE nothing.
    freed = [el for el in svg.iter() if el.get("class") == "freed"]
    assert len([el for el in freed if el.get("fill") == titles["munmap 64.0M"].get("fill")]) == 2
    # The title: the command and the wall-clock start; the axis ends with the run.
    head = texts(svg)[0]
    assert head.startswith("pageledger: ") and head.endswith(
        f"build/workloads/demo (pid {t.records[0]['pid']})"), head
    assert any(x.startswith("started 20") for x in texts(svg))
    run_s = t.summary["duration_ns"] / 1e9
    end = next(x for x in texts(svg) if x.startswith("end "))
    assert float(end.split()[1]) == pytest.approx(run_s, abs=0.01), (end, run_s)
    ticks = [float(x) for x in texts(svg) if x.replace(".", "").isdigit()]
    assert ticks and max(ticks) <= run_s + 0.01, (ticks, run_s)
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


def screenshot(page, png, width):
    """A window 4:3, so that a standalone SVG (which fits the window) is held by its width."""
    subprocess.run([chromium(), "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", f"--window-size={width},{width * 3 // 4}",
                    page.as_uri()],
                   capture_output=True, timeout=TIMEOUT, check=True)


def near(px, rgb, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(px, rgb))


ANON_TINT = (0xa6, 0xce, 0xe3)  # the anon area
APP_GREEN = (0x00, 0x9e, 0x73)  # the program's release markers


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_report_renders_in_chromium_at_two_widths(suffix):
    """The picture follows the window: at 800 and at 1600 pixels it spans
    the width, the anon area and the markers are there, in their colours.
    PL_KEEP_SHOTS=DIR keeps the screenshots, to look at them."""
    from PIL import Image

    page = scratch(suffix)
    keep = os.environ.get("PL_KEEP_SHOTS")
    try:
        t = run_traced([workload("demo")], extra=["--report", str(page)])
        assert t.returncode == 0, t.stderr
        ends = []
        for width in (800, 1600):
            png = scratch(f"-{width}.png")
            try:
                screenshot(page, png, width)
                img = Image.open(png).convert("RGB")
                if keep:
                    shutil.copy(png, os.path.join(keep, f"report{suffix}-{width}.png"))
            finally:
                png.unlink(missing_ok=True)
            ends.append(check_screenshot(img, width))
    finally:
        page.unlink(missing_ok=True)
    assert ends[0] > 0.6 and ends[0] == pytest.approx(ends[1], abs=0.03), ends


def check_screenshot(img, width):
    pixels = list(img.getdata())
    background = Counter(pixels).most_common(1)[0][0]
    assert near(background, (255, 255, 255), 5), background
    drawn = [p for p in pixels if not near(p, background, 10)]
    assert len(drawn) > 0.05 * len(pixels), len(drawn)
    # Several real colors, not antialiasing noise: each covers 50+ pixels.
    colors = [c for c, n in Counter(drawn).items() if n >= 50]
    assert len(colors) >= 5, colors
    # The anon area is the biggest thing on the page; the app's markers are there too.
    assert sum(near(p, ANON_TINT, 12) for p in drawn) > 0.04 * len(pixels)
    assert sum(near(p, APP_GREEN, 30) for p in drawn) >= 30
    # It uses the page: the drawing spans most of the window, and the anon
    # area ends (with the run) at the same share of it at either width.
    w = img.size[0]
    assert w == width
    columns = {i % w for i, p in enumerate(pixels) if not near(p, background, 10)}
    assert max(columns) > 0.8 * w, (max(columns), w)
    anon_cols = {i % w for i, p in enumerate(pixels) if near(p, ANON_TINT, 12)}
    return max(anon_cols) / w
