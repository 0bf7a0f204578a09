package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.HostileFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile configuration files, live and on the command line: a running VM is never touched (same
 * QEMU, the guest answers), each file gets a warning, the next good change is applied, and the
 * runner's memory stays bounded; {@code check} and {@code render} answer each file with exit 2 and
 * one message, quickly.
 */
class HostileConfigIT {

    static final Duration WAIT = Duration.ofSeconds(30);
    static final long MAX_RSS_KIB = 150 * 1024;

    @TempDir Path dir;

    /** One hostile case: how it is put in place, and what the warning says. */
    enum Case {
        DEEP_9MB("more than the limit of 1 MiB"),
        HUGE_60MB("the file is 62914500 bytes, more than the limit of 1 MiB"),
        ALIAS_BOMB("more than 20 aliases of lists or mappings"),
        ALIAS_EXPANSION("the aliases expand the configuration to more than 20000 values"),
        RECURSIVE_ALIAS("recursive alias *a"),
        GARBAGE("it is not UTF-8 text"),
        EMPTY("The configuration is empty"),
        DEEP_FLOW("nested more than 32 levels deep"),
        MANY_VALUES("the configuration has more than 20000 values"),
        DELETED("is missing (deleted or being replaced)"),
        DIRECTORY("it is a directory"),
        FIFO("it is not a regular file (a FIFO, socket or device)");

        final String warning;

        Case(String warning) {
            this.warning = warning;
        }

        /** Puts the case where {@code config} is: large files written in place, others renamed. */
        void apply(Path config) throws Exception {
            switch (this) {
                case DELETED -> Files.delete(config);
                case DIRECTORY -> {
                    Files.delete(config);
                    Files.createDirectory(config);
                }
                case FIFO -> {
                    Path fifo = config.resolveSibling(".fifo");
                    mkfifo(fifo);
                    Files.move(fifo, config, StandardCopyOption.REPLACE_EXISTING);
                }
                case DEEP_9MB, HUGE_60MB -> HostileFiles.valueOf(name()).write(config);
                default -> {
                    Path tmp = HostileFiles.valueOf(name()).write(config.resolveSibling(".new"));
                    Files.move(
                            tmp,
                            config,
                            StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }

        /** Makes room for a regular file again. */
        void undo(Path config) throws IOException {
            if (Files.isDirectory(config) || this == FIFO) {
                Files.delete(config);
            }
        }

        /** A file for {@code check}/{@code render}, or null where the case is live only. */
        Path file(Path dir) throws Exception {
            Path file = dir.resolve(name().toLowerCase(java.util.Locale.ROOT) + ".yaml");
            switch (this) {
                case DELETED -> {
                    return null;
                }
                case DIRECTORY -> {
                    return Files.createDirectory(file);
                }
                case FIFO -> {
                    mkfifo(file);
                    return file;
                }
                default -> {
                    return HostileFiles.valueOf(name()).write(file);
                }
            }
        }
    }

    static void mkfifo(Path path) throws Exception {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertTrue(
                p.waitFor(Waits.seconds(10).toMillis(), TimeUnit.MILLISECONDS)
                        && p.exitValue() == 0,
                "mkfifo failed");
    }

    /** The runner's resident memory, from /proc. */
    static long rssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS for " + pid);
    }

    /** Waits until the log, after {@code offset}, has a WARN line and {@code text}. */
    static Duration awaitWarning(TestVm vm, int offset, String text, long since) throws Exception {
        long deadline = System.nanoTime() + Waits.scaled(WAIT).toNanos();
        while (System.nanoTime() < deadline) {
            String log = vm.log();
            String tail = log.length() > offset ? log.substring(offset) : "";
            if (tail.contains(" WARN ") && tail.contains(text)) {
                return Duration.ofNanos(System.nanoTime() - since);
            }
            Thread.sleep(20);
        }
        throw new AssertionError(
                "no warning with '"
                        + text
                        + "' within "
                        + Waits.scaled(WAIT)
                        + "; log:\n"
                        + vm.log());
    }

    @Test
    void aRunningVmSurvivesEveryHostileFile() throws Exception {
        TestVm vm = new TestVm(dir).template("");
        try (vm) {
            vm.config("maximumRam: 256M", "currentRam: 256M");
            Process runner = vm.boot();
            long qemu = vm.childPid("qemu");
            List<String> table = new ArrayList<>();
            table.add(String.format("%-16s %-8s %-9s %s", "case", "warned", "RSS", "outcome"));
            table.add(
                    String.format(
                            "%-16s %-8s %-9s %s",
                            "(booted)", "", rssKib(runner.pid()) / 1024 + " MiB", ""));
            String ram = "256M";
            for (Case c : Case.values()) {
                int offset = vm.log().length();
                long start = System.nanoTime();
                c.apply(vm.config);
                Duration warned = awaitWarning(vm, offset, c.warning, start);
                long rss = rssKib(runner.pid());

                assertTrue(runner.isAlive(), c + ": the runner died; log:\n" + vm.log());
                assertTrue(TestVm.alive(qemu), c + ": QEMU is gone; log:\n" + vm.log());
                assertEquals(qemu, vm.childPid("qemu"), c + ": another QEMU");
                assertTrue(
                        vm.guestCommand("echo alive-" + c, WAIT).contains("alive-" + c),
                        c + ": the guest does not answer");
                assertTrue(rss < MAX_RSS_KIB, c + ": the runner's RSS is " + rss + " KiB");
                assertFalse(
                        vm.log().substring(offset).contains("\tat "),
                        c + ": a stack trace in the log:\n" + vm.log().substring(offset));

                // The next good change is applied.
                c.undo(vm.config);
                String next = ram.equals("256M") ? "200M" : "256M";
                String applied = "vm.currentRam: " + ram + " -> " + next + ": applied";
                Path tmp = vm.dir.resolve(".good");
                Files.writeString(
                        tmp, vm.configText("e2e", "maximumRam: 256M", "currentRam: " + next));
                Files.move(tmp, vm.config, StandardCopyOption.REPLACE_EXISTING);
                vm.awaitLog(applied, WAIT);
                ram = next;
                table.add(
                        String.format(
                                "%-16s %-8s %-9s %s",
                                c,
                                warned.toMillis() + " ms",
                                rss / 1024 + " MiB",
                                "warning, VM untouched, next change applied"));
            }
            System.out.println("Hostile live config files:\n" + String.join("\n", table));
            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(120)), vm.log());
        }
    }

