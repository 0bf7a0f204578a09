package dev.vmrunner.supervisor.migrate;

import dev.vmrunner.files.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.logging.Logger;

/**
 * The target swtpm's own state directory ({@link IncomingCommands#TPM_DIR}): made empty before the
 * target's swtpm starts, and after the run, once swtpm has ended, its state file moved over the one
 * in the template's directory (a rename on the same file system: the next start finds one whole
 * file, old or new). A target that never received the guest leaves the old state as it was.
 */
public final class TpmHandover {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private TpmHandover() {}

    /** Before the target's swtpm starts: its directory, empty. */
    public static void prepare(Path stateDir) throws IOException {
        Path dir = stateDir.resolve(IncomingCommands.TPM_DIR);
        if (Files.exists(dir)) {
            Trees.delete(dir);
        }
        Files.createDirectory(dir);
    }

    /**
     * After the run: when the guest ran here ({@code received}), the target's TPM state becomes the
     * VM's; either way the target's directory goes.
     */
    public static void finish(Path stateDir, boolean received) {
        Path dir = stateDir.resolve(IncomingCommands.TPM_DIR);
        try {
            Path state = IncomingCommands.stateFile(dir);
            if (received && Files.exists(state)) {
                Files.move(
                        state,
                        IncomingCommands.stateFile(stateDir),
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                LOG.info(() -> "The TPM state of this run is now in " + stateDir);
            }
            if (Files.exists(dir)) {
                Trees.delete(dir);
            }
        } catch (IOException e) {
            LOG.severe(
                    () ->
                            "Failed to move the TPM state from "
                                    + dir
                                    + " to "
                                    + stateDir
                                    + ": "
                                    + e.getMessage()
                                    + "; move "
                                    + IncomingCommands.stateFile(dir)
                                    + " there before the next start");
        }
    }
}
