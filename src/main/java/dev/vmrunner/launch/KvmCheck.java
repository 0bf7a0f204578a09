package dev.vmrunner.launch;

import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code accelerator: kvm} needs {@code /dev/kvm} readable and writable by the runner's user (QEMU
 * runs as it). Without this check QEMU fails after the start ("Could not access KVM kernel module")
 * and the runner reports a lost monitor connection, which names neither the key nor the fix.
 */
final class KvmCheck {
    static final Path DEVICE = Path.of("/dev/kvm");

    private KvmCheck() {}

    /** The problem, or {@code null} when the accelerator is not KVM or the device is usable. */
    static String problem(RunnerConfig config, Path device) {
        if (!"kvm".equals(config.vm().accelerator())) {
            return null;
        }
        if (!Files.exists(device)) {
            return "vm.accelerator (kvm): "
                    + device
                    + " does not exist, KVM is not available on this host (load the kvm module,"
                    + " enable virtualization in the firmware, or use accelerator: tcg)";
        }
        if (!Files.isReadable(device) || !Files.isWritable(device)) {
            return "vm.accelerator (kvm): "
                    + device
                    + " is not readable and writable by user "
                    + System.getProperty("user.name")
                    + " (add the user to the device's group, usually kvm, or use accelerator:"
                    + " tcg)";
        }
        return null;
    }
}
