package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.ProcessSpec;
import dev.vmrunner.qmp.FakeQmpServer;
import dev.vmrunner.status.ExitCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * A supervisor with fake children, a scripted QMP peer on a real socket and a fake clock: the
 * supervisor's whole life in milliseconds. QEMU's peer answers what the runner asks; pressing the
 * power button makes the guest power off unless {@link #guestIgnoresButton} is set.
 */
final class FakeVm implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(10);

    final FakeClock clock = new FakeClock();
    final Path dir;
    final RunnerConfig config;
    final Map<String, FakeChild> children = new ConcurrentHashMap<>();
    final List<String> commands = new CopyOnWriteArrayList<>();
    volatile boolean guestIgnoresButton;

    /** When set, the cloud-init seed step does not finish by itself: a start that hangs. */
    volatile boolean seedHangs;

    private final String yaml;
    private final boolean tpm;
    private final boolean seed;
    private FakeQmpServer qmp;
    private Supervisor supervisor;
    private Thread thread;
    private volatile ExitCode result;

    FakeVm(Path dir, boolean tpm, boolean seed, String... vmExtra) throws Exception {
        this.dir = dir;
        this.tpm = tpm;
        this.seed = seed;
        StringBuilder yaml =
                new StringBuilder("\"/Runner\":\n")
                        .append("  dataDir: ")
                        .append(dir.resolve("data"))
                        .append("\n  runtimeDir: ")
                        .append(dir.resolve("run"))
                        .append("\n  vm:\n    name: fake\n    maximumRam: 1G\n");
        for (String line : vmExtra) {
            yaml.append("    ").append(line).append('\n');
        }
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, yaml);
        this.yaml = yaml.toString();
        config = ConfigLoader.parse(yaml.toString(), file, Map.of());
        Files.createDirectories(config.runtimeDir());
    }

    FakeVm(Path dir) throws Exception {
        this(dir, false, false);
    }

    /** Starts the supervisor on a thread of its own. */
    FakeVm start() {
        Commands commands =
                new Commands(
                        tpm ? Optional.of(spec("swtpm")) : Optional.empty(),
                        seed ? Optional.of(spec("cloudInitImg")) : Optional.empty(),
                        spec("qemu"));
        supervisor =
                new Supervisor(
                        config,
                        yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        commands,
                        this::startChild,
                        Timeouts.DEFAULT,
                        null,
                        clock);
        thread = new Thread(() -> result = supervisor.run(), "supervisor-under-test");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /** Starts and waits until the vCPUs run. */
    FakeVm running() throws Exception {
        start();
        awaitCommand("cont");
        settle();
        return this;
    }

    private static ProcessSpec spec(String name) {
        return new ProcessSpec(name, Path.of("/bin/" + name), List.of(), Map.of());
    }

    private ChildProcess startChild(ProcessSpec spec) {
        FakeChild child = new FakeChild(spec.name());
        children.put(spec.name(), child);
        try {
            switch (spec.name()) {
                case "qemu" -> qmp = qemuPeer(child);
                case "swtpm" -> Files.createFile(config.runtimeDir().resolve(RuntimeFiles.SWTPM));
                case "cloudInitImg" -> {
                    if (!seedHangs) {
                        new Thread(() -> child.exit(0)).start();
                    }
                }
                default -> {}
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return child;
    }

    private FakeQmpServer qemuPeer(FakeChild qemu) throws IOException {
        FakeQmpServer server =
                FakeQmpServer.start(config.runtimeDir().resolve(RuntimeFiles.MONITOR));
        server.on(
                "cont",
                (request, peer) -> {
                    commands.add("cont");
                    peer.reply(request, new JsonObject());
                });
        server.on(
                "system_powerdown",
                (request, peer) -> {
                    commands.add("system_powerdown");
                    peer.reply(request, new JsonObject());
                    peer.event("POWERDOWN", null);
                    if (!guestIgnoresButton) {
                        powerOff(qemu, peer);
                    }
                });
        server.on(
                "query-balloon",
                (request, peer) ->
                        peer.reply(request, JsonParser.parseString("{\"actual\": 1073741824}")));
        server.on(
                "query-cpus-fast",
                (request, peer) ->
                        peer.reply(
                                request,
                                JsonParser.parseString(
                                        "[{\"cpu-index\": 0, \"qom-path\":"
                                                + " \"/machine/unattached/device[0]\"}]")));
        server.on("query-block", (request, peer) -> peer.reply(request, new JsonArray()));
        server.on(
                "balloon",
                (request, peer) -> {
                    commands.add("balloon");
                    peer.reply(request, new JsonObject());
                });
        // QEMU's socket closes when it ends, however it ends.
        var unused = qemu.onExit().thenRun(() -> disconnectQuietly(server));
        return server;
    }

    /** The guest powers off: SHUTDOWN, QEMU exits 0, its socket closes. */
    private static void powerOff(FakeChild qemu, FakeQmpServer.Peer peer) throws IOException {
        JsonObject data = new JsonObject();
        data.addProperty("guest", true);
        data.addProperty("reason", "guest-shutdown");
        peer.event("SHUTDOWN", data);
        peer.disconnect();
        qemu.exit(0);
    }

    /** The guest powers off by itself. */
    void guestPowersOff() throws IOException {
        powerOff(children.get("qemu"), qmp.peer());
    }

    /** QEMU's peer drops the connection (QEMU itself lives on). */
    void dropMonitor() throws IOException {
        qmp.peer().disconnect();
    }

    private static void disconnectQuietly(FakeQmpServer server) {
        try {
            if (server.peer() != null) {
                server.peer().disconnect();
            }
        } catch (IOException e) {
            // gone already
        }
    }

    void signal(String name) {
        supervisor.signal(name);
    }

    void configFileChanged(String yaml) {
        supervisor.configFileChanged(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    FakeChild child(String name) {
        return children.get(name);
    }

    /** Moves the fake clock and gives the loop a moment to run what fell due. */
    void advance(Duration by) throws InterruptedException {
        clock.advance(by);
        settle();
    }

    /** Lets the loop and the QMP peer catch up (real time, a few milliseconds). */
    static void settle() throws InterruptedException {
        Thread.sleep(30);
    }

    /** Waits until QEMU's peer has received the command {@code count} times in all. */
    void awaitCommand(String command, int count) throws InterruptedException {
        await(
                () -> commands.stream().filter(command::equals).count() >= count,
                command + " x" + count + " (got " + commands + ")");
    }

    void awaitCommand(String command) throws InterruptedException {
        awaitCommand(command, 1);
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(2);
        }
    }

    /** Waits for the supervisor to end and returns its exit code. */
    ExitCode awaitEnd() throws InterruptedException {
        thread.join(WAIT.toMillis());
        if (thread.isAlive()) {
            fail("the supervisor did not end; children " + children + ", commands " + commands);
        }
        return result;
    }

    boolean ended() {
        return thread != null && !thread.isAlive();
    }

    @Override
    public void close() throws IOException {
        if (thread != null && thread.isAlive()) {
            thread.interrupt();
        }
        if (qmp != null) {
            qmp.close();
        }
    }
}
