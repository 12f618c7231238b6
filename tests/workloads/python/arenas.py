"""arenas.py THREADS ROUNDS: CPython builds and drops big lists of small
objects (str), so obmalloc maps 1 MiB arenas and gives the emptied ones
back. THREADS threads (1: the main one) each run ROUNDS rounds. Then it
prints the allocator's own arena counts (sys._debugmallocstats) as one JSON
line and exits at once, before finalization frees more arenas."""
import json
import os
import re
import sys
import tempfile
import threading


def rounds(n):
    for _ in range(n):
        x = [str(j) for j in range(300000)]
        del x


def arena_counts():
    """The counts _debugmallocstats writes to fd 2, read back from a file."""
    with tempfile.TemporaryFile() as f:
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode()
    counts = {}
    for key in ("allocated total", "reclaimed", "allocated current"):
        counts[key.replace(" ", "_")] = int(re.search(rf"# arenas {key}\s+=\s+([\d,]+)",
                                                      text).group(1).replace(",", ""))
    counts["arena_size"] = int(re.search(r"arenas \* ([\d,]+) bytes/arena", text)
                               .group(1).replace(",", ""))
    return counts


def main():
    threads, n = int(sys.argv[1]), int(sys.argv[2])
    workers = [threading.Thread(target=rounds, args=(n,)) for _ in range(threads - 1)]
    for w in workers:
        w.start()
    rounds(n)
    for w in workers:
        w.join()
    print(json.dumps({"op": "arenas", **arena_counts()}), flush=True)
    os._exit(0)


main()
