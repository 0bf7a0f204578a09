package dev.vmrunner.agent;

import dev.vmrunner.qmp.LineSplitter;
import java.io.EOFException;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One connection to the agent's socket. A daemon thread reads and queues what arrives: lines (one
 * JSON message each), the 0xFF delimiter byte that {@code guest-sync-delimited} puts before its
 * answer (it also discards a partly received line), and the end of the stream.
 */
final class AgentChannel implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AgentChannel.class.getName());
    private static final int MAX_LINE_BYTES = 4 << 20;
    static final byte DELIMITER = (byte) 0xFF;

    /** What the reader saw. */
    sealed interface Inbound permits Line, Delimiter, Closed {}

    record Line(String text) implements Inbound {}

    record Delimiter() implements Inbound {}

    record Closed(Throwable cause) implements Inbound {}

    private final Path socket;
    private final SocketChannel channel;
    private final BlockingQueue<Inbound> inbound = new LinkedBlockingQueue<>();
    private final Thread reader;
    private volatile boolean closed;

    private AgentChannel(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        this.reader = new Thread(this::readLoop, "guest-agent-reader " + socket.getFileName());
        reader.setDaemon(true);
    }

    static AgentChannel open(Path socket) throws AgentException {
        try {
            AgentChannel c =
                    new AgentChannel(
                            socket, SocketChannel.open(UnixDomainSocketAddress.of(socket)));
            c.reader.start();
            return c;
        } catch (IOException e) {
            throw new AgentException(
                    AgentException.Kind.CONNECT,
                    "Failed to connect to guest agent socket " + socket + ": " + e.getMessage(),
                    e);
        }
    }

    Path socket() {
        return socket;
    }

    /** Writes the bytes completely; a failure closes the channel. */
    void write(byte[] bytes, String logText) throws IOException {
        LOG.fine(() -> "agent " + socket.getFileName() + " -> " + logText);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    void writeLine(String json) throws IOException {
        write((json + "\n").getBytes(StandardCharsets.UTF_8), json);
    }

    /** The next thing that arrived, or null if nothing did within the time. */
    Inbound poll(long nanos) throws InterruptedException {
        return inbound.poll(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    boolean isOpen() {
        return !closed;
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing guest agent socket " + socket + " failed", e);
        }
    }

    private void readLoop() {
        Throwable cause;
        try {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            LineSplitter lines = new LineSplitter(MAX_LINE_BYTES);
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                split(buffer, lines);
                buffer.clear();
            }
            cause = new EOFException("QEMU closed the guest agent socket");
        } catch (IOException | RuntimeException e) {
            cause = e;
        }
        closed = true;
        inbound.add(new Closed(cause));
    }

    private void split(ByteBuffer buffer, LineSplitter lines) throws IOException {
        int end = buffer.limit();
        for (int i = buffer.position(); i < end; i++) {
            if (buffer.get(i) == DELIMITER) {
                buffer.limit(i);
                lines.feed(buffer, this::queueLine);
                buffer.limit(end).position(i + 1);
                lines.discardPartial();
                LOG.fine(() -> "agent " + socket.getFileName() + " <- (0xFF delimiter)");
                inbound.add(new Delimiter());
            }
        }
        lines.feed(buffer, this::queueLine);
    }

    private void queueLine(String line) {
        LOG.fine(() -> "agent " + socket.getFileName() + " <- " + line);
        if (!line.isBlank()) {
            inbound.add(new Line(line));
        }
    }
}
