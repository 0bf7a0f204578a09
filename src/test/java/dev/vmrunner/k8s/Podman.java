package dev.vmrunner.k8s;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * podman through {@code deploy/container/podman.sh}, which brings the configuration that works on
 * hosts like our CI (runc, cgroupfs, rlimits within what the host allows) and keeps images in
 * {@code ~/.cache/vmrunner/podman} so that builds are cached across runs.
 */
final class Podman {

    static final Path WRAPPER = Path.of("deploy/container/podman.sh").toAbsolutePath();
    static final Path BUILD = Path.of("deploy/container/build-image.sh").toAbsolutePath();

    private Podman() {}

    /** A finished command: exit code and output (stdout and stderr together). */
    record Result(int code, String output) {}

    /** Whether podman is installed; without it the container tests cannot run. */
    static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "podman"))) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code podman args...} and waits at most {@code timeout}. */
    static Result run(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(WRAPPER.toString()));
        command.addAll(List.of(args));
        return exec(command, timeout);
    }

    /** Like {@link #run}, failing the test unless podman exits with 0. */
    static String ok(Duration timeout, String... args) throws IOException, InterruptedException {
        Result result = run(timeout, args);
        if (result.code() != 0) {
            fail(
                    "podman "
                            + String.join(" ", args)
                            + " failed ("
                            + result.code()
                            + "):\n"
                            + result.output());
        }
        return result.output();
    }

    /** Starts {@code podman args...} in the background with its output in {@code log}. */
    static Process start(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(WRAPPER.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** Builds the image (cached); returns its name. */
    static String buildImage() throws IOException, InterruptedException {
        Result result = exec(List.of(BUILD.toString()), Duration.ofMinutes(20));
        if (result.code() != 0) {
            fail(
                    "deploy/container/build-image.sh failed ("
                            + result.code()
                            + "):\n"
                            + result.output());
        }
        String[] lines = result.output().strip().split("\n");
        return lines[lines.length - 1].strip();
    }

    /** Removes a container whatever state it is in; errors are ignored (it may be gone). */
    static void removeQuietly(String container) {
        try {
            run(Duration.ofSeconds(60), "rm", "--force", "--time", "0", "--ignore", container);
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Result exec(List<String> command, Duration timeout)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("vmrunner-podman", ".log");
        try {
            Process process =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(out.toFile())
                            .start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                fail(
                        String.join(" ", command)
                                + " did not finish within "
                                + timeout
                                + ":\n"
                                + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
