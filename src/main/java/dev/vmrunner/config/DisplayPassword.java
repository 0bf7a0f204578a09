package dev.vmrunner.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The display password the upstream way: the files {@code display-password} and {@code
 * password-expiry} in the configuration file's directory (a Secret projected beside the ConfigMap).
 * The password is set over QMP ({@code set_password}), the expiry with {@code expire_password};
 * {@link #toString()} never shows the password.
 *
 * @param password the password, trimmed; never empty
 * @param expiry QEMU's {@code expire_password} time: {@code now}, {@code never}, {@code +SECONDS}
 *     or SECONDS since the epoch; {@code never} when there is no expiry file
 */
public record DisplayPassword(String password, String expiry) {
    public static final String PASSWORD_FILE = "display-password";
    public static final String EXPIRY_FILE = "password-expiry";

    /** Far more than any SPICE or VNC password; a larger file is not a password. */
    static final int MAX_BYTES = 4096;

    private static final Pattern RELATIVE = Pattern.compile("\\+[0-9]{1,10}");
    private static final Pattern ABSOLUTE = Pattern.compile("[0-9]{1,12}");

    /** Whether a password file exists (the template model's {@code hasDisplayPassword}). */
    public static boolean exists(Path configFile) {
        return Files.exists(dir(configFile).resolve(PASSWORD_FILE));
    }

    /**
     * Reads the password and its expiry from beside {@code configFile}.
     *
     * @return empty when there is no password file
     * @throws ConfigException naming the file when one is unreadable, too large, not UTF-8, or
     *     (password) empty or (expiry) not a time QEMU takes
     */
    public static Optional<DisplayPassword> read(Path configFile) throws ConfigException {
        Path dir = dir(configFile);
        Optional<String> password = readBounded(dir.resolve(PASSWORD_FILE));
        if (password.isEmpty()) {
            return Optional.empty();
        }
        if (password.get().isEmpty()) {
            throw new ConfigException(
                    "Failed to read the display password: "
                            + dir.resolve(PASSWORD_FILE)
                            + " is empty",
                    null);
        }
        Path expiryFile = dir.resolve(EXPIRY_FILE);
        Optional<String> expiryText = readBounded(expiryFile);
        String expiry = expiryText.isEmpty() ? "never" : expiry(expiryText.get());
        if (expiry == null) {
            throw badExpiry(expiryFile);
        }
        return Optional.of(new DisplayPassword(password.get(), expiry));
    }

    private static ConfigException badExpiry(Path expiryFile) {
        return new ConfigException(
                "Failed to read the display password's expiry: "
                        + expiryFile
                        + " must hold now, never, +SECONDS, SECONDS since the epoch or an"
                        + " ISO-8601 time such as 2030-01-31T12:00:00Z",
                null);
    }

    /**
     * Validates whichever of the two files exist, whether the template renders a display or not
     * ({@code check} and every start): an empty password or an expiry QEMU does not take is an
     * error even when nothing would use it yet, so that it does not surface at the first edit.
     */
    public static void check(Path configFile) throws ConfigException {
        if (read(configFile).isEmpty()) {
            Path expiryFile = dir(configFile).resolve(EXPIRY_FILE);
            Optional<String> expiryText = readBounded(expiryFile);
            if (expiryText.isPresent() && expiry(expiryText.get()) == null) {
                throw badExpiry(expiryFile);
            }
        }
    }

    /** QEMU's form of an expiry, or null if it is none; ISO-8601 times become epoch seconds. */
    static String expiry(String text) {
        String t = text.strip();
        if (t.isEmpty() || t.equals("never")) {
            return "never";
        }
        if (t.equals("now") || RELATIVE.matcher(t).matches() || ABSOLUTE.matcher(t).matches()) {
            return t;
        }
        try {
            return Long.toString(OffsetDateTime.parse(t).toEpochSecond());
        } catch (DateTimeParseException e) {
            try {
                return Long.toString(Instant.parse(t).getEpochSecond());
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    private static Path dir(Path configFile) {
        Path parent = configFile.toAbsolutePath().getParent();
        return parent == null ? Path.of("/") : parent;
    }

    /** The file's text, stripped; empty if it does not exist. */
    private static Optional<String> readBounded(Path file) throws ConfigException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new ConfigException("Failed to read " + file + ": " + e.getMessage(), e);
        }
        if (bytes.length > MAX_BYTES) {
            throw new ConfigException(
                    "Failed to read " + file + ": larger than " + MAX_BYTES + " bytes", null);
        }
        try {
            String text =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(bytes))
                            .toString();
            return Optional.of(text.strip());
        } catch (CharacterCodingException e) {
            throw new ConfigException("Failed to read " + file + ": not UTF-8 text", e);
        }
    }

    @Override
    public String toString() {
        return "DisplayPassword[password=("
                + password.length()
                + " characters), expiry="
                + expiry
                + "]";
    }
}
