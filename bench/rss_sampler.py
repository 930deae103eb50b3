#!/usr/bin/env python3
"""Sample the resident memory of process trees until SIGTERM (or --max
seconds): every INTERVAL seconds, for each NAME=PID[,PID...], the RSS summed
over the tree of each PID, the largest of those trees counted.  On exit,
write "NAME MAX_RSS_KB MAX_PROCS" lines to OUT.

usage: rss_sampler.py OUT INTERVAL MAXSECS NAME=PID[,PID...]...
"""
import os
import signal
import sys
import time


def children(pid):
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(pid):
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += children(p)
    return seen


def main():
    out, interval, maxsecs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    groups = {}
    for arg in sys.argv[4:]:
        name, pids = arg.split("=", 1)
        groups[name] = [int(p) for p in pids.split(",") if p]
    best = {name: [0, 0] for name in groups}
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    t0 = time.monotonic()
    while not stop and time.monotonic() - t0 < maxsecs:
        for name, roots in groups.items():
            for root in roots:
                pids = tree(root)
                kb = sum(rss_kb(p) for p in pids)
                b = best[name]
                b[0] = max(b[0], kb)
                b[1] = max(b[1], len(pids))
        time.sleep(interval)
    with open(out, "w") as f:
        for name, (kb, n) in best.items():
            f.write(f"{name} {kb} {n}\n")


main()
