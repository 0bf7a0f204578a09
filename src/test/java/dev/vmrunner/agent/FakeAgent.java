package dev.vmrunner.agent;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted qemu-ga on a real Unix socket, behaving as QEMU's chardev server plus the agent: a
 * 0xFF byte resets its parser, {@code guest-sync-delimited} is answered with 0xFF before the reply,
 * replies carry the request's id. Handlers decide the rest; one client at a time.
 */
final class FakeAgent implements AutoCloseable {
    /** What to do with one request. Runs on the server thread. */
    interface Handler {
        void handle(JsonObject request, Peer peer) throws IOException;
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    final BlockingQueue<JsonObject> received = new LinkedBlockingQueue<>();
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger delimitersReceived = new AtomicInteger();
    private final Thread thread;
    private volatile boolean closed;

    FakeAgent(Path socket) throws IOException {
        this.socket = socket;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        on("guest-sync-delimited", (r, p) -> p.syncReply(r));
        on("guest-ping", (r, p) -> p.reply(r, new JsonObject()));
        this.thread = new Thread(this::serve, "fake-agent");
        thread.setDaemon(true);
        thread.start();
    }

    Path socket() {
        return socket;
    }

    FakeAgent on(String command, Handler handler) {
        handlers.put(command, handler);
        return this;
    }

    /** The next request with this command name, skipping others, or null after 10 s. */
    JsonObject next(String command) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonObject r =
                    received.poll(
                            deadline - System.nanoTime(),
                            java.util.concurrent.TimeUnit.NANOSECONDS);
            if (r != null && command.equals(r.get("execute").getAsString())) {
                return r;
            }
        }
        return null;
    }

    /** The connected client, as the handler sees it. */
    static final class Peer {
        private final SocketChannel channel;
        boolean hangUp;

        Peer(SocketChannel channel) {
            this.channel = channel;
        }

        void raw(byte[] bytes) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }

        void line(String json) throws IOException {
            raw((json + "\n").getBytes(StandardCharsets.UTF_8));
        }

        void reply(JsonObject request, JsonElement value) throws IOException {
            JsonObject m = new JsonObject();
            m.add("return", value);
            if (request.has("id")) {
                m.add("id", request.get("id"));
            }
            line(m.toString());
        }

        void error(JsonObject request, String cls, String desc) throws IOException {
            JsonObject e = new JsonObject();
            e.addProperty("class", cls);
            e.addProperty("desc", desc);
            JsonObject m = new JsonObject();
            m.add("error", e);
            if (request.has("id")) {
                m.add("id", request.get("id"));
            }
            line(m.toString());
        }

        void syncReply(JsonObject request) throws IOException {
            raw(new byte[] {(byte) 0xFF});
            JsonObject m = new JsonObject();
            m.add("return", request.getAsJsonObject("arguments").get("id"));
            line(m.toString());
        }
    }

    private void serve() {
        while (!closed) {
            try (SocketChannel c = server.accept()) {
                connections.incrementAndGet();
                session(c);
            } catch (IOException e) {
                // client gone or server closed: accept the next one
            }
        }
    }

    private void session(SocketChannel c) throws IOException {
        Peer peer = new Peer(c);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        while (c.read(buffer) >= 0) {
            buffer.flip();
            while (buffer.hasRemaining()) {
                byte b = buffer.get();
                if (b == (byte) 0xFF) {
                    delimitersReceived.incrementAndGet();
                    line.reset(); // as qemu-ga's JSON parser does
                } else if (b == '\n') {
                    String text = line.toString(StandardCharsets.UTF_8);
                    line.reset();
                    if (!text.isBlank()) {
                        dispatch(JsonParser.parseString(text).getAsJsonObject(), peer);
                        if (peer.hangUp) {
                            return;
                        }
                    }
                } else {
                    line.write(b);
                }
            }
            buffer.clear();
        }
    }

    private void dispatch(JsonObject request, Peer peer) throws IOException {
        received.add(request);
        Handler h = handlers.get(request.get("execute").getAsString());
        if (h == null) {
            peer.error(request, "CommandNotFound", "no such command");
        } else {
            h.handle(request, peer);
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        Files.deleteIfExists(socket);
    }
}
