package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.vmrunner.launch.MacAddresses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The networking modes end to end. Bridged: a Linux bridge in a network namespace of the test's
 * own, the runner started inside it ({@code ip netns exec}, which also puts {@code
 * /etc/netns/NS/qemu/bridge.conf} over {@code /etc/qemu}), QEMU's bridge helper attaching the tap,
 * the guest pinging the bridge's address. Needs root; skipped otherwise. User networking: the guest
 * fetches a page from a server of the test on the host through {@code 10.0.2.2}. passt and user
 * networking with {@code ports}: the guest takes its address by DHCP (with passt, the host's own),
 * and its web server answers on the host's forwarded port.
 */
class NetworkIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Pattern RTT =
            Pattern.compile("round-trip min/avg/max = ([0-9.]+)/([0-9.]+)/([0-9.]+) ms");

    @TempDir Path dir;

    static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    private static boolean root() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("id", "-u").start();
        String uid = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return p.waitFor() == 0 && uid.equals("0");
    }

    /** A network namespace with bridge vmrtbr0 (10.77.0.1/24), allowed in its bridge.conf. */
    private static final class Namespace implements AutoCloseable {
        final String name = "vmrt" + ThreadLocalRandom.current().nextInt(100000, 999999);
        final Path etc = Path.of("/etc/netns", name);
        private final boolean madeEtcQemu;
        private final List<String[]> undo = new ArrayList<>();

        Namespace() throws Exception {
            // ip netns exec bind-mounts /etc/netns/NS/qemu over /etc/qemu, which must exist
            madeEtcQemu = !Files.exists(Path.of("/etc/qemu"));
            if (madeEtcQemu) {
                Files.createDirectories(Path.of("/etc/qemu"));
            }
            Files.createDirectories(etc.resolve("qemu"));
            Files.writeString(etc.resolve("qemu/bridge.conf"), "allow vmrtbr0\n");
            ip("netns", "add", name);
            undo.add(new String[] {"ip", "netns", "del", name});
            ip("-n", name, "link", "set", "lo", "up");
            ip("-n", name, "link", "add", "vmrtbr0", "type", "bridge");
            ip("-n", name, "addr", "add", "10.77.0.1/24", "dev", "vmrtbr0");
            ip("-n", name, "link", "set", "vmrtbr0", "up");
            ip("-n", name, "link", "add", "vmrtbr2", "type", "bridge"); // exists, not allowed
        }

        private static void ip(String... args) throws Exception {
            List<String> c = new ArrayList<>(List.of("ip"));
            c.addAll(List.of(args));
            assertEquals(0, run(c.toArray(String[]::new)), "ip " + String.join(" ", args));
        }

        String[] exec() {
            return new String[] {"ip", "netns", "exec", name};
        }

        @Override
        public void close() throws IOException {
            for (String[] c : undo) {
                try {
                    run(c);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(
                            "Failed to undo " + String.join(" ", c) + ": interrupted", e);
                }
            }
            Files.deleteIfExists(etc.resolve("qemu/bridge.conf"));
            Files.deleteIfExists(etc.resolve("qemu"));
            Files.deleteIfExists(etc);
            if (madeEtcQemu) {
                Files.deleteIfExists(Path.of("/etc/qemu"));
            }
        }
    }

    private static String tapConfig(TestVm vm, String bridge) {
        return vm.configText("e2e-bridged")
                .replace(
                        "    network: []\n",
                        "    network:\n      - type: tap\n        bridge: " + bridge + "\n");
    }

    @Test
    void bridgedGuestReachesTheBridgeAndBadBridgesAreNamed() throws Exception {
        assumeTrue(root(), "needs root: network namespaces, bridges and QEMU's bridge helper");
        assumeTrue(
                Files.isExecutable(Path.of("/usr/lib/qemu/qemu-bridge-helper")),
                "no /usr/lib/qemu/qemu-bridge-helper");
        try (Namespace ns = new Namespace();
                TestVm vm = new TestVm(dir).under(ns.exec()).template("vmrunner.ip=10.77.0.2/24")) {
            for (String[] bad :
                    new String[][] {
                        {"vmrtbr1", "vm.network[0].bridge (vmrtbr1): no such bridge on this host"},
                        {"vmrtbr2", "does not allow it, so QEMU's bridge helper refuses"}
                    }) {
                Files.writeString(vm.config, tapConfig(vm, bad[0]));
                List<String> check = new ArrayList<>(List.of(ns.exec()));
                check.addAll(
                        List.of(
                                TestVm.LAUNCHER.toString(),
                                "check",
                                "-c",
                                vm.config.toString(),
                                "--templates-dir",
                                vm.templates.toString()));
                Process p = new ProcessBuilder(check).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(2, p.waitFor(), out);
                assertTrue(out.contains(bad[1]), out);
                vm.start();
                assertEquals(2, vm.awaitExit(WAIT), vm.log());
                assertTrue(vm.log().contains(bad[1]), vm.log());
            }

            Files.writeString(vm.config, tapConfig(vm, "vmrtbr0"));
            vm.boot();
            String uuid = Files.readString(vm.dataDir.resolve("uuid.txt")).strip();
            String mac = vm.guestCommand("cat /sys/class/net/eth0/address", WAIT).strip();
            assertEquals(MacAddresses.derive(uuid, 0), mac, "the derived MAC reaches the guest");
            String ping = vm.guestCommand("ping -c 5 -W 3 10.77.0.1", WAIT);
            Matcher m = RTT.matcher(ping);
            assertTrue(m.find() && ping.contains("5 packets received"), ping);
            System.out.printf(
                    "NetworkIT: guest -> bridge ping round trip min/avg/max %s/%s/%s ms%n",
                    m.group(1), m.group(2), m.group(3));
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
        }
    }

    @Test
    void userNetworkingReachesTheHostThrough10022() throws Exception {
        HttpServer server =
                HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(
                "/",
                exchange -> {
                    byte[] body = "hello-from-the-host\n".getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                    exchange.close();
                });
        server.start();
        try (TestVm vm = new TestVm(dir).template("vmrunner.ip=10.0.2.15/24")) {
            Files.writeString(
                    vm.config,
                    vm.configText("e2e-user")
                            .replace("    network: []\n", "    network:\n      - type: user\n"));
            vm.boot();
            // QEMU's user networking relays 10.0.2.2:PORT to the host's 127.0.0.1:PORT. busybox's
            // wget segfaults in this guest (static glibc's resolver); nc does not.
            String page =
                    vm.guestCommand(
                            "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 20 nc 10.0.2.2 "
                                    + server.getAddress().getPort(),
                            WAIT);
            assertTrue(
                    page.contains("hello-from-the-host"), page + "\nserial:\n" + vm.serialText());
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
        } finally {
            server.stop(0);
        }
    }

    private static final Pattern DHCP = Pattern.compile("VMRUNNER-GUEST: dhcp ([0-9.]+)/([0-9]+)");

    /** A TCP port that was free a moment ago. */
    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The page the guest's web server serves, fetched through the host's forwarded port. */
    private static String fetch(int port) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout((int) Waits.seconds(30).toMillis());
            socket.getOutputStream()
                    .write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The IPv4 address of the host's default-route interface: what passt gives the guest. */
    private static String hostAddress() throws IOException, InterruptedException {
        String route = output("ip", "-4", "-o", "route", "show", "default");
        Matcher dev = Pattern.compile(" dev (\\S+)").matcher(route);
        assumeTrue(dev.find(), "no IPv4 default route: " + route);
        Matcher inet =
                Pattern.compile(" inet ([0-9.]+)/")
                        .matcher(output("ip", "-4", "-o", "addr", "show", "dev", dev.group(1)));
        assumeTrue(inet.find(), "no IPv4 address on " + dev.group(1));
        return inet.group(1);
    }

    private static String output(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /** Boots the guest with this interface, waits for its lease and fetches its page. */
    private static String bootAndFetch(TestVm vm, String type, int port) throws Exception {
        Files.writeString(
                vm.config,
                vm.configText("e2e-" + type)
                        .replace(
                                "    network: []\n",
                                "    network:\n      - type: "
                                        + type
                                        + "\n        ports: [\""
                                        + port
                                        + ":80\"]\n"));
        vm.boot();
        vm.awaitSerial("VMRUNNER-GUEST: dhcp ", WAIT);
        String page = fetch(port);
        assertTrue(page.contains("vmrunner-guest"), page + "\nserial:\n" + vm.serialText());
        Matcher lease = DHCP.matcher(vm.serialText());
        assertTrue(lease.find(), vm.serialText());
        return lease.group(1);
    }

    @Test
    void passtGivesTheGuestTheHostsAddressAndForwardsItsPort() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/passt")), "passt is not installed");
        String host = hostAddress();
        int port = freePort();
        try (TestVm vm = new TestVm(dir).template("")) {
            String guest = bootAndFetch(vm, "passt", port);
            assertEquals(host, guest, "passt gives the guest the host's address");
            long passt = vm.childPid("passt");
            String status = Files.readString(Path.of("/proc/" + passt + "/status"));
            // Started by root here, passt still runs without a single capability.
            assertTrue(status.contains("CapEff:\t0000000000000000"), status);
            assertTrue(status.contains("NoNewPrivs:\t1"), status);
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
            assertTrue(TestVm.gone(passt, WAIT), "passt ends with QEMU");
        }
    }

    @Test
    void userNetworkingForwardsTheSamePortsSpelling() throws Exception {
        int port = freePort();
        try (TestVm vm = new TestVm(dir).template("")) {
            assertEquals("10.0.2.15", bootAndFetch(vm, "user", port));
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
        }
    }

    @Test
    void badPortsAreRefusedWithTheKeyNamed() throws Exception {
        try (TestVm vm = new TestVm(dir).template("")) {
            Files.writeString(
                    vm.config,
                    vm.configText("e2e-bad-ports")
                            .replace(
                                    "    network: []\n",
                                    "    network:\n      - type: passt\n"
                                            + "        ports: [22, \"70000:80\", 22]\n"));
            Process p =
                    new ProcessBuilder(
                                    TestVm.LAUNCHER.toString(),
                                    "check",
                                    "-c",
                                    vm.config.toString(),
                                    "--templates-dir",
                                    vm.templates.toString())
                            .redirectErrorStream(true)
                            .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(2, p.waitFor(), out);
            assertTrue(out.contains("vm.network[0].ports[1]"), out);
            assertTrue(out.contains("from 1 to 65535"), out);
            assertTrue(out.contains("vm.network[0].ports[2]"), out);
            assertTrue(out.contains("tcp port 22 is forwarded twice"), out);
            vm.start();
            assertEquals(2, vm.awaitExit(WAIT), vm.log());
            assertTrue(vm.log().contains("vm.network[0].ports[1]"), vm.log());
        }
    }
}
