package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class FirmwareTest {
    @Test
    void namesRoundTrip() {
        for (Firmware firmware : Firmware.values()) {
            assertEquals(Optional.of(firmware), Firmware.of(firmware.configName()));
        }
        assertEquals("uefi-4m", Firmware.UEFI_4M.configName());
        assertEquals(Optional.empty(), Firmware.of("UEFI"));
        assertEquals(Optional.empty(), Firmware.of(null));
    }

    @Test
    void properties() {
        assertFalse(Firmware.BIOS.isUefi());
        assertTrue(
                Firmware.SECURE_4M.isUefi()
                        && Firmware.SECURE_4M.isSecure()
                        && Firmware.SECURE_4M.is4m());
        assertTrue(Firmware.UEFI_4M.is4m() && !Firmware.UEFI_4M.isSecure());
        assertTrue(Firmware.SECURE.isSecure() && !Firmware.SECURE.is4m());
        assertFalse(Firmware.UEFI.isSecure() || Firmware.UEFI.is4m());
    }
}
