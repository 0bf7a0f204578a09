package dev.vmrunner.config;

import java.util.List;
import java.util.Objects;

/**
 * The {@code vm} section with every default filled in.
 *
 * <p>{@code maximumCpus} is already raised to {@code currentCpus} where needed; {@code maximumRam}
 * and {@code currentRam} are in bytes; topology values of 0 mean "not given". {@code uuid} is
 * {@code null} unless configured (see {@link Uuids#ensure}).
 */
public record Vm(
        String name,
        String uuid,
        boolean useTpm,
        Firmware firmware,
        boolean bootMenu,
        int powerdownTimeout,
        long maximumRam,
        long currentRam,
        String cpuModel,
        String accelerator,
        int maximumCpus,
        int currentCpus,
        int sockets,
        int diesPerSocket,
        int coresPerSocket,
        int threadsPerCore,
        String rtcBase,
        String rtcClock,
        List<Network> network,
        List<Drive> drives,
        Display display,
        String state) {

    /** {@code vm.state} of a VM that is to run (upstream's value; the default). */
    public static final String RUNNING = "Running";

    /** {@code vm.state} of a VM that is to be powered off, its runner staying up. */
    public static final String STOPPED = "Stopped";

    public Vm {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(firmware, "firmware");
        Objects.requireNonNull(state, "state");
        network = List.copyOf(network);
        drives = List.copyOf(drives);
    }

    /** Whether {@code vm.state} asks for the VM to run. */
    public boolean meantToRun() {
        return !STOPPED.equals(state);
    }
}
