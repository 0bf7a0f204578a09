package dev.vmrunner.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.qmp.QmpException.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The façade against scripted replies copied from QEMU 7.2. */
@Timeout(60)
class QmpTest {
    @TempDir Path dir;

    private FakeQmpServer server;
    private QmpConnection connection;
    private Qmp qmp;

    @BeforeEach
    void connect() throws Exception {
        server = FakeQmpServer.start(dir.resolve("qmp.sock"));
        connection = QmpConnection.connect(dir.resolve("qmp.sock"), Duration.ofSeconds(20), null);
        qmp = new Qmp(connection, Duration.ofSeconds(20));
        server.nextReceived(); // qmp_capabilities
    }

    @AfterEach
    void close() throws Exception {
        connection.close();
        server.close();
    }

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(30, TimeUnit.SECONDS);
    }

    private static QmpException failure(CompletableFuture<?> future) {
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
        assertTrue(
                e.getCause() instanceof QmpException, () -> "not a QmpException: " + e.getCause());
        return (QmpException) e.getCause();
    }

    /** The arguments of the next command the fake received, after checking its name. */
    private JsonObject sent(String command) throws InterruptedException {
        JsonObject request = server.nextReceived();
        assertEquals(command, request.get("execute").getAsString());
        return request.has("arguments") ? request.getAsJsonObject("arguments") : new JsonObject();
    }

    @Test
    void queryStatus() throws Exception {
        server.reply(
                "query-status",
                json("{\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}"));
        assertEquals(new VmStatus("prelaunch", false), get(qmp.queryStatus()));
    }

    @Test
    void runStateCommandsSendTheirQmpNames() throws Exception {
        for (String command : List.of("cont", "stop", "system_powerdown", "system_reset")) {
            server.reply(command, new JsonObject());
        }
        get(qmp.cont());
        get(qmp.stop());
        get(qmp.systemPowerdown());
        get(qmp.systemReset());
        for (String command : List.of("cont", "stop", "system_powerdown", "system_reset")) {
            assertEquals(new JsonObject(), sent(command));
        }
    }

    @Test
    void quitCountsTheHangUpAsSuccess() throws Exception {
        server.on(
                "quit",
                (request, peer) -> peer.disconnect()); // QEMU may exit before its reply is out
        assertNull(get(qmp.quit()));
    }

    @Test
    void balloonTargetAndActualAreBytes() throws Exception {
        server.reply("balloon", new JsonObject());
        server.reply("query-balloon", json("{\"actual\": 67108864}"));

        get(qmp.setBalloonTarget(32L << 20));
        assertEquals(32L << 20, sent("balloon").get("value").getAsLong());
        assertEquals(64L << 20, get(qmp.queryBalloon()));
    }

    @Test
    void hotpluggableCpusAndAddCpu() throws Exception {
        server.reply(
                "query-hotpluggable-cpus",
                JsonParser.parseString(
                        "[{\"props\": {\"core-id\": 1, \"thread-id\": 0, \"socket-id\": 0},"
                                + " \"vcpus-count\": 1, \"type\": \"max-x86_64-cpu\"},{\"props\":"
                                + " {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0},"
                                + " \"vcpus-count\": 1, \"qom-path\":"
                                + " \"/machine/unattached/device[0]\", \"type\":"
                                + " \"max-x86_64-cpu\"}]"));
        server.reply("device_add", new JsonObject());

        List<HotpluggableCpu> slots = get(qmp.queryHotpluggableCpus());
        assertEquals(2, slots.size());
        HotpluggableCpu free = slots.get(0);
        assertTrue(free.isFree());
        assertEquals("/machine/unattached/device[0]", slots.get(1).qomPath());

        get(qmp.addCpu(free, "cpu-1"));
        sent("query-hotpluggable-cpus");
        assertEquals(
                json(
                        "{\"core-id\": 1, \"thread-id\": 0, \"socket-id\": 0, \"driver\":"
                                + " \"max-x86_64-cpu\", \"id\": \"cpu-1\"}"),
                sent("device_add"));
        assertFalse(free.props().has("id"), "addCpu must not change the slot");
    }

    @Test
    void cpusFastAndDeleteDevice() throws Exception {
        server.reply(
                "query-cpus-fast",
                JsonParser.parseString(
                        "[{\"thread-id\": 5480, \"props\": {\"core-id\": 0, \"thread-id\": 0,"
                            + " \"socket-id\": 0}, \"qom-path\": \"/machine/unattached/device[0]\","
                            + " \"cpu-index\": 0, \"target\": \"x86_64\"}]"));
        server.on(
                "device_del",
                (request, peer) ->
                        peer.error(request, "DeviceNotFound", "Device 'cpu-9' not found"));

        assertEquals(
                List.of(new CpuInfo(0, "/machine/unattached/device[0]")), get(qmp.queryCpusFast()));
        QmpException e = failure(qmp.deleteDevice("cpu-9"));
        assertEquals(Kind.ERROR_REPLY, e.kind());
        assertEquals("DeviceNotFound", e.errorClass());
    }

    @Test
    void queryBlockReadsTrayLockAndMedium() throws Exception {
        server.reply(
                "query-block",
                JsonParser.parseString(
                        "[{\"io-status\": \"ok\", \"device\": \"cd0\", \"locked\": true,"
                            + " \"removable\": true, \"inserted\": {\"ro\": true, \"drv\": \"raw\","
                            + " \"file\": \"/tmp/x.iso\", \"node-name\": \"#block197\"}, \"qdev\":"
                            + " \"cdrom0\", \"tray_open\": false, \"type\":"
                            + " \"unknown\"},{\"device\": \"cd1\", \"locked\": false,"
                            + " \"removable\": true, \"qdev\": \"cdrom1\", \"tray_open\":"
                            + " true},{\"device\": \"\", \"locked\": false, \"removable\": false,"
                            + " \"qdev\": \"/machine/peripheral/disk0/virtio-backend\","
                            + " \"inserted\": {\"file\": \"/v/disk.qcow2\"}}]"));

        assertEquals(
                List.of(
                        new BlockInfo("cd0", "cdrom0", true, true, false, "/tmp/x.iso"),
                        new BlockInfo("cd1", "cdrom1", true, false, true, null),
                        new BlockInfo(
                                "",
                                "/machine/peripheral/disk0/virtio-backend",
                                false,
                                false,
                                null,
                                "/v/disk.qcow2")),
                get(qmp.queryBlock()));
    }

    @Test
    void mediaCommandsAddressTheDeviceById() throws Exception {
        for (String command :
                List.of(
                        "blockdev-open-tray",
                        "blockdev-remove-medium",
                        "blockdev-change-medium",
                        "blockdev-close-tray")) {
            server.reply(command, new JsonObject());
        }
        get(qmp.openTray("cdrom0", false));
        get(qmp.removeMedium("cdrom0"));
        get(qmp.insertMedium("cdrom0", "/srv/new.iso"));
        get(qmp.closeTray("cdrom0"));

        assertEquals(json("{\"id\": \"cdrom0\", \"force\": false}"), sent("blockdev-open-tray"));
        assertEquals(json("{\"id\": \"cdrom0\"}"), sent("blockdev-remove-medium"));
        assertEquals(
                json(
                        "{\"id\": \"cdrom0\", \"filename\": \"/srv/new.iso\", \"format\": \"raw\","
                                + " \"read-only-mode\": \"read-only\"}"),
                sent("blockdev-change-medium"));
        assertEquals(json("{\"id\": \"cdrom0\"}"), sent("blockdev-close-tray"));
    }

    @Test
    void aReplyOfTheWrongShapeIsAProtocolError() throws Exception {
        server.reply("query-status", JsonParser.parseString("[]"));
        QmpException e = failure(qmp.queryStatus());
        assertEquals(Kind.PROTOCOL, e.kind());
        assertTrue(
                e.getMessage().startsWith("Failed to read reply to QMP command query-status: "),
                e.getMessage());
    }
}
