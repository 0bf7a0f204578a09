#!/usr/bin/env python3
"""End-to-end check of the vmrunner test guest under QEMU/TCG.

Usage: testguest/selftest.py [GUESTDIR]   (default: run build.sh and use its result)
Needs qemu-system-x86_64, genisoimage or xorriso (CD test) and swtpm (TPM test).
Prints one line per check and exits non-zero if any failed.
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 60


class Qmp:
    def __init__(self, path):
        deadline = time.time() + 10
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.f = self.s.makefile("rw")
        self.events = []
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("QMP closed")
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)
                continue
            if "error" in msg:
                raise RuntimeError(f"{name}: {msg['error']}")
            return msg["return"]

    def wait_event(self, name, timeout=10):
        deadline = time.time() + timeout
        while True:
            for e in self.events:
                if e["event"] == name:
                    self.events.remove(e)
                    return e
            left = deadline - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                line = self.f.readline()
            except (socket.timeout, TimeoutError):
                return None
            finally:
                self.s.settimeout(None)
            if not line:
                return None
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)


class Vm:
    def __init__(self, guest, tmp, name, append="", extra=(), cmdchan=False, reboot=False):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.serial = os.path.join(self.dir, "serial.log")
        qmp = os.path.join(self.dir, "qmp.sock")
        args = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "max",
                "-m", "256M", "-smp", "1,maxcpus=2", "-display", "none", "-nodefaults",
                "-kernel", f"{guest}/vmlinuz", "-initrd", f"{guest}/initrd.img",
                "-append", ("console=ttyS0 panic=-1 " + append).strip(),
                "-serial", f"file:{self.serial}",
                "-qmp", f"unix:{qmp},server=on,wait=off"]
        if cmdchan:
            self.cmdsock = os.path.join(self.dir, "cmd.sock")
            args += ["-serial", f"unix:{self.cmdsock},server=on,wait=off"]
        if not reboot:
            args.append("-no-reboot")
        args += list(extra)
        self.t0 = time.time()
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        self.qmp = Qmp(qmp)
        self.cmdf = None

    def log(self):
        try:
            with open(self.serial, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def markers(self):
        return [l.strip() for l in self.log().splitlines() if l.startswith("VMRUNNER-GUEST: ")]

    def wait_marker(self, text, count=1, timeout=TIMEOUT):
        want = "VMRUNNER-GUEST: " + text
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.markers().count(want) >= count:
                return True
            if self.p.poll() is not None:
                return self.markers().count(want) >= count
            time.sleep(0.05)
        return False

    def run(self, command, timeout=30):
        """Run command on the guest command channel; returns (output, rc)."""
        if self.cmdf is None:
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.cmdsock)
            s.settimeout(timeout)
            self.cmdsock_s = s
            self.cmdf = s.makefile("rwb", buffering=0)
        self.cmdf.write(command.encode() + b"\n")
        out = []
        while True:
            line = self.cmdf.readline()
            if not line:
                raise EOFError("command channel closed")
            line = line.decode(errors="replace").rstrip("\r\n")
            if line.startswith("VMRUNNER-GUEST: done "):
                return "\n".join(out), int(line.split()[-1])
            out.append(line)

    def wait_exit(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def test_powerdown(guest, tmp):
    vm = Vm(guest, tmp, "powerdown")
    try:
        ok = vm.wait_marker("booted")
        check("boot marker", ok, f"{time.time() - vm.t0:.1f}s after QEMU start")
        if not ok:
            return
        m = vm.markers()
        check("tpm absent without TPM", "VMRUNNER-GUEST: tpm absent" in m)
        check("cpus 1 initially", "VMRUNNER-GUEST: cpus 1" in m)
        t = time.time()
        vm.qmp.cmd("system_powerdown")
        rc = vm.wait_exit(20)
        check("system_powerdown powers off", rc is not None and vm.markers()[-1] == "VMRUNNER-GUEST: power button",
              f"QEMU exited {time.time() - t:.2f}s later, rc={rc}, last marker {vm.markers()[-1]!r}")
    finally:
        vm.kill()


def test_ignore(guest, tmp):
    vm = Vm(guest, tmp, "ignore", append="vmrunner.powerbutton=ignore")
    try:
        if not vm.wait_marker("booted"):
            check("boot (ignore)", False)
            return
        vm.qmp.cmd("system_powerdown")
        ok = vm.wait_marker("power button ignored", timeout=10)
        vm.qmp.cmd("system_powerdown")
        ok2 = vm.wait_marker("power button ignored", count=2, timeout=10)
        running = vm.wait_exit(2) is None
        check("powerbutton=ignore keeps running", ok and ok2 and running)
    finally:
        vm.kill()


def test_devices(guest, tmp):
    iso_dir = os.path.join(tmp, "isosrc")
    os.makedirs(iso_dir)
    with open(os.path.join(iso_dir, "hello.txt"), "w") as f:
        f.write("hello from the cd\n")
    iso = os.path.join(tmp, "cd.iso")
    if shutil.which("genisoimage"):
        subprocess.run(["genisoimage", "-quiet", "-o", iso, "-V", "TESTCD", "-r", iso_dir], check=True)
    else:
        subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-V", "TESTCD", "-r", iso_dir],
                       check=True)
    vm = Vm(guest, tmp, "devices", cmdchan=True,
            extra=["-device", "virtio-balloon-pci,id=balloon0",
                   "-drive", f"if=none,id=cd0,media=cdrom,readonly=on,file={iso}",
                   "-device", "ide-cd,drive=cd0,bus=ide.0,id=cdrom0"])
    try:
        if not vm.wait_marker("booted"):
            check("boot (devices)", False)
            return
        check("balloon bound marker", "VMRUNNER-GUEST: balloon bound" in vm.markers())
        check("command channel marker", "VMRUNNER-GUEST: command channel ttyS1" in vm.markers())
        out, rc = vm.run("echo hi")
        check("command channel echo hi", (out, rc) == ("hi", 0), repr((out, rc)))
        out, rc = vm.run("printf 'a\\nb'; exit 3")
        check("command channel output without final newline", (out, rc) == ("a\nb", 3), repr((out, rc)))
        out, rc = vm.run("echo out; echo err >&2")
        check("command channel stderr", (out, rc) == ("out\nerr", 0), repr((out, rc)))
        out, rc = vm.run("false")
        check("command channel exit code", rc == 1, repr((out, rc)))
        check("done marker on ttyS0 too", vm.wait_marker("done 1", timeout=2))

        # CPU hotplug
        free = [c for c in vm.qmp.cmd("query-hotpluggable-cpus") if "qom-path" not in c]
        t = time.time()
        vm.qmp.cmd("device_add", driver=free[0]["type"], id="cpu-1", **free[0]["props"])
        ok = vm.wait_marker("cpus 2", timeout=20)
        check("cpu hotplug -> cpus 2", ok, f"{time.time() - t:.2f}s")
        out, rc = vm.run("cat /sys/devices/system/cpu/online")
        check("guest sees cpu online", out == "0-1", repr(out))
        t = time.time()
        vm.qmp.cmd("device_del", id="cpu-1")
        ok = vm.wait_marker("cpus 1", count=2, timeout=20)
        check("cpu unplug -> cpus 1", ok, f"{time.time() - t:.2f}s")
        # Re-plugging a CPU after an unplug crashes QEMU 7.2 under TCG
        # (glibc "corrupted double-linked list"), so that is not tested.

        # balloon
        before = vm.qmp.cmd("query-balloon")["actual"]
        vm.qmp.cmd("balloon", value=128 * 1024 * 1024)
        deadline, actual = time.time() + 30, before
        while time.time() < deadline:
            actual = vm.qmp.cmd("query-balloon")["actual"]
            if actual <= 128 * 1024 * 1024:
                break
            time.sleep(0.2)
        check("balloon to 128M", actual == 128 * 1024 * 1024, f"{before >> 20}M -> {actual >> 20}M")
        vm.qmp.cmd("balloon", value=256 * 1024 * 1024)

        # CD: mount locks the tray
        out, rc = vm.run("mount -t iso9660 /dev/sr0 /mnt && cat /mnt/hello.txt")
        check("mount CD via command channel", rc == 0 and "hello from the cd" in out, repr((out, rc)))
        vm.qmp.events.clear()
        vm.qmp.cmd("blockdev-open-tray", id="cdrom0")
        time.sleep(1)
        info = [b for b in vm.qmp.cmd("query-block") if b.get("qdev") == "cdrom0"][0]
        check("locked tray stays closed on blockdev-open-tray",
              not info.get("tray_open") and info.get("locked"), f"tray_open={info.get('tray_open')} locked={info.get('locked')}")
        out, rc = vm.run("eject /dev/sr0")
        check("eject refuses while mounted", rc != 0, repr((out, rc)))
        t = time.time()
        out, rc = vm.run("umount /mnt; eject /dev/sr0")
        ev = vm.qmp.wait_event("DEVICE_TRAY_MOVED", timeout=10)
        check("umount + eject -> DEVICE_TRAY_MOVED", rc == 0 and ev is not None and ev["data"]["tray-open"],
              f"rc={rc} out={out!r} event={ev and ev['data']} {time.time() - t:.2f}s")
    finally:
        vm.kill()


def test_tpm(guest, tmp):
    if not shutil.which("swtpm"):
        check("tpm present (swtpm missing)", False)
        return
    state = os.path.join(tmp, "tpmstate")
    os.makedirs(state)
    sock = os.path.join(tmp, "swtpm.sock")
    sw = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
                           "--ctrl", f"type=unixio,path={sock},mode=0600", "--terminate"])
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        vm = Vm(guest, tmp, "tpm", extra=["-chardev", f"socket,id=chrtpm,path={sock}",
                                           "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                                           "-device", "tpm-tis,tpmdev=tpm0"])
        try:
            ok = vm.wait_marker("booted")
            check("tpm present with swtpm", ok and "VMRUNNER-GUEST: tpm present" in vm.markers())
        finally:
            vm.kill()
    finally:
        sw.kill()
        sw.wait()


def test_reboot(guest, tmp):
    vm = Vm(guest, tmp, "reboot", cmdchan=True, reboot=True)
    try:
        if not vm.wait_marker("booted"):
            check("boot (reboot)", False)
            return
        vm.cmdf = None
        try:
            vm.cmdf = None
            s = socket.socket(socket.AF_UNIX)
            s.connect(vm.cmdsock)
            s.sendall(b"reboot -f\n")
        except OSError as e:
            check("reboot command", False, str(e))
            return
        ok = vm.wait_marker("booted", count=2)
        check("booted again after reboot", ok)
        s.close()
    finally:
        vm.kill()


def main():
    if len(sys.argv) > 1:
        guest = sys.argv[1]
    else:
        out = subprocess.run([os.path.join(HERE, "build.sh")], check=True, stdout=subprocess.PIPE, text=True)
        guest = out.stdout.strip().splitlines()[-1]
    tmp = tempfile.mkdtemp(prefix="vmrunner-guest-selftest.")
    try:
        for t in (test_powerdown, test_ignore, test_devices, test_tpm, test_reboot):
            try:
                t(guest, tmp)
            except Exception as e:  # noqa: BLE001
                check(t.__name__, False, f"{type(e).__name__}: {e}")
    finally:
        if os.environ.get("KEEP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{sum(RESULTS)}/{len(RESULTS)} checks passed")
    sys.exit(0 if all(RESULTS) else 1)


if __name__ == "__main__":
    main()
