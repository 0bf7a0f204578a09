package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TpmSetupTest {

    @TempDir Path dir;

    static final ProcessSpec SWTPM =
            new ProcessSpec("swtpm", Path.of("/usr/bin/swtpm"), List.of("socket"), Map.of());

    RunnerConfig config(boolean useTpm) throws Exception {
        String yaml =
                "\"/Runner\":\n  dataDir: "
                        + dir.resolve("data")
                        + "\n  runtimeDir: "
                        + dir.resolve("run")
                        + "\n  vm:\n    name: tpm\n    useTpm: "
                        + useTpm
                        + "\n";
        RunnerConfig config = ConfigLoader.parse(yaml, dir.resolve("config.yaml"), Map.of());
        Files.createDirectories(config.dataDir());
        return config;
    }

    @Test
    void commandCreatesTheStateWithCertificatesAndTheVmsOwnCa() throws Exception {
        RunnerConfig config = config(true);
        TpmSetup.standard().prepare(config);
        ProcessSpec spec = TpmSetup.standard().command(config, SWTPM).orElseThrow();
        Path data = config.dataDir();
        assertEquals(
                List.of(
                        "/usr/bin/swtpm_setup",
                        "--tpm2",
                        "--tpmstate",
                        data.resolve(".tpm-setup").toString(),
                        "--config",
                        data.resolve("swtpm-localca/swtpm_setup.conf").toString(),
                        "--create-ek-cert",
                        "--create-platform-cert",
                        "--lock-nvram",
                        "--not-overwrite",
                        "--tpm",
                        "/usr/bin/swtpm socket"),
                spec.argv());
        assertEquals(Map.of("TMPDIR", config.runtimeDir().toString()), spec.environment());
        assertTrue(Files.isDirectory(data.resolve(".tpm-setup")), "made in a staging directory");
        assertFalse(TpmSetup.needed(config) && Files.exists(data.resolve(TpmSetup.STATE_FILE)));
        // What swtpm_setup leaves there is moved into place only once it succeeded.
        Files.writeString(data.resolve(".tpm-setup").resolve(TpmSetup.STATE_FILE), "state");
        TpmSetup.commit(config);
        assertEquals("state", Files.readString(data.resolve(TpmSetup.STATE_FILE)));
        assertFalse(Files.exists(data.resolve(".tpm-setup")));
        assertFalse(TpmSetup.needed(config));

        String setupConf = Files.readString(data.resolve("swtpm-localca/swtpm_setup.conf"));
        assertTrue(
                setupConf.contains(
                        "create_certs_tool_config = "
                                + data.resolve("swtpm-localca/swtpm-localca.conf")
                                + "\n"),
                setupConf);
        String caConf = Files.readString(data.resolve("swtpm-localca/swtpm-localca.conf"));
        assertTrue(
                caConf.contains("signingkey = " + data.resolve("swtpm-localca/signkey.pem")),
                caConf);
        assertEquals(
                "rwx------",
                java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(data.resolve("swtpm-localca"))));
    }

    @Test
    void nothingToDoOnceTheStateExistsOrWithoutTpm() throws Exception {
        RunnerConfig config = config(true);
        Files.writeString(config.dataDir().resolve(TpmSetup.STATE_FILE), "state");
        assertFalse(TpmSetup.needed(config));
        assertTrue(TpmSetup.standard().command(config, SWTPM).isEmpty());
        assertFalse(TpmSetup.needed(config(false)));
    }

    @Test
    void missingSwtpmSetupIsOneClearMessage() throws Exception {
        TpmSetup missing = TpmSetup.with(List.of("/nonexistent/swtpm_setup"), TpmSetup.LOCALCA);
        LaunchException e = assertThrows(LaunchException.class, () -> missing.check(config(true)));
        assertEquals(
                "Failed to find swtpm_setup, needed to create the TPM state of a VM with vm.useTpm:"
                        + " none of /nonexistent/swtpm_setup is installed (Debian/Ubuntu: apt-get"
                        + " install swtpm-tools; Fedora: swtpm-tools; Arch: swtpm)",
                e.getMessage());
        // Not needed without a TPM.
        missing.check(config(false));
    }
}
