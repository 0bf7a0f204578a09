package dev.vmrunner.config;

import java.util.Set;

/**
 * Where each key of the two main sections belongs, for the hint on a key given in the other one
 * ({@code vm.template}: {@code template} belongs directly below {@code /Runner}).
 */
final class KeyHomes {
    /** The keys of the runner section (directly below {@code /Runner}). */
    static final Set<String> RUNNER =
            Set.of(
                    "dataDir",
                    "runtimeDir",
                    "template",
                    "updateTemplate",
                    "guestShutdownStops",
                    "resetCounter",
                    "cloudInit",
                    "http");

    /** The keys of {@code vm}. */
    static final Set<String> VM =
            Set.of(
                    "name",
                    "state",
                    "uuid",
                    "useTpm",
                    "firmware",
                    "bootMenu",
                    "powerdownTimeout",
                    "maximumRam",
                    "currentRam",
                    "cpuModel",
                    "accelerator",
                    "maximumCpus",
                    "currentCpus",
                    "sockets",
                    "cpuSockets",
                    "diesPerSocket",
                    "coresPerSocket",
                    "coresPerDie",
                    "threadsPerCore",
                    "rtcBase",
                    "rtcClock",
                    "network",
                    "drives",
                    "display",
                    "spice");

    private KeyHomes() {}

    /**
     * Where {@code key}, found unknown in the section at {@code path}, belongs; {@code null} when
     * it belongs to neither of the two sections.
     */
    static String elsewhere(String path, String key) {
        if (path.equals("vm") && RUNNER.contains(key)) {
            return "directly below /Runner (" + key + ", not vm." + key + ")";
        }
        if (path.isEmpty() && VM.contains(key)) {
            return "in the vm section (vm." + key + ")";
        }
        return null;
    }
}
