package dev.vmrunner.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Debian package that {@code mvn package} made, installed in a fresh Debian 12 root with
 * apt-get as a user would install it, by deploy/debian/test-package.sh: lintian without errors,
 * {@code vmrunner --version}, {@code man vmrunner}, {@code systemd-analyze verify} of the unit,
 * {@code vmrunner check} of the shipped TCG example, the example VM started, an upgrade while it
 * runs (the runner and its VM stay), remove, purge that keeps the VMs' data, purge that removes it
 * when asked. The root is cached for a day (about 7 minutes to make; a run on it takes well under a
 * minute). The transcript is kept in target/failsafe-reports.
 *
 * <p>Needs podman and mmdebstrap (scripts/install-deps.sh) and root. Skipped, visibly, only with
 * {@code -Dvmrunner.skipPackageTests=true}.
 */
class DebianPackageIT {

    static final Path SCRIPT = Path.of("deploy/debian/test-package.sh").toAbsolutePath();
    static final Path TRANSCRIPT = Path.of("target/failsafe-reports/debian-package.txt");

    @Test
    void installsChecksUpgradesAndPurgesCleanly() throws IOException, InterruptedException {
        Assumptions.assumeFalse(
                Boolean.getBoolean("vmrunner.skipPackageTests"),
                "package tests skipped (-Dvmrunner.skipPackageTests=true)");
        Path deb = newestDeb();
        System.out.printf("%s: %d bytes%n", deb.getFileName(), Files.size(deb));
        Files.createDirectories(TRANSCRIPT.getParent());
        Process run =
                new ProcessBuilder(SCRIPT.toString(), deb.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(TRANSCRIPT.toFile())
                        .start();
        if (!run.waitFor(20, TimeUnit.MINUTES)) {
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
            fail("test-package.sh did not finish in 20 minutes:\n" + transcript());
        }
        String out = transcript();
        assertEquals(0, run.exitValue(), "test-package.sh failed:\n" + out);
        assertTrue(out.strip().endsWith("ALL STEPS PASSED"), out);
        for (String expected :
                List.of(
                        "lintian: no errors",
                        "vmrunner 0.1.0",
                        "VMRUNNER(1)",
                        ": OK (VM example-tcg",
                        "the runner (pid",
                        "runner exit code: 4",
                        "/var/lib/vmrunner kept",
                        "/var/lib/vmrunner removed")) {
            assertTrue(out.contains(expected), "'" + expected + "' in:\n" + out);
        }
    }

    private static Path newestDeb() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(f -> f.getFileName().toString().matches("vmrunner_.*_all\\.deb"))
                    .max(
                            (a, b) ->
                                    Long.compare(
                                            a.toFile().lastModified(), b.toFile().lastModified()))
                    .orElseThrow(() -> new AssertionError("no target/vmrunner_*_all.deb"));
        }
    }

    private static String transcript() throws IOException {
        return Files.readString(TRANSCRIPT, StandardCharsets.UTF_8);
    }
}
