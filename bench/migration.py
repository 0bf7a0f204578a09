#!/usr/bin/env python3
"""Live migration between two runners on this host. Prints figures; never passes or fails.

    python3 bench/migration.py [--runs N] [--ram 512M] [--dirty] [--bandwidth 1G] [--keep]

Boots the test guest (testguest/, TCG) under a source `bin/vmrunner`, starts a target runner
with --incoming on the same data directory (own runtime directory and template), runs
`vmrunner migrate --to` and measures:

  total      `vmrunner migrate` started -> it exited 0 (the guest's state moved, the source runner
             ended; the target continues the guest right after)
  downtime   the guest's vCPUs stopped on the source -> running on the target: QEMU's own
             STOP event on the source and RESUME event on the target (host wall clock, us),
             read over the template's second QMP monitor (@TESTQMP@) of each QEMU
  qemu       QEMU's 'downtime' (query-migrate on the source: its part of the pause) and
             'total-time', from the source runner's status

--dirty starts a memory-dirtying workload in the guest before the migration: a loop that copies
a 64 MiB file of random bytes over another one in the guest's RAM file system (about as fast
as a TCG guest writes memory). Each run boots a fresh source. Standard library only; shares
bench.py's QMP client and template handling. Every process is killed by recorded pid at exit.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the worktree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import RUNNER, Failure, Qmp, loadavg, write_guest_template  # noqa: E402

T_BOOT = 240.0
T_MIGRATE = 600.0


class Side:
    """One runner of the VM: its directory, template, config and process."""

    def __init__(self, work, name, data, ram, bandwidth):
        self.dir = os.path.join(work, name)
        os.makedirs(os.path.join(self.dir, "templates"))
        self.serial = os.path.join(self.dir, "serial.log")
        self.cmd = os.path.join(self.dir, "cmd.sock")
        self.qmp_path = os.path.join(self.dir, "obs.sock")
        write_guest_template(os.path.join(self.dir, "templates", "testguest.ftl.yaml"),
                             self.serial, self.cmd, self.qmp_path)
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(f'"/Runner":\n  dataDir: {data}\n  runtimeDir: {self.dir}/run\n'
                    f'  template: testguest.ftl.yaml\n  updateTemplate: true\n'
                    f'  migration:\n    maxBandwidth: {bandwidth}\n    deadline: 300\n'
                    f'  vm:\n    name: migbench\n    firmware: bios\n    accelerator: tcg\n'
                    f'    cpuModel: max\n    network: []\n    maximumRam: {ram}\n')
        self.log = os.path.join(self.dir, "runner.log")
        self.proc = None

    def start(self, *args):
        self.proc = subprocess.Popen([RUNNER, "-c", self.config, "--templates-dir",
                                      os.path.join(self.dir, "templates"), *args],
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)

    def wait_file(self, path, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path) and text in open(path, errors="replace").read():
                return
            if self.proc.poll() is not None:
                raise Failure(f"runner exited {self.proc.returncode} before '{text}'")
            time.sleep(0.05)
        raise Failure(f"'{text}' not in {path} within {timeout:.0f} s")

    def guest(self, command, timeout=60):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.cmd)
        s.sendall(command.encode() + b"\n")
        s.settimeout(timeout)
        out = b""
        while b"VMRUNNER-GUEST: done" not in out:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        s.close()
        return out.decode(errors="replace")

    def kill(self):
        for name in ("qemu", "swtpm"):
            try:
                pid = int(open(os.path.join(self.dir, "run", name + ".pid")).read())
                os.kill(pid, 9)
            except (OSError, ValueError):
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Events(threading.Thread):
    """Collects QMP events of one QEMU (its test monitor) with QEMU's timestamps."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.qmp = Qmp(path, 30)
        self.qmp.execute("qmp_capabilities")
        self.seen = {}
        self.start()

    def run(self):
        try:
            while True:
                msg = self.qmp.read(3600)
                if "event" in msg:
                    ts = msg["timestamp"]
                    self.seen.setdefault(msg["event"], ts["seconds"] + ts["microseconds"] / 1e6)
        except (Failure, OSError, ValueError):
            pass


def one_run(args, work, n):
    data = os.path.join(work, f"data{n}")
    source = Side(work, f"source{n}", data, args.ram, args.bandwidth)
    target = Side(work, f"target{n}", data, args.ram, args.bandwidth)
    try:
        source.start()
        source.wait_file(source.serial, "VMRUNNER-GUEST: booted", T_BOOT)
        if args.dirty:
            source.guest("dd if=/dev/urandom of=/blob bs=1M count=64 2>/dev/null; "
                         "(while true; do cp /blob /dirty; done) >/dev/null 2>&1 &", 120)
            time.sleep(5)
        target.start("--incoming", f"tcp:127.0.0.1:{args.port + n}")
        target.wait_file(target.log, "Waiting for the guest on", 60)
        stop = Events(source.qmp_path)
        resume = Events(target.qmp_path)
        t0 = time.monotonic()
        client = subprocess.run([RUNNER, "migrate", "-c", source.config, "--to",
                                 f"tcp:127.0.0.1:{args.port + n}"],
                                capture_output=True, text=True, timeout=T_MIGRATE)
        total = time.monotonic() - t0
        if client.returncode != 0:
            raise Failure(f"migrate exited {client.returncode}: {client.stdout}{client.stderr}")
        target.wait_file(target.log, "is running", 60)
        time.sleep(0.5)
        line = [l for l in open(source.log) if "completed in" in l][-1]
        qemu_total = int(line.split("completed in ")[1].split(" ms")[0])
        qemu_down = int(line.split("guest paused ")[1].split(" ms")[0])
        if "STOP" not in stop.seen or "RESUME" not in resume.seen:
            raise Failure(f"events missing: source {stop.seen}, target {resume.seen}")
        down = resume.seen["RESUME"] - stop.seen["STOP"]
        try:  # a guest busy dirtying memory may answer late: the figure is informative only
            uptime = target.guest("cat /proc/uptime", 60).split()[0]
        except OSError:
            uptime = "?"
        print(f"run {n}: total {total * 1000:.0f} ms, downtime {down * 1000:.0f} ms "
              f"(QEMU: total {qemu_total} ms, downtime {qemu_down} ms), guest uptime after "
              f"{uptime} s, load {loadavg()}", flush=True)
        target.proc.terminate()
        target.proc.wait(120)
        return total * 1000, down * 1000, qemu_total, qemu_down
    finally:
        source.kill()
        target.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ram", default="512M")
    ap.add_argument("--dirty", action="store_true", help="dirty memory during the migration")
    ap.add_argument("--bandwidth", default="1G", help="migration.maxBandwidth (default 1G)")
    ap.add_argument("--port", type=int, default=47300)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vmrunner-migbench.")
    results = []
    try:
        for n in range(args.runs):
            results.append(one_run(args, work, n))
    except Failure as e:
        print(f"migration bench: {e}", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if results:
        med = [statistics.median(r[i] for r in results) for i in range(4)]
        print(json.dumps({"ram": args.ram, "dirty": args.dirty, "runs": len(results),
                          "total_ms": round(med[0]), "downtime_ms": round(med[1]),
                          "qemu_total_ms": med[2], "qemu_downtime_ms": med[3]}))


if __name__ == "__main__":
    main()
