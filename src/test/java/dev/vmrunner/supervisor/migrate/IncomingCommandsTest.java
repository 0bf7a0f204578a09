package dev.vmrunner.supervisor.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.ProcessSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The target's commands and the shape two runners compare: pure. */
class IncomingCommandsTest {

    private static final ProcessSpec SWTPM =
            new ProcessSpec(
                    "swtpm",
                    Path.of("/usr/bin/swtpm"),
                    List.of("socket", "--tpm2", "--tpmstate", "dir=/data/vm", "--terminate"),
                    Map.of());
    private static final ProcessSpec QEMU =
            new ProcessSpec("qemu", Path.of("/usr/bin/qemu"), List.of("-S", "-m", "1G"), Map.of());

    @Test
    void qemuWaitsForTheGuestAndSwtpmKeepsItsOwnState() {
        Commands target =
                IncomingCommands.of(new Commands(Optional.of(SWTPM), Optional.empty(), QEMU));
        assertEquals(List.of("-S", "-m", "1G", "-incoming", "defer"), target.qemu().arguments());
        assertEquals(
                List.of(
                        "socket",
                        "--tpm2",
                        "--tpmstate",
                        "dir=/data/vm/.tpm-incoming",
                        "--terminate"),
                target.swtpm().orElseThrow().arguments());
        assertEquals(Optional.of(Path.of("/data/vm")), IncomingCommands.tpmStateDir(SWTPM));
        assertEquals(
                Optional.of(Path.of("/data/vm")),
                IncomingCommands.templateStateDir(target.swtpm().orElseThrow()));
    }

    @Test
    void swtpmOptionsAfterTheDirectoryStay() {
        ProcessSpec swtpm =
                new ProcessSpec(
                        "swtpm",
                        Path.of("/usr/bin/swtpm"),
                        List.of("--tpmstate", "dir=/d,mode=0600"),
                        Map.of());
        assertEquals(
                List.of("--tpmstate", "dir=/d/.tpm-incoming,mode=0600"),
                IncomingCommands.of(new Commands(Optional.of(swtpm), Optional.empty(), QEMU))
                        .swtpm()
                        .orElseThrow()
                        .arguments());
    }

    private static RunnerConfig config(String vm) throws Exception {
        return ConfigLoader.parse(
                "\"/Runner\":\n  dataDir: /d\n  runtimeDir: /r\n  vm:\n    name: v\n" + vm,
                Path.of("/c.yaml"),
                Map.of());
    }

    @Test
    void shapesNameWhatDiffers() throws Exception {
        Shape here = Shape.of(config("    maximumRam: 1G\n"));
        assertEquals(List.of(), here.differences(Shape.parse(here.text())));
        List<String> differ =
                here.differences(Shape.of(config("    maximumRam: 2G\n    maximumCpus: 2\n")));
        assertEquals(2, differ.size(), differ.toString());
        assertTrue(
                differ.get(0).startsWith("vm.maximumCpus: 1 here, 2 on the target"),
                differ.toString());
        assertTrue(
                here.differences(Shape.parse("garbage\n=x\n"))
                        .contains("vm.name: v here, not given on the target"));
    }
}
