package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The devices a VM needs before it boots, end to end: swtpm with state made by swtpm_setup, OVMF
 * with the VM's own NVRAM, and the cloud-init seed, with the real launcher, QEMU (TCG) and the test
 * guest.
 */
class DevicesIT {

    static final Duration STOP = Duration.ofSeconds(60);
    static final Duration UEFI_BOOT = Duration.ofSeconds(180);

    @TempDir Path dir;

    /** Writes the test guest's config with the given firmware, vm lines and top-level lines. */
    static void config(TestVm vm, String firmware, List<String> vmLines, String topLevel)
            throws Exception {
        StringBuilder yaml =
                new StringBuilder("\"/Runner\":\n")
                        .append("  dataDir: ")
                        .append(vm.dataDir)
                        .append('\n')
                        .append("  runtimeDir: ")
                        .append(vm.runtimeDir)
                        .append('\n')
                        .append("  template: testguest.ftl.yaml\n")
                        .append(topLevel.indent(2))
                        .append("  vm:\n    name: e2e\n    firmware: ")
                        .append(firmware)
                        .append('\n')
                        .append("    accelerator: tcg\n    cpuModel: max\n    maximumRam: 256M\n")
                        .append("    network: []\n");
        for (String line : vmLines) {
            yaml.append("    ").append(line).append('\n');
        }
        Files.writeString(vm.config, yaml.toString());
    }

    /** Starts the runner again (same data directory) and waits for the guest. */
    static void reboot(TestVm vm, Duration timeout) throws Exception {
        Files.deleteIfExists(vm.serial);
        vm.start();
        vm.awaitSerial("VMRUNNER-GUEST: booted", timeout);
    }

    static void stopCleanly(TestVm vm) throws Exception {
        vm.sigterm();
        assertEquals(0, vm.awaitExit(STOP), vm.log());
    }

