package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BridgeCheckTest {
    @TempDir Path dir;

    private RunnerConfig config(String network) throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(
                config,
                "\"/Runner\":\n  dataDir: /d\n  runtimeDir: /r\n  vm:\n    name: t\n"
                        + "    firmware: bios\n    network:\n"
                        + network);
        return ConfigLoader.load(config, Map.of("HOME", dir.toString()));
    }

    private BridgeCheck check(String acl) throws Exception {
        Path net = dir.resolve("net");
        Files.createDirectories(net.resolve("br-ok/bridge"));
        Files.createDirectories(net.resolve("eth0"));
        Path file = dir.resolve("bridge.conf");
        Files.writeString(file, acl);
        return new BridgeCheck(net, file);
    }

    @Test
    void missingBridgeNotABridgeAndNotAllowedAreNamedByKey() throws Exception {
        RunnerConfig c =
                config(
                        "      - type: user\n"
                                + "      - type: tap\n        bridge: br-ok\n"
                                + "      - type: tap\n        bridge: br-none\n"
                                + "      - type: tap\n        bridge: eth0\n"
                                + "      - type: tap\n");
        List<String> p = check("allow br-ok\n").problems(c, standard(c));
        assertEquals(3, p.size(), p.toString());
        assertTrue(p.get(0).startsWith("vm.network[2].bridge (br-none): no such bridge"), p.get(0));
        assertTrue(p.get(1).startsWith("vm.network[3].bridge (eth0): the interface exists but"));
        assertTrue(p.get(2).startsWith("vm.network[4].bridge (default br0): no such bridge"));
        RunnerConfig ok = config("      - type: tap\n        bridge: br-ok\n");
        List<String> denied = check("allow br-x\n").problems(ok, standard(ok));
        assertEquals(
                List.of(
                        "vm.network[0].bridge (br-ok): "
                                + dir.resolve("bridge.conf")
                                + " does not allow it, so QEMU's bridge helper refuses (add the"
                                + " line \"allow br-ok\")"),
                denied);
    }

    /** QEMU's arguments as the standard template renders the configuration's NICs. */
    private static List<String> standard(RunnerConfig config) {
        List<String> args = new java.util.ArrayList<>();
        for (var nic : config.vm().network()) {
            args.add("-netdev");
            args.add(
                    nic.type().equals("tap")
                            ? "bridge,id=n" + (nic.bridge() == null ? "" : ",br=" + nic.bridge())
                            : "user,id=n");
        }
        return args;
    }

    @Test
    void theRenderedArgumentsDecideNotTheConfiguration() throws Exception {
        RunnerConfig defaultTap = config("      - type: tap\n");
        BridgeCheck check = check("allow br-ok\n");
        assertEquals(List.of(), check.problems(defaultTap, List.of("-nographic")), "no NIC");
        assertEquals(
                List.of(),
                check.problems(defaultTap, List.of("-netdev", "user,id=n")),
                "a user NIC needs no bridge");
        List<String> helper =
                check.problems(
                        defaultTap,
                        List.of(
                                "-netdev",
                                "tap,id=n,helper=/usr/lib/qemu/qemu-bridge-helper --br=br-x"));
        assertEquals(1, helper.size(), helper.toString());
        assertTrue(
                helper.get(0).startsWith("the template's bridged NIC (br-x): no such bridge"),
                helper.get(0));
        assertEquals(
                List.of("br0", "br-y"),
                BridgeCheck.renderedBridges(
                        List.of(
                                "-nic",
                                "bridge",
                                "-netdev",
                                "bridge,id=a,br=br-y",
                                "-netdev",
                                "tap,id=b,ifname=tap0,script=no")));
    }

    @Test
    void aclRulesAsTheBridgeHelperReadsThem() throws Exception {
        Path acl = dir.resolve("acl");
        Files.writeString(acl, "# comment\nallow all\n");
        assertTrue(BridgeCheck.allowed("br1", acl, 0));
        Files.writeString(acl, "allow all\ndeny br1\n");
        assertFalse(BridgeCheck.allowed("br1", acl, 0));
        assertTrue(BridgeCheck.allowed("br2", acl, 0));
        Path inc = dir.resolve("inc");
        Files.writeString(inc, "allow br3\n");
        Files.writeString(acl, "include " + inc + "\n");
        assertTrue(BridgeCheck.allowed("br3", acl, 0));
        assertFalse(BridgeCheck.allowed("br4", acl, 0));
        assertFalse(BridgeCheck.allowed("br3", dir.resolve("absent"), 0), "no file, no access");
    }
}
