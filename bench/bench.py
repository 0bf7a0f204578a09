#!/usr/bin/env python3
"""Benchmark of vmrunner against QEMU driven directly. Prints figures; never passes or fails.

    python3 bench/bench.py [--runs N] [--warmup N] [--idle-seconds S] [--idle-delay S] [--keep]

Each run boots the test guest (testguest/, TCG) twice, one after the other:

  baseline  QEMU started by this script with exactly the argv `bin/vmrunner render` prints
            for the same configuration, driven by a minimal QMP client in this script:
            launch -> qmp_capabilities -> cont reply, then (after the guest has booted)
            system_powerdown -> QEMU's exit; then `quit` if it still runs.
  runner    bin/vmrunner -c config.yaml: launch -> the "is running" log line; after the
            guest has booted its JVM's RSS/PSS and QEMU's RSS; its CPU time during an idle
            window; then SIGTERM -> the runner's exit (and its exit code).

Environment: VMRUNNER_JAVA_OPTS is passed on to bin/vmrunner (for experiments; the header
shows it). Standard library only. Every wait has a timeout; every process the script starts
is killed on exit by its recorded pid; the work directory is removed unless --keep.
"""

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# VMRUNNER_BENCH_ROOT: the root directory of a mounted vmrunner image (bench/in-image.sh
# --mount); the runner, QEMU and every tool then run inside it (chroot, same pids).
IMAGE_ROOT = os.environ.get("VMRUNNER_BENCH_ROOT") or None
PREFIX = [os.path.join(REPO, "bench", "in-image.sh"), IMAGE_ROOT] if IMAGE_ROOT else []
RUNNER = "/opt/vmrunner/bin/vmrunner" if IMAGE_ROOT else os.path.join(REPO, "bin", "vmrunner")
UUID = "6c1b7a0e-3f7e-4a53-9d0e-2b1f9f0c2a11"
POWERDOWN_TIMEOUT = 30          # vm.powerdownTimeout in the benchmark's configuration

T_QMP = 30.0                    # QEMU opens its QMP socket / answers
T_RUNNING = 60.0                # the runner logs "is running"
T_BOOT = 90.0                   # the guest prints "booted" (TCG: ~5 s on an idle host)
T_STOP = POWERDOWN_TIMEOUT + 20.0  # powerdown -> exit (runner: + its own kill grace)
T_TOOL = 60.0                   # render, --version, build.sh, java -version

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Failure(Exception):
    """A measurement that could not be made; reported, never fatal for the whole benchmark."""


# ---- process bookkeeping -------------------------------------------------------------------

