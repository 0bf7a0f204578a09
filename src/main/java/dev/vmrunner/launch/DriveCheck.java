package dev.vmrunner.launch;

import dev.vmrunner.config.Drive;
import dev.vmrunner.config.RunnerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Whether QEMU will open each drive's file or device: without this check QEMU fails after the start
 * with {@code Could not open '...': No such file or directory}, which names neither the key nor
 * which drive. Access is checked for the user this runs as (QEMU runs as the runner's user).
 *
 * <p>Errors: a disk or CD image that does not exist, is a directory, or cannot be read; a raw disk
 * that cannot be written (the standard template opens disks read-write); {@code file} naming a
 * block device or {@code device} naming a regular file (QEMU's {@code file} and {@code host_device}
 * drivers refuse those). A CD image may be a host CD drive. Warnings: an empty (0 bytes) raw disk
 * file. Not checked: an empty CD drive ({@code file: ""}), and CD images named with a QEMU protocol
 * prefix ({@code nbd:}, {@code https://}), which only QEMU can open.
 */
public final class DriveCheck {

    /** S_IFMT and its values, of {@code unix:mode}. */
    private static final int TYPE_MASK = 0170000;

    private static final int BLOCK_DEVICE = 0060000;
    private static final int CHAR_DEVICE = 0020000;

    private DriveCheck() {}

    /** Adds one message per drive that QEMU will not open to {@code errors}, doubts to warnings. */
    public static void check(RunnerConfig config, List<String> errors, List<String> warnings) {
        List<Drive> drives = config.vm().drives();
        for (int i = 0; i < drives.size(); i++) {
            Drive drive = drives.get(i);
            String key = "vm.drives[" + i + "].";
            if (drive.isCd()) {
                if (drive.file() != null && !isProtocol(drive.file())) {
                    image(key + "file", Path.of(drive.file()), "CD image", false, errors);
                }
            } else if (drive.file() != null) {
                String at = key + (drive.resource() != null ? "resource" : "file");
                Path file = Path.of(drive.file());
                if (image(at, file, "disk image", true, errors)) {
                    empty(at, file, warnings);
                }
            } else if (drive.device() != null) {
                device(key + (drive.resource() != null ? "resource" : "device"), drive, errors);
            }
        }
    }

    /**
     * Checks an image file; true if QEMU will open it. A raw disk is opened read-write with the
     * {@code file} driver, which refuses devices; a CD read-only, where QEMU picks the driver and a
     * host CD drive ({@code /dev/sr0}) is fine.
     */
    private static boolean image(
            String key, Path file, String what, boolean raw, List<String> errors) {
        String problem = null;
        if (!Files.exists(file)) {
            problem =
                    Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                            ? "no such file: " + file + " (a symbolic link to nothing)"
                            : "no such file: " + file;
        } else if (Files.isDirectory(file)) {
            problem = file + " is a directory, not a " + what;
        } else if (raw && isDevice(file)) {
            problem =
                    file
                            + " is a device; give it as device: (raw drives) or use an image file"
                            + " (QEMU's file driver opens regular files only)";
        } else if (!Files.isReadable(file)) {
            problem = file + " cannot be read by user " + user();
        } else if (raw && !Files.isWritable(file)) {
            problem =
                    file
                            + " cannot be written by user "
                            + user()
                            + " (QEMU opens disks read-write)";
        }
        if (problem != null) {
            errors.add(key + ": " + problem);
        }
        return problem == null;
    }

    private static void device(String key, Drive drive, List<String> errors) {
        Path device = Path.of(drive.device());
        String problem = null;
        if (!Files.exists(device)) {
            problem = "no such device or file: " + device;
        } else if (!isDevice(device)) {
            problem =
                    device
                            + " is not a block device"
                            + (Files.isRegularFile(device) ? "; give an image file as file:" : "");
        } else if (!Files.isReadable(device) || !Files.isWritable(device)) {
            problem = device + " cannot be read and written by user " + user();
        }
        if (problem != null) {
            errors.add(key + ": " + problem);
        }
    }

    private static void empty(String key, Path file, List<String> warnings) {
        try {
            if (Files.size(file) == 0) {
                warnings.add(
                        key + ": " + file + " is empty (0 bytes); the guest sees no disk space");
            }
        } catch (IOException e) {
            // It was readable a moment ago; QEMU will say what is wrong.
        }
    }

    private static boolean isDevice(Path path) {
        try {
            int type = (Integer) Files.getAttribute(path, "unix:mode") & TYPE_MASK;
            return type == BLOCK_DEVICE || type == CHAR_DEVICE;
        } catch (IOException | UnsupportedOperationException | ClassCastException e) {
            return false;
        }
    }

    /**
     * A QEMU protocol file name ({@code nbd:host:port}, {@code https://...}): letters before the
     * first colon, which comes before any slash. {@code ./a:b.iso} names a local file.
     */
    static boolean isProtocol(String name) {
        int colon = name.indexOf(':');
        if (colon < 1) {
            return false;
        }
        for (int i = 0; i < colon; i++) {
            char c = name.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '+' || c == '-' || c == '.')) {
                return false;
            }
        }
        return Character.isLetter(name.charAt(0));
    }

    private static String user() {
        return System.getProperty("user.name");
    }
}