    /** Whether any process still has this VM's runtime directory on its command line. */
    static List<String> processesOf(TestVm vm) {
        String marker = vm.runtimeDir.toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false))
                .map(p -> p.pid() + ": " + p.info().commandLine().orElse("?"))
                .toList();
    }

    // ---- TPM ------------------------------------------------------------------------------

    @Test
    void tpmStateSurvivesAGracefulStopAndRestart() throws Exception {
        byte[] marker = new byte[8];
        new SecureRandom().nextBytes(marker);
        try (TestVm vm = new TestVm(dir).template("")) {
            config(vm, "bios", List.of("useTpm: true"), "");
            vm.boot();
            assertTrue(vm.serialText().contains("VMRUNNER-GUEST: tpm present"), vm.serialText());
            assertTrue(vm.log().contains("swtpm_setup: Successfully authored TPM state"), vm.log());
            byte[] ek = GuestTpm.call(vm, GuestTpm.readPublic(GuestTpm.EK_RSA_HANDLE));
            GuestTpm.call(vm, GuestTpm.nvDefineSpace(GuestTpm.TEST_NV_INDEX, marker.length));
            GuestTpm.call(vm, GuestTpm.nvWrite(GuestTpm.TEST_NV_INDEX, marker));
            stopCleanly(vm);
            assertTrue(Files.exists(vm.dataDir.resolve("tpm2-00.permall")));

            reboot(vm, TestVm.BOOT);
            assertTrue(vm.serialText().contains("VMRUNNER-GUEST: tpm present"), vm.serialText());
            assertFalse(vm.log().contains("swtpm_setup"), "TPM state made again:\n" + vm.log());
            assertArrayEquals(
                    ek,
                    GuestTpm.call(vm, GuestTpm.readPublic(GuestTpm.EK_RSA_HANDLE)),
                    "endorsement key changed");
            byte[] read =
                    GuestTpm.nvReadData(
                            GuestTpm.call(
                                    vm, GuestTpm.nvRead(GuestTpm.TEST_NV_INDEX, marker.length)));
            assertArrayEquals(marker, read, "value stored in TPM NV memory lost");
            stopCleanly(vm);
        }
    }

    @Test
    void swtpmKilledDuringStartFailsTheStartWithoutLeavingQemu() throws Exception {
        try (TestVm vm = new TestVm(dir).template("")) {
            config(vm, "bios", List.of("useTpm: true"), "");
            vm.start();
            long swtpm = vm.childPid("swtpm");
            ProcessHandle.of(swtpm).orElseThrow().destroyForcibly(); // kill -9
            int code = vm.awaitExit(STOP);

            assertEquals(3, code, vm.log());
            assertTrue(vm.log().contains("swtpm was killed by signal 9"), vm.log());
            assertTrue(TestVm.gone(swtpm, Duration.ofSeconds(5)), "swtpm still runs");
            Thread.sleep(200);
            assertEquals(List.of(), processesOf(vm), "processes left behind");
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    @Test
    void failingTpmSetupNamesTheCommandAndItsOutput() throws Exception {
        try (TestVm vm = new TestVm(dir).template("")) {
            config(vm, "bios", List.of("useTpm: true"), "");
            // The local CA cannot write its signing key where a directory is in the way.
            Files.createDirectories(vm.dataDir.resolve("swtpm-localca/signkey.pem"));
            vm.start();
            int code = vm.awaitExit(STOP);

            assertEquals(3, code, vm.log());
            String log = vm.log();
            assertTrue(
                    log.contains(
                            "Failed to create the TPM state in "
                                    + vm.dataDir
                                    + ": swtpm_setup exited with code 1 (command:"
                                    + " /usr/bin/swtpm_setup --tpm2"),
                    log);
            assertTrue(log.contains("signkey.pem"), log);
            assertFalse(log.contains("qemu"), "QEMU was started:\n" + log);
            assertFalse(Files.exists(vm.dataDir.resolve("tpm2-00.permall")));
            assertEquals(List.of(), processesOf(vm), "processes left behind");
        }
    }

    @Test
    void missingSwtpmIsOneClearMessage() throws Exception {
        try (TestVm vm = new TestVm(dir)) {
            config(vm, "bios", List.of("useTpm: true"), "");
            Files.createDirectories(vm.templates);
            Files.writeString(
                    vm.templates.resolve("testguest.ftl.yaml"),
                    """
                    "swtpm":
                      "executable": [ "/nonexistent/bin/swtpm", "/nonexistent/local/bin/swtpm" ]
                      "arguments": [ "socket" ]
                    "qemu":
                      "executable": [ "/usr/bin/qemu-system-x86_64" ]
                      "arguments": [ "-S" ]
                    """);
            vm.start();
            int code = vm.awaitExit(Duration.ofSeconds(30));

            assertEquals(2, code, vm.log());
            assertTrue(
                    vm.log()
                            .contains(
                                    "Failed to find the swtpm executable: none of"
                                        + " /nonexistent/bin/swtpm, /nonexistent/local/bin/swtpm is"
                                        + " installed"),
                    vm.log());
            assertEquals(1, vm.log().lines().filter(l -> l.contains("ERROR")).count(), vm.log());
        }
    }

    // ---- UEFI -----------------------------------------------------------------------------

    @Test
    void uefiBootsWithItsOwnNvramThatIsMadeOnceAndKept() throws Exception {
        try (TestVm vm = new TestVm(dir).template("")) {
            config(vm, "uefi", List.of(), "");
            long started = System.nanoTime();
            vm.start();
            vm.awaitSerial("VMRUNNER-GUEST: booted", UEFI_BOOT);
            System.out.printf(
                    "UEFI boot under TCG: %.1f s from runner start to 'booted'%n",
                    (System.nanoTime() - started) / 1e9);
            assertTrue(
                    vm.serialText().contains("EFI v2"), "not booted by OVMF:\n" + vm.serialText());
            stopCleanly(vm);

            Path nvram = vm.dataDir.resolve("fw-vars.fd");
            Path template = Path.of("/usr/share/OVMF/OVMF_VARS.fd");
            assertEquals(Files.size(template), Files.size(nvram));
            assertFalse(
                    Arrays.equals(Files.readAllBytes(template), Files.readAllBytes(nvram)),
                    "OVMF wrote nothing into the VM's NVRAM");
            Object inode = Files.getAttribute(nvram, "unix:ino");
            // A marker in the unused tail of the fault-tolerant-write spare area: replacing
            // or re-copying the file would lose it; OVMF leaves it alone.
            try (RandomAccessFile f = new RandomAccessFile(nvram.toFile(), "rw")) {
                f.seek(f.length() - 8);
                f.write("VMRUNNER".getBytes(StandardCharsets.US_ASCII));
            }

            reboot(vm, UEFI_BOOT);
            stopCleanly(vm);
            assertEquals(inode, Files.getAttribute(nvram, "unix:ino"), "NVRAM file replaced");
            byte[] content = Files.readAllBytes(nvram);
            assertEquals(
                    "VMRUNNER",
                    new String(content, content.length - 8, 8, StandardCharsets.US_ASCII),
                    "NVRAM overwritten");
        }
    }

    @Test
    void secureBootIsEnabledForTheGuest() throws Exception {
        try (TestVm vm = new TestVm(dir).template("")) {
            config(vm, "secure", List.of(), "");
            long started = System.nanoTime();
            vm.start();
            vm.awaitSerial("VMRUNNER-GUEST: booted", UEFI_BOOT);
            System.out.printf(
                    "Secure Boot under TCG: %.1f s from runner start to 'booted'%n",
                    (System.nanoTime() - started) / 1e9);
            // The kernel reads the SecureBoot variable that OVMF (SMM build, enrolled vars) set.
            assertTrue(
                    vm.serialText().contains("secureboot: Secure boot enabled"), vm.serialText());
            stopCleanly(vm);
            assertEquals(
                    Files.size(Path.of("/usr/share/OVMF/OVMF_VARS.ms.fd")),
                    Files.size(vm.dataDir.resolve("fw-vars.fd")));
        }
    }

    // ---- cloud-init -----------------------------------------------------------------------

    static final String CLOUD_INIT =
            """
            cloudInit:
              metaData:
                local-hostname: e2e-guest
              userData:
                runcmd:
                  - [ sh, -c, "echo %s" ]
              networkConfig:
                version: 2
                ethernets:
                  eth0: { dhcp4: true }
            """;

    /** The guest mounts the volume labelled CIDATA and prints every file on it. */
    static String seedAsTheGuestSeesIt(TestVm vm) throws Exception {
        return vm.guestCommand(
                "d=$(findfs LABEL=CIDATA) && echo \"device $d\""
                        + " && mount -t iso9660 -o ro \"$d\" /mnt && for f in /mnt/*; do"
                        + " echo \"== ${f#/mnt/}\"; cat \"$f\"; done; umount /mnt",
                Duration.ofSeconds(30));
    }

    static String instanceId(String seed) {
        Matcher m = Pattern.compile("(?m)^instance-id: (\\S+)$").matcher(seed);
        assertTrue(m.find(), seed);
        return m.group(1);
    }

    @Test
    void guestSeesTheCloudInitSeedAndTheInstanceIdFollowsTheData() throws Exception {
        try (TestVm vm = new TestVm(dir).template("")) {
            config(vm, "bios", List.of(), CLOUD_INIT.formatted("hello"));
            vm.boot();
            String seed = seedAsTheGuestSeesIt(vm);
            assertTrue(seed.matches("(?s)device /dev/sr\\d+\n.*"), seed);
            String expected =
                    """
                    == meta-data
                    instance-id: %s
                    local-hostname: e2e-guest
                    == network-config
                    version: 2
                    ethernets:
                      eth0:
                        dhcp4: true
                    == user-data
                    #cloud-config
                    runcmd:
                    - - sh
                      - -c
                      - echo hello
                    """
                            .formatted(instanceId(seed));
            assertEquals(expected, seed.substring(seed.indexOf('\n') + 1));
            String id = instanceId(seed);
            assertTrue(id.matches("iid-[0-9a-f]{16}"), id);
            stopCleanly(vm);

            // Another key changes, the cloud-init data does not: same instance-id.
            config(
                    vm,
                    "bios",
                    List.of("powerdownTimeout: 60", "bootMenu: true"),
                    CLOUD_INIT.formatted("hello"));
            reboot(vm, TestVm.BOOT);
            assertEquals(id, instanceId(seedAsTheGuestSeesIt(vm)));
            stopCleanly(vm);

            // The cloud-init data changes: a new instance-id, and the new content.
            config(vm, "bios", List.of(), CLOUD_INIT.formatted("bye"));
            reboot(vm, TestVm.BOOT);
            String changed = seedAsTheGuestSeesIt(vm);
            assertNotEquals(id, instanceId(changed));
            assertTrue(changed.contains("  - echo bye\n"), changed);
            stopCleanly(vm);
        }
    }
}
