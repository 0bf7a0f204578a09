package dev.vmrunner.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QmpDisplayTest {
    @TempDir Path dir;

    @Test
    void setPasswordExpiryAndQuerySpiceNeverLogThePassword() throws Exception {
        Logger log = Logger.getLogger(QmpConnection.class.getName());
        ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
        Handler capture =
                new Handler() {
                    @Override
                    public void publish(LogRecord r) {
                        lines.add(r.getMessage());
                    }

                    @Override
                    public void flush() {}

                    @Override
                    public void close() {}
                };
        Level before = log.getLevel();
        log.setLevel(Level.FINE);
        log.addHandler(capture);
        try (FakeQmpServer server = FakeQmpServer.start(dir.resolve("qmp.sock"));
                QmpConnection c =
                        QmpConnection.connect(
                                dir.resolve("qmp.sock"), Duration.ofSeconds(20), null)) {
            server.reply("set_password", new JsonObject());
            server.reply("expire_password", new JsonObject());
            server.reply(
                    "query-spice",
                    JsonParser.parseString(
                            "{\"enabled\":true,\"auth\":\"spice\",\"host\":\"0.0.0.0\","
                                    + "\"port\":5930,\"channels\":[{\"channel-type\":1},"
                                    + "{\"channel-type\":2}]}"));
            QmpDisplay display = new QmpDisplay(c, Duration.ofSeconds(10));
            display.setPassword("spice", "t0p-s3cret").get(10, TimeUnit.SECONDS);
            JsonObject sent = server.nextReceived();
            while (!"set_password".equals(sent.get("execute").getAsString())) {
                sent = server.nextReceived();
            }
            assertEquals(
                    "t0p-s3cret", sent.getAsJsonObject("arguments").get("password").getAsString());
            display.expirePassword("spice", "+300").get(10, TimeUnit.SECONDS);
            assertEquals(
                    new SpiceInfo(true, "spice", "0.0.0.0", 5930, 1),
                    display.querySpice().get(10, TimeUnit.SECONDS));
        } finally {
            log.removeHandler(capture);
            log.setLevel(before);
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("set_password")), lines.toString());
        assertFalse(lines.stream().anyMatch(l -> l.contains("t0p-s3cret")), lines.toString());
    }
}