class Processes:
    """Everything the script started, killed by recorded pid at exit (pids checked first)."""

    def __init__(self, marker):
        self.marker = marker       # a path unique to this benchmark, part of every argv
        self.popens = []           # our own children
        self.foreign = set()       # QEMUs started by a runner (not our children)

    def popen(self, argv, **kw):
        p = subprocess.Popen(PREFIX + list(argv), **kw)
        self.popens.append(p)
        return p

    def add_foreign(self, pid):
        self.foreign.add(pid)

    def ours(self, pid):
        """True if pid is alive and its argv mentions our work directory (no pid reuse)."""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return self.marker.encode() in f.read()
        except OSError:
            return False

    def kill_all(self):
        for p in self.popens:
            if p.poll() is None:
                try:
                    p.kill()
                    p.wait(5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        for pid in sorted(self.foreign):
            kill_if(self.ours(pid), pid)
        # QEMUs of a runner that died before it told us their pid: found by our unique path.
        for pid in stray_pids(self.marker):
            kill_if(True, pid)


def kill_if(cond, pid):
    if cond:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def stray_pids(marker):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


# ---- /proc readings ------------------------------------------------------------------------

def smaps_rollup(pid):
    """(Rss, Pss) in MiB."""
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss"):
                    values[key] = int(rest.split()[0]) / 1024.0
    except OSError as e:
        raise Failure(f"cannot read /proc/{pid}/smaps_rollup: {e}")
    if "Rss" not in values or "Pss" not in values:
        raise Failure(f"/proc/{pid}/smaps_rollup has no Rss/Pss lines")
    return values["Rss"], values["Pss"]


def cpu_ms(pid):
    """utime+stime of the whole process (all threads) in ms; clock-tick resolution."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError as e:
        raise Failure(f"cannot read /proc/{pid}/stat: {e}")
    # fields[0] is field 3 (state); utime/stime are fields 14/15.
    return (int(fields[11]) + int(fields[12])) * 1000.0 / CLK_TCK


def task_stats(pid):
    """{tid: (name, run-time ns, context switches)} of the live threads."""
    result = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError as e:
        raise Failure(f"cannot list /proc/{pid}/task: {e}")
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            switches = 0
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
                    elif line.startswith("Name:"):
                        name = line.split(":", 1)[1].strip()
            result[tid] = (name, ns, switches)
        except OSError:
            pass  # a thread that ended meanwhile
    return result


def task_delta(before, after):
    """(ns, switches, per-name switches, threads that ended) between two task_stats readings.
    A thread that ended inside the window is missing from both sums (counted separately)."""
    ns = switches = 0
    by_name = {}
    for tid, (name, ns1, sw1) in after.items():
        _, ns0, sw0 = before.get(tid, (name, 0, 0))
        ns += ns1 - ns0
        switches += sw1 - sw0
        if sw1 - sw0:
            by_name[name] = by_name.get(name, 0) + sw1 - sw0
    ended = len(set(before) - set(after))
    return ns, switches, by_name, ended


# ---- runner's stderr -----------------------------------------------------------------------

class LineLog:
    """Reads a stream on a thread; every line is kept with its arrival time."""

    def __init__(self, stream, copy_to=None):
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()
        self.copy_to = copy_to
        t = threading.Thread(target=self._read, args=(stream,), daemon=True)
        t.start()

    # When a line arrived; a subclass may use wall-clock time to compare with log stamps.
    clock = staticmethod(time.monotonic)

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            now = self.clock()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.copy_to:
                self.copy_to.write(line + "\n")
                self.copy_to.flush()
            with self.cond:
                self.lines.append((now, line))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait_for(self, regex, timeout, what):
        pattern = re.compile(regex)
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for t, line in self.lines[seen:]:
                    m = pattern.search(line)
                    if m:
                        return t, m
                seen = len(self.lines)
                if self.eof:
                    raise Failure(f"runner ended its output before {what}; last lines:\n"
                                  + self.tail())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"no {what} within {timeout:.0f} s; last lines:\n" + self.tail())
                self.cond.wait(left)

    def tail(self, n=8):
        return "\n".join("    " + l for _, l in self.lines[-n:]) or "    (no output)"


# ---- a minimal QMP client ------------------------------------------------------------------

class Qmp:
    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise Failure(f"QMP socket {path} not there within {timeout:.0f} s")
                time.sleep(0.001)
        self.connected = time.monotonic()
        self.sock = s
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.greeting = self.read(timeout)
        if "QMP" not in self.greeting:
            raise Failure(f"unexpected QMP greeting {self.greeting}")

    def read(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no QMP message within %.0f s" % timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise Failure("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, timeout=T_QMP, arguments=None):
        self.next_id += 1
        msg = {"execute": command, "id": self.next_id}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            reply = self.read(max(0.001, deadline - time.monotonic()))
            if "event" in reply:
                self.events.append(reply)
            elif reply.get("id") == self.next_id:
                if "error" in reply:
                    raise Failure(f"QMP {command} failed: {reply['error']}")
                return reply.get("return")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- the benchmark -------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="vmrunner-bench.")
        self.procs = Processes(self.work)
        self.templates = os.path.join(self.work, "templates")
        self.serial = os.path.join(self.work, "serial.log")
        self.runtime = os.path.join(self.work, "run")
        self.data = os.path.join(self.work, "data")
        self.config = os.path.join(self.work, "config.yaml")
        self.env = dict(os.environ)
        # The launcher's cache of the overlapped start, in the work directory (bin/vmrunner).
        self.env["XDG_CACHE_HOME"] = os.path.join(self.work, "cache")
        self.env["VMRUNNER_PRESTART"] = "1"  # opt-in (bin/vmrunner): measured here both ways
        self.edits = 0
        if IMAGE_ROOT:
            self.env.pop("JAVA_HOME", None)  # the image's own java

    # -- setup --

    def setup(self):
        if not os.path.exists(os.path.join(REPO, "target", "vmrunner.jar")) and \
                not os.path.exists(os.path.join(REPO, "lib", "vmrunner.jar")):
            raise SystemExit("bench: no target/vmrunner.jar; run 'mvn -q package -DskipTests' first")
        write_guest_template(os.path.join(self.templates, "bench.ftl.yaml"), self.serial,
                             os.path.join(self.work, "command.sock"),
                             os.path.join(self.work, "observer.sock"))
        with open(self.config, "w") as f:
            f.write(f'''"/Runner":
  dataDir: {self.data}
  runtimeDir: {self.runtime}
  template: bench.ftl.yaml
  vm:
    name: bench
    uuid: {UUID}
    firmware: bios
    accelerator: tcg
    cpuModel: max
    maximumRam: 256M
    maximumCpus: 2
    currentCpus: 1
    powerdownTimeout: {POWERDOWN_TIMEOUT}
    network:
      - type: user
''')
        out = run_tool([RUNNER, "render", "-c", self.config, "--templates-dir", self.templates],
                       "vmrunner render", env=self.env)
        sections, current = {}, None
        for line in out.splitlines():
            m = re.fullmatch(r"# (\w+)", line)
            if m:
                current = sections.setdefault(m.group(1), [])
            elif current is not None:
                current.append(line)
        if "qemu" not in sections or not sections["qemu"]:
            raise SystemExit("bench: 'vmrunner render' printed no '# qemu' section:\n" + out)
        if set(sections) != {"qemu"}:
            raise SystemExit(f"bench: render shows more than QEMU ({sorted(sections)}); "
                             "the baseline would not do the same work")
        self.qemu_argv = sections["qemu"]

    def machine(self):
        return machine_lines(self.qemu_argv[0])

    # -- per-run cleanliness --

    def clean(self):
        # The data directory stays between runs unless --fresh-data: a restart of the same VM
        # (its uuid, NVRAM and the render cache are there).
        fresh = getattr(self.args, "fresh_data", True)
        for path in (self.runtime, self.data) if fresh else (self.runtime,):
            shutil.rmtree(path, ignore_errors=True)
        for path in (self.serial, os.path.join(self.work, "command.sock"),
                     os.path.join(self.work, "observer.sock")):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def wait_serial(self, text, timeout, alive):
        """Waits until the serial log holds text; alive() False ends the wait early."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.serial, errors="replace") as f:
                    if text in f.read():
                        return time.monotonic()
            except FileNotFoundError:
                pass
            if not alive():
                raise Failure(f"process ended before the guest printed '{text}'")
            if time.monotonic() > deadline:
                raise Failure(f"guest did not print '{text}' within {timeout:.0f} s")
            time.sleep(0.02)

    # -- baseline: QEMU + this script's QMP client --

    def baseline(self, r):
        self.clean()
        os.makedirs(self.runtime, mode=0o700)
        log = open(os.path.join(self.work, "baseline-qemu.log"), "w")
        qmp = None
        t0 = time.monotonic()
        p = self.procs.popen(self.qemu_argv, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            qmp = Qmp(os.path.join(self.runtime, "monitor.sock"), T_QMP)
            r["base_connect"] = (qmp.connected - t0) * 1000
            qmp.execute("qmp_capabilities")
            qmp.execute("cont")
            r["base_start"] = (time.monotonic() - t0) * 1000
            self.wait_serial("VMRUNNER-GUEST: booted", T_BOOT, lambda: p.poll() is None)
            r["base_qemu_rss"] = smaps_rollup(p.pid)[0]
            t1 = time.monotonic()
            qmp.execute("system_powerdown")
            try:
                p.wait(T_STOP)
            except subprocess.TimeoutExpired:
                raise Failure(f"QEMU did not exit within {T_STOP:.0f} s of system_powerdown")
            r["base_stop"] = (time.monotonic() - t1) * 1000
            if p.returncode != 0:
                raise Failure(f"baseline QEMU exited with {p.returncode} after system_powerdown")
        finally:
            if p.poll() is None and qmp is not None:
                try:
                    qmp.execute("quit", timeout=5)
                    p.wait(5)
                except (Failure, OSError, ValueError, subprocess.TimeoutExpired):
                    pass
            if qmp:
                qmp.close()
            if p.poll() is None:
                p.kill()
                p.wait(5)
            log.close()
            self.clean()

    # -- the runner --

    def runner(self, r, mode="ordinary"):
        """mode "ordinary": the configuration file was edited (a comment) since the launcher's
        cache was written, so the launcher starts nothing (the fallback path, its key check
        included); "overlapped": unchanged since the ordinary run, so the launcher starts QEMU
        while the JVM boots. The overlapped run's figures are keyed ov_ instead of run_, and it
        skips the idle window."""
        ov = mode == "overlapped"
        key = (lambda k: "ov_" + k[len("run_"):] if k.startswith("run_") else "ov_" + k) if ov \
            else (lambda k: k)
        if not ov:
            self.edits += 1
            with open(self.config, "a") as f:
                f.write(f"# edit {self.edits}\n")
        self.clean()
        errlog = open(os.path.join(self.work, f"runner-{mode}-stderr.log"), "w")
        t0 = time.monotonic()
        p = self.procs.popen([RUNNER, "-c", self.config, "--templates-dir", self.templates],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=self.env, start_new_session=True)
        out = LineLog(p.stderr, errlog)
        qemu_pid = None
        try:
            if not ov:
                t_starting, _ = out.wait_for(r" starting VM ", T_RUNNING, "'starting VM' log line")
            t_running, m = out.wait_for(
                r"VM \S+ is running \(QEMU pid (\d+), (?:adopted, )?(\d+) ms after start\)", T_RUNNING,
                "'is running' log line")
            qemu_pid = int(m.group(1))
            self.procs.add_foreign(qemu_pid)
            r[key("run_start")] = (t_running - t0) * 1000
            if not ov:
                r["run_to_starting"] = (t_starting - t0) * 1000
                r["run_starting_to_running"] = (t_running - t_starting) * 1000
            r[key("run_internal")] = float(m.group(2))
            path = "Overlapped start: QEMU" if ov else "Ordinary start: the launcher started nothing"
            if not any(path in line for _, line in out.lines):
                raise Failure(f"the {mode} run's log does not say '{path}'")
            exe = os.readlink(f"/proc/{p.pid}/exe")
            if "java" not in os.path.basename(exe):
                raise Failure(f"runner pid {p.pid} is {exe}, not the JVM (launcher without exec?)")

            self.wait_serial("VMRUNNER-GUEST: booted", T_BOOT, lambda: p.poll() is None)
            r[key("run_rss")], r[key("run_pss")] = smaps_rollup(p.pid)
            r[key("qemu_rss")] = smaps_rollup(qemu_pid)[0]

            # Idle window: the guest has booted and waits; so should the runner. --idle-delay
            # first lets the start's aftermath pass (JIT compiling, the guest agent's first probes).
            if ov:
                self.stop_runner(r, p, qemu_pid, key)
                return
            if self.args.idle_delay > 0:
                time.sleep(self.args.idle_delay)
            c0, k0 = cpu_ms(p.pid), task_stats(p.pid)
            w0 = time.monotonic()
            time.sleep(self.args.idle_seconds)
            c1, k1 = cpu_ms(p.pid), task_stats(p.pid)
            window = time.monotonic() - w0
            if p.poll() is not None:
                raise Failure(f"runner exited ({p.returncode}) during the idle window")
            ns, switches, by_name, ended = task_delta(k0, k1)
            scale = self.args.idle_seconds / window
            r["idle_cpu"] = (c1 - c0) * scale
            r["idle_sched"] = ns / 1e6 * scale
            r["idle_switches"] = switches * scale
            r["idle_waking"] = by_name
            r["threads"] = len(k0)
            if ended:
                r.setdefault("notes", []).append(
                    f"{ended} runner thread(s) ended during the idle window "
                    "(their CPU time is in utime+stime, not in the schedstat sum)")
            r["run_rss_after_idle"], r["run_pss_after_idle"] = smaps_rollup(p.pid)
            self.stop_runner(r, p, qemu_pid, key)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(5)
            if qemu_pid is not None:
                kill_if(self.procs.ours(qemu_pid), qemu_pid)
                wait_gone(qemu_pid, 5)
            for pid in stray_pids(self.work):
                kill_if(True, pid)
            # let the reader drain (p.stderr is closed when the JVM is gone)
            deadline = time.monotonic() + 2
            while not out.eof and time.monotonic() < deadline:
                time.sleep(0.01)
            errlog.close()
            r["log"] = out.tail(30)
            self.clean()

    def stop_runner(self, r, p, qemu_pid, key):
        t1 = time.monotonic()
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(T_STOP)
        except subprocess.TimeoutExpired:
            raise Failure(f"runner did not exit within {T_STOP:.0f} s of SIGTERM")
        r[key("run_stop")] = (time.monotonic() - t1) * 1000
        r[key("run_rc")] = p.returncode
        if not wait_gone(qemu_pid, 2):
            r.setdefault("notes", []).append(f"QEMU pid {qemu_pid} still alive after the runner exited")
        if os.path.exists(self.runtime):
            r.setdefault("notes", []).append("runtime directory left behind")
        with open(self.serial, errors="replace") as f:
            if "VMRUNNER-GUEST: power button" not in f.read():
                r.setdefault("notes", []).append("guest never reported the power button")

    def version_floor(self, r):
        t0 = time.monotonic()
        run_tool([RUNNER, "--version"], "vmrunner --version", env=self.env)
        r["version"] = (time.monotonic() - t0) * 1000

    def one_run(self, label):
        r = {"label": label, "failures": [], "load": loadavg(),
             "others": len([pid for pid in qemu_pids() if not self.procs.ours(pid)])}
        steps = [("baseline", self.baseline), ("runner", self.runner)]
        if not self.args.no_overlap:
            steps.append(("runner, overlapped", lambda r: self.runner(r, "overlapped")))
        steps.append(("--version", self.version_floor))
        for name, step in steps:
            try:
                step(r)
            except Failure as e:
                r["failures"].append(f"{name}: {e}")
            except (OSError, ValueError, subprocess.SubprocessError) as e:
                r["failures"].append(f"{name}: {type(e).__name__}: {e}")
        return r

    def cleanup(self):
        self.procs.kill_all()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"(work directory kept: {self.work})", file=sys.stderr)


# ---- helpers -------------------------------------------------------------------------------

def write_guest_template(path, serial, cmdsock, testqmp, append=""):
    """Builds (or reuses) the test guest and writes testguest/testguest.ftl.yaml.in to path
    with every @...@ placeholder filled in; returns the guest's directory."""
    out = run_tool([os.path.join(REPO, "testguest", "build.sh")], "testguest/build.sh", host=True)
    guest = out.strip().splitlines()[-1].strip()
    for f in ("vmlinuz", "initrd.img"):
        if not os.path.isfile(os.path.join(guest, f)):
            raise SystemExit(f"bench: test guest has no {f} in {guest}")
    with open(os.path.join(REPO, "testguest", "testguest.ftl.yaml.in")) as f:
        text = f.read()
    for key, value in (("@GUEST@", guest), ("@SERIAL@", serial), ("@APPEND@", append),
                       ("@CMDSOCK@", cmdsock), ("@TESTQMP@", testqmp)):
        text = text.replace(key, value)
    left = sorted(set(re.findall(r"@[A-Z]+@", text)))
    if left:
        raise SystemExit(f"bench: the test-guest template has placeholders this script does "
                         f"not fill in: {', '.join(left)}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return guest


def run_tool(argv, what, env=None, stderr=False, host=False):
    """Runs a tool (in the image with VMRUNNER_BENCH_ROOT unless host) and returns its output."""
    try:
        p = subprocess.run(([] if host else PREFIX) + list(argv), stdin=subprocess.DEVNULL, capture_output=True, env=env,
                           timeout=T_TOOL)
    except subprocess.TimeoutExpired:
        raise Failure(f"{what} did not finish within {T_TOOL:.0f} s")
    except OSError as e:
        raise Failure(f"{what}: {e}")
    if p.returncode != 0:
        raise Failure(f"{what} exited with {p.returncode}: {p.stderr.decode(errors='replace')}")
    return (p.stderr if stderr else p.stdout).decode(errors="replace")


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def qemu_pids():
    """Pids of all running QEMUs (to tell whether something else loads the machine)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().startswith("qemu-system"):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def first_line(text):
    return text.strip().splitlines()[0] if text.strip() else "?"


def first_match(path, regex):
    try:
        with open(path) as f:
            m = re.search(regex, f.read(), re.M)
            return m.group(1).strip() if m else "?"
    except OSError:
        return "?"


def machine_lines(qemu):
    """The header: machine, QEMU, java, the launcher's JVM options and its AppCDS archive."""
    lines = []
    lines.append(f"nproc:        {len(os.sched_getaffinity(0))}")
    lines.append("cpu:          " + first_match("/proc/cpuinfo", r"model name\s*:\s*(.*)"))
    lines.append(f"kernel:       {os.uname().release}")
    lines.append("qemu:         " + first_line(run_tool([qemu, "--version"], "qemu")))
    java = "java" if IMAGE_ROOT else \
        os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") \
        else shutil.which("java") or "java"
    lines.append("java:         " + first_line(run_tool([java, "-version"], "java -version",
                                                        stderr=True)))
    lines.append("JVM options:  " + " ".join(launcher_jvm_options()) + "   (bin/vmrunner)")
    lines.append("AppCDS:       " + appcds_state(java))
    lines.append("VMRUNNER_JAVA_OPTS: " + (os.environ.get("VMRUNNER_JAVA_OPTS") or "(unset)"))
    return lines


def appcds_state(java):
    """Which class archive bin/vmrunner will pass (same test as the launcher)."""
    if IMAGE_ROOT:
        lib = os.path.join(IMAGE_ROOT, "opt/vmrunner/lib")
        found = [f for f in ("vmrunner.aot", "vmrunner.jsa") if os.path.isfile(os.path.join(lib, f))]
        return f"image: {', '.join(found) or 'none'} (made at image build for its java)"
    lib = os.path.join(REPO, "lib") if os.path.isfile(os.path.join(REPO, "lib", "vmrunner.jar")) \
        else os.path.join(REPO, "target")
    cp = f"{lib}/*" if lib.endswith("/lib") else f"{lib}/vmrunner.jar:{lib}/lib/*"
    states = []
    for name in ("vmrunner.aot", "vmrunner.jsa"):
        archive, stamp = os.path.join(lib, name), os.path.join(lib, name + ".stamp")
        if not os.path.isfile(archive) or not os.path.isfile(stamp):
            continue
        with open(stamp) as f:
            recorded = f.readline().rstrip("\n")
        if recorded == f"{os.path.realpath(java)} {cp}":
            return f"{archive} ({os.path.getsize(archive) / 2**20:.1f} MiB, stamp matches: used)"
        states.append(f"{name} for another java")
    return f"no archive for this java in {lib} ({', '.join(states) or 'none'}; runs without)"


def launcher_jvm_options():
    """The JVM options on bin/vmrunner's exec line."""
    with open(os.path.join(IMAGE_ROOT, RUNNER[1:]) if IMAGE_ROOT else RUNNER) as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip().startswith("exec ") and "java" in line:
            return [t for t in line.split() if t.startswith("-X")]
    return ["?"]


# ---- report --------------------------------------------------------------------------------

def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return statistics.median(values), min(values), max(values), len(values)


def fmt(v, digits):
    return "-" if v is None else f"{v:.{digits}f}"


def report(runs, args, header):
    def col(key):
        return [r.get(key) for r in runs]

    def paired(key, base):
        return [r[key] - r[base] if key in r and base in r else None for r in runs]

    diffs = paired("run_start", "base_start")
    ov_diffs = paired("ov_start", "base_start")
    over_version = [d / r["version"] if d is not None and r.get("version") else None
                    for d, r in zip(diffs, runs)]
    ov_over_version = [d / r["version"] if d is not None and r.get("version") else None
                       for d, r in zip(ov_diffs, runs)]
    stop_diffs = [r["run_stop"] - r["base_stop"] if "run_stop" in r and "base_stop" in r else None
                  for r in runs]
    n = len(runs)
    rows = []   # (label, unit, values, digits, ratio-against-key or None)

    def row(label, unit, values, digits=1, base=None):
        rows.append((label, unit, stats(values), digits, base))

    rows.append(("START (kernel-boot config, QEMU starts paused)",))
    row("baseline: QEMU launch -> 'cont' reply", "ms", col("base_start"))
    row("  of which launch -> QMP socket accepts (1 ms polling)", "ms", col("base_connect"))
    row("runner: launch -> 'is running' line", "ms", col("run_start"), base="base_start")
    row("runner overhead (runner - baseline, paired)", "ms", diffs)
    row("  launch -> 'starting VM' line (JVM, CLI, config, render)", "ms", col("run_to_starting"))
    row("  'starting VM' -> 'is running' (QEMU, QMP, cont)", "ms", col("run_starting_to_running"))
    row("  runner's own figure ('N ms after start')", "ms", col("run_internal"))
    row("  bin/vmrunner --version (JVM + CLI floor)", "ms", col("version"))
    row("  overhead in --version starts (paired)", "x", over_version, digits=2)
    row("runner, overlapped: launch -> 'is running' line", "ms", col("ov_start"), base="base_start")
    row("overlapped overhead (runner - baseline, paired)", "ms", ov_diffs)
    row("  overhead in --version starts (paired)", "x", ov_over_version, digits=2)
    row("  runner's own figure ('N ms after start')", "ms", col("ov_internal"))
    rows.append(("MEMORY (guest booted and idle)",))
    row("runner JVM RSS", "MiB", col("run_rss"))
    row("runner JVM PSS", "MiB", col("run_pss"))
    row("runner JVM RSS after the idle window", "MiB", col("run_rss_after_idle"))
    row("runner JVM PSS after the idle window", "MiB", col("run_pss_after_idle"))
    row("runner JVM PSS, overlapped start, after boot", "MiB", col("ov_pss"))
    row("QEMU RSS under the runner (context)", "MiB", col("qemu_rss"))
    row("QEMU RSS, baseline (context)", "MiB", col("base_qemu_rss"))
    rows.append(("STOP (guest booted, cooperative)",))
    row("baseline: system_powerdown -> QEMU exit (floor)", "ms", col("base_stop"))
    row("runner: SIGTERM -> runner exit", "ms", col("run_stop"), base="base_stop")
    row("runner overhead (runner - floor, paired)", "ms", stop_diffs)
    rows.append((f"IDLE ({args.idle_seconds:g} s window, {args.idle_delay:g} s after boot)",))
    row("runner CPU, utime+stime (/proc/pid/stat)", "ms", col("idle_cpu"))
    row("runner CPU, schedstat sum over live threads", "ms", col("idle_sched"), digits=2)
    row("runner context switches (wake-ups)", "", col("idle_switches"), digits=0)
    row("runner threads", "", col("threads"), digits=0)

    medians = {k: stats(col(k)) for k in ("base_start", "base_stop")}
    out = []
    out.extend(header)
    out.append("")
    out.append(f"runs: {n} (+{args.warmup} warm-up discarded); medians, min, max over successful runs")
    w = 58
    out.append(f"{'metric':<{w}} {'unit':>4} {'median':>8} {'min':>8} {'max':>8} {'n':>3} {'ratio':>7}")
    out.append("-" * (w + 44))
    for entry in rows:
        if len(entry) == 1:
            out.append(entry[0])
            continue
        label, unit, s, digits, base = entry
        if s is None:
            out.append(f"{label:<{w}} {unit:>4} {'-':>8} {'-':>8} {'-':>8} {0:>3}")
            continue
        med, lo, hi, cnt = s
        ratio = ""
        if base and medians.get(base) and medians[base][0] > 0:
            ratio = f"{med / medians[base][0]:.2f}x"
        out.append(f"{label:<{w}} {unit:>4} {fmt(med, digits):>8} {fmt(lo, digits):>8} "
                   f"{fmt(hi, digits):>8} {cnt:>3} {ratio:>7}")
    codes = [r.get("run_rc") for r in runs] + [r.get("ov_rc") for r in runs if "ov_rc" in r]
    out.append(f"runner exit codes after SIGTERM (ordinary, then overlapped): {codes}"
               + ("" if all(c == 0 for c in codes) else "   <-- expected 0 every time"))
    out.append("ratio: runner median / baseline median of the same run set")
    out.append("1-min load average at each run's start: "
               + ", ".join(f"{r['load']:.2f}" for r in runs)
               + "; other QEMUs running then: " + ", ".join(str(r["others"]) for r in runs))
    waking = {}
    for r in runs:
        for name, count in r.get("idle_waking", {}).items():
            waking[name] = waking.get(name, 0) + count
    if waking:
        out.append("threads waking up in the idle windows (context switches, all runs): " + ", ".join(
            f"{name} {count}" for name, count in sorted(waking.items(), key=lambda kv: -kv[1])))
    for r in runs:
        for f in r["failures"]:
            out.append(f"FAILED run {r['label']}: {f}")
        for note in r.get("notes", []):
            out.append(f"note run {r['label']}: {note}")
        if r["failures"] and r.get("log"):
            out.append(f"  runner's last output (run {r['label']}):\n{r['log']}")
    return "\n".join(out)



def prepare(session, name):
    """Cleans up at exit (also on SIGTERM/SIGHUP, unwinding through finally blocks), sets the
    session up and returns its machine description, or None when the setup failed."""
    atexit.register(session.cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda signum, frame: sys.exit(128 + signum))
    try:
        session.setup()
        return session.machine()
    except Failure as e:
        print(f"{name}: setup failed: {e}", file=sys.stderr)
        return None

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="measured runs (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="discarded warm-up runs (default 1)")
    ap.add_argument("--idle-seconds", type=float, default=5.0, help="idle window (default 5)")
    ap.add_argument("--idle-delay", type=float, default=0.0,
                    help="seconds between the guest's boot and the idle window (default 0)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--no-overlap", action="store_true",
                    help="no overlapped runner phase (a build without bin/vmrunner's overlap)")
    ap.add_argument("--fresh-data", action="store_true",
                    help="remove the VM's data directory before every run (a first start "
                         "each time: no render cache)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    bench = Bench(args)
    header = prepare(bench, "bench")
    if header is None:
        return 2
    started = time.monotonic()
    runs = []
    total = args.warmup + args.runs
    for i in range(total):
        label = f"warm-up {i + 1}" if i < args.warmup else str(i - args.warmup + 1)
        r = bench.one_run(label)
        status = "ok" if not r["failures"] else "FAILED: " + "; ".join(
            f.splitlines()[0] for f in r["failures"])
        print(f"[{time.monotonic() - started:6.1f} s] run {label}: "
              f"start {fmt(r.get('base_start'), 0)} / {fmt(r.get('run_start'), 0)} / "
              f"{fmt(r.get('ov_start'), 0)} ms, "
              f"stop {fmt(r.get('base_stop'), 0)} / {fmt(r.get('run_stop'), 0)} ms, {status}",
              file=sys.stderr, flush=True)
        if i >= args.warmup:
            runs.append(r)
    print(report(runs, args, header))
    print(f"(benchmark took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
