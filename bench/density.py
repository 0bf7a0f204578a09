#!/usr/bin/env python3
"""Memory of many runners of one installation on one node: PSS alone and per runner with N.

    python3 bench/density.py [--runners 10] [--settle 3] [--idle-seconds 5] [--keep]

What a node with many VM pods pays per VM for the runner: the JVMs of one installation share
libjvm.so, the jars and the class archive (CDS/AOT) pages, which PSS splits between them. Each
runner gets its own VM: the built-in standard template, BIOS, no disk, no network, TCG (nothing
to boot, so QEMU idles in the firmware). First one runner alone: its RSS/PSS after --settle
seconds. Then N-1 more are started, one after the other (each until 'is running'), and after
--settle seconds every runner's RSS/PSS is read, then their CPU time over an idle window. Last,
all get SIGTERM; the stop (powerdown timeout 1 s: no guest presses the button) and the exit codes
are reported. Figures only; never passes or fails. VMRUNNER_BENCH_ROOT and VMRUNNER_JAVA_OPTS
work as in bench.py.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # no bench/__pycache__ in the worktree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same directory)


class Density:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="vmrunner-density.")
        self.procs = bench.Processes(self.work)
        self.env = dict(os.environ)
        if bench.IMAGE_ROOT:
            self.env.pop("JAVA_HOME", None)
        self.runners = []   # (popen, LineLog, qemu pid)

    def config(self, i, http=None):
        d = os.path.join(self.work, f"vm{i}")
        os.makedirs(d)
        path = os.path.join(d, "config.yaml")
        with open(path, "w") as f:
            f.write(f'''"/Runner":
  dataDir: {d}/data
  runtimeDir: {d}/run
  vm:
    name: density{i}
    firmware: bios
    accelerator: tcg
    cpuModel: max
    maximumRam: 256M
    powerdownTimeout: 1
    network: []
''' + (f"  http: 127.0.0.1:{http}\n" if http else ""))
        return path

    def start(self, i, http=None):
        p = self.procs.popen([bench.RUNNER, "-c", self.config(i, http), "--templates-dir",
                              os.path.join(self.work, "no-templates")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=self.env, start_new_session=True)
        out = bench.LineLog(p.stderr)
        _, m = out.wait_for(r"is running \(QEMU pid (\d+)", bench.T_RUNNING, "'is running'")
        qemu = int(m.group(1))
        self.procs.add_foreign(qemu)
        self.runners.append((p, out, qemu))

    def memory(self):
        return [bench.smaps_rollup(p.pid) for p, _, _ in self.runners]

    def scrape(self, port):
        """GET /status and /metrics once, as a probe and a Prometheus scrape would."""
        for path in ("/status", "/metrics"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                r.read()

    def stop_all(self):
        t0 = time.monotonic()
        for p, _, _ in self.runners:
            os.kill(p.pid, signal.SIGTERM)
        codes = []
        for p, _, _ in self.runners:
            try:
                codes.append(p.wait(bench.T_STOP))
            except subprocess.TimeoutExpired:
                codes.append(None)
        return (time.monotonic() - t0) * 1000, codes

    def cleanup(self):
        self.procs.kill_all()
        for pid in bench.stray_pids(self.work):
            bench.kill_if(True, pid)
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def mib(values):
    return f"{statistics.mean(values):6.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runners", type=int, default=10)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--idle-seconds", type=float, default=5.0)
    ap.add_argument("--http", type=int, metavar="PORT",
                    help="also measure one runner alone with the HTTP endpoints on PORT "
                         "(/status and /metrics fetched once), after the one without")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    d = Density(args)
    try:
        load = bench.loadavg()
        d.start(0)
        time.sleep(args.settle)
        (rss1, pss1), = d.memory()
        if args.http:
            d.stop_all()
            d.runners.clear()
            d.start(args.runners, http=args.http)
            d.scrape(args.http)
            time.sleep(args.settle)
            (rss_h, pss_h), = d.memory()
            d.stop_all()
            d.runners.clear()
            d.start(args.runners + 1)   # the first of the N again, without HTTP
            time.sleep(args.settle)
        for i in range(1, args.runners):
            d.start(i)
        time.sleep(args.settle)
        mem = d.memory()
        c0 = [bench.cpu_ms(p.pid) for p, _, _ in d.runners]
        time.sleep(args.idle_seconds)
        c1 = [bench.cpu_ms(p.pid) for p, _, _ in d.runners]
        stop_ms, codes = d.stop_all()
        rss, pss = [m[0] for m in mem], [m[1] for m in mem]
        where = f"image {bench.IMAGE_ROOT}" if bench.IMAGE_ROOT else "host"
        print(f"runner JVMs of one installation ({where}); "
              f"VMRUNNER_JAVA_OPTS={os.environ.get('VMRUNNER_JAVA_OPTS') or '(unset)'}; "
              f"JAVA_HOME={d.env.get('JAVA_HOME') or '(unset)'}")
        print(f"1 runner alone:        RSS {rss1:6.1f} MiB  PSS {pss1:6.1f} MiB")
        if args.http:
            print(f"1 runner alone, HTTP:  RSS {rss_h:6.1f} MiB  PSS {pss_h:6.1f} MiB  "
                  f"(--http, /status and /metrics fetched once)")
        print(f"{args.runners} runners, per runner: RSS {mib(rss)} MiB  PSS {mib(pss)} MiB  "
              f"(PSS min {min(pss):.1f}, max {max(pss):.1f}; sum {sum(pss):.0f} MiB)")
        idle = [b - a for a, b in zip(c0, c1)]
        print(f"idle CPU over {args.idle_seconds:g} s, per runner: mean {statistics.mean(idle):.1f} ms, "
              f"max {max(idle):.0f} ms")
        print(f"SIGTERM to all -> all exited: {stop_ms:.0f} ms (powerdown timeout 1 s); "
              f"exit codes {sorted(set(codes), key=str)}")
        print(f"1-min load average at the start: {load:.2f}")
    finally:
        d.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
