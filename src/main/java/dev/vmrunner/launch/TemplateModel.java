package dev.vmrunner.launch;

import dev.vmrunner.config.Display;
import dev.vmrunner.config.DisplayPassword;
import dev.vmrunner.config.Drive;
import dev.vmrunner.config.Network;
import dev.vmrunner.config.PortForward;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.config.Spice;
import dev.vmrunner.config.Vm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The data model handed to a template. The names are those of the upstream VM-Operator runner
 * ({@code vm}, {@code dataDir}, {@code runtimeDir}, {@code firmwareRom}, {@code firmwareVars},
 * {@code hasDisplayPassword}, {@code cloudInit}) so its templates render unchanged. Absent optional
 * values are left out of the maps, so templates can test them with {@code ??}. vmrunner adds {@code
 * cloudInitSources} and {@code cloudInitImage} (with {@code cloudInit}), and for an interface of
 * type {@code passt} {@code passtSocket}, {@code runAs} and each interface's {@code ports}: names
 * upstream templates do not use.
 */
public final class TemplateModel {

    private TemplateModel() {}

    /**
     * Builds the model.
     *
     * @param config the validated configuration
     * @param uuid the VM's uuid (configured or generated)
     * @param firmware the firmware code file and the VM's own vars file; null for BIOS
     */
    public static Map<String, Object> of(RunnerConfig config, String uuid, FirmwareFiles firmware) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("vm", vm(config.vm(), uuid));
        model.put("dataDir", config.dataDir().toString());
        model.put("runtimeDir", config.runtimeDir().toString());
        // as upstream's Configuration has them; the paths are the runner's contract
        model.put("monitorSocket", RuntimeFiles.monitor(config).toString());
        model.put("swtpmSocket", config.runtimeDir().resolve(RuntimeFiles.SWTPM).toString());
        if (hasPasst(config.vm())) {
            model.put("passtSocket", config.runtimeDir().resolve(RuntimeFiles.PASST).toString());
            model.put("runAs", RunAs.current());
        }
        if (firmware != null) {
            model.put("firmwareRom", firmware.code().toString());
            model.put("firmwareVars", firmware.vars().toString());
        }
        Display display = config.vm().display();
        // As upstream: a display-password file beside the configuration; or vmrunner's ticket.
        model.put(
                "hasDisplayPassword",
                display != null && display.spice() != null && display.spice().ticket() != null
                        || config.configFile() != null
                                && DisplayPassword.exists(config.configFile()));
        if (config.cloudInit() != null) {
            Map<String, Object> cloudInit = new LinkedHashMap<>();
            putIfSet(cloudInit, "metaData", config.cloudInit().metaData());
            putIfSet(cloudInit, "userData", config.cloudInit().userData());
            putIfSet(cloudInit, "networkConfig", config.cloudInit().networkConfig());
            model.put("cloudInit", cloudInit);
            // Additions of vmrunner: what the seed image is made from, and where it goes.
            model.put(
                    "cloudInitSources",
                    CloudInitSeed.sources(config).stream().map(Path::toString).toList());
            model.put("cloudInitImage", CloudInitSeed.image(config).toString());
        }
        return model;
    }

    /**
     * Whether the model asks for passt, i.e. has an interface of type {@code passt}: the template
     * must then define a {@code passt} process.
     */
    static boolean passtWanted(Map<String, Object> model) {
        return model.containsKey("passtSocket");
    }

    private static boolean hasPasst(Vm vm) {
        for (Network nic : vm.network()) {
            if (Network.PASST.equals(nic.type())) {
                return true;
            }
        }
        return false;
    }

    /** Where the VM's own copy of the UEFI variables lives. */
    public static Path firmwareVarsPath(RunnerConfig config) {
        return config.dataDir().resolve("fw-vars.fd");
    }

    private static Map<String, Object> vm(Vm vm, String uuid) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", vm.name());
        m.put("uuid", uuid);
        m.put("useTpm", vm.useTpm());
        m.put("firmware", vm.firmware().configName());
        m.put("bootMenu", vm.bootMenu());
        m.put("powerdownTimeout", vm.powerdownTimeout());
        m.put("maximumRam", vm.maximumRam());
        m.put("currentRam", vm.currentRam());
        m.put("cpuModel", vm.cpuModel());
        m.put("accelerator", vm.accelerator());
        m.put("maximumCpus", vm.maximumCpus());
        m.put("currentCpus", vm.currentCpus());
        // Upstream templates use both spellings of these two.
        m.put("sockets", vm.sockets());
        m.put("cpuSockets", vm.sockets());
        m.put("diesPerSocket", vm.diesPerSocket());
        m.put("coresPerSocket", vm.coresPerSocket());
        m.put("coresPerDie", vm.coresPerSocket());
        m.put("threadsPerCore", vm.threadsPerCore());
        m.put("rtcBase", vm.rtcBase());
        m.put("rtcClock", vm.rtcClock());
        List<Map<String, Object>> nics = new ArrayList<>();
        for (int i = 0; i < vm.network().size(); i++) {
            nics.add(network(vm.network().get(i), i, uuid));
        }
        m.put("network", nics);
        m.put("drives", vm.drives().stream().map(TemplateModel::drive).toList());
        // Upstream's defaults: a display with one output even when none is configured (its
        // template reads vm.display.outputs unconditionally).
        Map<String, Object> display = display(vm.display());
        m.put("display", display);
        putIfSet(m, "spice", display.get("spice"));
        return m;
    }

    /** A NIC without a configured {@code mac} gets one derived from the uuid and its index. */
    private static Map<String, Object> network(Network nic, int index, String uuid) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", nic.type());
        putIfSet(m, "bridge", nic.bridge());
        m.put("device", nic.device());
        m.put("mac", nic.mac() != null ? nic.mac() : MacAddresses.derive(uuid, index));
        putIfSet(m, "net", nic.net());
        List<Map<String, Object>> ports = new ArrayList<>(nic.ports().size());
        for (PortForward port : nic.ports()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("protocol", port.protocol());
            p.put("host", port.hostPort());
            p.put("guest", port.guestPort());
            ports.add(p);
        }
        m.put("ports", ports);
        return m;
    }

    private static Map<String, Object> drive(Drive drive) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", drive.type());
        putIfSet(m, "file", drive.file());
        putIfSet(m, "device", drive.device());
        putIfSet(m, "resource", drive.resource());
        putIfSet(m, "bootindex", drive.bootindex());
        return m;
    }

    private static Map<String, Object> display(Display display) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("outputs", display == null || display.outputs() == null ? 1 : display.outputs());
        Spice spice = display == null ? null : display.spice();
        if (spice != null) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("port", spice.port());
            putIfSet(s, "ticket", spice.ticket());
            if (spice.streamingVideo() != null) {
                s.put("streamingVideo", new StreamingVideoModel(spice.streamingVideo()));
            }
            s.put("usbRedirects", spice.usbRedirects());
            m.put("spice", s);
        }
        return m;
    }

    private static void putIfSet(Map<String, Object> map, String key, Object value) {
        if (value != null) {
            map.put(key, value);
        }
    }
}
