package dev.vmrunner.launch;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.files.AtomicFiles;
import dev.vmrunner.files.Trees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Creates a VM's TPM state the way swtpm's own tools do ({@code swtpm_setup}, as libvirt runs it):
 * an endorsement key with its certificate, a platform certificate, NVRAM locked. It runs once, when
 * the data directory has no state yet; later starts reuse the state, so the guest keeps its
 * endorsement key and whatever it stored in the TPM.
 *
 * <p>The certificates are signed by a local CA that lives in the data directory ({@code
 * swtpm-localca/}), described by config files the runner writes there. This works for any user,
 * root or not, and keeps everything of the VM in one directory; the system-wide CA under {@code
 * /var/lib/swtpm-localca} is writable by root and the tss user only.
 */
public final class TpmSetup {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** The state file swtpm writes for a TPM 2.0 into its state directory. */
    public static final String STATE_FILE = "tpm2-00.permall";

    /** Name of the one-shot process, in the log and as pid file. */
    public static final String NAME = "swtpm_setup";

    static final String CA_DIR = "swtpm-localca";

    /**
     * swtpm_setup makes the state here, and it is moved into place only once it succeeded: a start
     * interrupted during setup leaves no half-made state that a later start would take as made.
     */
    static final String STAGING_DIR = ".tpm-setup";

    static final List<String> EXECUTABLES =
            List.of("/usr/bin/swtpm_setup", "/usr/local/bin/swtpm_setup");
    static final List<String> LOCALCA =
            List.of(
                    "/usr/bin/swtpm_localca",
                    "/usr/local/bin/swtpm_localca",
                    "/usr/share/swtpm/swtpm-localca");

    private final List<String> executables;
    private final List<String> localca;

    private TpmSetup(List<String> executables, List<String> localca) {
        this.executables = executables;
        this.localca = localca;
    }

    /** Uses the tools at their usual places. */
    public static TpmSetup standard() {
        return new TpmSetup(EXECUTABLES, LOCALCA);
    }

    /** Uses other candidate paths (tests). */
    static TpmSetup with(List<String> executables, List<String> localca) {
        return new TpmSetup(executables, localca);
    }

    /** Whether this VM wants a TPM that has no state yet. */
    public static boolean needed(RunnerConfig config) {
        return config.vm().useTpm() && !Files.exists(config.dataDir().resolve(STATE_FILE));
    }

    /** Checks that the tools are installed when they are needed; writes nothing. */
    public void check(RunnerConfig config) throws LaunchException {
        if (needed(config)) {
            find("swtpm_setup", executables);
            find("swtpm_localca", localca);
        }
    }

