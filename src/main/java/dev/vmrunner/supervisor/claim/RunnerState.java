package dev.vmrunner.supervisor.claim;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.files.AtomicFiles;
import dev.vmrunner.files.IoFailure;
import dev.vmrunner.qmp.VcpuSlot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * What a runner knows that QEMU cannot be asked, kept in the runtime directory so that a runner
 * started after this one died can adopt the running QEMU: the configuration QEMU was started with
 * (what needs a restart is measured against it), the configuration last applied (live changes are
 * diffed against it and QEMU's own report), and the vCPU slots an unplug emptied (QEMU 7.2 aborts
 * when one is plugged again). Written atomically after every change of it.
 *
 * <p>What is not kept because QEMU reports it: RAM, vCPUs present, media and tray locks; a CD
 * change waiting for the guest follows again from the configuration and QEMU's locked tray.
 *
 * <p>A slot is written as an object of the topology parts QEMU listed ({@code {"socket-id": 1,
 * "core-id": 0, "thread-id": 0}}). Runners up to 0.1.0 wrote each slot as a string holding all of
 * QEMU's {@code props} as JSON text; that form is still read, so a runner upgraded while QEMU runs
 * adopts it knowing the emptied slots.
 *
 * @param startedConfig the configuration file's content at QEMU's start
 * @param appliedConfig the content last applied live (equal to the above until a change)
 *     <p>A stop in flight is kept too ({@code stopAskedAt}, {@code stopDeadline}, wall-clock epoch
 *     milliseconds, since the runner that goes on with it is another process): a runner that adopts
 *     a VM being stopped keeps the original deadline. A file without them (a runner up to 0.1.0, or
 *     no stop asked) means no stop in flight.
 * @param emptiedSlots vCPU slots emptied by an unplug
 * @param stopping the powerdown in flight, null when no stop was asked
 */
public record RunnerState(
        String startedConfig, String appliedConfig, Set<VcpuSlot> emptiedSlots, Stopping stopping) {

    static final String FILE = RuntimeFiles.STATE;
    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** Two configurations of at most 1 MiB each, and the slots, with room to spare. */
    private static final long MAX_BYTES = 4L << 20;

    /**
     * A powerdown in flight, in wall-clock epoch milliseconds.
     *
     * @param askedAt when the stop was asked
     * @param deadline when QEMU is terminated if the guest has not powered off
     */
    public record Stopping(long askedAt, long deadline) {

        /** A stop asked at {@code now} with {@code timeout} to wait. */
        public static Stopping asked(long now, Duration timeout) {
            return new Stopping(now, now + timeout.toMillis());
        }

        /** The same stop with another wait, still measured from when it was asked. */
        public Stopping withTimeout(Duration timeout) {
            return asked(askedAt, timeout);
        }

        /** The whole wait, from the request to the deadline. */
        public Duration timeout() {
            return Duration.ofMillis(Math.max(0, deadline - askedAt));
        }

        /** How long ago at {@code now} the stop was asked; zero for a clock set back since. */
        public Duration elapsed(long now) {
            return Duration.ofMillis(Math.max(0, now - askedAt));
        }
    }

    public RunnerState {
        emptiedSlots = Set.copyOf(emptiedSlots);
    }

    /** The state of a VM that no stop was asked of. */
    public RunnerState(String startedConfig, String appliedConfig, Set<VcpuSlot> emptiedSlots) {
        this(startedConfig, appliedConfig, emptiedSlots, null);
    }

    public RunnerState withApplied(String config) {
        return new RunnerState(startedConfig, config, emptiedSlots, stopping);
    }

    public RunnerState withEmptied(Set<VcpuSlot> slots) {
        return new RunnerState(startedConfig, appliedConfig, slots, stopping);
    }

    public RunnerState withStopping(Stopping stop) {
        return new RunnerState(startedConfig, appliedConfig, emptiedSlots, stop);
    }

    public void write(Path runtimeDir) {
        JsonObject o = new JsonObject();
        o.addProperty("startedConfig", startedConfig);
        o.addProperty("appliedConfig", appliedConfig);
        JsonArray slots = new JsonArray();
        emptiedSlots.forEach(slot -> slots.add(slot.toJson()));
        o.add("emptiedSlots", slots);
        if (stopping != null) {
            o.addProperty("stopAskedAt", stopping.askedAt());
            o.addProperty("stopDeadline", stopping.deadline());
        }
        try {
            AtomicFiles.replaceQuickly(
                    runtimeDir.resolve(FILE), o.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.warning(
                    () ->
                            IoFailure.message("write", runtimeDir.resolve(FILE), e)
                                    + "; a runner started after this one could not adopt QEMU"
                                    + " with all it knows");
        }
    }

    /** The state a runner left in the runtime directory, if it is there and readable. */
    static Optional<RunnerState> read(Path runtimeDir) {
        Path file = runtimeDir.resolve(FILE);
        try {
            if (!Files.isRegularFile(file) || Files.size(file) > MAX_BYTES) {
                return Optional.empty();
            }
            JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            Set<VcpuSlot> slots = new LinkedHashSet<>();
            o.getAsJsonArray("emptiedSlots").forEach(e -> slots.add(slot(e)));
            return Optional.of(
                    new RunnerState(
                            o.get("startedConfig").getAsString(),
                            o.get("appliedConfig").getAsString(),
                            slots,
                            o.has("stopDeadline")
                                    ? new Stopping(
                                            o.get("stopAskedAt").getAsLong(),
                                            o.get("stopDeadline").getAsLong())
                                    : null));
        } catch (IOException | RuntimeException e) {
            LOG.warning(() -> "Ignoring " + file + ", it cannot be read: " + e);
            return Optional.empty();
        }
    }

    /** A slot in either form: an object, or (an earlier runner's) a string of JSON text. */
    private static VcpuSlot slot(JsonElement element) {
        JsonObject props =
                element.isJsonPrimitive()
                        ? JsonParser.parseString(element.getAsString()).getAsJsonObject()
                        : element.getAsJsonObject();
        return VcpuSlot.of(props);
    }
}
