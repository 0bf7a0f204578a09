package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted QMP peer on a real Unix socket: sends a greeting, answers {@code qmp_capabilities},
 * then runs the {@link Handler} registered for each command it receives (unknown commands get
 * QEMU's {@code CommandNotFound}). Serves one client at a time, accepting the next after a
 * disconnect.
 */
public final class FakeQmpServer implements AutoCloseable {
    static final String QEMU_GREETING =
            "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7},"
                    + " \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}";

    /** What to do with one received command. Runs on the server thread. */
    public interface Handler {
        void handle(JsonObject request, Peer peer) throws IOException;
    }

    private final Path socket;
    private final String greeting;
    private final ServerSocketChannel server;
    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    private final BlockingQueue<JsonObject> received = new LinkedBlockingQueue<>();
    private final Answers answers = new Answers();
    private final Thread thread;
    private volatile Peer peer;
    private volatile boolean closed;

    private FakeQmpServer(Path socket, String greeting) throws IOException {
        this.socket = socket;
        this.greeting = greeting;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        handlers.put("qmp_capabilities", (request, p) -> p.reply(request, new JsonObject()));
        this.thread = new Thread(this::serve, "fake-qmp " + socket.getFileName());
        thread.setDaemon(true);
    }

    public static FakeQmpServer start(Path socket) throws IOException {
        return start(socket, QEMU_GREETING);
    }

    /**
     * Starts a fake that greets with its own line instead of QEMU's.
     *
     * @param greeting the first line sent to every client, verbatim
     */
    public static FakeQmpServer start(Path socket, String greeting) throws IOException {
        FakeQmpServer fake = new FakeQmpServer(socket, greeting);
        fake.thread.start();
        return fake;
    }

    /** Scripts the answer to {@code command}; replaces an earlier script for it. */
    public FakeQmpServer on(String command, Handler handler) {
        handlers.put(command, handler);
        return this;
    }

    /** Scripts a plain {@code "return"} reply. */
    public FakeQmpServer reply(String command, JsonElement value) {
        return on(command, (request, p) -> p.reply(request, value));
    }

    /** Every command received (qmp_capabilities included), in order. */
    public JsonObject nextReceived() throws InterruptedException {
        JsonObject request = received.poll(10, TimeUnit.SECONDS);
        if (request == null) {
            throw new AssertionError("fake QMP server received no command within 10 s");
        }
        return request;
    }

    /**
     * Commands received whose reply (or error) has not been sent yet: zero while the peer is idle,
     * so that a test can tell that nothing it scripted is still on its way.
     */
    public int unanswered() {
        return answers.unanswered();
    }

    /** Waits until every command received has been answered; fails after {@code bound}. */
    public void awaitAnswered(Duration bound) throws InterruptedException {
        answers.awaitNone(bound);
    }

    /** The current client, for pushing frames from the test thread. */
    public Peer peer() {
        return peer;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        Peer p = peer;
        if (p != null) {
            p.disconnect();
        }
        Files.deleteIfExists(socket);
    }

    private void serve() {
        while (!closed) {
            try (SocketChannel client = server.accept()) {
                Peer p = new Peer(client, answers);
                peer = p;
                p.send(greeting);
                LineSplitter lines = new LineSplitter(1 << 20);
                ByteBuffer buffer = ByteBuffer.allocate(8192);
                while (client.read(buffer) >= 0) {
                    buffer.flip();
                    lines.feed(buffer, line -> dispatch(line, p));
                    buffer.clear();
                }
            } catch (IOException e) {
                // client gone or server closed: wait for the next client unless closed
            }
            // What the gone client asked and was not answered never will be: its caller saw the
            // connection fail. (A command can arrive just as the test drops the connection.)
            answers.forget();
        }
    }

    private void dispatch(String line, Peer p) throws IOException {
        JsonObject request = JsonParser.parseString(line).getAsJsonObject();
        received.add(request);
        answers.received();
        String command = request.get("execute").getAsString();
        Handler handler = handlers.get(command);
        if (handler == null) {
            p.error(request, "CommandNotFound", "The command " + command + " has not been found");
        } else {
            handler.handle(request, p);
        }
    }

    /** One connected client; writes are whole lines, safe from any thread. */
    public static final class Peer {
        private final SocketChannel channel;
        private final Answers answers;

        Peer(SocketChannel channel, Answers answers) {
            this.channel = channel;
            this.answers = answers;
        }

        public void reply(JsonObject request, JsonElement value) throws IOException {
            JsonObject reply = new JsonObject();
            reply.add("return", value);
            copyId(request, reply);
            send(reply.toString());
            answers.sent();
        }

        public void error(JsonObject request, String errorClass, String desc) throws IOException {
            JsonObject error = new JsonObject();
            error.addProperty("class", errorClass);
            error.addProperty("desc", desc);
            JsonObject reply = new JsonObject();
            reply.add("error", error);
            copyId(request, reply);
            send(reply.toString());
            answers.sent();
        }

        public void event(String name, JsonObject data) throws IOException {
            JsonObject timestamp = new JsonObject();
            timestamp.addProperty("seconds", 1_700_000_000L);
            timestamp.addProperty("microseconds", 250_000);
            JsonObject event = new JsonObject();
            event.add("timestamp", timestamp);
            event.addProperty("event", name);
            if (data != null) {
                event.add("data", data);
            }
            send(event.toString());
        }

        /** Sends {@code line} verbatim plus a newline. */
        public synchronized void send(String line) throws IOException {
            ByteBuffer bytes = StandardCharsets.UTF_8.encode(line + "\n");
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        }

        public void disconnect() throws IOException {
            channel.close();
        }

        private static void copyId(JsonObject request, JsonObject reply) {
            if (request.has("id")) {
                reply.add("id", request.get("id"));
            }
        }
    }

    /** Commands received and not yet answered. */
    private static final class Answers {
        private int unanswered;

        synchronized void received() {
            unanswered++;
        }

        synchronized void sent() {
            unanswered--;
            notifyAll();
        }

        synchronized void forget() {
            unanswered = 0;
            notifyAll();
        }

        synchronized int unanswered() {
            return unanswered;
        }

        synchronized void awaitNone(Duration bound) throws InterruptedException {
            long deadline = System.nanoTime() + bound.toNanos();
            while (unanswered > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(
                            "fake QMP server: " + unanswered + " command(s) unanswered");
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
