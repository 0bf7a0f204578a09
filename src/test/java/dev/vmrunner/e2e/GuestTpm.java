package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Raw TPM 2.0 commands (TPM 2.0 Library, Part 3) sent from the test guest, which has only busybox:
 * printf writes the command bytes to /dev/tpm0 in one write, dd reads the response from the same
 * file descriptor, od prints it in hex.
 */
final class GuestTpm {

    static final int EK_RSA_HANDLE = 0x81010001; // persisted by swtpm_setup
    static final int TEST_NV_INDEX = 0x01500017; // an owner-range index for the test

    private static final short ST_NO_SESSIONS = (short) 0x8001;
    private static final short ST_SESSIONS = (short) 0x8002;
    private static final int CC_NV_DEFINE_SPACE = 0x12A;
    private static final int CC_NV_WRITE = 0x137;
    private static final int CC_NV_READ = 0x14E;
    private static final int CC_READ_PUBLIC = 0x173;
    private static final int RH_OWNER = 0x40000001;
    private static final int RS_PW = 0x40000009;
    // OWNERWRITE | AUTHWRITE | OWNERREAD | AUTHREAD, ordinary index
    private static final int NV_ATTRIBUTES = 0x2 | 0x4 | 0x20000 | 0x40000;
    private static final short ALG_SHA256 = 0x000B;

    private GuestTpm() {}

    /** TPM2_ReadPublic: the public area of a loaded or persisted object. */
    static byte[] readPublic(int handle) {
        return command(ST_NO_SESSIONS, CC_READ_PUBLIC, ints(handle), new byte[0]);
    }

    /** TPM2_NV_DefineSpace with the owner's (empty) password. */
    static byte[] nvDefineSpace(int index, int size) {
        ByteBuffer publicInfo =
                ByteBuffer.allocate(14)
                        .putInt(index)
                        .putShort(ALG_SHA256)
                        .putInt(NV_ATTRIBUTES)
                        .putShort((short) 0)
                        .putShort((short) size);
        ByteBuffer params =
                ByteBuffer.allocate(2 + 2 + 14)
                        .putShort((short) 0)
                        .putShort((short) 14)
                        .put(publicInfo.array());
        return command(ST_SESSIONS, CC_NV_DEFINE_SPACE, ints(RH_OWNER), params.array());
    }

    /** TPM2_NV_Write at offset 0, authorised by the index's (empty) password. */
    static byte[] nvWrite(int index, byte[] data) {
        ByteBuffer params =
                ByteBuffer.allocate(2 + data.length + 2)
                        .putShort((short) data.length)
                        .put(data)
                        .putShort((short) 0);
        return command(ST_SESSIONS, CC_NV_WRITE, ints(index, index), params.array());
    }

    /** TPM2_NV_Read from offset 0. */
    static byte[] nvRead(int index, int size) {
        ByteBuffer params = ByteBuffer.allocate(4).putShort((short) size).putShort((short) 0);
        return command(ST_SESSIONS, CC_NV_READ, ints(index, index), params.array());
    }

    /** The data of a TPM2_NV_Read response. */
    static byte[] nvReadData(byte[] response) {
        ByteBuffer in = ByteBuffer.wrap(response, 14, response.length - 14);
        int size = in.getShort() & 0xffff;
        return Arrays.copyOfRange(response, 16, 16 + size);
    }

    /** Sends a command from the guest and returns the response, which must succeed. */
    static byte[] call(TestVm vm, byte[] command) throws Exception {
        String out = vm.guestCommand(shell(command), Duration.ofSeconds(30));
        byte[] response = HexFormat.of().parseHex(out.replaceAll("\\s+", ""));
        assertTrue(response.length >= 10, "no TPM response: " + out);
        int rc = ByteBuffer.wrap(response, 6, 4).getInt();
        assertEquals(
                0,
                rc,
                () ->
                        String.format(
                                "TPM response code 0x%x to %s",
                                rc, HexFormat.of().formatHex(command)));
        return response;
    }

    /** A busybox command line that sends the bytes and prints the response in hex. */
    static String shell(byte[] command) {
        StringBuilder octal = new StringBuilder();
        for (byte b : command) {
            octal.append(String.format("\\%03o", b & 0xff));
        }
        return "exec 3<>/dev/tpm0 && printf '"
                + octal
                + "' >&3"
                + " && dd bs=4096 count=1 <&3 2>/dev/null | od -An -v -tx1";
    }

    private static byte[] command(short tag, int code, byte[] handles, byte[] params) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(handles);
        if (tag == ST_SESSIONS) {
            // One password session with an empty password: handle, nonce, attributes, hmac.
            ByteBuffer session =
                    ByteBuffer.allocate(9)
                            .putInt(RS_PW)
                            .putShort((short) 0)
                            .put((byte) 0)
                            .putShort((short) 0);
            body.writeBytes(ints(9));
            body.writeBytes(session.array());
        }
        body.writeBytes(params);
        byte[] rest = body.toByteArray();
        return ByteBuffer.allocate(10 + rest.length)
                .putShort(tag)
                .putInt(10 + rest.length)
                .putInt(code)
                .put(rest)
                .array();
    }

    private static byte[] ints(int... values) {
        ByteBuffer buf = ByteBuffer.allocate(4 * values.length);
        for (int v : values) {
            buf.putInt(v);
        }
        return buf.array();
    }
}
