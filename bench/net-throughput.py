#!/usr/bin/env python3
"""Guest <-> host TCP throughput of the test guest with passt and with QEMU's user networking.

    mvn -q package -DskipTests        # bin/vmrunner runs target/vmrunner.jar
    python3 bench/net-throughput.py [--size-mb 100] [--runs 3] [--types passt,user]
                                    [--accel tcg|kvm] [--keep]

For each type the runner boots the test guest (testguest/build.sh) with one interface of that
type and ports ["<free port>:5001"]; the guest takes its address by DHCP. Then, --runs times:

* host -> guest: the guest listens (sleep | nc -l -p 5001 > /dev/null); the host connects to
  127.0.0.1:<forwarded port>, writes --size-mb MiB, shuts its side down and waits for the
  guest to close (so the time covers every byte the guest read).
* guest -> host: the guest writes a file of --size-mb MiB into its tmpfs once; the host
  fetches it from the guest's web server (busybox httpd, port 80, also forwarded). The time
  runs from the request to EOF. (A first version had the guest send with busybox nc to a
  listener of the host; with passt the connection ended after 22 of 100 MiB, not looked into.)

MB/s are MiB per second; medians with min and max. It never passes or fails. Python 3 standard
library only; needs QEMU, passt (for that type), JDK 17 and the test guest.
"""
import argparse
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST_PORT = 5001
CHUNK = 1 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(path, text, timeout, process):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"net-throughput: the runner exited with {process.returncode}"
                             f" before '{text}' (see {path} and runner.log beside it)")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                if text in f.read():
                    return
        time.sleep(0.05)
    raise SystemExit(f"net-throughput: no '{text}' in {path} within {timeout} s")


class Guest:
    """A runner with the test guest, and the guest's command channel (see testguest/)."""

    def __init__(self, work, kind, accel, port, web_port):
        self.work = os.path.join(work, kind)
        os.makedirs(self.work)
        out = subprocess.run([os.path.join(REPO, "testguest", "build.sh")], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        guest = out.strip().splitlines()[-1]
        self.serial = os.path.join(self.work, "serial.log")
        self.cmdsock = os.path.join(self.work, "cmd.sock")
        templates = os.path.join(self.work, "templates")
        os.makedirs(templates)
        with open(os.path.join(REPO, "testguest", "testguest.ftl.yaml.in")) as f:
            text = f.read()
        for key, value in (("@GUEST@", guest), ("@SERIAL@", self.serial), ("@APPEND@", ""),
                           ("@CMDSOCK@", self.cmdsock),
                           ("@TESTQMP@", os.path.join(self.work, "qmp.sock"))):
            text = text.replace(key, value)
        with open(os.path.join(templates, "testguest.ftl.yaml"), "w") as f:
            f.write(text)
        config = os.path.join(self.work, "config.yaml")
        with open(config, "w") as f:
            f.write(f'''"/Runner":
  dataDir: {self.work}/data
  runtimeDir: {self.work}/run
  template: testguest.ftl.yaml
  vm:
    name: net-{kind}
    firmware: bios
    accelerator: {accel}
    cpuModel: max
    maximumRam: 512M
    network:
      - type: {kind}
        ports: ["{port}:{GUEST_PORT}", "{web_port}:80"]
''')
        self.log = open(os.path.join(self.work, "runner.log"), "w")
        self.runner = subprocess.Popen(
            [os.path.join(REPO, "bin", "vmrunner"), "-c", config, "--templates-dir", templates],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.serial, "VMRUNNER-GUEST: dhcp ", 300, self.runner)

    def run(self, command, timeout=600):
        """Runs a shell command in the guest; returns its output."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.cmdsock)
            s.sendall((command + "\n").encode())
            s.settimeout(timeout)
            out = b""
            while b"VMRUNNER-GUEST: done" not in out:
                data = s.recv(65536)
                if not data:
                    break
                out += data
            return out.decode(errors="replace").split("VMRUNNER-GUEST: done")[0]

    def stop(self):
        self.runner.terminate()
        try:
            self.runner.wait(120)
        except subprocess.TimeoutExpired:
            self.runner.kill()
        self.log.close()


def host_to_guest(guest, port, size):
    # nc's stdin stays open (busybox nc stops reading the socket once its stdin ends); it
    # exits when the host closes the connection.
    guest.run(f"sleep 100000 | nc -l -p {GUEST_PORT} >/dev/null 2>&1 &")
    for _ in range(200):
        if f":{GUEST_PORT} " in guest.run("netstat -ltn"):
            break
        time.sleep(0.05)
    block = b"\0" * CHUNK
    with socket.create_connection(("127.0.0.1", port)) as s:
        start = time.monotonic()
        for _ in range(size // CHUNK):
            s.sendall(block)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(600)
        while s.recv(65536):
            pass
        return size / (time.monotonic() - start)


def guest_to_host(guest, web_port, size):
    """The host fetches a file of the given size from the guest's web server (in tmpfs)."""
    guest.run(f"[ -s /run/www/big ] || dd if=/dev/zero of=/run/www/big bs=65536"
              f" count={size // 65536} 2>/dev/null")
    with socket.create_connection(("127.0.0.1", web_port)) as s:
        start = time.monotonic()
        s.sendall(b"GET /big HTTP/1.0\r\n\r\n")
        s.settimeout(600)
        total = 0
        while True:
            data = s.recv(CHUNK)
            if not data:
                break
            total += len(data)
        seconds = time.monotonic() - start
    if total < size:
        raise SystemExit(f"net-throughput: the host received {total} of {size} bytes")
    return size / seconds


def describe(rates):
    mb = [r / (1 << 20) for r in rates]
    return f"{statistics.median(mb):7.1f} MB/s (min {min(mb):.1f}, max {max(mb):.1f})"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size-mb", type=int, default=100)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--types", default="passt,user")
    p.add_argument("--accel", default="tcg", help="tcg (default, as the tests) or kvm")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    size = args.size_mb * CHUNK
    with open("/proc/cpuinfo") as f:
        cpu = re.search(r"model name\s*:\s*(.*)", f.read())
    print(f"machine: {cpu.group(1) if cpu else platform.processor()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f} at start; accelerator {args.accel}; "
          f"{args.size_mb} MiB per transfer, {args.runs} runs")
    work = tempfile.mkdtemp(prefix="vmrunner-net-")
    try:
        for kind in args.types.split(","):
            port, web_port = free_port(), free_port()
            guest = Guest(work, kind, args.accel, port, web_port)
            try:
                down = [host_to_guest(guest, port, size) for _ in range(args.runs)]
                up = [guest_to_host(guest, web_port, size) for _ in range(args.runs)]
            finally:
                guest.stop()
            print(f"{kind:6} host -> guest {describe(down)}   guest -> host {describe(up)}")
        print(f"load {os.getloadavg()[0]:.1f} at the end")
    finally:
        if args.keep:
            print(f"(work directory kept: {work})", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
