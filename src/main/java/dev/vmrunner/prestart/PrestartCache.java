package dev.vmrunner.prestart;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.files.AtomicFiles;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.TemplateSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * What the launcher ({@code bin/vmrunner}) needs to start QEMU before the runner's JVM runs: the
 * command line of the last ordinary start and the key it is valid for, written by the runner into
 * the directory the launcher names ({@value #DIR_ENV}), which the launcher keeps private to the
 * user. Four small files of shell words, each written atomically, {@code vars.sh} last (the
 * launcher reads nothing without it):
 *
 * <ul>
 *   <li>{@code qemu.sh}: {@code set -- 'argv0' 'argv1' ...}, QEMU's argv;
 *   <li>{@code files.sh}: {@code set -- ...}, the files the render read besides the configuration
 *       (the runner's jar, the template file);
 *   <li>{@code absent.sh}: {@code set -- ...}, files that must still be missing (a template in the
 *       templates directory would shadow the built-in one);
 *   <li>{@code vars.sh}: {@code envkey} (the launcher's summary of the environment and build it was
 *       started with, {@value #KEY_ENV}), {@code sums} ({@code sha256sum}'s output for the
 *       configuration as read, named {@code -}, and the files), {@code datadir}, {@code rundir}.
 * </ul>
 *
 * Every value is one single-quoted shell word ({@link #quote}), so no byte of the configuration can
 * become shell code. The key only spares a start a QEMU it would end: whatever the launcher starts,
 * the runner compares with its own render before it runs a guest ({@link Prestarted}).
 */
public final class PrestartCache {

    /** Where the launcher wants the cache of this configuration file. */
    public static final String DIR_ENV = "VMRUNNER_PRESTART_CACHE";

    /** The launcher's key of the environment and build. */
    public static final String KEY_ENV = "VMRUNNER_PRESTART_KEY";

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private PrestartCache() {}

    /**
     * Why these commands cannot be started by the launcher, or empty when they can: only QEMU, with
     * no helper before it (swtpm, the cloud-init seed: not yet), no environment of its own, paused.
     */
    static Optional<String> unsuitable(Commands commands) {
        if (commands.swtpm().isPresent()) {
            return Optional.of("the VM has a TPM (swtpm is started by the runner)");
        }
        if (commands.cloudInitImg().isPresent()) {
            return Optional.of("the VM has a cloud-init seed (made by the runner at each start)");
        }
        if (!commands.qemu().environment().isEmpty()) {
            return Optional.of("QEMU's command sets environment variables");
        }
        if (!commands.qemuStartsPaused()) {
            return Optional.of("the template does not start QEMU paused (-S)");
        }
        return Optional.empty();
    }

    /**
     * Writes the cache for these commands where the launcher asked, or removes it when they are not
     * for the launcher to start. Best effort: a failure costs the next start its overlap only.
     */
    /**
     * For the launcher's overlapped start next time: {@link #write} on a thread of its own, run
     * once the VM runs so that it costs this start nothing; null when the launcher did not ask
     * ({@link #DIR_ENV} unset).
     */
    public static Runnable writerOnceRunning(
            Map<String, String> env,
            RunnerConfig config,
            byte[] content,
            Commands commands,
            TemplateSource template,
            Path templatesDir) {
        if (env.get(DIR_ENV) == null) {
            return null;
        }
        return () -> {
            Thread writer =
                    new Thread(
                            () -> write(env, config, content, commands, template, templatesDir),
                            "prestart-cache");
            writer.setDaemon(true);
            writer.start();
        };
    }

    public static void write(
            Map<String, String> env,
            RunnerConfig config,
            byte[] content,
            Commands commands,
            TemplateSource template,
            Path templatesDir) {
        write(env, config, content, commands, template, templatesDir, classPathJar());
    }

    /** {@link #write}, with the runner's jar given. */
    static void write(
            Map<String, String> env,
            RunnerConfig config,
            byte[] content,
            Commands commands,
            TemplateSource template,
            Path templatesDir,
            Optional<String> jar) {
        String dir = env.get(DIR_ENV);
        String key = env.get(KEY_ENV);
        if (dir == null || key == null || !dir.startsWith("/") || config.configFile() == null) {
            return;
        }
        Path cache = Path.of(dir);
        try {
            Files.deleteIfExists(cache.resolve("vars.sh"));
            Optional<String> why = unsuitable(commands);
            if (why.isPresent()) {
                LOG.fine(() -> "No overlapped start next time: " + why.get());
                return;
            }
            if (jar.isEmpty()) {
                return; // classes of a development build: no identity to key on
            }
            List<String> files = new ArrayList<>(List.of(jar.get()));
            List<String> absent = new ArrayList<>();
            Path origin = Path.of(template.origin());
            if (template.origin().startsWith("/") && Files.isRegularFile(origin)) {
                files.add(template.origin());
            } else {
                absent.add(templatesDir.toAbsolutePath().resolve(template.name()).toString());
            }
            for (String f : files) {
                if (f.indexOf('\\') >= 0 || f.indexOf('\n') >= 0) {
                    return; // sha256sum would escape the name
                }
            }
            StringBuilder sums = new StringBuilder(sumLine(sha256(content), "-"));
            for (String f : files) {
                sums.append(sumLine(sha256(Path.of(f)), f));
            }
            createPrivate(cache);
            write(cache.resolve("qemu.sh"), "set --" + words(commands.qemu().argv()) + "\n");
            write(cache.resolve("files.sh"), "set --" + words(files) + "\n");
            write(cache.resolve("absent.sh"), "set --" + words(absent) + "\n");
            write(
                    cache.resolve("vars.sh"),
                    vars(
                            Map.of(
                                    "envkey", key,
                                    "sums", sums.toString().stripTrailing(),
                                    "datadir", config.dataDir().toAbsolutePath().toString(),
                                    "rundir", config.runtimeDir().toAbsolutePath().toString())));
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "Failed to write the launcher's cache " + cache + ": " + e);
        }
    }

    /** One POSIX shell word that stands for {@code value} exactly. */
    static String quote(String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a NUL cannot be in an argument");
        }
        return "'" + value.replace("'", "'\\''") + "'";
    }

    static String words(List<String> values) {
        StringBuilder out = new StringBuilder();
        for (String value : values) {
            out.append(' ').append(quote(value));
        }
        return out.toString();
    }

    /** {@code name='value'} lines, in a fixed order. */
    static String vars(Map<String, String> values) {
        StringBuilder out = new StringBuilder();
        values.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(
                        e ->
                                out.append(e.getKey())
                                        .append('=')
                                        .append(quote(e.getValue()))
                                        .append('\n'));
        return out.toString();
    }

    /** A line as {@code sha256sum} prints it. */
    static String sumLine(String hex, String name) {
        return hex + "  " + name + "\n";
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest = digest();
        byte[] buffer = new byte[65536];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has it
        }
    }

    /** The runner's own jar, as the class path names it. */
    private static Optional<String> classPathJar() {
        for (String entry : System.getProperty("java.class.path", "").split(":")) {
            if (entry.endsWith("/vmrunner.jar")) {
                return Optional.of(entry);
            }
        }
        return Optional.empty();
    }

    private static void createPrivate(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(
                    dir,
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
        }
    }

    private static void write(Path file, String text) throws IOException {
        AtomicFiles.write(file, text.getBytes(StandardCharsets.UTF_8));
    }
}
