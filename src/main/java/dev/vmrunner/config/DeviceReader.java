package dev.vmrunner.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.nodes.Node;

/** Reads {@code vm.network}, {@code vm.drives} and {@code vm.display}. */
final class DeviceReader {
    static final List<String> NETWORK_TYPES = List.of(Network.TAP, Network.USER, Network.PASST);
    static final List<String> DRIVE_TYPES = List.of(Drive.IDE_CD, Drive.RAW);

    /** virtio-gpu supports at most 16 scanouts (VIRTIO_GPU_MAX_SCANOUTS). */
    static final int MAX_OUTPUTS = 16;

    private DeviceReader() {}

    /**
     * The interfaces. Without a {@code network} key the VM gets one tap interface on the default
     * bridge; an empty list, or the key without a value (as the upstream operator writes it for a
     * VM without networks), means no interfaces.
     */
    static List<Network> networks(Section vm) {
        if (!vm.has("network")) {
            return List.of(Network.defaultTap());
        }
        List<Network> result = new ArrayList<>();
        boolean passt = false;
        List<Node> items = vm.list("network");
        for (int i = 0; items != null && i < items.size(); i++) {
            Section item = item(vm, "network", i, items.get(i));
            if (item != null) {
                Network network = network(item);
                if (Network.PASST.equals(network.type()) && passt) {
                    // One passt process serves one interface, and its socket has one name.
                    vm.problems()
                            .error(
                                    item.keyNode("type"),
                                    item.pathOf("type"),
                                    "only one interface can be of type passt");
                }
                passt |= Network.PASST.equals(network.type());
                result.add(network);
            }
        }
        return result;
    }

    private static Network network(Section item) {
        String type = VmReader.choice(item, "type", NETWORK_TYPES, Network.TAP);
        String device =
                VmReader.orDefault(
                        VmReader.checked(item, "device", Check.DEVICE), Network.DEFAULT_DEVICE);
        String mac = VmReader.checked(item, "mac", Check.MAC);
        String bridge = onlyFor(item, "bridge", Network.TAP, type, Check.BRIDGE);
        String net = onlyFor(item, "net", Network.USER, type, Check.CIDR);
        List<PortForward> ports = List.of();
        if (Network.TAP.equals(type)) {
            onlyFor(item, "ports", Network.USER + " or " + Network.PASST, type, null);
        } else {
            ports = PortReader.ports(item);
        }
        item.warnUnused();
        return new Network(type, bridge, device, mac, net, ports);
    }

    /** A key that applies to one type only; given for another type it is ignored with a warning. */
    private static String onlyFor(
            Section item, String key, String forType, String type, Check check) {
        if (forType.equals(type)) {
            return VmReader.checked(item, key, check);
        }
        if (item.value(key) != null) {
            item.problems()
                    .warning(
                            item.keyNode(key),
                            item.pathOf(key),
                            "applies to type " + forType + " only, ignored");
        }
        return null;
    }

    /**
     * The drives. {@code type} defaults to {@code raw} (as in the upstream template). A raw drive's
     * {@code resource} is resolved here: a regular file becomes {@code file}, anything else (a
     * block device, or a path that does not exist yet) {@code device}. Relative paths are left as
     * they are; QEMU resolves them against its working directory.
     */
    static List<Drive> drives(Section vm) {
        List<Drive> result = new ArrayList<>();
        List<Node> items = vm.list("drives");
        for (int i = 0; items != null && i < items.size(); i++) {
            Section item = item(vm, "drives", i, items.get(i));
            if (item != null) {
                Drive drive = drive(item);
                if (drive != null) {
                    result.add(drive);
                }
            }
        }
        return result;
    }

    private static Drive drive(Section item) {
        String type = VmReader.choice(item, "type", DRIVE_TYPES, Drive.RAW);
        Long bootindex = item.integer("bootindex", 0, Integer.MAX_VALUE);
        Integer index = bootindex == null ? null : bootindex.intValue();
        Drive drive = Drive.IDE_CD.equals(type) ? cd(item, index) : raw(item, index);
        item.warnUnused();
        return drive;
    }

