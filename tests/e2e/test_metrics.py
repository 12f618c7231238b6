"""--metrics: the Prometheus exporter (issue 11, point 1), scraped by a real
Prometheus (Debian's package) on 127.0.0.1, and its figures held to the
kernel's: /proc/PID/status for RSS at a quiet moment, and the workload's
own releases for the released-bytes counter, to the byte."""
import json
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from test_install import bold_words

from conftest import (ROOT, MiB, PAGELEDGER, PROMETHEUS, TIMEOUT, Lines, Prometheus, http_get,
                      wait_for_line, wait_until, workload)

PROMTOOL = Path("/usr/bin/promtool")
RENDER_S = 0.2  # PL_METRICS_RENDER_NS: the exposition is at most this old, plus a poll


def status_kb(pid):
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"^{k}:\s+(\d+) kB", text, re.M).group(1)) * 1024
            for k in ("RssAnon", "RssFile", "RssShmem")}


def parse_exposition(text):
    """{(name, frozenset(labels)): value} from the text format, strictly."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-z_]+)\{(.*)\} (-?\d+)', line)
        assert m, line
        labels = frozenset(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        out[(m.group(1), labels)] = int(m.group(3))
    return out


def value(metrics, name, **labels):
    hits = [v for (n, ls), v in metrics.items()
            if n == name and set(labels.items()) <= set(ls)]
    assert len(hits) <= 1, (name, labels, hits)
    return hits[0] if hits else None


class Exporter:
    """pageledger -q --metrics 0 -p PID, and where it serves."""

    def __init__(self, pid, extra=()):
        self.proc = subprocess.Popen([str(PAGELEDGER), "-q", "--metrics", "0", *extra,
                                      "-p", str(pid)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = wait_for_line(self.proc.stderr, "metrics at")
        self.addr = re.search(r"http://(\S+)/metrics", line).group(1)
        wait_for_line(self.proc.stderr, "tracing pid")
        self.err = Lines(self.proc.stderr)

    def scrape(self):
        return http_get(f"http://{self.addr}/metrics")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode, out


class Scraper(Prometheus):
    """Prometheus scraping one target every second, asked through its HTTP API."""

    def samples(self, promql, window="30s"):
        """[(unix seconds, value)] of the one series promql[window] names."""
        q = urllib.parse.quote(f"{promql}[{window}]")
        doc = json.loads(http_get(f"http://127.0.0.1:{self.port}/api/v1/query?query={q}"))
        assert doc["status"] == "success", doc
        series = doc["data"]["result"]
        assert len(series) <= 1, series
        return [(float(t), float(v)) for t, v in series[0]["values"]] if series else []

    def scraped_after(self, promql, t_unix):
        """The value of the first sample Prometheus took after t_unix."""
        return wait_until(lambda: [v for t, v in self.samples(promql) if t > t_unix],
                          f"a sample of {promql} after {t_unix}")[0]


RELEASED = ('pageledger_released_bytes_total{class="app",syscall="madvise",'
            'advice="MADV_DONTNEED"}')


def released(prom, t_unix):
    """The workload's own MADV_DONTNEED releases, as Prometheus scraped them
    after t_unix: 0 while the series does not exist yet."""
    prom.scraped_after("pageledger_target_up", t_unix)
    later = [v for t, v in prom.samples(RELEASED) if t > t_unix]
    return later[-1] if later else 0


def assert_rss_matches_proc(prom, pid, t_unix):
    kernel = status_kb(pid)
    for member, key in (("anon", "RssAnon"), ("file", "RssFile"), ("shmem", "RssShmem")):
        got = prom.scraped_after(f'pageledger_rss_bytes{{member="{member}"}}', t_unix)
        assert got == kernel[key], (member, got, kernel)
    assert status_kb(pid) == kernel, "the target was not quiet"


@pytest.mark.parametrize("threads", [1, 4])
def test_prometheus_scrapes_exact_rss_and_released_bytes(threads):
    """A quiet target's RSS through PromQL equals /proc; the released counter
    grows by exactly what its threads (one at a time, each its own task)
    released; after the target exits the final figures stay up."""
    assert PROMETHEUS.exists(), "install Debian's prometheus (make deps)"
    mib = 16
    target = subprocess.Popen([workload("threads"), str(threads), str(mib)],
                              stdout=subprocess.PIPE, text=True)
    exporter = prom = None
    try:
        wait_for_line(target.stdout, "ready")
        exporter = Exporter(target.pid)
        prom = Scraper(exporter.addr)
        quiet = time.time() + RENDER_S
        assert_rss_matches_proc(prom, target.pid, quiet)
        before = released(prom, quiet)
        target.send_signal(signal.SIGUSR1)
        wait_for_line(target.stdout, "done")
        quiet = time.time() + RENDER_S
        assert_rss_matches_proc(prom, target.pid, quiet)
        assert released(prom, quiet) - before == threads * mib * MiB
        target.send_signal(signal.SIGUSR2)
        target.wait(timeout=TIMEOUT)
        exporter.err.wait_for(lambda seen: any("final metrics stay" in s for s in seen),
                              "the linger line")
        final = parse_exposition(exporter.scrape())
        assert value(final, "pageledger_target_up") == 0
        assert exporter.proc.poll() is None, "the exporter ended with its target"
        rc, _ = exporter.stop()
        assert rc == 0
    finally:
        if target.poll() is None:
            target.kill()
        if exporter and exporter.proc.poll() is None:
            exporter.proc.kill()
        if prom:
            prom.close()


def promtool_check(text):
    """promtool (Debian's prometheus package) holds the text to the format."""
    p = subprocess.run([str(PROMTOOL), "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=TIMEOUT)
    # It also lints names: only a format error is an error here.
    assert p.returncode == 0 or b"error while linting" not in p.stderr, p.stderr


def test_hostile_names_stay_valid_exposition(tmp_path):
    """The target's comm holds ESC, BEL and bytes that are not UTF-8: the
    labels carry them escaped, the text is valid UTF-8 and promtool parses it."""
    target = subprocess.Popen([workload("evilnames"), "--wait", str(tmp_path), "2", "30"],
                              stdout=subprocess.PIPE, text=True)
    exporter = None
    try:
        wait_for_line(target.stdout, "ready")
        exporter = Exporter(target.pid)
        target.send_signal(signal.SIGUSR1)
        wait_for_line(target.stdout, "holding")
        def released_shown():
            raw = urllib.request.urlopen(f"http://{exporter.addr}/metrics", timeout=10).read()
            return raw if b'class="app"' in raw else None
        raw = wait_until(released_shown, "the releases in the exposition")
        text = raw.decode("utf-8")  # strict: valid UTF-8 or this raises
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", text), "a raw control byte"
        assert 'comm="ev\\\\x1b[2Jil\\\\x07"' in text, text[:400]
        promtool_check(text)
        assert parse_exposition(text)
    finally:
        target.kill()
        target.wait()
        if exporter:
            exporter.stop()


def test_every_family_is_grouped_and_typed():
    """Each family's samples follow its own HELP and TYPE lines, once each:
    the format's rule, which Prometheus enforces."""
    target = subprocess.Popen([workload("threads"), "2", "4"], stdout=subprocess.PIPE,
                              text=True)
    exporter = None
    try:
        wait_for_line(target.stdout, "ready")
        exporter = Exporter(target.pid, extra=["-i", "0.5"])
        target.send_signal(signal.SIGUSR1)
        wait_for_line(target.stdout, "done")
        def with_balance():
            text = exporter.scrape()
            return text if "pageledger_balance_settled{" in text else None
        text = wait_until(with_balance, "a balance in the exposition")
        promtool_check(text)
        seen, current = set(), None
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                current = line.split()[2]
                assert current not in seen, f"{current} typed twice"
                seen.add(current)
            elif not line.startswith("#"):
                assert line.split("{")[0] == current, f"{line!r} outside its family"
        for family in ("pageledger_rss_bytes", "pageledger_released_bytes_total",
                       "pageledger_advised_bytes_total", "pageledger_calls_total",
                       "pageledger_page_faults_total", "pageledger_lazy_free_pending_bytes",
                       "pageledger_reclaimed_bytes_total", "pageledger_collapsed_bytes_total",
                       "pageledger_refaulted_bytes_total",
                       "pageledger_balance_difference_bytes", "pageledger_lost_events_total",
                       "pageledger_tracer_rss_bytes", "pageledger_go_heap_bytes"):
            assert family in seen, family
        # Every family served is documented, in bold, in the man page's METRICS section.
        man = (ROOT / "man/pageledger.8").read_text()
        documented = bold_words(man[man.index(".SH METRICS"):man.index(".SH EXIT STATUS")])
        assert sorted(seen - documented) == []
        m = parse_exposition(text)
        # glibc's thread exit advises its stacks away too: the app's own are 2 x 4 MiB.
        assert value(m, "pageledger_calls_total", syscall="madvise") >= 2
        assert value(m, "pageledger_advised_bytes_total", **{"class": "app"}) == 8 * MiB
        assert value(m, "pageledger_lost_events_total") == 0
        assert value(m, "pageledger_balance_difference_bytes", member="anon") == 0
        assert value(m, "pageledger_tracer_rss_bytes") > 0
    finally:
        target.send_signal(signal.SIGUSR2)
        target.wait(timeout=TIMEOUT)
        if exporter:
            exporter.stop()


def run_fail(args):
    return subprocess.run([str(PAGELEDGER), *args, "--", "/bin/true"], capture_output=True,
                          text=True, timeout=TIMEOUT)


@pytest.mark.parametrize("addr", ["", "abc", "70000", "1.2.3.4:", "::1:80", "[::1:80",
                                  "1.2.3.4:-1", "[]:80"])
def test_malformed_address_is_a_usage_error(addr):
    p = run_fail(["--metrics", addr])
    assert p.returncode == 2, p
    assert p.stderr.count("\n") == 1 and "invalid --metrics address" in p.stderr, p.stderr


def test_port_in_use_or_foreign_address_exits_1_before_tracing():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        for addr in (str(port), f"127.0.0.1:{port}", "192.0.2.1:9464", "no.such.host.:1"):
            p = run_fail(["--metrics", addr])
            assert p.returncode == 1, (addr, p)
            assert p.stderr.count("\n") == 1 and "--metrics" in p.stderr, (addr, p.stderr)
            assert "tracing" not in p.stderr


def test_bad_requests_get_error_statuses_and_tracing_goes_on():
    target = subprocess.Popen([workload("threads"), "1", "4"], stdout=subprocess.PIPE,
                              text=True)
    exporter = None
    try:
        wait_for_line(target.stdout, "ready")
        exporter = Exporter(target.pid)
        host, port = exporter.addr.rsplit(":", 1)

        def raw(request, read=True):
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall(request)
                return s.recv(200) if read else b""
        answer = raw(b"POST /metrics HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 405") and b"Allow: GET, HEAD" in answer, answer
        assert raw(b"GET /other HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404")
        assert raw(b"GET\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert raw(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000).startswith(b"HTTP/1.1 431")
        assert raw(b"HEAD /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 200")
        assert raw(b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 200")
        # Clients that say nothing, more than the endpoint reads at once, hold
        # only their own slots: a scrape is answered at once (one at a time,
        # each idle client would hold it 2 s, 40 s in all).
        idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(20)]
        try:
            t0 = time.monotonic()
            text = exporter.scrape()
            assert time.monotonic() - t0 < 2, time.monotonic() - t0
        finally:
            for c in idle:
                c.close()
        target.send_signal(signal.SIGUSR1)
        wait_for_line(target.stdout, "done")
        def advised_all():
            m = parse_exposition(exporter.scrape())
            return m if value(m, "pageledger_advised_bytes_total", **{"class": "app"}) == 4 * MiB \
                else None
        m = wait_until(advised_all, "the thread's 4 MiB advised")
        # The four refused, plus the idle clients given up (four for want of a
        # slot, the rest at their deadline, or when they closed).
        assert value(m, "pageledger_scrapes_refused_total") >= 4 + 4
        assert value(m, "pageledger_scrapes_total") >= 2  # HEAD and GET of /metrics
    finally:
        target.send_signal(signal.SIGUSR2)
        target.wait(timeout=TIMEOUT)
        if exporter:
            assert exporter.stop()[0] == 0


def test_a_run_we_end_does_not_wait_for_ctrl_c():
    """--until-rss-above ends the run: the target is stopped by us, not gone by
    itself, so there is no final-figures wait, and the exit is 0."""
    p = subprocess.run([str(PAGELEDGER), "-q", "--metrics", "0", "--until-rss-above", "1",
                        "--", "sleep", "30"], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert "final metrics stay" not in p.stderr
