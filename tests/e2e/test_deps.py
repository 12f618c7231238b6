"""A light first command (issue 16): make demo installs only what the build
and the demo need; make test installs the rest. The lists are read from
scripts/deps.sh itself, and the packages that provide what the build uses
are looked up on this machine."""
import shutil
import subprocess

from conftest import ROOT

DEPS = ROOT / "scripts" / "deps.sh"
# Packages that only the tests, the fuzzers or the benchmark use.
TEST_ONLY = {"chromium-headless-shell", "python3-pil", "tmux", "golang-go", "libjemalloc2",
             "libjemalloc-dev", "libgoogle-perftools-dev", "libcmocka-dev", "python3-pytest",
             "jq", "man-db", "groff-base", "libclang-rt-14-dev", "llvm", "pkg-config"}


def listed(which):
    p = subprocess.run([str(DEPS), "--list", which], capture_output=True, text=True,
                       check=True, timeout=30)
    return p.stdout.split()


def owner(path):
    """The Debian package a file on this machine comes from."""
    p = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.split(":")[0]


def test_demo_list_has_no_test_only_package():
    demo, everything = set(listed("demo")), set(listed("all"))
    assert demo < everything
    assert not demo & TEST_ONLY, demo & TEST_ONLY
    assert TEST_ONLY <= everything  # the tests still get all of theirs


def test_demo_list_is_what_the_build_uses():
    """The headers and tools the Makefile builds pageledger and the demo with
    come from packages on the demo list."""
    demo = set(listed("demo"))
    for header in ("/usr/include/bpf/libbpf.h", "/usr/include/libelf.h", "/usr/include/zlib.h"):
        assert owner(header) in demo, header
    for tool, package in (("bpftool", "bpftool"), ("clang", "clang"), ("make", "make")):
        assert shutil.which(tool), tool
        assert package in demo
    assert "gcc" in demo


def test_make_demo_asks_for_the_demo_list_only():
    demo = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60).stdout.splitlines()
    assert "scripts/deps.sh demo" in demo, demo
    assert "scripts/deps.sh all" not in demo
    test = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60).stdout.splitlines()
    assert "scripts/deps.sh all" in test, test
