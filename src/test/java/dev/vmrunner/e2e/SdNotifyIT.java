package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code NOTIFY_SOCKET} set, the runner tells a datagram socket the test owns (as systemd
 * would own it) when the VM is ready, each state, and that it stops.
 */
class SdNotifyIT {

    @TempDir Path dir;

    /**
     * Receives datagrams as systemd does: recvmsg, closing any passed fd (systemd-notify's barrier
     * waits for that), each message appended to a file.
     */
    static final String RECEIVER =
            String.join(
                    "\n",
                    "import array, os, socket, sys",
                    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
                    "s.bind(sys.argv[1])",
                    "open(sys.argv[2] + '.up', 'w').close()",
                    "while True:",
                    "    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64))",
                    "    for level, kind, data in anc:",
                    "        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:",
                    "            fds = array.array('i')",
                    "            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])",
                    "            for fd in fds:",
                    "                os.close(fd)",
                    "    with open(sys.argv[2], 'a') as f:",
                    "        f.write(msg.decode() + '\\n----\\n')");

    @Test
    void readyStatusAndStoppingArriveInOrder() throws Exception {
        Path socket = dir.resolve("notify.sock");
        Path received = dir.resolve("received.txt");
        Process receiver =
                new ProcessBuilder(
                                "/usr/bin/python3",
                                "-c",
                                RECEIVER,
                                socket.toString(),
                                received.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("receiver.log").toFile())
                        .start();
        try (TestVm vm = new TestVm(dir).template("").config()) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.exists(Path.of(received + ".up")) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            vm.environment("NOTIFY_SOCKET", socket.toString());
            Process runner = vm.boot();
            long qemu = vm.childPid("qemu");
            String ready = awaitText(received, "READY=1");
            System.out.println(
                    "SdNotifyIT: runner PSS without --http " + HttpIT.pssKb(runner.pid()) + " kB");
            assertTrue(ready.contains("MAINPID=" + runner.pid()), ready);
            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(60)));
            String all = awaitText(received, "STOPPING=1");
            List<String> lines =
                    Arrays.stream(all.split("\n"))
                            .filter(l -> l.matches("(READY|STOPPING|STATUS)=.*"))
                            .toList();
            assertEquals(
                    List.of(
                            "STATUS=VM e2e starting",
                            "READY=1",
                            "STATUS=VM e2e running (QEMU pid " + qemu + ")",
                            "STOPPING=1",
                            "STATUS=VM e2e stopping (QEMU pid " + qemu + ")"),
                    lines.subList(0, 5),
                    all + "\nlog:\n" + vm.log());
        } finally {
            receiver.destroy();
        }
    }

    static String awaitText(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return Files.readString(file);
            }
            Thread.sleep(50);
        }
        throw new AssertionError(
                "no "
                        + text
                        + " received; got: "
                        + (Files.exists(file) ? Files.readString(file) : ""));
    }
}
