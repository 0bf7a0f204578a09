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
import dev.vmrunner.status.Status;
import dev.vmrunner.supervisor.claim.Adoption;
import dev.vmrunner.supervisor.claim.LiveQemu;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A supervisor with fake children, a scripted QMP peer on a real socket and a fake clock: the
 * supervisor's whole life in milliseconds. QEMU's peer answers what the runner asks; pressing the
 * power button makes the guest power off unless {@link #guestIgnoresButton} is set.
 *
 * <p>Nothing here waits on real time. {@link #idle} is a barrier on the loop: after it, "nothing
 * happened" is a real assertion. What crosses a thread (the QMP socket, a child's exit on its own
 * thread) is awaited as the condition a user would see (a command at QEMU's peer, a state, a log
 * line), bounded by {@link #WAIT}, which only a stuck runner reaches. The QMP socket delivers in
 * order, so a command's absence is checked for certain once a later command has arrived.
 */
final class FakeVm implements AutoCloseable {
    static final Duration WAIT = FakeClock.WAIT;

    final FakeClock clock = new FakeClock();
    final Path dir;
    final RunnerConfig config;
    final Map<String, FakeChild> children = new ConcurrentHashMap<>();
    final List<String> commands = new CopyOnWriteArrayList<>();
    volatile boolean guestIgnoresButton;

    /** When set, the cloud-init seed step does not finish by itself: a start that hangs. */
    volatile boolean seedHangs;

    /** Whether the VM has a passt interface; the fake passt makes its socket unless silent. */
    volatile boolean passt;

    volatile boolean passtSilent;

    private final String yaml;
    private final boolean tpm;
    private final boolean seed;
    private final CompletableFuture<ExitCode> ended = new CompletableFuture<>();
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final Handler logHandler = new LogHandler();
    private volatile Status status;
    private volatile FakeQmpServer qmp; // set on the loop thread
    private volatile QemuEnds qemuEnds;
    private Supervisor supervisor;
    private Thread thread;

    FakeVm(Path dir, boolean tpm, boolean seed, String... vmExtra) throws Exception {
        this.dir = dir;
        this.tpm = tpm;
        this.seed = seed;
        this.yaml = yaml(vmExtra);
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, yaml);
        config = ConfigLoader.parse(yaml, file, Map.of());
        Files.createDirectories(config.runtimeDir());
    }

    /** This VM's configuration file with these lines under {@code vm}. */
    String yaml(String... vmExtra) {
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
        return yaml.toString();
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
                        passt ? Optional.of(spec("passt")) : Optional.empty(),
                        spec("qemu"));
        supervisor =
                new Supervisor(
                        config,
                        yaml.getBytes(StandardCharsets.UTF_8),
                        commands,
                        this::startChild,
                        Timeouts.DEFAULT,
                        null,
                        clock);
        return launch();
    }

    /**
     * Adopts {@code qemu}, a live process of the test's, as the QEMU an earlier runner left in
     * {@code runState}, started and last configured with {@code earlier} (YAML); the file now says
     * what this VM was made with. QEMU's peer is its monitor; when the guest powers off, the
     * process is killed and reaped before the monitor closes. The test ends it after the run.
     */
    FakeVm adopt(Process qemu, String runState, String earlier) throws Exception {
        qmp = qemuPeer(qemu.onExit(), peer -> endAdopted(qemu, peer));
        Adoption adoption =
                new Adoption(
                        new LiveQemu(qemu.pid(), RuntimeFiles.monitor(config)),
                        null,
                        ConfigLoader.parse(earlier, config.configFile(), Map.of()),
                        ConfigLoader.parse(earlier, config.configFile(), Map.of()),
                        Set.of(),
                        runState,
                        earlier,
                        earlier,
                        null); // no stop in flight
        supervisor =
                Supervisor.adopting(
                        yaml.getBytes(StandardCharsets.UTF_8),
                        adoption,
                        Timeouts.DEFAULT,
                        null,
                        clock);
        return launch();
    }

    /** The adopted QEMU ends (its exit status goes to its parent, the test), then its socket. */
    private static void endAdopted(Process qemu, FakeQmpServer.Peer peer) throws IOException {
        qemu.destroy();
        try {
            qemu.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the adopted QEMU to end", e);
        }
        peer.disconnect();
    }

    private FakeVm launch() {
        supervisor.watchStatus(
                published -> {
                    status = published;
                    changed();
                });
        thread =
                new Thread(
                        () -> {
                            try {
                                ended.complete(supervisor.run());
                            } finally {
                                ended.complete(null);
                                changed();
                            }
                        },
                        "supervisor-under-test");
        thread.setDaemon(true);
        Logger.getLogger("vmrunner").addHandler(logHandler);
        thread.start();
        return this;
    }

    /** Starts and waits until the vCPUs run. */
    FakeVm running() throws Exception {
        start();
        awaitCommand("cont");
        awaitState("running");
        idle();
        return this;
    }

    private static ProcessSpec spec(String name) {
        return new ProcessSpec(name, Path.of("/bin/" + name), List.of(), Map.of());
    }

    private ChildProcess startChild(ProcessSpec spec) {
        FakeChild child = new FakeChild(spec.name());
        children.put(spec.name(), child);
        changed();
        try {
            switch (spec.name()) {
                case "qemu" -> {
                    if (qmp != null) {
                        qmp.close(); // the QEMU of an earlier run (a fresh start follows a stop)
                    }
                    qmp =
                            qemuPeer(
                                    child.onExit(),
                                    peer -> {
                                        peer.disconnect();
                                        child.exit(0);
                                    });
                }
                case "swtpm" -> Files.createFile(config.runtimeDir().resolve(RuntimeFiles.SWTPM));
                case "passt" -> {
                    if (!passtSilent) {
                        Files.createFile(config.runtimeDir().resolve(RuntimeFiles.PASST));
                    }
                }
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

    /** How QEMU ends when its guest powers off: the process ends and its monitor closes. */
    private interface QemuEnds {
        void end(FakeQmpServer.Peer peer) throws IOException;
    }

    /** QEMU's monitor; {@code exited} completes when its process ended, {@code ends} ends it. */
    private FakeQmpServer qemuPeer(CompletableFuture<?> exited, QemuEnds ends) throws IOException {
        FakeQmpServer server =
                FakeQmpServer.start(config.runtimeDir().resolve(RuntimeFiles.MONITOR));
        server.on(
                "cont",
                (request, peer) -> {
                    command("cont");
                    peer.reply(request, new JsonObject());
                });
        server.on(
                "system_powerdown",
                (request, peer) -> {
                    command("system_powerdown");
                    peer.reply(request, new JsonObject());
                    peer.event("POWERDOWN", null);
                    if (!guestIgnoresButton) {
                        powerOff(ends, peer);
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
                "system_reset",
                (request, peer) -> {
                    command("system_reset");
                    peer.reply(request, new JsonObject());
                });
        server.on(
                "balloon",
                (request, peer) -> {
                    command("balloon");
                    peer.reply(request, new JsonObject());
                });
        // QEMU's socket closes when it ends, however it ends.
        qemuEnds = ends;
        var unused = exited.thenRun(() -> disconnectQuietly(server));
        return server;
    }

    /** The guest powers off: SHUTDOWN, QEMU exits 0, its socket closes. */
    private static void powerOff(QemuEnds ends, FakeQmpServer.Peer peer) throws IOException {
        JsonObject data = new JsonObject();
        data.addProperty("guest", true);
        data.addProperty("reason", "guest-shutdown");
        peer.event("SHUTDOWN", data);
        ends.end(peer);
    }

    private void command(String name) {
        commands.add(name);
        changed();
    }

    /** The guest powers off by itself. */
    void guestPowersOff() throws IOException {
        powerOff(qemuEnds, qmp.peer());
    }

    /** QEMU's peer drops the connection (QEMU itself lives on); returns once the runner saw it. */
    void dropMonitor() throws IOException, InterruptedException {
        qmp.peer().disconnect();
        awaitLog("Lost the connection to QEMU's monitor");
        idle(); // logged in the middle of its handler
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

    /** A power command as the status socket hands it over ("start", "stop", ...): its answer. */
    String ask(String line) {
        return supervisor.request(line);
    }

    void configFileChanged(String yaml) {
        supervisor.configFileChanged(yaml.getBytes(StandardCharsets.UTF_8));
    }

    FakeChild child(String name) {
        return children.get(name);
    }

    /** Moves the fake clock and returns once the loop has run what fell due. */
    void advance(Duration by) throws InterruptedException {
        clock.advance(by);
        idle();
    }

    /**
     * A barrier: returns once the loop has run everything queued and due, QEMU's peer has answered
     * every command it received, and the loop has run again (or the run has ended).
     */
    void idle() throws InterruptedException {
        clock.idle(ended);
        if (qmp != null) {
            qmp.awaitAnswered(WAIT);
            clock.idle(ended);
        }
    }

    /** Waits until QEMU's peer has received the command {@code count} times in all. */
    void awaitCommand(String command, int count) throws InterruptedException {
        await(
                () -> commands.stream().filter(command::equals).count() >= count,
                () -> command + " x" + count + " (got " + commands + ")");
    }

    void awaitCommand(String command) throws InterruptedException {
        awaitCommand(command, 1);
    }

    /** Waits until the runner publishes the state ("running", "stopping", ...). */
    void awaitState(String state) throws InterruptedException {
        await(
                () -> status != null && status.state().equals(state),
                () -> "state " + state + " (is " + (status == null ? null : status.state()) + ")");
    }

    /**
     * Waits until the runner's loop has logged a message containing {@code fragment}; the handler
     * that logged it may still run (an {@link #idle} after this waits for it).
     */
    void awaitLog(String fragment) throws InterruptedException {
        await(
                () -> logged.stream().anyMatch(m -> m.contains(fragment)),
                () -> "a log message with '" + fragment + "'");
    }

    /** Waits until the runner has started the child {@code name}. */
    FakeChild awaitChild(String name) throws InterruptedException {
        await(() -> children.containsKey(name), () -> "the child " + name);
        return children.get(name);
    }

    /** Waits for the supervisor to end and returns its exit code. */
    ExitCode awaitEnd() throws InterruptedException {
        await(
                ended::isDone,
                () -> "the supervisor to end; children " + children + ", commands " + commands);
        return ended.join();
    }

    /** Waits, without polling, until {@code condition} holds: every change above notifies. */
    private synchronized void await(BooleanSupplier condition, Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail("timed out after " + WAIT.toSeconds() + " s waiting for " + what.get());
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    private synchronized void changed() {
        notifyAll();
    }

    /** The last status the runner published. */
    Status status() {
        return status;
    }

    /** Whether the run has ended; after {@link #idle}, certain either way. */
    boolean ended() {
        return ended.isDone();
    }

    @Override
    public void close() throws IOException {
        Logger.getLogger("vmrunner").removeHandler(logHandler);
        if (thread != null && thread.isAlive()) {
            thread.interrupt();
        }
        if (qmp != null) {
            qmp.close();
        }
    }

    /** Keeps what the supervisor's own thread logs (not what earlier tests' threads log). */
    private final class LogHandler extends Handler {
        @Override
        public void publish(LogRecord record) {
            Thread t = thread;
            if (t != null && record.getLongThreadID() == t.getId()) {
                logged.add(record.getMessage());
                changed();
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
