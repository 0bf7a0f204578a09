#!/usr/bin/env python3
"""Live-reconfiguration latency of vmrunner. Prints figures; never passes or fails.

    python3 bench/reconfig.py [--mem-changes N] [--max-cpus N] [--no-unplug] [--poll-ms MS]
                              [--pause S] [--keep]

Boots the test guest (testguest/, TCG) under `bin/vmrunner -v` and edits its configuration
file in place while it runs. For every edit it takes the wall-clock time right after the
file's close() and measures, against that time:

  from the runner's log (UTC wall clock, ms; -v logs every QMP frame it sends)
      'Configuration file changed' line   (inotify + settle + parse)
      the first QMP frame sent after it   (the reconciler's queries)
      the QMP command that does the work  ('balloon', 'device_add', 'device_del')
      the 'vm.<key>: A -> B: applied' line
  from QEMU, over a second QMP monitor of its own (the template's @TESTQMP@ socket)
      memory: the first BALLOON_CHANGE event (QEMU's own event timestamp) and the
              query-balloon poll whose 'actual' equals the target
      vCPUs:  the query-cpus-fast poll that returns the target count
  from the guest's console: 'VMRUNNER-GUEST: cpus N' (the guest checks every 200 ms)

Series: (1) memory, maximumRam 512M, maximumCpus 2, currentRam 512M at start, then 256M,
384M, 256M, ... (--mem-changes edits, half shrinking, half growing); (2) vCPUs on a fresh VM
with maximumCpus --max-cpus (6), currentCpus 1 at start, plugged up one by one to the maximum
(QEMU 7.2 aborts when a slot emptied by an unplug is plugged again, and the runner refuses
that), then unplugged one by one back to 1 on the same VM (skipped with --no-unplug).
Standard library only; shares bench.py's QMP client, process bookkeeping and template
handling. Every wait has a timeout; every process is killed by recorded pid at exit.
"""

import argparse
import calendar
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the worktree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import (RUNNER, T_BOOT, T_QMP, T_RUNNING, T_STOP, UUID, Failure, LineLog, prepare,  # noqa: E402
                   Processes, Qmp, fmt, kill_if, loadavg, machine_lines, qemu_pids, run_tool,
                   stats, stray_pids, wait_gone, write_guest_template)

T_EFFECT = 60.0          # a change's effect visible in QEMU (a TCG guest inflating 256M: ~1 s)
T_SETTLED = 20.0         # the runner's 'balloon has settled' line (1 s after the last event)
M = 1 << 20

# 2026-12-02T18:57:19.870+00:00 INFO message (ISO time with its offset)
LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)\.(\d{3})(Z|[+-]\d\d:\d\d)? (\w+)\s+(.*)$")


def log_time(line):
    """Wall-clock seconds of a runner log line (UTC, ms), or None."""
    m = LOG_LINE.match(line)
    if not m:
        return None
    t = calendar.timegm(time.strptime(m.group(1) + " " + m.group(2), "%Y-%m-%d %H:%M:%S"))
    offset = m.group(4)
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        t -= sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
    return t + int(m.group(3)) / 1000


class WallLineLog(LineLog):
    """bench.LineLog with wall-clock arrival times (time.time()), to compare with log stamps."""

    clock = staticmethod(time.time)

    def wait_after(self, mark, regex, timeout, what):
        """The first line from index mark on that matches: (arrival, line, match)."""
        pattern = re.compile(regex)
        deadline = time.monotonic() + timeout
        seen = mark
        with self.cond:
            while True:
                for arrival, line in self.lines[seen:]:
                    m = pattern.search(line)
                    if m:
                        return arrival, line, m
                seen = len(self.lines)
                if self.eof:
                    raise Failure(f"runner ended its output before {what}; last lines:\n"
                                  + self.tail())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"no {what} within {timeout:.0f} s; last lines:\n" + self.tail())
                self.cond.wait(left)

    def since(self, mark):
        with self.cond:
            return list(self.lines[mark:])


