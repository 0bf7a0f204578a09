package dev.vmrunner.supervisor.live;

import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.qmp.FakeQmpServer;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpConnection;
import dev.vmrunner.supervisor.LoopThread;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The live-change code on a loop of its own with a fake clock, talking to a scripted QEMU on a real
 * QMP socket. The QEMU keeps a little state (balloon, vCPUs, CD drives) and answers from it, so a
 * round observes what the previous one did. Synchronisation is by barriers and by awaiting what
 * arrives (a log line, a command at the peer), never by sleeping.
 */
final class LiveRig implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(10);

    /** What the scripted QEMU has. Changed by the peer's thread and the test's. */
    static final class Qemu {
        volatile long balloon = 1L << 30;
        volatile int cpus = 1;
        volatile int maximumCpus = 4;

        /** Slots occupied beyond the first (socket numbers), plugged with device_add. */
        final List<Integer> plugged = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** The guest releases an unplugged vCPU. */
        volatile boolean guestReleasesCpus = true;

        final Map<String, Cd> cds = new java.util.concurrent.ConcurrentHashMap<>();

        /** Commands QEMU answers with an error instead: name → description. */
        final Map<String, String> refuse = new java.util.concurrent.ConcurrentHashMap<>();
    }

    /** A CD drive as QEMU reports it. */
    static final class Cd {
        volatile String file;
        volatile boolean trayOpen;
        volatile boolean locked;

        Cd(String file, boolean locked) {
            this.file = file;
            this.locked = locked;
        }
    }

    final LoopThread loopThread = new LoopThread("live-loop", WAIT);
    final LiveLoop loop = loopThread.loop();
    final Qemu qemu = new Qemu();
    final Path dir;
    final LiveConfig live;
    final List<Duration> timeouts = new java.util.concurrent.CopyOnWriteArrayList<>();

    private final FakeQmpServer peer;
    private final BlockingQueue<JsonObject> received = new LinkedBlockingQueue<>();
    private final List<String> lines = new ArrayList<>();
    private final Logger logger = Logger.getLogger("vmrunner");
    private final Handler handler;
    private final RunnerConfig config;
    private QmpConnection connection;
    private Qmp qmp;

    /**
     * @param vm the lines below {@code vm:} of the configuration the VM was started with
     */
    LiveRig(Path dir, String... vm) throws Exception {
        this.dir = dir;
        this.config = ConfigLoader.parse(yaml(vm), dir.resolve("config.yaml"), Map.of());
        this.peer = FakeQmpServer.start(dir.resolve("qmp.sock"));
        script();
        this.handler =
                new Handler() {
                    @Override
                    public void publish(LogRecord record) {
                        synchronized (lines) {
                            lines.add(record.getMessage());
                            lines.notifyAll();
                        }
                    }

                    @Override
                    public void flush() {}

                    @Override
                    public void close() {}
                };
        handler.setLevel(Level.INFO);
        logger.addHandler(handler);
        this.live = new LiveConfig(loop, config, config, Map.of(), timeouts::add);
    }

    /**
     * The configuration: a VM of 1G, 1 to 4 vCPUs, and the given lines below {@code vm:} (one
     * starting with / is a top-level key), which replace the defaults' lines of the same key.
     */
    String yaml(String... vm) {
        StringBuilder yaml =
                new StringBuilder(
                        """
                        "/Runner":
                          dataDir: %s
                          runtimeDir: %s
                          vm:
                            name: live
                        """
                                .formatted(dir.resolve("data"), dir.resolve("run")));
        for (String line :
                List.of("maximumRam: 1G", "currentRam: 1G", "maximumCpus: 4", "currentCpus: 1")) {
            String key = line.substring(0, line.indexOf(':') + 1);
            if (java.util.Arrays.stream(vm).noneMatch(l -> l.startsWith(key))) {
                yaml.append("    ").append(line).append('\n');
            }
        }
        for (String line : vm) {
            if (!line.startsWith("/")) {
                yaml.append("    ").append(line).append('\n');
            }
        }
        for (String line : vm) {
            if (line.startsWith("/")) {
                yaml.append("  ").append(line.substring(1)).append('\n'); // a top-level key
            }
        }
        return yaml.toString();
    }

    /** Connects the monitor and tells the live-change code that the VM runs. */
    LiveRig running() throws Exception {
        if (qmp == null) {
            connected();
        }
        onLoop(() -> live.onRunning(qmp));
        return this;
    }

    /** The configuration file now says this. */
    void edit(String... vm) {
        byte[] content = yaml(vm).getBytes(StandardCharsets.UTF_8);
        onLoop(() -> live.onFileChanged(content, false));
    }

    /** The same while the VM is being stopped. */
    void editWhileStopping(String... vm) {
        byte[] content = yaml(vm).getBytes(StandardCharsets.UTF_8);
        onLoop(
                () -> {
                    live.onTerminating();
                    live.onFileChanged(content, true);
                });
    }

    /** The monitor was lost and is back. */
    void reconnect() {
        onLoop(() -> live.onReconnected(qmp));
    }

    /** Connects the monitor only: for tests of the parts, which are given {@link #qmp()}. */
    LiveRig connected() throws Exception {
        connection = QmpConnection.connect(dir.resolve("qmp.sock"), WAIT, null);
        qmp = new Qmp(connection, WAIT);
        expect("qmp_capabilities");
        return this;
    }

    Qmp qmp() {
        return qmp;
    }

    /** Runs {@code action} on the loop and returns once it ran: a barrier. */
    void onLoop(Runnable action) {
        onLoop(
                () -> {
                    action.run();
                    return null;
                });
    }

    /** Runs {@code action} on the loop and returns its result, once everything before it ran. */
    <T> T onLoop(Supplier<T> action) {
        return loopThread.onLoop(action);
    }

    /** Moves the fake clock on, then waits until the loop has run what became due. */
    void advance(Duration by) {
        loopThread.advance(by);
    }

    /** Waits for the first log line of the vmrunner logger that contains {@code text}. */
    String awaitLog(String text) throws InterruptedException {
        return awaitLog(text, 1);
    }

    /**
     * Waits for the n-th log line that contains {@code text}, then for the loop to finish what it
     * was doing when it logged the line (a barrier).
     */
    String awaitLog(String text, int n) throws InterruptedException {
        String line = logged(text, n);
        onLoop(() -> {});
        return line;
    }

    private String logged(String text, int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        synchronized (lines) {
            while (true) {
                List<String> matching = lines.stream().filter(l -> l.contains(text)).toList();
                if (matching.size() >= n) {
                    return matching.get(n - 1);
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return fail("no log line " + n + " with \"" + text + "\"; saw " + lines);
                }
                lines.wait(left);
            }
        }
    }

    /** Every log line so far. */
    List<String> log() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /**
     * Waits for the next command QEMU receives that is called {@code name}, and returns it with
     * every command received before it (queries included), in order.
     */
    List<JsonObject> expect(String name) throws InterruptedException {
        List<JsonObject> before = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            JsonObject command = received.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (command == null) {
                return fail("QEMU received no " + name + "; it received " + names(before));
            }
            before.add(command);
            if (command.get("execute").getAsString().equals(name)) {
                return before;
            }
        }
    }

    /**
     * Waits until a round and the refresh after it are done: QEMU then received {@code query-block}
     * twice since the last wait, and everything sent before it has arrived (one socket, in order).
     * Returns the names of what arrived.
     */
    List<String> awaitRoundAndRefresh() throws InterruptedException {
        List<String> names = names(expect("query-block"));
        names.addAll(names(expect("query-block")));
        return names;
    }

    static List<String> names(List<JsonObject> commands) {
        List<String> names = new ArrayList<>();
        commands.forEach(c -> names.add(c.get("execute").getAsString()));
        return names;
    }

    /** The configuration key → outcome text of the last changes, as the status shows them. */
    LiveConfig.View view() {
        return onLoop(live::view);
    }

    /** The metrics' counts, once the loop has done what is queued. */
    Map<String, Long> counted() {
        return onLoop(live.counted()::snapshot);
    }

    private void script() {
        for (String name :
                List.of(
                        "query-balloon",
                        "balloon",
                        "query-cpus-fast",
                        "query-hotpluggable-cpus",
                        "device_add",
                        "device_del",
                        "query-block",
                        "blockdev-open-tray",
                        "blockdev-close-tray",
                        "blockdev-remove-medium",
                        "blockdev-change-medium",
                        "system_reset",
                        "query-version")) {
            peer.on(
                    name,
                    (request, p) -> {
                        received.add(request);
                        String refused = qemu.refuse.get(name);
                        if (refused != null) {
                            p.error(request, "GenericError", refused);
                        } else {
                            p.reply(request, answer(name, arguments(request)));
                        }
                    });
        }
        peer.on(
                "qmp_capabilities",
                (request, p) -> {
                    received.add(request);
                    p.reply(request, new JsonObject());
                });
    }

    private static JsonObject arguments(JsonObject request) {
        return request.has("arguments") ? request.getAsJsonObject("arguments") : new JsonObject();
    }

    @SuppressWarnings("NonAtomicVolatileUpdate") // only the peer thread writes; tests read
    private JsonElement answer(String name, JsonObject args) {
        switch (name) {
            case "query-balloon" -> {
                JsonObject o = new JsonObject();
                o.addProperty("actual", qemu.balloon);
                return o;
            }
            case "balloon" -> qemu.balloon = args.get("value").getAsLong();
            case "query-cpus-fast" -> {
                JsonArray cpus = new JsonArray();
                for (int i = 0; i < qemu.cpus; i++) {
                    JsonObject cpu = new JsonObject();
                    cpu.addProperty("cpu-index", i);
                    cpu.addProperty("qom-path", "/machine/unattached/device[" + i + "]");
                    cpus.add(cpu);
                }
                return cpus;
            }
            case "query-hotpluggable-cpus" -> {
                JsonArray slots = new JsonArray();
                for (int socket = qemu.maximumCpus - 1; socket >= 0; socket--) {
                    JsonObject slot = new JsonObject();
                    slot.addProperty("type", "max-x86_64-cpu");
                    slot.addProperty("vcpus-count", 1);
                    slot.add(
                            "props",
                            JsonParser.parseString(
                                    "{\"socket-id\": "
                                            + socket
                                            + ", \"core-id\": 0, \"thread-id\": 0}"));
                    if (socket == 0) {
                        slot.addProperty("qom-path", "/machine/unattached/device[0]");
                    } else if (qemu.plugged.contains(socket)) {
                        slot.addProperty("qom-path", "/machine/peripheral/vcpu-" + socket + "-0-0");
                    }
                    slots.add(slot);
                }
                return slots;
            }
            case "device_add" -> {
                qemu.plugged.add(args.get("socket-id").getAsInt());
                qemu.cpus++;
            }
            case "device_del" -> {
                if (qemu.guestReleasesCpus) {
                    String id = args.get("id").getAsString();
                    qemu.plugged.remove(Integer.valueOf(id.split("-")[1]));
                    qemu.cpus--;
                }
            }
            case "query-block" -> {
                JsonArray blocks = new JsonArray();
                qemu.cds.forEach(
                        (id, cd) -> {
                            JsonObject b = new JsonObject();
                            b.addProperty("device", "");
                            b.addProperty("qdev", id);
                            b.addProperty("removable", true);
                            b.addProperty("locked", cd.locked);
                            b.addProperty("tray_open", cd.trayOpen);
                            if (cd.file != null) {
                                JsonObject inserted = new JsonObject();
                                inserted.addProperty("file", cd.file);
                                b.add("inserted", inserted);
                            }
                            blocks.add(b);
                        });
                return blocks;
            }
            case "blockdev-open-tray" -> {
                Cd cd = qemu.cds.get(args.get("id").getAsString());
                if (!cd.locked) {
                    cd.trayOpen = true;
                }
            }
            case "blockdev-close-tray" ->
                    qemu.cds.get(args.get("id").getAsString()).trayOpen = false;
            case "blockdev-remove-medium" -> qemu.cds.get(args.get("id").getAsString()).file = null;
            case "blockdev-change-medium" -> {
                Cd cd = qemu.cds.get(args.get("id").getAsString());
                cd.file = args.get("filename").getAsString();
                cd.trayOpen = false;
            }
            case "query-version" -> {
                return JsonParser.parseString(
                        "{\"qemu\": {\"major\": 10, \"minor\": 0, \"micro\": 0}, \"package\":"
                                + " \"\"}");
            }
            default -> {}
        }
        return new JsonObject();
    }

    /** A CD image in the test directory. */
    Path iso(String name) throws Exception {
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            Files.writeString(file, "iso");
        }
        return file;
    }

    @Override
    public void close() throws IOException {
        loopThread.close();
        logger.removeHandler(handler);
        if (connection != null) {
            connection.close();
        }
        peer.close();
    }
}
