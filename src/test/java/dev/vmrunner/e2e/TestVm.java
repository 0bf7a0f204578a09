package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One VM of an end-to-end test: the real {@code bin/vmrunner} launcher as a separate process,
 * booting the test guest under real QEMU (TCG) with the standard template plus the guest's kernel,
 * serial log and command channel. Closing it kills whatever is left, by recorded pid.
 *
 * <p>Every timeout given to its methods is what an idle machine needs; they wait that times {@link
 * Waits#SCALE}, and the runner gets the same factor.
 */
final class TestVm implements AutoCloseable {

    static final Path LAUNCHER = Path.of("bin/vmrunner").toAbsolutePath();
    static final Duration BOOT = Duration.ofSeconds(90);

    private static Path guest;

    final Path dir;
    final Path config;
    final Path templates;
    final Path dataDir;
    final Path runtimeDir;
    final Path serial;
    final Path commandSocket;
    final Path observerSocket;
    final Path log;
    private final List<Long> pids = new ArrayList<>();
    private final List<QmpConnection> observers = new ArrayList<>();
    private Process runner;
    private List<String> prefix = List.of();
    private final java.util.Map<String, String> environment = new java.util.HashMap<>();

    TestVm(Path dir) {
        this(dir, dir.resolve("config.yaml"));
    }

    /** A VM whose configuration file is at {@code config} (e.g. in a ConfigMap volume). */
    TestVm(Path dir, Path config) {
        this.dir = dir;
        this.config = config;
        this.templates = dir.resolve("templates");
        this.dataDir = dir.resolve("data");
        this.runtimeDir = dir.resolve("run");
        this.serial = dir.resolve("serial.log");
        this.commandSocket = dir.resolve("command.sock");
        this.observerSocket = dir.resolve("observer.sock");
        this.log = dir.resolve("runner.log");
    }

    /** Builds the test guest once per test JVM (testguest/build.sh caches it across runs). */
    static synchronized Path guest() throws IOException, InterruptedException {
        if (guest == null) {
            Process build =
                    new ProcessBuilder("testguest/build.sh")
                            .redirectError(ProcessBuilder.Redirect.INHERIT)
                            .start();
            String out = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (build.waitFor() != 0) {
                fail("testguest/build.sh failed");
            }
            String[] lines = out.strip().split("\n");
            guest = Path.of(lines[lines.length - 1].strip());
        }
        return guest;
    }

    /** Writes the test template with extra kernel options for the guest. */
    TestVm template(String kernelOptions) throws IOException, InterruptedException {
        Files.createDirectories(templates);
        String text =
                Files.readString(Path.of("testguest/testguest.ftl.yaml.in"))
                        .replace("@GUEST@", guest().toString())
                        .replace("@SERIAL@", serial.toString())
                        .replace("@CMDSOCK@", commandSocket.toString())
                        .replace("@TESTQMP@", observerSocket.toString())
                        .replace("@APPEND@", kernelOptions);
        Files.writeString(templates.resolve("testguest.ftl.yaml"), text);
        return this;
    }

    /** Writes a config for the test guest; {@code vmExtra} are more lines of the vm section. */
    TestVm config(String... vmExtra) throws IOException {
        return configNamed("e2e", vmExtra);
    }

    /** Like {@link #config}, for a VM with the given name (a YAML scalar as written). */
    TestVm configNamed(String name, String... vmExtra) throws IOException {
        Files.writeString(config, configText(name, vmExtra));
        return this;
    }

    /** The configuration {@link #configNamed} writes. */
    String configText(String name, String... vmExtra) {
        StringBuilder yaml =
                new StringBuilder()
                        .append("\"/Runner\":\n")
                        .append("  dataDir: ")
                        .append(dataDir)
                        .append('\n')
                        .append("  runtimeDir: ")
                        .append(runtimeDir)
                        .append('\n')
                        .append("  template: testguest.ftl.yaml\n")
                        .append("  vm:\n")
                        .append("    name: ")
                        .append(name)
                        .append('\n')
                        .append("    firmware: bios\n")
                        .append("    accelerator: tcg\n")
                        .append("    cpuModel: max\n")
                        .append("    network: []\n");
        if (java.util.Arrays.stream(vmExtra).noneMatch(l -> l.startsWith("maximumRam:"))) {
            yaml.append("    maximumRam: 256M\n");
        }
        for (String line : vmExtra) {
            yaml.append("    ").append(line).append('\n');
        }
        return yaml.toString();
    }

    /** Sets an environment variable for the runners this VM starts. */
    TestVm environment(String name, String value) {
        environment.put(name, value);
        return this;
    }

    /** Runs the runner under this command, e.g. {@code ip netns exec NS}. */
    TestVm under(String... command) {
        prefix = List.of(command);
        return this;
    }

    /** Starts the runner: {@code bin/vmrunner -c config --templates-dir templates [args]}. */
    Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(
                List.of(
                        LAUNCHER.toString(),
                        "-c",
                        config.toString(),
                        "--templates-dir",
                        templates.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put(Waits.ENV, Waits.text());
        // The launcher's cache of the overlapped start, per test (bin/vmrunner).
        builder.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        builder.environment().put("VMRUNNER_PRESTART", "1"); // the overlapped start is opt-in
        builder.environment().putAll(environment);
        runner = builder.start();
        pids.add(runner.pid());
        return runner;
    }

    /**
     * A second runner of this VM's configuration, started as {@link #start} starts one, with its
     * output in {@code log}; not this VM's runner (the test ends it).
     */
    ProcessBuilder another(Path log) {
        ProcessBuilder builder =
                new ProcessBuilder(
                                LAUNCHER.toString(),
                                "-c",
                                config.toString(),
                                "--templates-dir",
                                templates.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile());
        builder.environment().put(Waits.ENV, Waits.text());
        builder.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        builder.environment().put("VMRUNNER_PRESTART", "1"); // the overlapped start is opt-in
        return builder;
    }

    /** Starts the runner and waits until the guest has booted. */
    Process boot() throws Exception {
        start();
        awaitSerial("VMRUNNER-GUEST: booted", BOOT);
        return runner;
    }

    /** SIGKILL to the runner, as the OOM killer sends it. */
    void killRunner() throws InterruptedException {
        runner.destroyForcibly();
        runner.waitFor();
    }

    long runnerPid() {
        return runner.pid();
    }

    boolean runnerAlive() {
        return runner.isAlive();
    }

    void sigterm() {
        runner.destroy(); // SIGTERM
    }

    /** Waits for the runner's exit and returns its exit code. */
    int awaitExit(Duration idle) throws Exception {
        Duration timeout = Waits.scaled(idle);
        if (!runner.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("runner did not exit within " + timeout + "; log:\n" + log());
        }
        return runner.exitValue();
    }

    /** Waits until the serial console shows the text. */
    void awaitSerial(String text, Duration timeout) throws Exception {
        awaitFile(serial, text, timeout);
    }

    /** Waits until the runner's log shows the text. */
    void awaitLog(String text, Duration timeout) throws Exception {
        awaitFile(log, text, timeout);
    }

    private void awaitFile(Path file, String text, Duration idle) throws Exception {
        Duration timeout = Waits.scaled(idle);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return;
            }
            if (runner != null && !runner.isAlive()) {
                fail(
                        "runner exited ("
                                + runner.exitValue()
                                + ") before '"
                                + text
                                + "' appeared in "
                                + file.getFileName()
                                + "; log:\n"
                                + log()
                                + "\nserial:\n"
                                + serialText());
            }
            Thread.sleep(50);
        }
        fail(
                "'"
                        + text
                        + "' did not appear in "
                        + file.getFileName()
                        + " within "
                        + timeout
                        + "; log:\n"
                        + log()
                        + "\nserial:\n"
                        + serialText());
    }

    /**
     * The pid QEMU (or another child) has in the runtime directory, once the file is there (it
     * appears complete: the runner renames it into place); recorded for cleanup.
     */
    long childPid(String name) throws IOException, InterruptedException {
        Path file = runtimeDir.resolve(name + ".pid");
        Duration timeout = Waits.seconds(30);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                fail("no " + file + " within " + timeout + "; log:\n" + log());
            }
            Thread.sleep(1);
        }
        long pid = Long.parseLong(Files.readString(file).strip());
        pids.add(pid);
        return pid;
    }

    /** Runs a shell command in the guest over its command channel; returns its output. */
    String guestCommand(String command, Duration idle) throws IOException {
        Duration timeout = Waits.scaled(idle);
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(commandSocket))) {
            OutputStream out = Channels.newOutputStream(ch);
            out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in =
                    new BufferedReader(
                            new InputStreamReader(
                                    Channels.newInputStream(ch), StandardCharsets.UTF_8));
            StringBuilder result = new StringBuilder();
            long deadline = System.nanoTime() + timeout.toNanos();
            String line;
            while (System.nanoTime() < deadline && (line = in.readLine()) != null) {
                if (line.startsWith("VMRUNNER-GUEST: done")) {
                    return result.toString();
                }
                result.append(line).append('\n');
            }
            return result.toString();
        }
    }

    /**
     * Sends a command that does not answer (poweroff). The connection stays open until QEMU closes
     * it or for a few seconds: closing at once can lose the line.
     */
    void guestCommandNoWait(String command) throws IOException {
        guestCommand(command, Duration.ofSeconds(5));
    }

    /** A QMP connection of the test's own to QEMU, to observe what the runner did. */
    Qmp observer() throws Exception {
        QmpConnection connection = QmpConnection.connect(observerSocket, Waits.seconds(30), null);
        observers.add(connection);
        return new Qmp(connection, Waits.seconds(10));
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    String serialText() throws IOException {
        return Files.exists(serial) ? Files.readString(serial) : "";
    }

    static boolean alive(long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        return handle.isPresent() && handle.get().isAlive();
    }

    /** Waits a little for a process to go away (its parent may still be reaping it). */
    static boolean gone(long pid, Duration idle) throws InterruptedException {
        long deadline = System.nanoTime() + Waits.scaled(idle).toNanos();
        while (alive(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    @Override
    public void close() {
        observers.forEach(QmpConnection::close);
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        for (String name : List.of("qemu", "swtpm")) {
            try {
                long pid =
                        Long.parseLong(Files.readString(runtimeDir.resolve(name + ".pid")).strip());
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            } catch (IOException | NumberFormatException e) {
                // no such child
            }
        }
    }
}