    private static Drive cd(Section item, Integer bootindex) {
        for (String key : List.of("device", "resource")) {
            if (item.value(key) != null) {
                item.problems()
                        .error(
                                item.keyNode(key),
                                item.pathOf(key),
                                "not supported for type ide-cd (use file)");
            }
        }
        // An empty file name is an empty drive, as the upstream operator writes it.
        String file = item.string("file");
        if (file != null && !file.isEmpty()) {
            file = VmReader.checked(item, "file", Check.PATH);
        } else {
            file = null;
        }
        String lockedTray =
                VmReader.choice(
                        item, "lockedTray", List.of(Drive.WAIT, Drive.EJECT_REQUEST), Drive.WAIT);
        return new Drive(Drive.IDE_CD, file, null, null, bootindex, lockedTray);
    }

    private static Drive raw(Section item, Integer bootindex) {
        String file = VmReader.checked(item, "file", Check.PATH);
        String device = VmReader.checked(item, "device", Check.PATH);
        String resource = VmReader.checked(item, "resource", Check.PATH);
        int given = 0;
        for (String key : List.of("file", "device", "resource")) {
            given += item.value(key) != null ? 1 : 0;
        }
        if (given != 1) {
            item.problems()
                    .error(
                            item.line(),
                            item.path(),
                            "a raw drive needs exactly one of"
                                    + " file, device or resource"
                                    + (given == 0 ? "" : ", got " + given));
            return null;
        }
        if (resource != null) {
            if (Files.isRegularFile(Path.of(resource))) {
                file = resource;
            } else {
                device = resource;
            }
        }
        if (file == null && device == null) {
            return null; // the one given was invalid and has been reported
        }
        return new Drive(Drive.RAW, file, device, resource, bootindex);
    }

    /**
     * The display. The upstream runner's older layout had {@code spice} directly in {@code vm}; it
     * is accepted as {@code vm.display.spice}.
     */
    static Display display(Section vm) {
        Section display = vm.section("display");
        Section legacySpice = vm.section("spice");
        Integer outputs = null;
        Section spice = legacySpice;
        if (display != null) {
            Long value = display.integer("outputs", 1, MAX_OUTPUTS);
            outputs = value == null ? null : value.intValue();
            display.string("loggedInUser"); // upstream: for its console; not used by vmrunner
            Section nested = display.section("spice");
            if (nested != null && legacySpice != null) {
                vm.problems()
                        .error(
                                vm.keyNode("spice"),
                                vm.pathOf("spice"),
                                "give either vm.spice or vm.display.spice, not both");
            }
            spice = nested != null ? nested : legacySpice;
            display.warnUnused();
        }
        if (display == null && spice == null) {
            return null;
        }
        return new Display(outputs, spice == null ? null : spice(spice));
    }

    private static Spice spice(Section spice) {
        int port = spice.integer("port", 1, 65535, Spice.DEFAULT_PORT);
        String ticket = VmReader.checked(spice, "ticket", Check.PATH);
        String streamingVideo =
                streamingVideo(spice, spice.alias("streamingVideo", "streaming-video"));
        int usbRedirects =
                spice.integer("usbRedirects", 0, Integer.MAX_VALUE, Spice.DEFAULT_USB_REDIRECTS);
        spice.warnUnused();
        return new Spice(port, ticket, streamingVideo, usbRedirects);
    }

    /**
     * QEMU's {@code streaming-video} values as the upstream operator writes them ({@code off},
     * {@code all}, {@code filter}), or {@code true} ({@code all}) / {@code false} ({@code off});
     * null when not configured.
     */
    private static String streamingVideo(Section spice, String key) {
        Node value = spice.value(key);
        if (value == null) {
            return null;
        }
        String text = Nodes.text(value);
        switch (text == null ? "" : text) {
            case "off":
            case "all":
            case "filter":
                return text;
            default:
                return spice.bool(key, false) ? "all" : "off";
        }
    }

    private static Section item(Section parent, String key, int index, Node node) {
        String path = parent.pathOf(key).concat("[").concat(Integer.toString(index)).concat("]");
        if (Nodes.isNull(node)) {
            parent.problems().error(node, path, "empty entry");
            return null;
        }
        return Section.of(node, path, parent.problems());
    }
}
