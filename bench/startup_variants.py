#!/usr/bin/env python3
"""Start-up and memory of the runner under different JVM options (VMRUNNER_JAVA_OPTS).

    python3 bench/startup_variants.py [--runs N] [--variant 'name=OPTS' ...]

An experiment behind the suggestions in bench/README.md, not part of the benchmark proper.
For each variant, interleaved round-robin so that machine noise hits all alike: launch
bin/vmrunner with the guest config, time launch -> "is running", read the JVM's RSS/PSS one
second later, then SIGKILL the runner and its QEMU (no guest boot, no graceful stop).
A variant "appcds" is added when its archive can be made: one run with
-XX:ArchiveClassesAtExit (JDK 17 dynamic CDS) that boots the guest and stops it with SIGTERM.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the worktree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same directory)

DEFAULT_VARIANTS = [
    "default=",
    "Xms16m=-Xms16m",
    "Xshare:off=-Xshare:off",
]


def start_once(b, opts, r):
    b.clean()
    env = dict(os.environ, VMRUNNER_JAVA_OPTS=opts)
    t0 = time.monotonic()
    p = b.procs.popen([bench.RUNNER, "-c", b.config, "--templates-dir", b.templates],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE, env=env, start_new_session=True)
    out = bench.LineLog(p.stderr)
    qemu_pid = None
    try:
        t, m = out.wait_for(r"is running \(QEMU pid (\d+), (\d+) ms", bench.T_RUNNING,
                            "'is running' log line")
        qemu_pid = int(m.group(1))
        b.procs.add_foreign(qemu_pid)
        r.setdefault("start", []).append((t - t0) * 1000)
        time.sleep(1.0)
        rss, pss = bench.smaps_rollup(p.pid)
        r.setdefault("rss", []).append(rss)
        r.setdefault("pss", []).append(pss)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        if qemu_pid is not None:
            bench.kill_if(b.procs.ours(qemu_pid), qemu_pid)
            bench.wait_gone(qemu_pid, 5)
        b.clean()


def make_archive(b, path):
    """One full run (boot, SIGTERM) with -XX:ArchiveClassesAtExit; True if the archive exists."""
    b.clean()
    env = dict(os.environ, VMRUNNER_JAVA_OPTS=f"-XX:ArchiveClassesAtExit={path} -Xlog:cds=off")
    p = b.procs.popen([bench.RUNNER, "-c", b.config, "--templates-dir", b.templates],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE, env=env, start_new_session=True)
    out = bench.LineLog(p.stderr)
    try:
        out.wait_for(r"is running", bench.T_RUNNING, "'is running' log line")
        b.wait_serial("VMRUNNER-GUEST: booted", bench.T_BOOT, lambda: p.poll() is None)
        os.kill(p.pid, signal.SIGTERM)
        p.wait(bench.T_STOP)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        for pid in bench.stray_pids(b.work):
            bench.kill_if(True, pid)
        b.clean()
    return os.path.exists(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--variant", action="append", help="name=JVM options (repeatable)")
    ap.add_argument("--no-appcds", action="store_true")
    args = ap.parse_args()
    args.keep = False
    args.idle_seconds = 0
    b = bench.Bench(args)
    import atexit
    atexit.register(b.cleanup)
    b.setup()
    variants = [v.split("=", 1) for v in (args.variant or DEFAULT_VARIANTS)]
    if not args.no_appcds:
        jsa = os.path.join(b.work, "vmrunner-app.jsa")
        if make_archive(b, jsa):
            variants.append(["appcds", f"-XX:SharedArchiveFile={jsa} -Xlog:cds=off"])
            variants.append(["appcds+Xms16m", f"-XX:SharedArchiveFile={jsa} -Xlog:cds=off -Xms16m"])
        else:
            print("(could not make a CDS archive; appcds variants skipped)", file=sys.stderr)
    results = {name: {} for name, _ in variants}
    failures = []
    for i in range(args.runs + 1):          # round 0 is a discarded warm-up
        for name, opts in variants:
            r = {} if i == 0 else results[name]
            try:
                start_once(b, opts, r)
            except bench.Failure as e:
                failures.append(f"{name}: {str(e).splitlines()[0]}")
        print(f"round {i} done", file=sys.stderr, flush=True)
    print(f"runs per variant: {args.runs} (+1 warm-up), interleaved; medians [min..max]")
    print(f"{'variant':<16} {'start ms':>22} {'RSS MiB':>20} {'PSS MiB':>20}  options")
    for name, opts in variants:
        r = results[name]
        cells = []
        for key, digits in (("start", 0), ("rss", 1), ("pss", 1)):
            s = bench.stats(r.get(key, []))
            cells.append("-" if s is None else
                         f"{s[0]:.{digits}f} [{s[1]:.{digits}f}..{s[2]:.{digits}f}]")
        print(f"{name:<16} {cells[0]:>22} {cells[1]:>20} {cells[2]:>20}  {opts or '(none)'}")
    for f in failures:
        print("FAILED " + f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
