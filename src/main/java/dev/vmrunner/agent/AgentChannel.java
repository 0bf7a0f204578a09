package dev.vmrunner.agent;

import dev.vmrunner.agent.AgentException.Kind;
import java.io.EOFException;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One connection to the agent's socket, read by the client's worker thread only while a request
 * waits for its answer: no reader thread, no queue. While nobody asks, what the guest writes stays
 * in the socket (QEMU then stops taking more from the guest's port: the guest's writes block), and
 * the next request drains it unread, up to {@link #MAX_DRAIN_BYTES}. What arrives is cut into lines
 * (one JSON message each) and the 0xFF delimiter that {@code guest-sync-delimited} puts before its
 * answer (it also discards a partly received line).
 *
 * <p>Every byte is bounded: a line is at most {@link #MAX_LINE_BYTES} of valid UTF-8; one request
 * reads at most {@link #MAX_EXCHANGE_BYTES} and {@link #MAX_DELIMITERS} delimiters. Past a bound
 * the guest is {@linkplain Kind#MISBEHAVING misbehaving}; the caller closes the connection.
 */
final class AgentChannel implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AgentChannel.class.getName());

    /**
     * The longest line. The largest real answer is {@code guest-network-get-interfaces}: about 350
     * bytes per interface with one address and its statistics, about 80 per further address, so a
     * container host with 500 veth interfaces answers in about 200 KiB; {@code guest-get-osinfo}
     * and the others stay under 2 KiB. A line costs twice its size as a String and several times
     * more as parsed JSON, a few MiB at most of the runner's 48 MiB heap.
     */
    static final int MAX_LINE_BYTES = 256 << 10;

    /** What one request may read: stale answers of earlier requests plus its own. */
    static final long MAX_EXCHANGE_BYTES = 4L * MAX_LINE_BYTES;

    /** What a sync may drain unread; a real agent sends nothing it was not asked for. */
    static final long MAX_DRAIN_BYTES = 4L * MAX_LINE_BYTES;

    /**
     * Delimiters one request may see besides those of earlier syncs that timed out (their answers
     * may still come: QEMU holds requests while the guest's port is closed, e.g. during a reboot).
     */
    static final int MAX_DELIMITERS = 8;

    /** How long a write may wait for a guest that does not read its port. */
    private static final int MAX_WRITE_WAITS = 5;

    static final byte DELIMITER = (byte) 0xFF;

    private static final Inbound.Delimiter THE_DELIMITER = new Inbound.Delimiter();

    private final Path socket;
    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer buffer = ByteBuffer.allocate(16 * 1024).flip();
    private byte[] line = new byte[1024];
    private int length;
    private long exchangeBytes;
    private int exchangeDelimiters;
    private int maxDelimiters = MAX_DELIMITERS;
    private volatile boolean closed;

    private AgentChannel(Path socket, SocketChannel channel, Selector selector) {
        this.socket = socket;
        this.channel = channel;
        this.selector = selector;
    }

    static AgentChannel open(Path socket) throws AgentException {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            channel.configureBlocking(false);
            Selector selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
            return new AgentChannel(socket, channel, selector);
        } catch (IOException e) {
            if (channel != null) {
                closeQuietly(channel);
            }
            throw new AgentException(
                    Kind.CONNECT,
                    "Failed to connect to guest agent socket " + socket + ": " + e.getMessage(),
                    e);
        }
    }

    Path socket() {
        return socket;
    }

    /** Writes the bytes completely (waiting while the socket is full); a failure closes it. */
    void write(byte[] bytes, String logText) throws IOException {
        LOG.fine(() -> "agent " + socket.getFileName() + " -> " + logText);
        ByteBuffer out = ByteBuffer.wrap(bytes);
        try {
            int waits = 0;
            while (out.hasRemaining()) {
                if (channel.write(out) == 0) {
                    if (++waits > MAX_WRITE_WAITS) {
                        throw new IOException("the guest does not read its agent port");
                    }
                    waitFor(SelectionKey.OP_WRITE, TimeUnit.SECONDS.toMillis(1));
                }
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    void writeLine(String json) throws IOException {
        write((json + "\n").getBytes(StandardCharsets.UTF_8), json);
    }

    /**
     * A new request begins: its byte and delimiter budget starts afresh.
     *
     * @param unanswered earlier requests on this connection whose answers may still come
     */
    void beginExchange(int unanswered) {
        exchangeBytes = 0;
        exchangeDelimiters = 0;
        maxDelimiters = MAX_DELIMITERS + unanswered;
    }

    /**
     * Drops what arrived while nobody asked, without waiting and without reading it as lines.
     *
     * @throws AgentException MISBEHAVING past {@link #MAX_DRAIN_BYTES}, DISCONNECTED at the end
     */
    void drain() throws AgentException {
        long drained = buffer.remaining();
        buffer.clear().flip();
        length = 0;
        try {
            int n;
            while ((n = readNow()) > 0) {
                drained += n;
                buffer.clear().flip();
                if (drained > MAX_DRAIN_BYTES) {
                    throw misbehaving(
                            "sent more than "
                                    + MAX_DRAIN_BYTES / 1024
                                    + " KiB nobody asked for (a flood)");
                }
            }
            buffer.clear().flip();
        } catch (IOException e) {
            throw lost("a request", e);
        }
        if (drained > 0) {
            long d = drained;
            LOG.fine(() -> "agent " + socket.getFileName() + ": dropped " + d + " unasked bytes");
        }
    }

    /**
     * The next line or delimiter, or null if nothing complete arrived by {@code deadline} ({@link
     * System#nanoTime()}).
     *
     * @throws AgentException MISBEHAVING past a bound, DISCONNECTED when the socket closed
     */
    Inbound next(String command, long deadline) throws AgentException, InterruptedException {
        try {
            while (true) {
                Inbound in = cut();
                if (in != null) {
                    return in;
                }
                if (!fill(deadline)) {
                    return null;
                }
            }
        } catch (IOException e) {
            throw lost(command, e);
        }
    }

    boolean isOpen() {
        return !closed;
    }

    /** Closes the socket; a worker waiting for an answer wakes up. Any thread; idempotent. */
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        closeQuietly(channel);
        try {
            selector.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing the selector of " + socket + " failed", e);
        }
    }

    /** The next complete item in the buffer, or null when the buffer is used up. */
    private Inbound cut() throws AgentException {
        while (buffer.hasRemaining()) {
            byte b = buffer.get();
            if (b == DELIMITER) {
                length = 0;
                if (++exchangeDelimiters > maxDelimiters) {
                    throw misbehaving("sent more than " + maxDelimiters + " 0xFF delimiters");
                }
                LOG.fine(() -> "agent " + socket.getFileName() + " <- (0xFF delimiter)");
                return THE_DELIMITER;
            }
            if (b == '\n') {
                String text = decode();
                length = 0;
                if (!text.isBlank()) {
                    LOG.fine(() -> "agent " + socket.getFileName() + " <- " + text);
                    return new Inbound.Line(text);
                }
            } else {
                append(b);
            }
        }
        return null;
    }

    private void append(byte b) throws AgentException {
        if (length == line.length) {
            if (length >= MAX_LINE_BYTES) {
                length = 0;
                throw misbehaving("sent a line longer than " + MAX_LINE_BYTES / 1024 + " KiB");
            }
            line = Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, length * 2));
        }
        line[length++] = b;
    }

    private String decode() throws AgentException {
        try {
            CharBuffer chars =
                    StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(line, 0, length));
            if (line.length > 64 * 1024) {
                line = new byte[1024]; // a long answer's buffer is not kept
            }
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw misbehaving("sent a line that is not UTF-8");
        }
    }

    /** Reads more into the buffer, waiting until the deadline; false when nothing came. */
    private boolean fill(long deadline) throws IOException, AgentException {
        buffer.clear();
        try {
            while (true) {
                int n = channel.read(buffer);
                if (n < 0) {
                    throw new EOFException("QEMU closed the guest agent socket");
                }
                if (n > 0) {
                    exchangeBytes += n;
                    if (exchangeBytes > MAX_EXCHANGE_BYTES) {
                        throw misbehaving(
                                "sent more than "
                                        + MAX_EXCHANGE_BYTES / 1024
                                        + " KiB without answering");
                    }
                    return true;
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                waitFor(SelectionKey.OP_READ, left);
            }
        } finally {
            buffer.flip();
        }
    }

    /** Reads what is there without waiting; -1 at the end. */
    private int readNow() throws IOException {
        buffer.clear();
        int n = channel.read(buffer);
        if (n < 0) {
            throw new EOFException("QEMU closed the guest agent socket");
        }
        return n;
    }

    private void waitFor(int ops, long millis) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        try {
            SelectionKey key = channel.keyFor(selector);
            if (key == null || !key.isValid()) {
                throw new ClosedChannelException();
            }
            key.interestOps(ops);
            selector.select(Math.max(1, millis));
            selector.selectedKeys().clear();
        } catch (ClosedSelectorException | CancelledKeyException e) {
            throw new ClosedChannelException(); // closed by another thread meanwhile
        }
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    private AgentException misbehaving(String what) {
        return new AgentException(Kind.MISBEHAVING, "The guest agent " + what, null);
    }

    private AgentException lost(String command, IOException e) {
        String why =
                e instanceof ClosedChannelException
                        ? "the connection was closed"
                        : String.valueOf(e.getMessage());
        return new AgentException(
                Kind.DISCONNECTED,
                "Failed to run guest agent command "
                        + command
                        + ": connection to "
                        + socket
                        + " lost: "
                        + why,
                e);
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing a guest agent socket failed", e);
        }
    }
}
