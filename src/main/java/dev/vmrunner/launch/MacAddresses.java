package dev.vmrunner.launch;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * MAC addresses for NICs without a configured {@code mac}: without one QEMU gives every VM {@code
 * 52:54:00:12:34:56}, so two VMs on one bridge would collide. The address is derived from the VM's
 * uuid and the NIC's index, hence the same on every start and different for every VM and NIC:
 * SHA-256 over both, the first six bytes, made a locally administered unicast address
 * (second-lowest bit of the first octet set, lowest bit clear).
 */
public final class MacAddresses {
    private MacAddresses() {}

    /** The derived address, e.g. {@code 2a:5f:01:9c:d0:e7}. */
    public static String derive(String uuid, int index) {
        byte[] hash = sha256("vmrunner-nic:" + uuid.toLowerCase(Locale.ROOT) + ":" + index);
        byte[] mac = new byte[6];
        System.arraycopy(hash, 0, mac, 0, 6);
        mac[0] = (byte) ((mac[0] & 0xFC) | 0x02);
        return HexFormat.ofDelimiter(":").formatHex(mac);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }
}
