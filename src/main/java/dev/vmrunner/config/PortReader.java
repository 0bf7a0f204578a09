package dev.vmrunner.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads {@code vm.network[].ports}: entries such as {@code 22}, {@code "8080:80"} and {@code
 * "5353:53/udp"} (host port, guest port, protocol; TCP unless {@code /udp}). Each host port and
 * protocol may be forwarded once.
 */
final class PortReader {
    /** A bound far above any use; each entry is an argument of passt or QEMU. */
    static final int MAX_PORTS = 256;

    private static final Pattern SPEC =
            Pattern.compile("(?:([0-9]{1,5}):)?([0-9]{1,5})(?:/(tcp|udp))?");

    private PortReader() {}

    static List<PortForward> ports(Section item) {
        List<Node> nodes = item.list("ports");
        List<PortForward> result = new ArrayList<>();
        if (nodes == null) {
            return result;
        }
        String path = item.pathOf("ports");
        if (nodes.size() > MAX_PORTS) {
            item.problems().error(item.value("ports"), path, "more than " + MAX_PORTS + " entries");
            return result;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            String at = path + "[" + i + "]";
            PortForward port = port(node, at, item.problems());
            if (port == null) {
                continue;
            }
            if (!seen.add(port.protocol() + port.hostPort())) {
                item.problems()
                        .error(
                                node,
                                at,
                                port.protocol()
                                        + " port "
                                        + port.hostPort()
                                        + " is forwarded twice");
                continue;
            }
            result.add(port);
        }
        return List.copyOf(result);
    }

    private static PortForward port(Node node, String at, Problems problems) {
        String text = Nodes.isNull(node) ? null : Nodes.text(node);
        Matcher m = text == null ? null : SPEC.matcher(text.strip());
        if (m == null || !m.matches()) {
            problems.error(
                    node,
                    at,
                    "expected a port such as 22, \"8080:80\" or \"53/udp\" (host:guest/protocol),"
                            + " got "
                            + (text == null ? Nodes.describe(node) : "'" + text + "'"));
            return null;
        }
        int guest = Integer.parseInt(m.group(2));
        int host = m.group(1) == null ? guest : Integer.parseInt(m.group(1));
        if (host < 1 || host > 65535 || guest < 1 || guest > 65535) {
            problems.error(node, at, "a port is from 1 to 65535, got '" + text + "'");
            return null;
        }
        String protocol = m.group(3) == null ? PortForward.TCP : m.group(3);
        return new PortForward(protocol, host, guest);
    }
}
