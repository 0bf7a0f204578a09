package dev.vmrunner.console;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Turns the guest's console bytes into log lines: split at newlines, carriage returns and trailing
 * spaces dropped, control characters and bytes that are not UTF-8 shown safely, long lines cut. A
 * token bucket keeps a chatty guest from flooding the log: {@link #BURST} lines at once, then
 * {@link #PER_SECOND} a second; what is dropped is counted and said once lines flow again. One
 * thread at a time.
 */
final class ConsoleLines {
    static final int MAX_LINE = 1000;
    static final int BURST = 200;
    static final int PER_SECOND = 50;

    private final Consumer<String> out;
    private final LongSupplier nanoTime;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private double tokens = BURST;
    private long refilled;
    private long suppressed;

    ConsoleLines(Consumer<String> out, LongSupplier nanoTime) {
        this.out = out;
        this.nanoTime = nanoTime;
        this.refilled = nanoTime.getAsLong();
    }

    /** Takes the bytes the guest printed; emits every line they complete. */
    void accept(ByteBuffer bytes) {
        while (bytes.hasRemaining()) {
            byte b = bytes.get();
            if (b == '\n') {
                emit();
            } else if (line.size() < MAX_LINE * 4) {
                line.write(b);
            }
        }
    }

    /** Emits a last line without its newline, and the count of what was suppressed. */
    void flush() {
        if (line.size() > 0) {
            emit();
        }
        if (suppressed > 0) {
            out.accept("console: … " + suppressed + " lines suppressed (rate limit)");
            suppressed = 0;
        }
    }

    private void emit() {
        String text = safe(new String(line.toByteArray(), StandardCharsets.UTF_8));
        line.reset();
        if (text.isEmpty()) {
            return;
        }
        refill();
        if (tokens < 1) {
            suppressed++;
            return;
        }
        tokens--;
        if (suppressed > 0) {
            out.accept(
                    "console: … "
                            + suppressed
                            + " lines suppressed (more than "
                            + PER_SECOND
                            + " a second)");
            suppressed = 0;
        }
        out.accept("console: " + text);
    }

    private void refill() {
        long now = nanoTime.getAsLong();
        tokens = Math.min(BURST, tokens + (now - refilled) / 1e9 * PER_SECOND);
        refilled = now;
    }

    /**
     * Control characters (escape sequences of a console UI) become {@code ?}, U+FFFD stands for
     * bytes that are not UTF-8, trailing blanks and carriage returns go, long lines are cut.
     */
    static String safe(String raw) {
        StringBuilder s = new StringBuilder(Math.min(raw.length(), MAX_LINE + 1));
        for (int i = 0; i < raw.length() && s.length() < MAX_LINE; i++) {
            char c = raw.charAt(i);
            if (c == '\t') {
                s.append(' ');
            } else if (c == '\r') {
                // dropped
            } else if (Character.isISOControl(c)) {
                s.append('?');
            } else {
                s.append(c);
            }
        }
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == ' ') {
            end--;
        }
        s.setLength(end);
        if (raw.length() > MAX_LINE && end == MAX_LINE) {
            s.append('…');
        }
        return s.toString();
    }
}