class Vm:
    """One runner with its QEMU: boot, edit the configuration, observe, stop."""

    def __init__(self, rc, name, vm_lines):
        self.rc, self.name = rc, name
        self.vm_lines = dict(vm_lines)     # the vm section's scalar keys, in order
        self.p = self.out = self.qmp = self.errlog = None
        self.qemu_pid = None
        self.serial_seen = 0

    def config_text(self):
        vm = "".join(f"    {k}: {v}\n" for k, v in self.vm_lines.items())
        return (f'"/Runner":\n  dataDir: {self.rc.data}\n  runtimeDir: {self.rc.runtime}\n'
                f"  template: reconfig.ftl.yaml\n  vm:\n    name: {self.name}\n"
                f"    uuid: {UUID}\n    firmware: bios\n    accelerator: tcg\n"
                f"    cpuModel: max\n    powerdownTimeout: 30\n{vm}"
                f"    network:\n      - type: user\n")

    def write_config(self, **changes):
        """Writes the new configuration the way --write says and returns time.time() taken
        right after the write that makes it visible:
        inplace   truncate + write (an editor saving, the e2e tests' Files.writeString);
        rename    a new file renamed over the old one (ansible, 'sed -i', most tools);
        configmap what the kubelet does to a mounted ConfigMap: a new timestamped directory
                  with the file, a '..data' symlink swapped to it by rename, the old
                  directory deleted; config.yaml is a symlink to '..data/config.yaml'."""
        self.vm_lines.update({k: str(v) for k, v in changes.items()})
        text = self.config_text()
        mode = self.rc.args.write
        if mode == "inplace":
            with open(self.rc.config, "w") as f:
                f.write(text)
            return time.time()
        if mode == "rename":
            tmp = self.rc.config + ".new"
            with open(tmp, "w") as f:
                f.write(text)
            os.rename(tmp, self.rc.config)
            return time.time()
        top = os.path.dirname(self.rc.config)
        self.rc.generation += 1
        new_dir = f"..{self.rc.generation:06d}"
        os.mkdir(os.path.join(top, new_dir))
        with open(os.path.join(top, new_dir, "config.yaml"), "w") as f:
            f.write(text)
        data = os.path.join(top, "..data")
        old_dir = os.readlink(data) if os.path.islink(data) else None
        os.symlink(new_dir, os.path.join(top, "..data_tmp"))
        os.rename(os.path.join(top, "..data_tmp"), data)
        t = time.time()
        if not os.path.lexists(self.rc.config):
            os.symlink("..data/config.yaml", self.rc.config)
        if old_dir:
            shutil.rmtree(os.path.join(top, old_dir))
        return t

    def boot(self):
        self.rc.clean()
        self.write_config()
        run_tool([RUNNER, "render", "-c", self.rc.config, "--templates-dir", self.rc.templates],
                 "vmrunner render")
        self.errlog = open(os.path.join(self.rc.work, f"runner-{self.name}.log"), "w")
        self.p = self.rc.procs.popen(
            [RUNNER, "-v", "-c", self.rc.config, "--templates-dir", self.rc.templates],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        self.out = WallLineLog(self.p.stderr, self.errlog)
        _, _, m = self.out.wait_after(0, r"VM \S+ is running \(QEMU pid (\d+)", T_RUNNING,
                                      "'is running' log line")
        self.qemu_pid = int(m.group(1))
        self.rc.procs.add_foreign(self.qemu_pid)
        self.qmp = Qmp(self.rc.observer, T_QMP)
        self.qmp.execute("qmp_capabilities")
        self.wait_serial("VMRUNNER-GUEST: booted", T_BOOT)
        # The runner applies currentRam right after the start; let that (and the boot) settle.
        time.sleep(self.rc.args.pause)

    def serial_new(self):
        """Console text written since the last call."""
        try:
            with open(self.rc.serial, "rb") as f:
                f.seek(self.serial_seen)
                data = f.read()
        except FileNotFoundError:
            return ""
        self.serial_seen += len(data)
        return data.decode("utf-8", "replace")

    def wait_serial(self, text, timeout):
        deadline = time.monotonic() + timeout
        buf = ""
        while True:
            buf += self.serial_new()
            if text in buf:
                return time.time()
            if self.p.poll() is not None:
                raise Failure(f"runner exited ({self.p.returncode}) before the guest printed "
                              f"'{text}'; last lines:\n" + self.out.tail())
            if time.monotonic() > deadline:
                raise Failure(f"guest did not print '{text}' within {timeout:.0f} s")
            time.sleep(0.02)

    def change(self, key, old, new, command, probe, marker=None, settle_line=None):
        """One edit: vm.<key> old -> new. probe() is True once QEMU shows the effect; marker is
        console text the guest prints once it sees it. Returns the measurements (ms after
        the write)."""
        poll = self.rc.args.poll_ms / 1000.0
        mark = len(self.out.lines)
        self.qmp.events.clear()
        self.serial_new()
        console = ""
        t_w = self.write_config(**{key: new})
        r = {"what": f"{key} {old} -> {new}"}
        t_effect = t_guest = None
        deadline = time.monotonic() + T_EFFECT
        guest_deadline = time.monotonic() + self.rc.args.guest_wait
        while t_effect is None or (marker and t_guest is None):
            if t_effect is None and probe():
                t_effect = time.time()
            if marker and t_guest is None:
                console += self.serial_new()
                if marker in console:
                    t_guest = time.time()
                elif t_effect is not None and time.monotonic() > guest_deadline:
                    r.setdefault("notes", []).append(
                        f"the guest did not print '{marker}' within "
                        f"{self.rc.args.guest_wait:g} s (not waited for longer)")
                    break
            if time.monotonic() > deadline:
                raise Failure(f"{r['what']}: effect not seen in QEMU within {T_EFFECT:.0f} s; "
                              "last lines:\n" + self.out.tail())
            if self.p.poll() is not None:
                raise Failure(f"runner exited ({self.p.returncode}) during {r['what']}; "
                              "last lines:\n" + self.out.tail())
            time.sleep(poll)
        r["effect"] = (t_effect - t_w) * 1000
        if t_guest is not None:
            r["guest"] = (t_guest - t_w) * 1000
        _, line, m = self.out.wait_after(
            mark, rf"vm\.{key}: {re.escape(str(old))} -> {re.escape(str(new))}: (.*)$",
            T_EFFECT, f"outcome line for {r['what']}")
        r["outcome"] = m.group(1)
        if settle_line:
            _, line, m = self.out.wait_after(mark, settle_line, T_SETTLED,
                                             f"'{settle_line}' for {r['what']}")
            r["settled"] = (log_time(line) - t_w) * 1000
            r["settled_text"] = line.split(": ", 1)[-1] if ": " in line else line
        # QEMU's own timestamp of the first BALLOON_CHANGE after the write.
        for e in self.qmp.events:
            if e.get("event") == "BALLOON_CHANGE" and "timestamp" in e:
                ts = e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6
                if ts >= t_w - 0.001:
                    r["first_event"] = (ts - t_w) * 1000
                    break
        # The runner's log after the write.
        changed = first_frame = sent = applied = None
        skew = []
        for arrival, text in self.out.since(mark):
            t = log_time(text)
            if t is None:
                continue
            skew.append((arrival - t) * 1000)
            if changed is None and "Configuration file changed" in text:
                changed = t
            elif changed is not None and first_frame is None and " QMP " in text and " -> {" in text:
                first_frame = t
            if sent is None and " -> {" in text and f'"execute":"{command}"' in text:
                sent = t
            if applied is None and re.search(rf"vm\.{key}: .* -> .*: ", text):
                applied = t
        for name, t in (("changed", changed), ("first_frame", first_frame), ("sent", sent),
                        ("applied", applied)):
            if t is not None:
                r[name] = (t - t_w) * 1000
        r["arrival_minus_stamp"] = min(skew) if skew else None
        if sent is None:
            r.setdefault("notes", []).append(
                f"no '{command}' frame in the runner's log (outcome: {r['outcome']})")
        return r

    def stop(self):
        if self.qmp:
            self.qmp.close()
            self.qmp = None
        if self.p is None:
            return None
        try:
            if self.p.poll() is None:
                os.kill(self.p.pid, signal.SIGTERM)
                try:
                    self.p.wait(T_STOP)
                except subprocess.TimeoutExpired:
                    pass
            return self.p.returncode
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait(5)
            if self.qemu_pid is not None:
                kill_if(self.rc.procs.ours(self.qemu_pid), self.qemu_pid)
                wait_gone(self.qemu_pid, 5)
            for pid in stray_pids(self.rc.work):
                kill_if(True, pid)
            deadline = time.monotonic() + 2
            while self.out and not self.out.eof and time.monotonic() < deadline:
                time.sleep(0.01)
            if self.errlog:
                self.errlog.close()
            if self.rc.args.keep and os.path.exists(self.rc.serial):
                shutil.copy(self.rc.serial, os.path.join(self.rc.work, f"serial-{self.name}.log"))
            self.rc.clean()


class Reconfig:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="vmrunner-reconfig.")
        self.procs = Processes(self.work)
        self.templates = os.path.join(self.work, "templates")
        self.serial = os.path.join(self.work, "serial.log")
        self.runtime = os.path.join(self.work, "run")
        self.data = os.path.join(self.work, "data")
        # in a directory of its own: the configmap mode swaps that directory's contents
        self.config = os.path.join(self.work, "etc", "config.yaml")
        os.mkdir(os.path.dirname(self.config))
        self.generation = 0
        self.observer = os.path.join(self.work, "observer.sock")
        self.cmdsock = os.path.join(self.work, "command.sock")
        self.notes = []
        self.floor = []   # ms: this script's own 'balloon' -> effect

    def setup(self):
        if bench.IMAGE_ROOT:
            pass
        elif not os.path.exists(os.path.join(os.path.dirname(RUNNER), "..", "target", "vmrunner.jar")) \
                and not os.path.exists(os.path.join(os.path.dirname(RUNNER), "..", "lib",
                                                    "vmrunner.jar")):
            raise SystemExit("reconfig: no target/vmrunner.jar; run 'mvn -q package -DskipTests'")
        write_guest_template(os.path.join(self.templates, "reconfig.ftl.yaml"), self.serial,
                             self.cmdsock, self.observer, self.args.append)

    def clean(self):
        for path in (self.runtime, self.data):
            shutil.rmtree(path, ignore_errors=True)
        for path in (self.serial, self.observer, self.cmdsock):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def machine(self):
        return machine_lines(shutil.which("qemu-system-x86_64") or "qemu-system-x86_64")

    def progress(self, r):
        parts = [f"{k} {fmt(r.get(k), 0)}" for k in ("changed", "sent", "applied", "first_event",
                                                       "effect", "guest", "settled") if k in r]
        print(f"  {r['what']}: " + ", ".join(parts) + f" ms; {r['outcome']}", file=sys.stderr,
              flush=True)

    def memory(self, results):
        vm = Vm(self, "reconfig-mem", [("maximumRam", "512M"), ("currentRam", "512M"),
                                        ("maximumCpus", 2), ("currentCpus", 1)])
        try:
            vm.boot()
            actual = vm.qmp.execute("query-balloon")["actual"]
            if actual != 512 * M:
                self.notes.append(f"memory VM: balloon at {actual // M}M after boot, not 512M")
            old = "512M"
            for i in range(self.args.mem_changes):
                new = "256M" if i % 2 == 0 else "384M"
                target = int(new[:-1]) * M
                r = vm.change("currentRam", old, new, "balloon",
                              lambda: vm.qmp.execute("query-balloon")["actual"] == target,
                              settle_line=r"vm\.currentRam: the balloon has settled")
                r["direction"] = "shrink" if target < int(old[:-1]) * M else "grow"
                self.progress(r)
                results.append(r)
                old = new
                time.sleep(self.args.pause)
            self.memory_floor(vm, old)
        finally:
            rc = vm.stop()
            if rc not in (0, None):
                self.notes.append(f"memory VM: runner exit code {rc} after SIGTERM")

    def memory_floor(self, vm, last):
        """The floor of a memory change: this script sends 'balloon' itself over its own QMP
        monitor of the same VM and polls query-balloon until 'actual' is the target (the same
        probe as for the runner's changes, timed from the command instead of the write)."""
        poll = self.args.poll_ms / 1000.0
        current = int(last[:-1])
        for i in range(min(6, self.args.mem_changes)):
            target = (384 if current == 256 else 256) * M
            vm.qmp.events.clear()
            t0 = time.time()
            vm.qmp.execute("balloon", arguments={"value": target})
            deadline = time.monotonic() + T_EFFECT
            while vm.qmp.execute("query-balloon")["actual"] != target:
                if time.monotonic() > deadline:
                    raise Failure(f"floor: balloon {target // M}M not reached in {T_EFFECT:.0f} s")
                time.sleep(poll)
            r = {"effect": (time.time() - t0) * 1000}
            for e in vm.qmp.events:
                if e.get("event") == "BALLOON_CHANGE" and "timestamp" in e:
                    ts = e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6
                    if ts >= t0 - 0.001:
                        r["first_event"] = (ts - t0) * 1000
                        break
            self.floor.append(r)
            current = target // M
            time.sleep(self.args.pause)

    def cpus(self, plugs, unplugs):
        top = self.args.max_cpus
        vm = Vm(self, "reconfig-cpu", [("maximumRam", "512M"), ("currentRam", "512M"),
                                        ("maximumCpus", top), ("currentCpus", 1)])
        try:
            vm.boot()

            def count(n):
                return lambda: len(vm.qmp.execute("query-cpus-fast")) == n
            for n in range(2, top + 1):
                r = vm.change("currentCpus", n - 1, n, "device_add", count(n),
                              marker=f"VMRUNNER-GUEST: cpus {n}")
                self.progress(r)
                plugs.append(r)
                time.sleep(self.args.pause)
            if not self.args.no_unplug and plugs and "guest" not in plugs[-1]:
                self.notes.append(f"unplug series skipped: the guest had not onlined vCPU {top} "
                                  "(a guest busy onlining a vCPU does not release one)")
            elif not self.args.no_unplug:
                for n in range(top - 1, 0, -1):
                    r = vm.change("currentCpus", n + 1, n, "device_del", count(n),
                                  marker=f"VMRUNNER-GUEST: cpus {n}")
                    self.progress(r)
                    unplugs.append(r)
                    time.sleep(self.args.pause)
        finally:
            rc = vm.stop()
            if rc not in (0, None):
                self.notes.append(f"vCPU VM: runner exit code {rc} after SIGTERM")

    def cleanup(self):
        self.procs.kill_all()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"(work directory kept: {self.work})", file=sys.stderr)