    record Result(int code, String out, Duration took) {}

    static Result vmrunner(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(TestVm.LAUNCHER.toString()));
        command.addAll(List.of(args));
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(Waits.seconds(60).toMillis(), TimeUnit.MILLISECONDS), "vmrunner hung");
        return new Result(p.exitValue(), out, Duration.ofNanos(System.nanoTime() - start));
    }

    @Test
    void checkAndRenderAnswerEveryHostileFileWithOneMessage() throws Exception {
        List<String> table = new ArrayList<>();
        for (Case c : Case.values()) {
            Path file = c.file(dir);
            if (file == null) {
                continue;
            }
            for (String command : List.of("check", "render")) {
                Result r = vmrunner(command, "-c", file.toString());
                String what = command + " " + c + ": " + r.out();
                assertEquals(2, r.code(), what);
                assertEquals(1, r.out().strip().lines().count(), "not one line: " + what);
                assertTrue(r.out().contains(c.warning), what);
                assertFalse(r.out().contains("Exception") || r.out().contains("\tat "), what);
                // Generous for a loaded machine; the JVM's start is most of it.
                assertTrue(r.took().compareTo(Waits.seconds(10)) < 0, what + " " + r.took());
                table.add(
                        String.format(
                                "%-7s %-16s exit %d  %5d ms  %s",
                                command, c, r.code(), r.took().toMillis(), r.out().strip()));
            }
        }
        System.out.println("check/render on hostile files:\n" + String.join("\n", table));
    }

    String upstreamConfig(Path dataDir, String vmLines) {
        return "\"/Runner\":\n  dataDir: "
                + dataDir
                + "\n  runtimeDir: "
                + dir.resolve("run")
                + "\n  template: upstream-style.ftl.yaml\n  vm:\n    name: up\n"
                + "    firmware: bios\n    accelerator: tcg\n    network: []\n"
                + vmLines;
    }

    @Test
    void anUpstreamStyleTemplateIsSafeAndCheckRenderAndStartAgree() throws Exception {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.copy(
                Path.of("src/test/resources/templates/upstream-style.ftl.yaml"),
                templates.resolve("upstream-style.ftl.yaml"));
        Path config = dir.resolve("config.yaml");
        Files.writeString(
                config,
                upstreamConfig(
                        dir.resolve("data"),
                        "    drives:\n      - type: ide-cd\n        file: a,format=qcow2,b.iso\n"));
        Result render =
                vmrunner(
                        "render", "-c", config.toString(), "--templates-dir", templates.toString());
        assertEquals(0, render.code(), render.out());
        assertTrue(
                render.out().contains("readonly=on,file=a,,format=qcow2,,b.iso\n"), render.out());
        assertFalse(render.out().contains("format=qcow2,b.iso"), render.out());

        // A comma that cannot be escaped: the same refusal from all three, nothing started.
        Files.writeString(config, upstreamConfig(dir.resolve("a,b"), "    useTpm: true\n"));
        String refusal = "contains a comma and swtpm's options cannot escape a comma";
        for (String command : List.of("check", "render", "run")) {
            Result r =
                    vmrunner(
                            command,
                            "-c",
                            config.toString(),
                            "--templates-dir",
                            templates.toString());
            assertEquals(2, r.code(), command + ": " + r.out());
            assertTrue(r.out().contains(refusal), command + ": " + r.out());
            assertTrue(r.out().contains("${dataDir} (template line 13)"), command + ": " + r.out());
        }
        assertFalse(Files.exists(dir.resolve("run")), "something was started");
    }
}
