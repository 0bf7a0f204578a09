package dev.vmrunner.launch;

import dev.vmrunner.config.Network;
import dev.vmrunner.config.RunnerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether QEMU's bridge helper will attach each tap NIC: its bridge must exist on this host (in
 * this network namespace) and {@code /etc/qemu/bridge.conf} must allow it. Without this check QEMU
 * fails after the start with "bridge helper failed" or "access denied by acl file", which names
 * neither the key nor the fix.
 */
public final class BridgeCheck {
    /** qemu-bridge-helper's bridge when {@code br=} is not given. */
    static final String DEFAULT_BRIDGE = "br0";

    private final Path sysClassNet;
    private final Path aclFile;

    BridgeCheck(Path sysClassNet, Path aclFile) {
        this.sysClassNet = sysClassNet;
        this.aclFile = aclFile;
    }

    public static BridgeCheck host() {
        return new BridgeCheck(Path.of("/sys/class/net"), Path.of("/etc/qemu/bridge.conf"));
    }

    /**
     * One message per bridge that QEMU's rendered arguments attach to and that will not attach;
     * empty when all will. The arguments decide, not the configuration: a template that renders no
     * bridged NIC needs no bridge (the configuration's default network is a tap on br0).
     */
    public List<String> problems(RunnerConfig config, List<String> qemuArguments) {
        List<String> problems = new ArrayList<>();
        for (String bridge : renderedBridges(qemuArguments)) {
            String key = keyOf(config.vm().network(), bridge);
            if (!Files.isDirectory(sysClassNet.resolve(bridge).resolve("bridge"))) {
                problems.add(
                        key
                                + ": "
                                + (Files.exists(sysClassNet.resolve(bridge))
                                        ? "the interface exists but is not a bridge"
                                        : "no such bridge on this host")
                                + " (create it, e.g. ip link add "
                                + bridge
                                + " type bridge, or name an existing one)");
            } else if (!allowed(bridge, aclFile, 0)) {
                problems.add(
                        key
                                + ": "
                                + aclFile
                                + " does not allow it, so QEMU's bridge helper refuses"
                                + " (add the line \"allow "
                                + bridge
                                + "\")");
            }
        }
        return problems;
    }

    /** The configuration key that asks for {@code bridge}, else the template's argument. */
    private static String keyOf(List<Network> nics, String bridge) {
        for (int i = 0; i < nics.size(); i++) {
            Network nic = nics.get(i);
            String asked = nic.bridge() == null ? DEFAULT_BRIDGE : nic.bridge();
            if (Network.TAP.equals(nic.type()) && asked.equals(bridge)) {
                return "vm.network["
                        + i
                        + "].bridge"
                        + (nic.bridge() == null ? " (default " : " (")
                        + bridge
                        + ")";
            }
        }
        return "the template's bridged NIC (" + bridge + ")";
    }

    /**
     * The bridges of {@code -netdev}/{@code -nic} of type {@code bridge}, or {@code tap} with
     * QEMU's bridge helper, in order: {@code br=} or the helper's {@code --br=}, else br0.
     */
    static List<String> renderedBridges(List<String> arguments) {
        Set<String> bridges = new LinkedHashSet<>();
        for (int i = 0; i + 1 < arguments.size(); i++) {
            String option = arguments.get(i);
            if (!option.equals("-netdev") && !option.equals("-nic")) {
                continue;
            }
            String[] parts = arguments.get(i + 1).split(",");
            String bridge = null;
            boolean helper = false;
            for (String part : parts) {
                if (part.startsWith("br=")) {
                    bridge = part.substring(3);
                } else if (part.startsWith("helper=")) {
                    helper = true;
                    int br = part.indexOf("--br=");
                    if (br >= 0) {
                        bridge = part.substring(br + 5).split("\\s")[0];
                    }
                }
            }
            if (parts[0].equals("bridge") || (parts[0].equals("tap") && helper)) {
                bridges.add(bridge == null || bridge.isEmpty() ? DEFAULT_BRIDGE : bridge);
            }
        }
        return List.copyOf(bridges);
    }

    /**
     * qemu-bridge-helper's rule: allowed if some {@code allow NAME}/{@code allow all} matches and
     * no {@code deny NAME}/{@code deny all} does; {@code include FILE} reads another file. An
     * unreadable file counts as allowing (the helper runs as root and may read what we cannot).
     */
    static boolean allowed(String bridge, Path file, int depth) {
        return verdict(bridge, file, depth) > 0;
    }

    /** 1 allowed, 0 not mentioned, -1 denied. */
    private static int verdict(String bridge, Path file, int depth) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            return depth == 0 && !Files.exists(file) ? 0 : 1;
        }
        boolean allow = false;
        boolean deny = false;
        for (String line : lines) {
            String[] words = line.strip().split("\\s+");
            if (words.length < 2 || words[0].startsWith("#")) {
                continue;
            }
            boolean matches = words[1].equals("all") || words[1].equals(bridge);
            switch (words[0]) {
                case "allow" -> allow |= matches;
                case "deny" -> deny |= matches;
                case "include" -> {
                    if (depth < 8) {
                        int v = verdict(bridge, Path.of(words[1]), depth + 1);
                        allow |= v > 0;
                        deny |= v < 0;
                    }
                }
                default -> {}
            }
        }
        return deny ? -1 : allow ? 1 : 0;
    }
}
