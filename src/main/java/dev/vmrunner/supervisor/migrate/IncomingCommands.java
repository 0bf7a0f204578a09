package dev.vmrunner.supervisor.migrate;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.ProcessSpec;
import dev.vmrunner.launch.TpmSetup;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The target's processes: what the template rendered, changed by the runner so that any template
 * works. QEMU gets {@code -incoming defer} (it waits for {@code migrate-incoming}); swtpm gets a
 * TPM state directory of its own, {@link #TPM_DIR} inside the one the template names, because swtpm
 * 0.7 locks its state directory for as long as the source's swtpm runs (only swtpm 0.8 can let go
 * of it for an incoming peer). The TPM's state arrives through QEMU's stream; when the target's run
 * ends, its state file replaces the one in the template's directory ({@link TpmHandover}). {@link
 * #of} is pure.
 */
public final class IncomingCommands {

    /** The target swtpm's state directory, inside the template's. */
    public static final String TPM_DIR = ".tpm-incoming";

    private IncomingCommands() {}

    /**
     * The commands to start: {@code commands} as rendered, or for a target runner ({@code
     * incoming}) changed as above, with the target's TPM directory made and its {@link Shape} left
     * for the source ({@link TargetFacts}).
     *
     * @throws LaunchException when the template does not start QEMU paused (the guest would run at
     *     once on arrival, before the source has let go) or a file cannot be written
     */
    public static Commands prepare(RunnerConfig config, Commands commands) throws LaunchException {
        if (config.migration().incoming() == null) {
            return commands;
        }
        if (!commands.qemuStartsPaused()) {
            throw new LaunchException(
                    "The template does not start QEMU paused (-S): a target of a migration"
                            + " (--incoming) needs it, or the guest would run before the source"
                            + " has let go of it");
        }
        Commands target = of(commands);
        try {
            Optional<Path> tpm = target.swtpm().flatMap(s -> tpmStateDir(commands.swtpm().get()));
            if (tpm.isPresent()) {
                TpmHandover.prepare(tpm.get());
            }
            TargetFacts.write(config);
        } catch (IOException e) {
            throw new LaunchException(
                    "Failed to prepare the target of the migration: " + e.getMessage(), e);
        }
        return target;
    }

    /** {@code commands} for a target runner. */
    static Commands of(Commands commands) {
        List<String> qemu = new ArrayList<>(commands.qemu().arguments());
        qemu.add("-incoming");
        qemu.add("defer");
        return new Commands(
                commands.swtpm().map(IncomingCommands::swtpm),
                commands.cloudInitImg(),
                with(commands.qemu(), qemu));
    }

    /** The state directory swtpm's {@code --tpmstate dir=DIR[,...]} names, if any. */
    public static Optional<Path> tpmStateDir(ProcessSpec swtpm) {
        List<String> args = swtpm.arguments();
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("--tpmstate") && args.get(i + 1).startsWith("dir=")) {
                String value = args.get(i + 1).substring(4);
                int comma = value.indexOf(',');
                return Optional.of(Path.of(comma < 0 ? value : value.substring(0, comma)));
            }
        }
        return Optional.empty();
    }

    /**
     * The state directory the template gave swtpm, from a target's swtpm command (whose directory
     * is {@link #TPM_DIR} inside it).
     */
    public static Optional<Path> templateStateDir(ProcessSpec targetSwtpm) {
        return tpmStateDir(targetSwtpm)
                .map(d -> d.getFileName().toString().equals(TPM_DIR) ? d.getParent() : d);
    }

    private static ProcessSpec swtpm(ProcessSpec swtpm) {
        List<String> args = new ArrayList<>(swtpm.arguments());
        Optional<Path> dir = tpmStateDir(swtpm);
        for (int i = 0; dir.isPresent() && i + 1 < args.size(); i++) {
            if (args.get(i).equals("--tpmstate")) {
                String rest = args.get(i + 1).substring(4 + dir.get().toString().length());
                args.set(i + 1, "dir=" + dir.get().resolve(TPM_DIR) + rest);
                break;
            }
        }
        return with(swtpm, args);
    }

    /** The state file swtpm keeps in {@code dir}. */
    static Path stateFile(Path dir) {
        return dir.resolve(TpmSetup.STATE_FILE);
    }

    private static ProcessSpec with(ProcessSpec spec, List<String> arguments) {
        return new ProcessSpec(spec.name(), spec.executable(), arguments, spec.environment());
    }
}
