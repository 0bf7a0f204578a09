package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What QEMU really gets when values carry commas and quotes. */
class EscapingIT {

    @TempDir Path dir;

    @Test
    void commaPathOpensTheRightMediumAndQuotedNameIsOneArgument() throws Exception {
        Path content = Files.createDirectories(dir.resolve("iso"));
        Files.writeString(content.resolve("hello.txt"), "escaped-ok\n");
        Path iso = dir.resolve("a,format=qcow2,b.iso");
        Process mk =
                new ProcessBuilder(
                                "xorriso",
                                "-as",
                                "mkisofs",
                                "-quiet",
                                "-V",
                                "TEST",
                                "-o",
                                iso.toString(),
                                content.toString())
                        .redirectErrorStream(true)
                        .start();
        assertEquals(
                0,
                mk.waitFor(),
                new String(
                        mk.getInputStream().readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8));

        try (TestVm vm =
                new TestVm(dir)
                        .template("")
                        .configNamed(
                                "'e2e \"quoted\" vm'",
                                "drives:",
                                "  - type: ide-cd",
                                "    file: \"" + iso + "\"")) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            List<String> argv =
                    Arrays.asList(
                            new String(
                                            Files.readAllBytes(
                                                    Path.of("/proc/" + qemu + "/cmdline")),
                                            StandardCharsets.UTF_8)
                                    .split("\0"));
            assertTrue(argv.contains("guest=e2e \"quoted\" vm,debug-threads=on"), argv.toString());

            String out =
                    vm.guestCommand(
                            "mount -t iso9660 -o ro /dev/sr0 /mnt && cat /mnt/hello.txt; umount"
                                    + " /mnt",
                            Duration.ofSeconds(30));
            assertTrue(out.contains("escaped-ok"), out + "\nserial:\n" + vm.serialText());

            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(60)), vm.log());
        }
    }
}
