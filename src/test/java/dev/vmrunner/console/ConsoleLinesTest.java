package dev.vmrunner.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConsoleLinesTest {
    private final List<String> logged = new ArrayList<>();
    private final AtomicLong now = new AtomicLong();
    private final ConsoleLines lines = new ConsoleLines(logged::add, now::get);

    private void print(String text) {
        lines.accept(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void linesAreSplitAndMadeSafe() {
        print("boot\r\nok \u001b[1mbold\u001b[0m\npart");
        print("ial\n\n");
        lines.accept(ByteBuffer.wrap(new byte[] {'x', (byte) 0xff, '\n'}));
        assertEquals(
                List.of(
                        "console: boot",
                        "console: ok ?[1mbold?[0m",
                        "console: partial",
                        "console: x\ufffd"),
                logged);
    }

    @Test
    void aLongLineIsCut() {
        print("y".repeat(5000) + "\n");
        assertEquals(1, logged.size());
        assertEquals("console: " + "y".repeat(ConsoleLines.MAX_LINE) + "…", logged.get(0));
    }

    @Test
    void aFloodIsLimitedAndTheDropCounted() {
        for (int i = 0; i < 1000; i++) {
            print("line " + i + "\n");
        }
        assertEquals(ConsoleLines.BURST, logged.size());
        now.addAndGet(1_000_000_000L); // a second later: 50 more lines may pass
        print("later\n");
        assertEquals(
                "console: … 800 lines suppressed (more than 50 a second)",
                logged.get(ConsoleLines.BURST));
        assertEquals("console: later", logged.get(ConsoleLines.BURST + 1));
        for (int i = 0; i < 100; i++) {
            print("more " + i + "\n");
        }
        lines.flush();
        assertTrue(
                logged.get(logged.size() - 1).endsWith("lines suppressed (rate limit)"),
                logged.get(logged.size() - 1));
    }
}