def report(header, mem, plugs, unplugs, failures, notes, args, floor=()):
    out = list(header)
    out.append(f"1-min load average at the end: {loadavg():.2f}; "
               f"QEMUs of others running then: {len(qemu_pids())}")
    out.append("")
    out.append(f"all times in ms after the config file's close(); query polling every "
               f"{args.poll_ms:g} ms; medians, min, max")
    w = 62
    out.append(f"{'metric':<{w}} {'median':>8} {'min':>8} {'max':>8} {'n':>3}")
    out.append("-" * (w + 31))

    def row(label, values, digits=1):
        s = stats(values)
        if s is None:
            out.append(f"{label:<{w}} {'-':>8} {'-':>8} {'-':>8} {0:>3}")
        else:
            med, lo, hi, n = s
            out.append(f"{label:<{w}} {fmt(med, digits):>8} {fmt(lo, digits):>8} "
                       f"{fmt(hi, digits):>8} {n:>3}")

    def col(rs, key):
        return [r.get(key) for r in rs]

    def series(title, rs, command, effect_label):
        out.append(title)
        row("runner logs 'Configuration file changed'", col(rs, "changed"))
        row("runner sends its first QMP query", col(rs, "first_frame"))
        row(f"(a) runner sends '{command}'", col(rs, "sent"))
        row("runner logs 'applied'", col(rs, "applied"))
        if any("first_event" in r for r in rs):
            row("QEMU: first BALLOON_CHANGE (event timestamp)", col(rs, "first_event"))
        row(f"(b) {effect_label}", col(rs, "effect"))
        for direction in ("shrink", "grow"):
            part = [r for r in rs if r.get("direction") == direction]
            if part:
                row(f"    {direction}ing ({'inflate' if direction == 'shrink' else 'deflate'})",
                    col(part, "effect"))
        if any("guest" in r for r in rs):
            row("guest prints 'cpus N' (it checks every 200 ms)", col(rs, "guest"))
        if any("settled" in r for r in rs):
            row("runner logs 'the balloon has settled'", col(rs, "settled"))
        out.append("    per change, (a) / (b): " + ", ".join(
            f"{fmt(r.get('sent'), 0)}/{fmt(r.get('effect'), 0)}" for r in rs))

    if mem:
        series(f"MEMORY (currentRam 512M -> 256M <-> 384M, {len(mem)} changes, maximumCpus 2)",
               mem, "balloon", "QEMU: query-balloon 'actual' == target")
        if floor:
            # The floor: this script sends 'balloon' itself (same VM, its own monitor). The
            # guest's inflating/deflating makes 'actual' slow and erratic; QEMU's first
            # BALLOON_CHANGE is the QMP effect without the guest's share.
            row("floor: script's 'balloon' -> first BALLOON_CHANGE", col(floor, "first_event"))
            row("floor: script's 'balloon' -> query-balloon == target", col(floor, "effect"))
            fl = [r["first_event"] for r in floor if "first_event" in r]
            if fl:
                fm = statistics.median(fl)
                ev = [r.get("first_event") for r in mem]
                if ev and ev[0] is not None:
                    row("first BALLOON_CHANGE over the floor, first edit", [ev[0] - fm])
                row("first BALLOON_CHANGE over the floor, later edits",
                    [e - fm for e in ev[1:] if e is not None])
    for title, rs in (("first vCPU plug", plugs[:1]), ("later vCPU plugs", plugs[1:])):
        if rs:
            row(f"(a) runner sends 'device_add', {title}", col(rs, "sent"))
    if plugs:
        series(f"vCPU PLUG (currentCpus 1 -> {args.max_cpus}, one at a time, maximumCpus "
               f"{args.max_cpus})", plugs, "device_add", "QEMU: query-cpus-fast count == target")
    if unplugs:
        series(f"vCPU UNPLUG (currentCpus {args.max_cpus} -> 1 on the same VM)", unplugs,
               "device_del", "QEMU: query-cpus-fast count == target")
    everything = mem + plugs + unplugs
    skews = [r["arrival_minus_stamp"] for r in everything if r.get("arrival_minus_stamp") is not None]
    if skews:
        out.append(f"clock check: a log line reached this script {min(skews):.1f} ms after its "
                   "own timestamp at the least (should be >= -1; ms stamps are truncated)")
    early = [r["what"] for r in everything if r.get("changed") is not None and r["changed"] < -1]
    if early:
        out.append("CLOCK MISMATCH: the runner logged the change before the write: "
                   + ", ".join(early))
    for r in everything:
        if not r["outcome"].startswith("applied"):
            out.append(f"note: {r['what']}: {r['outcome']}")
        for n in r.get("notes", []):
            out.append(f"note: {r['what']}: {n}")
        if "settled_text" in r and "(asked for" in r["settled_text"]:
            out.append(f"note: {r['what']}: {r['settled_text']}")
    for n in notes:
        out.append(f"note: {n}")
    for f in failures:
        out.append(f"FAILED: {f}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mem-changes", type=int, default=10,
                    help="currentRam edits (default 10: 5 shrinking, 5 growing)")
    ap.add_argument("--max-cpus", type=int, default=6,
                    help="maximumCpus of the vCPU VM; plugs 1 -> N one at a time (default 6)")
    ap.add_argument("--no-unplug", action="store_true", help="skip the unplug series")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory series")
    ap.add_argument("--no-cpus", action="store_true", help="skip the vCPU series")
    ap.add_argument("--poll-ms", type=float, default=5.0,
                    help="observer QMP / console polling interval (default 5)")
    ap.add_argument("--pause", type=float, default=1.5,
                    help="quiet time after each change and after boot, s (default 1.5)")
    ap.add_argument("--guest-wait", type=float, default=30.0,
                    help="how long to wait for the guest's 'cpus N' before the next change, s "
                         "(default 30)")
    ap.add_argument("--append", default="", help="extra guest kernel options, e.g. vmrunner.debug")
    ap.add_argument("--write", choices=["inplace", "rename", "configmap"], default="inplace",
                    help="how the configuration file is changed (see write_config)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if args.mem_changes < 0 or args.max_cpus < 2:
        ap.error("--mem-changes must be >= 0 and --max-cpus >= 2")

    rc = Reconfig(args)
    header = prepare(rc, "reconfig")
    if header is None:
        return 2
    header.append(f"configuration written: {args.write}")
    header.append(f"1-min load average at the start: {loadavg():.2f}; "
                  f"QEMUs of others running then: {len(qemu_pids())}")
    started = time.monotonic()
    failures = []
    mem, plugs, unplugs = [], [], []
    if not args.no_memory and args.mem_changes:
        print("memory series:", file=sys.stderr, flush=True)
        try:
            rc.memory(mem)
        except (Failure, OSError, ValueError, subprocess.SubprocessError) as e:
            failures.append(f"memory series: {e}")
    if not args.no_cpus:
        print("vCPU series:", file=sys.stderr, flush=True)
        try:
            rc.cpus(plugs, unplugs)
        except (Failure, OSError, ValueError, subprocess.SubprocessError) as e:
            failures.append(f"vCPU series: {e}")
    print(report(header, mem, plugs, unplugs, failures, rc.notes, args, rc.floor))
    print(f"(benchmark took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
