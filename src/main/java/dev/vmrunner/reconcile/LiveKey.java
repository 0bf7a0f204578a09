package dev.vmrunner.reconcile;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration keys a running VM takes without a restart (the specification's "Runtime
 * changes"). Every other key's change waits for the next start.
 */
public enum LiveKey {
    /** {@code vm.currentRam}: the balloon target. */
    CURRENT_RAM("vm.currentRam"),
    /** {@code vm.currentCpus}: vCPU hot-plug and unplug. */
    CURRENT_CPUS("vm.currentCpus"),
    /** {@code vm.drives[N].file} of a drive that stays a CD: the medium. */
    CD_MEDIUM("vm.drives[N].file"),
    /** {@code vm.powerdownTimeout}: also for a powerdown under way. */
    POWERDOWN_TIMEOUT("vm.powerdownTimeout"),
    /** {@code resetCounter}: an increase resets the VM. */
    RESET_COUNTER("resetCounter"),
    /** {@code guestShutdownStops}: read when the guest powers off. */
    GUEST_SHUTDOWN_STOPS("guestShutdownStops"),
    /** {@code vm.state}: {@code Stopped} powers the VM down (the runner stays), {@code Running}. */
    VM_STATE("vm.state");

    private static final Pattern DRIVE_FILE = Pattern.compile("vm\\.drives\\[(\\d+)]\\.file");

    private final String path;

    LiveKey(String path) {
        this.path = path;
    }

    /**
     * Whether {@link Reconciler#diff} covers the key: its change is made by comparing the
     * configuration with what QEMU reports. The others act on the change itself.
     */
    public boolean reconciled() {
        return this == CURRENT_RAM || this == CURRENT_CPUS || this == CD_MEDIUM;
    }

    /** Whether a change of the key still matters while the VM is being stopped or is stopped. */
    public boolean alsoWhileStopping() {
        return this == POWERDOWN_TIMEOUT || this == GUEST_SHUTDOWN_STOPS || this == VM_STATE;
    }

    /** The key as the configuration spells it; not for {@link #CD_MEDIUM}, which has a drive. */
    public String path() {
        if (this == CD_MEDIUM) {
            throw new IllegalStateException("a CD medium's key names its drive: use path(int)");
        }
        return path;
    }

    /** The key of the medium of the drive at {@code position} in {@code vm.drives}. */
    public static String cdMedium(int position) {
        return "vm.drives[" + position + "].file";
    }

    /**
     * The live key {@code path} spells, if it is one. A drive's file matches {@link #CD_MEDIUM}
     * whether or not the drive is a CD: the caller knows.
     */
    public static Optional<LiveKey> of(String path) {
        for (LiveKey key : values()) {
            if (key != CD_MEDIUM && key.path.equals(path)) {
                return Optional.of(key);
            }
        }
        return DRIVE_FILE.matcher(path).matches() ? Optional.of(CD_MEDIUM) : Optional.empty();
    }

    /** The drive position in a {@link #CD_MEDIUM} key, as {@link #cdMedium} wrote it. */
    static int drivePosition(String path) {
        Matcher m = DRIVE_FILE.matcher(path);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a drive's file: " + path);
        }
        return Integer.parseInt(m.group(1));
    }
}
