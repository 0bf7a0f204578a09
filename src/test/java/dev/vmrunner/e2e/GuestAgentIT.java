package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.vmrunner.agent.AgentException;
import dev.vmrunner.agent.GuestAgent;
import dev.vmrunner.agent.GuestAgentWatcher;
import dev.vmrunner.agent.GuestInfo;
import dev.vmrunner.qmp.QmpConnection;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest agent client against Debian's qemu-ga in the test guest. QEMU is started directly (not
 * by the runner), so this test is the agent's only client: the chardev accepts one.
 */
class GuestAgentIT {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir Path dir;
    private Process qemu;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
    private final BlockingQueue<String> told = new LinkedBlockingQueue<>();

    @AfterEach
    void stop() throws Exception {
        loop.shutdownNow();
        if (qemu != null && qemu.isAlive()) {
            qemu.destroyForcibly().waitFor(Waits.seconds(10).toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private Path serial() {
        return dir.resolve("serial.log");
    }

    private void startQemu(String append) throws Exception {
        Path guest = TestVm.guest();
        List<String> argv =
                List.of(
                        "qemu-system-x86_64",
                        "-machine",
                        "q35",
                        "-accel",
                        "tcg",
                        "-cpu",
                        "max",
                        "-m",
                        "256M",
                        "-display",
                        "none",
                        "-nodefaults",
                        "-kernel",
                        guest.resolve("vmlinuz").toString(),
                        "-initrd",
                        guest.resolve("initrd.img").toString(),
                        "-append",
                        "console=ttyS0 panic=-1 " + append,
                        "-serial",
                        "file:" + serial(),
                        "-serial",
                        "unix:" + dir.resolve("cmd.sock") + ",server=on,wait=off",
                        "-qmp",
                        "unix:" + dir.resolve("qmp.sock") + ",server=on,wait=off",
                        "-device",
                        "virtio-serial-pci,id=virtio-serial0",
                        "-chardev",
                        "socket,id=guest-agent,path=" + agentSocket() + ",server=on,wait=off",
                        "-device",
                        "virtserialport,id=channel0,chardev=guest-agent,"
                                + "name=org.qemu.guest_agent.0");
        qemu =
                new ProcessBuilder(argv)
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("qemu.log").toFile())
                        .start();
    }

    private Path agentSocket() {
        return dir.resolve("org.qemu.guest_agent.0");
    }

    private final GuestAgentWatcher.Scheduler scheduler =
            (delay, task) -> {
                ScheduledFuture<?> f = loop.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
                return () -> f.cancel(false);
            };

    private final GuestAgentWatcher.Listener listener =
            new GuestAgentWatcher.Listener() {
                @Override
                public void booted(GuestInfo info, Duration sinceStart) {
                    told.add("booted " + sinceStart.toMillis() + " " + info.describe());
                }

                @Override
                public void updated(GuestInfo info) {
                    told.add("updated " + info.describe());
                }

                @Override
                public void unreachable(AgentException cause) {
                    told.add("unreachable " + cause.kind());
                }
            };

    private String next(String prefix) throws Exception {
        long deadline = System.nanoTime() + Waits.scaled(WAIT).toNanos();
        while (System.nanoTime() < deadline) {
            String s = told.poll(1, TimeUnit.SECONDS);
            if (s != null && s.startsWith(prefix)) {
                return s;
            }
        }
        return fail(
                "no '" + prefix + "' within " + Waits.scaled(WAIT) + "; serial:\n" + serialText());
    }

    private String serialText() throws Exception {
        return Files.exists(serial()) ? Files.readString(serial()) : "";
    }

    private void awaitSerial(String text, int count) throws Exception {
        long deadline = System.nanoTime() + Waits.scaled(WAIT).toNanos();
        while (System.nanoTime() < deadline) {
            if (serialText().lines().filter(l -> l.startsWith(text)).count() >= count) {
                return;
            }
            Thread.sleep(50);
        }
        fail("'" + text + "' x" + count + " not on the serial console:\n" + serialText());
    }

    private String guestCommand(String command) throws Exception {
        try (SocketChannel ch =
                SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("cmd.sock")))) {
            OutputStream out = Channels.newOutputStream(ch);
            out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in =
                    new BufferedReader(
                            new InputStreamReader(
                                    Channels.newInputStream(ch), StandardCharsets.UTF_8));
            StringBuilder result = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null && !line.startsWith("VMRUNNER-GUEST: done")) {
                result.append(line).append('\n');
            }
            return result.toString();
        }
    }

    @Test
    void bootedFactsReconnectResetAndShutdown() throws Exception {
        long t0 = System.nanoTime();
        startQemu("");
        try (GuestAgent agent = new GuestAgent(agentSocket(), Waits.seconds(3))) {
            GuestAgentWatcher watcher =
                    new GuestAgentWatcher(
                            agent, scheduler, listener, Duration.ofMillis(500), Waits.seconds(30));
            loop.execute(watcher::start);
            String booted = next("booted ");
            System.out.printf(
                    "GuestAgentIT: QEMU start -> booted (agent answered) %.1f s: %s%n",
                    (System.nanoTime() - t0) / 1e9, booted);
            assertTrue(booted.contains("vmrunner test guest, host name vmrunner-guest"), booted);
            assertTrue(booted.contains("time zone UTC"), booted);
            awaitSerial("VMRUNNER-GUEST: booted", 1);

            // The agent dies with a request in flight and is restarted (as systemd would): the
            // client syncs again and drops the stale reply.
            var inFlight = agent.hostName();
            guestCommand("kill $(pidof qemu-ga)");
            long killed = System.nanoTime();
            awaitSerial("VMRUNNER-GUEST: agent started", 2);
            var unused =
                    inFlight.handle((v, e) -> null)
                            .get(Waits.seconds(30).toMillis(), TimeUnit.MILLISECONDS);
            long deadline = System.nanoTime() + Waits.scaled(WAIT).toNanos();
            String host = null;
            while (host == null && System.nanoTime() < deadline) {
                host =
                        agent.hostName()
                                .handle((v, e) -> v)
                                .get(Waits.seconds(30).toMillis(), TimeUnit.MILLISECONDS);
            }
            assertEquals("vmrunner-guest", host);
            System.out.printf(
                    "GuestAgentIT: agent killed -> answering again %.2f s%n",
                    (System.nanoTime() - killed) / 1e9);

            // A reset: the guest boots again, and so does "booted".
            try (QmpConnection qmp =
                    QmpConnection.connect(dir.resolve("qmp.sock"), Waits.seconds(10), null)) {
                qmp.execute("system_reset", null, Waits.seconds(10))
                        .get(Waits.seconds(10).toMillis(), TimeUnit.MILLISECONDS);
                long reset = System.nanoTime();
                loop.execute(watcher::reset);
                String again = next("booted ");
                System.out.printf(
                        "GuestAgentIT: system_reset -> booted again %.1f s%n",
                        (System.nanoTime() - reset) / 1e9);
                assertNotNull(again);
                awaitSerial("VMRUNNER-GUEST: booted", 2);

                // Agent-first shutdown: the guest logs the agent's shutdown and powers off.
                long asked = System.nanoTime();
                agent.shutdown("powerdown")
                        .get(Waits.seconds(30).toMillis(), TimeUnit.MILLISECONDS);
                assertTrue(
                        qemu.waitFor(Waits.seconds(60).toMillis(), TimeUnit.MILLISECONDS),
                        "QEMU still runs:\n" + serialText());
                System.out.printf(
                        "GuestAgentIT: guest-shutdown -> QEMU exited %.2f s%n",
                        (System.nanoTime() - asked) / 1e9);
                assertTrue(serialText().contains("VMRUNNER-GUEST: agent shutdown poweroff"));
            }
        }
    }
}
