package dev.vmrunner.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code query-version}, the version order, and the re-plug rule that depends on it. */
@Timeout(60)
class QemuVersionTest {
    @TempDir Path dir;

    @Test
    void queryVersionReadsQemusNumbers() throws Exception {
        try (FakeQmpServer server = FakeQmpServer.start(dir.resolve("qmp.sock"));
                QmpConnection connection =
                        QmpConnection.connect(
                                dir.resolve("qmp.sock"), Duration.ofSeconds(20), null)) {
            server.nextReceived(); // qmp_capabilities
            // QEMU 7.2's reply on Debian 12.
            server.reply(
                    "query-version",
                    JsonParser.parseString(
                                    "{\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7},"
                                            + " \"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}")
                            .getAsJsonObject());
            QemuVersion version =
                    new Qmp(connection, Duration.ofSeconds(20))
                            .queryVersion()
                            .get(30, TimeUnit.SECONDS);
            assertEquals(new QemuVersion(7, 2, 22), version);
            assertEquals("7.2.22", version.toString());
            assertEquals("query-version", server.nextReceived().get("execute").getAsString());
        }
    }

    @Test
    void versionsAreOrderedByMajorMinorMicro() {
        assertTrue(new QemuVersion(10, 0, 2).compareTo(new QemuVersion(9, 2, 4)) > 0);
        assertTrue(new QemuVersion(7, 2, 22).compareTo(new QemuVersion(7, 10, 0)) < 0);
        assertTrue(new QemuVersion(8, 1, 3).compareTo(new QemuVersion(8, 1, 2)) > 0);
        assertTrue(new QemuVersion(10, 0, 0).atLeast(10, 0));
        assertFalse(new QemuVersion(9, 2, 9).atLeast(10, 0));
    }

    @Test
    void emptiedCpuSlotsAreReusedFromQemu10On() {
        assertFalse(CpuReplugPolicy.emptiedSlotsReusable(new QemuVersion(7, 2, 22)));
        assertFalse(CpuReplugPolicy.emptiedSlotsReusable(new QemuVersion(9, 2, 3)));
        assertTrue(CpuReplugPolicy.emptiedSlotsReusable(new QemuVersion(10, 0, 0)));
        assertTrue(CpuReplugPolicy.emptiedSlotsReusable(new QemuVersion(11, 0, 0)));
    }

    @Test
    void plugsFollowTheVersionAndTheTcgContextBudget() {
        QemuVersion old = new QemuVersion(7, 2, 22);
        QemuVersion current = new QemuVersion(10, 0, 13);
        // Fresh slots: always, on both (created stays within maxcpus by itself).
        assertTrue(CpuReplugPolicy.mayPlug(old, "tcg", false, 1, 2));
        assertTrue(CpuReplugPolicy.mayPlug(current, "tcg", false, 1, 2));
        // An emptied slot: never on 7.2 (heap corruption), on 10 while TCG contexts are left.
        assertFalse(CpuReplugPolicy.mayPlug(old, "kvm", true, 2, 4));
        assertFalse(CpuReplugPolicy.mayPlug(old, "tcg", true, 2, 4));
        assertTrue(CpuReplugPolicy.mayPlug(current, "tcg", true, 2, 3));
        assertFalse(CpuReplugPolicy.mayPlug(current, "tcg", true, 3, 3));
        assertFalse(CpuReplugPolicy.mayPlug(current, "tcg", true, 2, 2));
        assertTrue(CpuReplugPolicy.mayPlug(current, "kvm", true, 2, 2));
    }
}
