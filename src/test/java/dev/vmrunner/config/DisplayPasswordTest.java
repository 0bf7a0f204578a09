package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DisplayPasswordTest {
    @TempDir Path dir;

    private Path config() {
        return dir.resolve("config.yaml");
    }

    @Test
    void absentFileMeansNoPassword() throws Exception {
        assertFalse(DisplayPassword.exists(config()));
        assertEquals(Optional.empty(), DisplayPassword.read(config()));
    }

    @Test
    void passwordIsTrimmedAndExpiryDefaultsToNever() throws Exception {
        Files.writeString(dir.resolve("display-password"), "  s3cret\n");
        assertTrue(DisplayPassword.exists(config()));
        DisplayPassword p = DisplayPassword.read(config()).orElseThrow();
        assertEquals("s3cret", p.password());
        assertEquals("never", p.expiry());
        assertFalse(p.toString().contains("s3cret"), p.toString());
    }

    @Test
    void expiryFormsAsQemuTakesThem() {
        assertEquals("now", DisplayPassword.expiry("now\n"));
        assertEquals("never", DisplayPassword.expiry(" never "));
        assertEquals("+300", DisplayPassword.expiry("+300"));
        assertEquals("1900000000", DisplayPassword.expiry("1900000000"));
        assertEquals("1896177600", DisplayPassword.expiry("2030-02-01T12:00:00Z"));
        assertEquals("1896174000", DisplayPassword.expiry("2030-02-01T12:00:00+01:00"));
        assertNull(DisplayPassword.expiry("tomorrow"));
        assertNull(DisplayPassword.expiry("-5"));
    }

    @Test
    void badFilesAreNamed() throws Exception {
        Files.writeString(dir.resolve("display-password"), "x");
        Files.writeString(dir.resolve("password-expiry"), "soon");
        ConfigException e =
                assertThrows(ConfigException.class, () -> DisplayPassword.read(config()));
        assertTrue(e.getMessage().contains(dir.resolve("password-expiry").toString()));
        Files.write(dir.resolve("display-password"), new byte[DisplayPassword.MAX_BYTES + 1]);
        e = assertThrows(ConfigException.class, () -> DisplayPassword.read(config()));
        assertTrue(e.getMessage().contains("larger than 4096 bytes"), e.getMessage());
        Files.writeString(dir.resolve("display-password"), "\n");
        e = assertThrows(ConfigException.class, () -> DisplayPassword.read(config()));
        assertTrue(e.getMessage().endsWith("is empty"), e.getMessage());
    }

    /** {@code check} and every start validate the files whenever they exist, display or not. */
    @Test
    void checkValidatesWhicheverFilesExist() throws Exception {
        DisplayPassword.check(config()); // none: fine
        Files.writeString(dir.resolve("password-expiry"), "soon");
        ConfigException e =
                assertThrows(ConfigException.class, () -> DisplayPassword.check(config()));
        assertTrue(e.getMessage().contains("password-expiry"), e.getMessage());
        Files.writeString(dir.resolve("password-expiry"), "+60");
        DisplayPassword.check(config()); // an expiry alone, valid
        Files.writeString(dir.resolve("display-password"), "");
        e = assertThrows(ConfigException.class, () -> DisplayPassword.check(config()));
        assertTrue(e.getMessage().endsWith("display-password is empty"), e.getMessage());
        Files.writeString(dir.resolve("display-password"), "pw");
        DisplayPassword.check(config());
    }
}
