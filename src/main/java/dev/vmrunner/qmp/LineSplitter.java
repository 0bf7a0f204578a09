package dev.vmrunner.qmp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Cuts a byte stream into newline-terminated UTF-8 lines; QMP puts one JSON message on each line.
 * Public for the guest agent client, which speaks the same line protocol.
 */
public final class LineSplitter {
    /** Receives one line; may end the stream by throwing. */
    public interface LineHandler {
        void accept(String line) throws IOException;
    }

    private final int maxLineBytes;
    private byte[] line = new byte[4096];
    private int length;

    public LineSplitter(int maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    /**
     * Consumes all of {@code in} and hands every completed line (without its newline) to {@code
     * out}.
     */
    public void feed(ByteBuffer in, LineHandler out) throws IOException {
        while (in.hasRemaining()) {
            byte b = in.get();
            if (b == '\n') {
                String text = new String(line, 0, length, StandardCharsets.UTF_8);
                length = 0;
                out.accept(text);
            } else {
                append(b);
            }
        }
    }

    private void append(byte b) throws IOException {
        if (length == line.length) {
            // A runaway line means the peer is not speaking QMP; refuse rather than exhaust the
            // heap.
            if (length >= maxLineBytes) {
                throw new IOException(
                        "message longer than " + maxLineBytes + " bytes without a newline");
            }
            line = Arrays.copyOf(line, Math.min(maxLineBytes, length * 2));
        }
        line[length++] = b;
    }

    /** Drops the incomplete line collected so far (a resynchronisation point in the stream). */
    public void discardPartial() {
        length = 0;
    }
}
