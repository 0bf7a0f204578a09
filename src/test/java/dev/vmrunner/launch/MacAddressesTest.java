package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MacAddressesTest {
    private static final String UUID_A = "6c2a3b4e-1f00-4d2c-9b8a-0123456789ab";

    @Test
    void stableLocallyAdministeredUnicast() {
        String mac = MacAddresses.derive(UUID_A, 0);
        assertEquals(mac, MacAddresses.derive(UUID_A.toUpperCase(java.util.Locale.ROOT), 0));
        assertTrue(mac.matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}"), mac);
        int first = Integer.parseInt(mac.substring(0, 2), 16);
        assertEquals(
                2, first & 0x03, "locally administered (bit 1), unicast (bit 0 clear): " + mac);
    }

    @Test
    void differsPerNicAndPerVm() {
        assertNotEquals(MacAddresses.derive(UUID_A, 0), MacAddresses.derive(UUID_A, 1));
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            String uuid = UUID.randomUUID().toString();
            assertTrue(seen.add(MacAddresses.derive(uuid, 0)));
            assertTrue(seen.add(MacAddresses.derive(uuid, 1)));
        }
    }
}
