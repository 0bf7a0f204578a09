package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest that attacks the runner through every channel it writes to: its agent port ({@code
 * org.qemu.guest_agent.0}, with qemu-ga off so the guest's shell owns the port) flooded with short
 * replies, 150 KiB lines, an endless line, endless 0xFF bytes and wrong sync ids; the port opened
 * and closed in a loop ({@code VSERPORT_CHANGE}); the console flooded. Throughout, the runner's RSS
 * stays under 150 MiB and no OutOfMemoryError shows; the floods add at most a few thousand log
 * lines; afterwards status answers, a live change applies and SIGTERM powers the guest off.
 */
class HostileGuestIT {
    private static final int PHASE_SECONDS = 15;
    private static final long MAX_RSS_KIB = 150 * 1024;
    private static final int MAX_LOG_LINES = 3000;

    /** The device of the agent's port, found by its name as udev would. */
    private static final String PORT =
            "export P=$(for p in /sys/class/virtio-ports/vport*; do"
                    + " [ \"$(cat $p/name)\" = org.qemu.guest_agent.0 ] && echo /dev/${p##*/};"
                    + " done); ";

    /** Name and the guest's shell command of each flood; each runs PHASE_SECONDS. */
    private static final String[][] FLOODS = {
        {"short replies", "yes '{\"return\": {}}' >$P"},
        {
            "150 KiB lines",
            "sh -c 'while :; do head -c 153600 /dev/zero | tr \"\\0\" a; echo; done' >$P"
        },
        {"endless line", "tr '\\0' a </dev/zero >$P"},
        {"0xFF bytes", "tr '\\0' '\\377' </dev/zero >$P"},
        {"wrong sync ids", "sh -c 'while :; do printf \"\\377{\\\"return\\\": 42}\\n\"; done' >$P"},
        {"port open/close", "sh -c 'while :; do : >$P; done'"},
        {"console", "yes 'console flood console flood console flood' >/dev/ttyS0"},
    };

    @TempDir Path dir;

    @Test
    void aHostileGuestNeitherExhaustsNorSilencesTheRunner() throws Exception {
        try (TestVm vm =
                new TestVm(dir).template("vmrunner.agent=off").config("powerdownTimeout: 60")) {
            vm.boot();
            long pid = vm.runnerPid();
            long logLinesBefore = lines(vm.log());
            List<String> report = new ArrayList<>();
            for (String[] flood : FLOODS) {
                AtomicLong peakRss = new AtomicLong();
                Thread sampler = sampler(pid, peakRss);
                vm.guestCommand(
                        PORT
                                + "timeout "
                                + PHASE_SECONDS
                                + " "
                                + flood[1]
                                + " 2>/dev/null </dev/null &",
                        WAIT);
                Thread.sleep(PHASE_SECONDS * 1000L / 2);
                long t0 = System.nanoTime();
                StatusIT.Answer status = StatusIT.status(vm, "-o", "json");
                long statusMillis = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(0, status.code(), status.err());
                String heap = heap(pid);
                Thread.sleep(PHASE_SECONDS * 1000L / 2 + 2000);
                sampler.interrupt();
                sampler.join();
                String line =
                        String.format(
                                "HostileGuestIT: %-16s peak RSS %6.1f MiB, heap %s, status %d ms",
                                flood[0], peakRss.get() / 1024.0, heap, statusMillis);
                System.out.println(line);
                report.add(line);
                assertTrue(
                        peakRss.get() < MAX_RSS_KIB,
                        flood[0] + ": RSS " + peakRss.get() + " KiB\n" + vm.log());
                assertTrue(vm.runnerAlive(), vm.log());
            }
            Files.write(dir.resolve("report.txt"), report);
            String log = vm.log();
            long added = lines(log) - logLinesBefore;
            System.out.println("HostileGuestIT: the floods added " + added + " log lines");
            log.lines()
                    .filter(l -> !l.contains(" console: "))
                    .forEach(l -> System.out.println("HostileGuestIT: log: " + l));
            assertTrue(added <= MAX_LOG_LINES, added + " log lines:\n" + tail(log));
            assertFalse(log.contains("OutOfMemoryError"), log);
            assertTrue(log.contains("The guest agent"), "misbehaving agent logged:\n" + tail(log));

            JsonObject guest = StatusIT.status(vm, "-o", "json").json().getAsJsonObject("guest");
            assertTrue(guest.get("agentDisconnects").getAsLong() > 0, guest.toString());

            // A live change still applies, and SIGTERM powers the guest off.
            Files.writeString(
                    vm.config, vm.configText("e2e", "powerdownTimeout: 60", "currentRam: 200M"));
            vm.awaitLog("vm.currentRam: 256M -> 200M: applied", WAIT);
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), tail(vm.log()));
            assertFalse(vm.log().contains("OutOfMemoryError"), vm.log());
        }
    }

    /** Samples the process's resident set every 100 ms into {@code peak} (KiB). */
    private static Thread sampler(long pid, AtomicLong peak) {
        Thread t =
                new Thread(
                        () -> {
                            Path status = Path.of("/proc/" + pid + "/status");
                            Pattern rss = Pattern.compile("VmRSS:\\s+(\\d+) kB");
                            while (!Thread.currentThread().isInterrupted()) {
                                try {
                                    Matcher m = rss.matcher(Files.readString(status));
                                    if (m.find()) {
                                        peak.accumulateAndGet(
                                                Long.parseLong(m.group(1)), Math::max);
                                    }
                                    Thread.sleep(100);
                                } catch (IOException e) {
                                    return;
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        },
                        "rss-sampler");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The runner's heap as {@code jcmd GC.heap_info} tells it (used/committed), best effort. */
    private static String heap(long pid) {
        try {
            Process p =
                    new ProcessBuilder("jcmd", Long.toString(pid), "GC.heap_info")
                            .redirectErrorStream(true)
                            .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(out);
            long total = 0;
            long used = 0;
            while (m.find()) {
                total += Long.parseLong(m.group(1));
                used += Long.parseLong(m.group(2));
            }
            return total == 0 ? "?" : String.format("%.1f/%.1f MiB", used / 1024.0, total / 1024.0);
        } catch (IOException | InterruptedException e) {
            return "? (" + e.getMessage() + ")";
        }
    }

    private static long lines(String text) {
        return text.chars().filter(c -> c == '\n').count();
    }

    private static String tail(String log) {
        return log.length() > 20_000 ? log.substring(log.length() - 20_000) : log;
    }
}
