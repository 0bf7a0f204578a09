package dev.vmrunner.config;

import java.util.ArrayList;
import java.util.List;

/** Reads and validates the {@code vm} section. */
final class VmReader {
    static final long DEFAULT_RAM = 1L << 30;
    static final int DEFAULT_POWERDOWN_TIMEOUT = 900;
    static final List<String> ACCELERATORS = List.of("kvm", "tcg", "none");
    static final List<String> RTC_CLOCKS = List.of("host", "rt", "vm");

    private VmReader() {}

    /** The VM, or {@code null} if the section has errors (they are in the section's problems). */
    static Vm read(Section vm) {
        Problems problems = vm.problems();
        String name = required(vm, "name", Check.NAME);
        String uuid = checked(vm, "uuid", Check.UUID);
        boolean useTpm = vm.bool("useTpm", false);
        Firmware firmware = firmware(vm);
        boolean bootMenu = vm.bool("bootMenu", false);
        int powerdownTimeout =
                vm.integer("powerdownTimeout", 0, Integer.MAX_VALUE, DEFAULT_POWERDOWN_TIMEOUT);
        long[] ram = ram(vm);
        String cpuModel = orDefault(checked(vm, "cpuModel", Check.CPU_MODEL), "host");
        String accelerator = choice(vm, "accelerator", ACCELERATORS, "kvm");
        int maximumCpus = vm.integer("maximumCpus", 1, Integer.MAX_VALUE, 1);
        int currentCpus = vm.integer("currentCpus", 1, Integer.MAX_VALUE, 1);
        // As upstream: more CPUs online than the limit raises the limit.
        maximumCpus = Math.max(maximumCpus, currentCpus);
        int sockets = topology(vm, "sockets", "cpuSockets");
        int diesPerSocket = topology(vm, "diesPerSocket");
        int coresPerSocket = topology(vm, "coresPerSocket", "coresPerDie");
        int threadsPerCore = topology(vm, "threadsPerCore");
        String rtcBase = orDefault(checked(vm, "rtcBase", Check.RTC_BASE), "utc");
        String rtcClock = choice(vm, "rtcClock", RTC_CLOCKS, "rt");
        List<Network> network = DeviceReader.networks(vm);
        List<Drive> drives = DeviceReader.drives(vm);
        Display display = DeviceReader.display(vm);
        String state = choice(vm, "state", List.of(Vm.RUNNING, Vm.STOPPED), Vm.RUNNING);
        vm.warnUnused();
        if (problems.hasErrors() || name == null) {
            return null;
        }
        return new Vm(
                name,
                uuid,
                useTpm,
                firmware,
                bootMenu,
                powerdownTimeout,
                ram[0],
                ram[1],
                cpuModel,
                accelerator,
                maximumCpus,
                currentCpus,
                sockets,
                diesPerSocket,
                coresPerSocket,
                threadsPerCore,
                rtcBase,
                rtcClock,
                network,
                drives,
                display,
                state);
    }

    private static Firmware firmware(Section vm) {
        List<String> names = new ArrayList<>();
        for (Firmware firmware : Firmware.values()) {
            names.add(firmware.configName());
        }
        return Firmware.of(choice(vm, "firmware", names, Firmware.UEFI.configName()))
                .orElse(Firmware.UEFI);
    }

    /** Maximum and current RAM in bytes. */
    private static long[] ram(Section vm) {
        boolean maximumGiven = vm.value("maximumRam") != null;
        Long maximum = vm.size("maximumRam");
        Long current = vm.size("currentRam");
        long max = maximum != null ? maximum : DEFAULT_RAM;
        boolean maximumValid = maximum != null || !maximumGiven;
        if (current != null && maximumValid && current > max) {
            vm.problems()
                    .error(
                            vm.value("currentRam"),
                            vm.pathOf("currentRam"),
                            // In the units the user wrote: 2GB, not 1953125K.
                            Nodes.text(vm.value("currentRam")).strip()
                                    + " is larger than "
                                    + vm.pathOf("maximumRam")
                                    + " ("
                                    + (maximumGiven
                                            ? Nodes.text(vm.value("maximumRam")).strip()
                                            : Sizes.format(max))
                                    + (maximumGiven ? "" : ", the default")
                                    + ")");
        }
        return new long[] {max, current != null ? current : max};
    }

    private static int topology(Section vm, String... names) {
        return vm.integer(vm.alias(names), 0, Integer.MAX_VALUE, 0);
    }

    /** A required string, checked; reports a missing value. */
    static String required(Section section, String key, Check check) {
        if (section.value(key) == null) {
            section.problems()
                    .error(section.keyNode(key), section.pathOf(key), "missing (required)");
            return null;
        }
        return checked(section, key, check);
    }

    /** An optional string, checked with {@code check} (which returns what is wrong, or null). */
    static String checked(Section section, String key, Check check) {
        String value = section.string(key);
        if (value == null) {
            return null;
        }
        String problem = check.apply(value);
        if (problem != null) {
            section.problems().error(section.value(key), section.pathOf(key), problem);
            return null;
        }
        return value;
    }

    /** One of {@code allowed} (exact spelling), or the default if absent. */
    static String choice(Section section, String key, List<String> allowed, String defaultValue) {
        String value = section.string(key);
        if (value == null) {
            return defaultValue;
        }
        if (!allowed.contains(value)) {
            section.problems()
                    .error(
                            section.value(key),
                            section.pathOf(key),
                            "'"
                                    + value
                                    + "' is not allowed (allowed: "
                                    + String.join(", ", allowed)
                                    + ")");
            return defaultValue;
        }
        return value;
    }

    static String orDefault(String value, String defaultValue) {
        return value != null ? value : defaultValue;
    }
}
