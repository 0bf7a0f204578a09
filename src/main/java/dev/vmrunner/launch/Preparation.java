package dev.vmrunner.launch;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.DisplayPassword;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.Uuids;
import dev.vmrunner.files.AtomicFiles;
import dev.vmrunner.files.IoFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * From a validated configuration to the commands of the VM's processes. {@link #forRun} also
 * creates what a start needs in the data directory (uuid, NVRAM, the TPM's CA configuration,
 * cloud-init sources, saved template); {@link #dryRun} writes nothing.
 */
public final class Preparation {

    /** The uuid shown by a dry run of a VM that has not started yet. */
    private static final Logger LOG = Logger.getLogger(Preparation.class.getName());

    static final String UUID_NOT_YET_GENERATED = "00000000-0000-0000-0000-000000000000";

    private Preparation() {}

    /** A prepared VM: the commands, and the template they came from. */
    public record Prepared(Commands commands, TemplateSource template) {}

    public static Prepared dryRun(RunnerConfig config, Path templatesDir, Renderer renderer)
            throws LaunchException {
        TpmSetup.standard().check(config);
        return render(config, templatesDir, renderer, dryRunUuid(config), firmware(config));
    }

    /** The template's raw output for a dry run, for template authors. */
    public static String dryRunYaml(RunnerConfig config, Path templatesDir, Renderer renderer)
            throws LaunchException {
        return renderer.renderRaw(
                TemplateSource.forVm(config, templatesDir),
                TemplateModel.of(config, dryRunUuid(config), firmware(config)),
                config.vm().useTpm(),
                config.cloudInit() != null);
    }

    public static Prepared forRun(RunnerConfig config, Path templatesDir, Renderer renderer)
            throws LaunchException {
        FirmwareFiles firmware = firmware(config);
        try {
            createPrivateDirectory(config.dataDir());
            String uuid = Uuids.ensure(config);
            TemplateSource template = TemplateSource.forVm(config, templatesDir);
            Commands commands =
                    renderer.render(
                            template,
                            TemplateModel.of(config, uuid, firmware),
                            config.vm().useTpm(),
                            config.cloudInit() != null,
                            RenderCache.in(config.dataDir()));
            Prepared prepared = new Prepared(commands, template);
            checkHost(
                    config,
                    commands); // after the template's own errors, before anything is prepared
            if (firmware != null && !Files.exists(firmware.vars())) {
                // The VM's NVRAM: made once from the distribution's template, never replaced.
                AtomicFiles.copy(firmware.varsTemplate(), firmware.vars());
            }
            // The TPM state itself is made by swtpm_setup, which the supervisor runs first.
            TpmSetup.standard().prepare(config);
            if (config.cloudInit() != null) {
                CloudInitSeed.write(config);
            }
            prepared.template().saveFor(config);
            return prepared;
        } catch (IOException e) {
            throw new LaunchException(
                    IoFailure.message("prepare the data directory", config.dataDir(), e), e);
        }
    }

    /**
     * What must hold on this host for the VM to start: the accelerator's device, the bridges of the
     * NICs the template renders, the drives' files and devices, the display password's files. Logs
     * the warnings; throws with all errors.
     */
    public static void checkHost(RunnerConfig config, Commands commands) throws LaunchException {
        List<String> errors = new ArrayList<>();
        String kvm = KvmCheck.problem(config, KvmCheck.DEVICE);
        if (kvm != null) {
            errors.add(kvm);
        }
        errors.addAll(BridgeCheck.host().problems(config, commands.qemu().arguments()));
        if (config.configFile() != null) {
            try {
                DisplayPassword.check(config.configFile());
            } catch (ConfigException e) {
                errors.add(e.getMessage());
            }
        }
        List<String> warnings = new ArrayList<>();
        DriveCheck.check(config, errors, warnings);
        for (String warning : warnings) {
            LOG.warning(warning);
        }
        if (!errors.isEmpty()) {
            throw new LaunchException(String.join("\n", errors));
        }
    }

    private static Prepared render(
            RunnerConfig config,
            Path templatesDir,
            Renderer renderer,
            String uuid,
            FirmwareFiles firmware)
            throws LaunchException {
        TemplateSource template = TemplateSource.forVm(config, templatesDir);
        Map<String, Object> model = TemplateModel.of(config, uuid, firmware);
        Commands commands =
                renderer.render(template, model, config.vm().useTpm(), config.cloudInit() != null);
        for (String warning : DisplayWarnings.of(config, commands)) {
            LOG.warning(warning);
        }
        return new Prepared(commands, template);
    }

    private static FirmwareFiles firmware(RunnerConfig config) throws LaunchException {
        return FirmwareFiles.locate(config.vm().firmware(), TemplateModel.firmwareVarsPath(config));
    }

    private static String dryRunUuid(RunnerConfig config) {
        if (config.vm().uuid() != null) {
            return config.vm().uuid();
        }
        try {
            Path stored = config.dataDir().resolve("uuid.txt");
            if (Files.isReadable(stored)) {
                String text = Files.readString(stored).strip();
                if (!text.isEmpty()) {
                    return text;
                }
            }
        } catch (IOException e) {
            // Fall through: a dry run shows the placeholder.
        }
        return UUID_NOT_YET_GENERATED;
    }

    private static void createPrivateDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir.toAbsolutePath().getParent());
            Files.createDirectory(
                    dir,
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
        }
    }
}
