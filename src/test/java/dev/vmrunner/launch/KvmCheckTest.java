package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code accelerator: kvm} and the device it needs. */
class KvmCheckTest {
    @TempDir Path dir;

    private RunnerConfig config(String accelerator) throws Exception {
        return ConfigLoader.parse(
                "\"/Runner\":\n  dataDir: /d\n  runtimeDir: /r\n  vm:\n    name: t\n"
                        + "    accelerator: "
                        + accelerator
                        + "\n",
                dir.resolve("c.yaml"),
                Map.of());
    }

    @Test
    void aMissingDeviceNamesItAndTheFix() throws Exception {
        String problem = KvmCheck.problem(config("kvm"), dir.resolve("kvm"));
        assertEquals(
                "vm.accelerator (kvm): "
                        + dir.resolve("kvm")
                        + " does not exist, KVM is not available on this host (load the kvm"
                        + " module, enable virtualization in the firmware, or use accelerator:"
                        + " tcg)",
                problem);
    }

    @Test
    void aUsableDeviceOrAnotherAcceleratorPasses() throws Exception {
        Path device = Files.createFile(dir.resolve("kvm"));
        assertNull(KvmCheck.problem(config("kvm"), device));
        assertNull(KvmCheck.problem(config("tcg"), dir.resolve("absent")));
    }

    @Test
    void anUnwritableDeviceNamesTheGroup() throws Exception {
        Path device = Files.createFile(dir.resolve("kvm"));
        assertTrue(device.toFile().setWritable(false, false));
        assertTrue(device.toFile().setReadable(false, false));
        String problem = KvmCheck.problem(config("kvm"), device);
        if (!"root".equals(System.getProperty("user.name"))) { // root may access any file
            assertTrue(problem.contains("is not readable and writable by user"), problem);
            assertTrue(problem.contains("kvm"), problem);
        }
    }
}