    /**
     * Writes the local CA's config files into the data directory when the state is still to be
     * made. The CA's key and certificates, once made, are kept.
     */
    public void prepare(RunnerConfig config) throws LaunchException {
        if (!needed(config)) {
            return;
        }
        Path localcaTool = find("swtpm_localca", localca);
        find("swtpm_setup", executables);
        Path dir = config.dataDir().resolve(CA_DIR).toAbsolutePath();
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectory(
                        dir,
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rwx------")));
            }
            write(
                    dir.resolve("swtpm_setup.conf"),
                    List.of(
                            "# Written by vmrunner: swtpm_setup uses the VM's own local CA.",
                            "create_certs_tool = " + value(localcaTool),
                            "create_certs_tool_config = "
                                    + value(dir.resolve("swtpm-localca.conf")),
                            "create_certs_tool_options = "
                                    + value(dir.resolve("swtpm-localca.options")),
                            "active_pcr_banks = sha256"));
            write(
                    dir.resolve("swtpm-localca.conf"),
                    List.of(
                            "# Written by vmrunner: the VM's local CA (made on first use).",
                            "statedir = " + value(dir),
                            "signingkey = " + value(dir.resolve("signkey.pem")),
                            "issuercert = " + value(dir.resolve("issuercert.pem")),
                            "certserial = " + value(dir.resolve("certserial"))));
            write(
                    dir.resolve("swtpm-localca.options"),
                    List.of(
                            "--platform-manufacturer vmrunner",
                            "--platform-version 2.1",
                            "--platform-model QEMU"));
        } catch (IOException e) {
            throw new LaunchException(
                    "Failed to write the TPM's CA configuration into "
                            + dir
                            + ": "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * The {@code swtpm_setup} command that creates the state, or empty when it exists.
     *
     * @param swtpm the swtpm process of the template: its executable does the work
     */
    public Optional<ProcessSpec> command(RunnerConfig config, ProcessSpec swtpm)
            throws LaunchException {
        if (!needed(config)) {
            return Optional.empty();
        }
        Path tool = find("swtpm_setup", executables);
        Path state = config.dataDir().toAbsolutePath();
        Path staging = state.resolve(STAGING_DIR);
        try {
            Trees.delete(staging);
            Files.createDirectory(
                    staging,
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new LaunchException(
                    "Failed to make the directory " + staging + " for the TPM state: " + e, e);
        }
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "--tpm2",
                                "--tpmstate",
                                staging.toString(),
                                "--config",
                                state.resolve(CA_DIR).resolve("swtpm_setup.conf").toString(),
                                "--create-ek-cert",
                                "--create-platform-cert",
                                "--lock-nvram",
                                // Never replace a state that appeared meanwhile (another runner, a
                                // restore).
                                "--not-overwrite"));
        String swtpmExe = swtpm.executable().toString();
        if (swtpmExe.indexOf(' ') < 0) {
            // swtpm_setup splits this value at spaces; else it finds "swtpm" in PATH.
            args.addAll(List.of("--tpm", swtpmExe + " socket"));
        }
        // Its temporary certificate files go to the private runtime directory, not /tmp.
        return Optional.of(
                new ProcessSpec(
                        NAME,
                        tool,
                        args,
                        Map.of("TMPDIR", config.runtimeDir().toAbsolutePath().toString())));
    }

    /** Moves the state swtpm_setup made into place; called once it exited with 0. */
    public static void commit(RunnerConfig config) throws LaunchException {
        Path state = config.dataDir().toAbsolutePath();
        Path staging = state.resolve(STAGING_DIR);
        try {
            Files.move(
                    staging.resolve(STATE_FILE),
                    state.resolve(STATE_FILE),
                    StandardCopyOption.ATOMIC_MOVE);
            Trees.delete(staging);
        } catch (IOException e) {
            throw new LaunchException(
                    "Failed to move the new TPM state from "
                            + staging
                            + " into "
                            + state
                            + ": "
                            + e,
                    e);
        }
    }

    /**
     * Removes what an unfinished setup made (a start that failed or was stopped during it): the
     * next start makes the state afresh. Nothing happens when the setup was committed.
     */
    public static void discardStaging(RunnerConfig config) {
        Path staging = config.dataDir().toAbsolutePath().resolve(STAGING_DIR);
        try {
            Trees.delete(staging);
        } catch (IOException e) {
            LOG.warning(() -> "Failed to remove the unfinished TPM state " + staging + ": " + e);
        }
    }

    private static Path find(String tool, List<String> candidates) throws LaunchException {
        for (String candidate : candidates) {
            Path path = Path.of(candidate);
            if (Files.isRegularFile(path) && Files.isExecutable(path)) {
                return path;
            }
        }
        throw new LaunchException(
                "Failed to find "
                        + tool
                        + ", needed to create the TPM state"
                        + " of a VM with vm.useTpm: none of "
                        + String.join(", ", candidates)
                        + " is installed (Debian/Ubuntu: apt-get install swtpm-tools; Fedora:"
                        + " swtpm-tools; Arch: swtpm)");
    }

    /** A path as a config-file value; the files are line based. */
    private static String value(Path path) throws IOException {
        String text = path.toString();
        if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
            throw new IOException("path contains a line break: " + text);
        }
        return text;
    }

    private static void write(Path file, List<String> lines) throws IOException {
        AtomicFiles.write(file, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
