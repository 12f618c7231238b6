"""make install (issue 5): the binary, the scripts and the man page land
under PREFIX (inside DESTDIR), with the right modes; the installed binary
runs, the installed man page renders without warnings and documents every
long option that --help lists, and the installed scripts find the installed
binary with nothing else to go on."""
import json
import os
import re
import signal
import stat
import subprocess

import jsonschema
import pytest

from conftest import ROOT, TIMEOUT, MiB, run_traced, wait_for_line, workload

PREFIX = "/opt/pageledger-test"
SCRIPTS = ["why-rss-high", "compare-madvise-modes"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    destdir = tmp_path_factory.mktemp("destdir")
    p = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "install",
                        f"DESTDIR={destdir}", f"PREFIX={PREFIX}"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return destdir / PREFIX.lstrip("/")


def plain_env():
    """No $PAGELEDGER and nothing of ours on PATH: only the install layout helps."""
    env = {k: v for k, v in os.environ.items() if k != "PAGELEDGER"}
    env["PATH"] = "/usr/bin:/bin"
    return env


def test_files_and_modes(installed):
    expect = {"sbin/pageledger": 0o755, "share/man/man8/pageledger.8": 0o644,
              "share/pageledger/pageledger.schema.json": 0o644}
    expect.update({f"sbin/pageledger-{s}": 0o755 for s in SCRIPTS})
    for rel, mode in expect.items():
        f = installed / rel
        assert f.is_file(), f
        assert stat.S_IMODE(f.stat().st_mode) == mode, (rel, oct(f.stat().st_mode))
    assert (installed / "sbin/pageledger").read_bytes() == (ROOT / "build/pageledger").read_bytes()
    for s in SCRIPTS:
        assert (installed / f"sbin/pageledger-{s}").read_text() == (ROOT / "scripts" / s).read_text()
    assert (installed / "share/man/man8/pageledger.8").read_text() == \
        (ROOT / "man/pageledger.8").read_text()
    assert (installed / "share/pageledger/pageledger.schema.json").read_text() == \
        (ROOT / "schema/pageledger.schema.json").read_text()


def test_installed_help_runs(installed):
    p = subprocess.run([str(installed / "sbin/pageledger"), "--help"], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert "Usage: pageledger" in p.stdout and "--pid" in p.stdout


def test_installed_man_page_renders_without_warnings(installed):
    page = installed / "share/man/man8/pageledger.8"
    p = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True,
                       timeout=TIMEOUT, env=dict(os.environ, MANWIDTH="80", MANPAGER="cat"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "PAGELEDGER(8)" in p.stdout and "EXIT STATUS" in p.stdout
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", p.stderr


def long_options(help_text):
    """The long options of --help's option list (not its examples' --port)."""
    return sorted(set(re.findall(r"^ {2,}(?:-\w, )?--([a-z][a-z0-9-]*)", help_text, re.M)))


def installed_help(installed):
    return subprocess.run([str(installed / "sbin/pageledger"), "--help"],
                          capture_output=True, text=True, timeout=TIMEOUT).stdout


def option_tags(man_src):
    """The tag lines of the OPTIONS section: the line after each .TP."""
    section = man_src.split("\n.SH OPTIONS\n", 1)[1].split("\n.SH ", 1)[0]
    lines = section.splitlines()
    return [lines[i + 1] for i, line in enumerate(lines[:-1]) if line == ".TP"]


def in_man_page(man_src, option):
    """Documented under OPTIONS: a .TP entry whose tag names --option. groff
    source spells it \\-\\-name, with \\- for each hyphen."""
    spelled = re.escape("\\-\\-" + option.replace("-", "\\-")) + r"(?![a-z0-9]|\\-)"
    return any(re.search(spelled, tag) for tag in option_tags(man_src))


def test_every_long_option_in_help_is_in_the_man_page(installed):
    options = long_options(installed_help(installed))
    man_src = (installed / "share/man/man8/pageledger.8").read_text()
    assert {"pid", "duration", "json", "output", "quiet", "ringbuf-size", "stacks",
            "no-stacks", "interval", "verbose", "help", "top", "no-top", "perfetto", "report",
            "until-rss-below", "until-rss-above"} <= set(options), options
    missing = [o for o in options if not in_man_page(man_src, o)]
    assert not missing, f"long options in --help but not in the man page: {missing}"


def test_installed_why_rss_high_finds_the_installed_binary(installed):
    target = subprocess.Popen([workload("memops"), "--wait", "free-hold", "16"],
                              stdout=subprocess.PIPE, text=True)
    try:
        wait_for_line(target.stdout, "ready")
        target.send_signal(signal.SIGUSR1)
        wait_for_line(target.stdout, "holding")
        p = subprocess.run([str(installed / "sbin/pageledger-why-rss-high"), "-j",
                            str(target.pid), "1"], capture_output=True, text=True,
                           timeout=TIMEOUT, env=plain_env())
    finally:
        target.send_signal(signal.SIGUSR2)
        target.wait(timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert 14 * MiB <= d["lazy_free"] <= 16 * MiB, d


def test_installed_compare_finds_the_installed_binary(installed):
    p = subprocess.run([str(installed / "sbin/pageledger-compare-madvise-modes"), "-j", "--",
                        "/bin/true"], capture_output=True, text=True, timeout=TIMEOUT,
                       env=plain_env())
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert set(r) == {"madvdontneed=0", "madvdontneed=1"}
    assert all(side["exit_code"] == 0 and side["resident_end"] >= 0 for side in r.values())


def test_installed_script_reports_its_own_name(installed):
    p = subprocess.run([str(installed / "sbin/pageledger-why-rss-high")], capture_output=True,
                       text=True, timeout=TIMEOUT, env=plain_env())
    assert p.returncode == 2
    assert p.stderr.startswith("pageledger-why-rss-high: usage: pageledger-why-rss-high")


def bold_words(roff):
    """Every word the page sets in bold (.B, .BR, .RB or \\fB...\\fR)."""
    words = set()
    for ln in roff.splitlines():
        m = re.match(r"\.(?:B|BR|RB) (.*)", ln)
        parts = re.findall(r'"[^"]*"|\S+', m.group(1)) if m else []
        parts += re.findall(r"\\fB(.*?)\\f[RP]", ln)
        words |= {p.strip('"').strip("(),;:.") for p in parts}
    return words


def field_names(value, under=""):
    """Every key in a JSON value, nested; the advice names keying "advised" are data."""
    if isinstance(value, list):
        return set().union(*(field_names(v, under) for v in value)) if value else set()
    if not isinstance(value, dict) or under == "advised":
        return set()
    return set(value) | set().union(*(field_names(v, k) for k, v in value.items()))


def test_man_page_documents_every_summary_field():
    """Issue 16: every field of the summary record, at any depth, is named in
    bold in the man page's OUTPUT section. Two runs, so the Go-only fields
    (the diagnosis's Go heap split, the balance's go_heap) are there too."""
    man = (ROOT / "man/pageledger.8").read_text()
    output = bold_words(man[man.index(".SH OUTPUT"):man.index(".SH EXIT STATUS")])
    demo = run_traced([workload("demo")])
    go = run_traced([str(ROOT / "build/go/scavenge"), "-mb", "16", "-hold", "30s"],
                    extra=["-d", "3"])
    assert demo.returncode == 0 and go.returncode == 0, demo.stderr + go.stderr
    assert go.summary["diagnosis"]["go_heap"], go.summary["diagnosis"]
    fields = field_names(demo.summary) | field_names(go.summary)
    assert len(fields) > 100, fields
    assert sorted(fields - output) == []


def test_schema_is_the_one_its_script_writes_and_is_strict():
    """schema/pageledger.schema.json is schema/mkschema.py's output (they never
    drift), a valid 2020-12 schema that names every record type the README's
    table lists, and it refuses a field it does not name."""
    made = subprocess.run(["/usr/bin/python3", str(ROOT / "schema/mkschema.py")],
                          capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout
    committed = (ROOT / "schema/pageledger.schema.json").read_text()
    assert made == committed
    schema = json.loads(committed)
    jsonschema.Draft202012Validator.check_schema(schema)
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| type | when | fields |"):]
    table = table[:table.index("\n\n")]
    listed = set(re.findall(r"^\| `([a-z_]+)`[^|]*\|", table, re.M))
    listed |= {"mmap", "munmap", "madvise", "mremap", "brk", "process_madvise"}
    assert listed <= set(schema["properties"]["type"]["enum"]), listed
    exit_rec = {"type": "exit", "ts_ns": 1, "pid": 1, "tid": 0, "wait_status": 0,
                "rss": {"anon": 0, "file": 0, "shmem": 0, "swap": 0, "resident": 0}}
    v = jsonschema.Draft202012Validator(schema)
    assert v.is_valid(exit_rec)
    assert not v.is_valid({**exit_rec, "surprise": 1})
    assert not v.is_valid({**exit_rec, "pid": "1"})
    assert not v.is_valid({k: x for k, x in exit_rec.items() if k != "rss"})
