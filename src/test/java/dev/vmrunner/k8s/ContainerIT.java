package dev.vmrunner.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.config.ConfigMapVolume;
import dev.vmrunner.e2e.Waits;
import dev.vmrunner.qmp.CpuInfo;
import dev.vmrunner.qmp.CpuReplugPolicy;
import dev.vmrunner.qmp.HotpluggableCpu;
import dev.vmrunner.qmp.QemuVersion;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image, built from the real Containerfile (deploy/container/build-image.sh, on a
 * Debian base made locally with mmdebstrap), run with podman the way a restricted pod runs it: as
 * the image's own user (107), all capabilities dropped, {@code no-new-privileges}, a read-only root
 * file system; the configuration is a ConfigMap-style directory mounted at /etc/opt/vmrunner,
 * templates at /opt/vmrunner/templates, the data directory on a volume the user owns, the runtime
 * directory below a tmpfs at /run/vmrunner (the chart's layout), and nothing else writable. The
 * runner boots the test guest (TCG), applies a ConfigMap update live, and stops the guest
 * gracefully on {@code podman stop}. Everything a test starts is removed in {@link #cleanUp}, also
 * when the test fails.
 *
 * <p>Needs podman, runc and mmdebstrap (scripts/install-deps.sh) and root. Skipped, visibly, only
 * with {@code -Dvmrunner.skipContainerTests=true}.
 */
class ContainerIT {

    static final Duration BOOT = Waits.seconds(120);
    static final Duration WAIT = Waits.seconds(60);

    /** The image's user and group (deploy/container/Containerfile). */
    static final int USER = 107;

    /**
     * What {@code podman run} is given for a pod with the restricted securityContext: the image's
     * user, no capabilities, no privilege escalation, a read-only root file system without podman's
     * own tmpfs on /tmp, /var/tmp and /run; the runtime directories and /tmp on tmpfs the user may
     * write, like the chart's emptyDirs (podman 4.3 ignores a tmpfs {@code mode}, so {@code U}
     * hands them to the user). /tmp because swtpm_setup makes its pidfile there, whatever TMPDIR
     * says.
     */
    static final List<String> RESTRICTED =
            List.of(
                    "--cap-drop=ALL",
                    "--security-opt=no-new-privileges",
                    "--read-only",
                    "--read-only-tmpfs=false",
                    "--tmpfs",
                    "/run/vmrunner:rw,U",
                    "--tmpfs",
                    "/tmp:rw,U");

    static String image;
    static Path guest;

    @TempDir Path dir;

    private final List<String> containers = new ArrayList<>();
    private final List<Process> clients = new ArrayList<>();

    @BeforeAll
    static void buildImage() throws Exception {
        Assumptions.assumeFalse(
                Boolean.getBoolean("vmrunner.skipContainerTests"),
                "container tests skipped (-Dvmrunner.skipContainerTests=true)");
        if (!Podman.installed()) {
            fail(
                    "podman is not installed; run scripts/install-deps.sh "
                            + "(or skip with -Dvmrunner.skipContainerTests=true)");
        }
        // Containers of an earlier run that was killed before it could clean up.
        for (String old :
                Podman.ok(
                                WAIT,
                                "ps",
                                "-a",
                                "--filter",
                                "name=^vmrunner-it-",
                                "--format",
                                "{{.Names}}")
                        .strip()
                        .split("\n")) {
            if (!old.isBlank()) {
                Podman.removeQuietly(old.strip());
            }
        }
        long start = System.nanoTime();
        image = Podman.buildImage();
        System.out.printf(
                "image %s ready after %.1f s%n", image, (System.nanoTime() - start) / 1e9);
        guest = buildGuest();
    }

    static Path buildGuest() throws IOException, InterruptedException {
        Process build =
                new ProcessBuilder("testguest/build.sh")
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
        String out = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, build.waitFor(), "testguest/build.sh failed");
        String[] lines = out.strip().split("\n");
        return Path.of(lines[lines.length - 1].strip());
    }

    @AfterEach
    void cleanUp() {
        containers.forEach(Podman::removeQuietly);
        for (Process client : clients) {
            client.destroyForcibly();
        }
    }

    @Test
    void imageCarriesItsLabelsAndLicences() throws Exception {
        String labels =
                Podman.ok(WAIT, "image", "inspect", "--format", "{{json .Labels}}", image).strip();
        JsonObject json = JsonParser.parseString(labels).getAsJsonObject();
        String prefix = "org.opencontainers.image.";
        assertEquals("vmrunner", json.get(prefix + "title").getAsString(), labels);
        assertEquals("0.1.0", json.get(prefix + "version").getAsString(), labels);
        assertEquals("Apache-2.0", json.get(prefix + "licenses").getAsString(), labels);
        // The commit built, not one of an earlier build's cached layers.
        Process git = new ProcessBuilder("git", "rev-parse", "HEAD").start();
        String head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, git.waitFor(), "git rev-parse HEAD");
        assertEquals(head.strip(), json.get(prefix + "revision").getAsString(), labels);
        assertTrue(json.get(prefix + "source").getAsString().startsWith("https://"), labels);
        assertTrue(json.get(prefix + "documentation").getAsString().startsWith("https://"), labels);
        String files =
                Podman.ok(
                        WAIT,
                        "run",
                        "--rm",
                        "--name",
                        name(),
                        "--network=none",
                        "--entrypoint",
                        "/bin/sh",
                        image,
                        "-c",
                        "head -n 2 /opt/vmrunner/LICENSE /opt/vmrunner/NOTICE;"
                                + " grep -c Apache-2.0 /opt/vmrunner/THIRD-PARTY.txt");
        assertTrue(files.contains("Apache License"), files);
        assertTrue(files.contains("vmrunner"), files);
        assertTrue(files.strip().endsWith("5"), "the five bundled jars' licences:\n" + files);
    }

    @Test
    void imageIsSmallAndStopsTheRunnerWithSigterm() throws Exception {
        String config =
                Podman.ok(
                                WAIT,
                                "image",
                                "inspect",
                                "--format",
                                "{{.Config.StopSignal}} {{json .Config.Entrypoint}}"
                                        + " {{.Config.User}}",
                                image)
                        .strip();
        // A numeric user: Kubernetes' runAsNonRoot can check only a number.
        assertEquals("SIGTERM [\"/opt/vmrunner/bin/vmrunner\"] 107:107", config);
        String name = name();
        String contents =
                Podman.ok(
                        WAIT,
                        "run",
                        "--rm",
                        "--name",
                        name,
                        "--network=none",
                        "--entrypoint",
                        "/bin/sh",
                        image,
                        "-c",
                        "for t in javac mvn gcc cc make; do command -v $t; done; ls"
                            + " /var/lib/apt/lists /var/cache/apt | grep -v -e '^partial$' -e ':$'"
                            + " -e '^$'; ls /opt/vmrunner/templates; cat"
                            + " /opt/vmrunner/lib/vmrunner.aot.stamp; vmrunner --version;"
                            + " qemu-system-x86_64 --version; command -v passt; id");
        assertTrue(contents.contains("Standard-VM-latest.ftl.yaml"), contents);
        assertTrue(contents.contains("vmrunner 0.1.0"), contents);
        assertTrue(contents.contains("Java 25"), contents);
        assertTrue(contents.contains("QEMU emulator version 10."), contents);
        assertTrue(contents.contains(" /opt/vmrunner/lib/*"), contents);
        assertTrue(contents.contains("/usr/bin/passt"), "no passt in the image:\n" + contents);
        assertTrue(contents.contains("uid=107(vmrunner) gid=107(vmrunner)"), contents);
        assertTrue(
                !contents.contains("javac")
                        && !contents.contains("/mvn")
                        && !contents.contains("/gcc")
                        && !contents.contains("/make"),
                "build tools in the image:\n" + contents);
        long size =
                Long.parseLong(
                        Podman.ok(WAIT, "image", "inspect", "--format", "{{.Size}}", image)
                                .strip());
        System.out.printf("image size %d MB%n", size / 1_000_000);
        // 379 MB before passt and the user; 10 % more at most.
        assertTrue(size < 417_000_000L, "image is " + size + " bytes");
    }

    /**
     * The AOT cache made at build time is used by the image's user on the restricted pod's terms:
     * with {@code -XX:AOTMode=on} a java that cannot map it refuses to start.
     */
    @Test
    void theImagesUserStartsWithTheAotCache() throws Exception {
        List<String> args =
                new ArrayList<>(List.of("run", "--rm", "--name", name(), "--network=none"));
        args.addAll(RESTRICTED);
        args.addAll(
                List.of(
                        "-e",
                        "VMRUNNER_JAVA_OPTS=-XX:AOTMode=on -Xlog:aot=info:stderr",
                        image,
                        "--version"));
        String out = Podman.ok(WAIT, args.toArray(String[]::new));
        assertTrue(out.contains("vmrunner 0.1.0"), out);
        assertTrue(
                out.contains("Opened AOT cache /opt/vmrunner/lib/vmrunner.aot.")
                        && out.contains("Using AOT-linked classes: true"),
                "the AOT cache is not used:\n" + out);
    }

    @Test
    void bootsAppliesAConfigMapUpdateLiveAndPowersOffOnStop() throws Exception {
        Volumes pod = volumes();
        Path configDir = pod.configMap();
        Path data = pod.data();
        Path serial = pod.serial();
        Path log = dir.resolve("container.log");
        ConfigMapVolume.publish(configDir, "config.yaml", config("512M", 1));

        String name = name();
        Process client = startRestricted(name, "none", pod, log);
        awaitText(serial, "VMRUNNER-GUEST: booted", BOOT, client, log);

        String pid1 = Podman.ok(WAIT, "exec", name, "cat", "/proc/1/cmdline").replace('\0', ' ');
        String qemu =
                Podman.ok(
                        WAIT, "exec", name, "sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '");
        assertTrue(qemu.contains("-machine pc-q35-9.2,"), "QEMU's command lines: " + qemu);
        assertTrue(
                pid1.contains("java") && pid1.contains("dev.vmrunner.cli.Main"),
                "PID 1 is not the runner: " + pid1);
        assertUnprivileged(name, "java", "qemu-system-x86_64", "swtpm");

        long published = System.nanoTime();
        ConfigMapVolume.publish(configDir, "config.yaml", config("256M", 1));
        awaitText(
                log,
                "vm.currentRam: 512M -> 256M: applied (balloon target 256M)",
                WAIT,
                client,
                log);
        System.out.printf(
                "ConfigMap update applied after %.2f s%n", (System.nanoTime() - published) / 1e9);

        // QEMU 10 re-plugs a slot an unplug emptied, so the runner does (QEMU 7.2 would abort).
        ConfigMapVolume.publish(configDir, "config.yaml", config("256M", 2));
        awaitCount(log, "vm.currentCpus: 1 -> 2: applied (2 vCPUs)", 1, client, log);
        awaitCount(serial, "VMRUNNER-GUEST: cpus 2", 1, client, log);
        ConfigMapVolume.publish(configDir, "config.yaml", config("256M", 1));
        awaitCount(log, "vm.currentCpus: 2 -> 1: applied (1 vCPU)", 1, client, log);
        awaitCount(serial, "VMRUNNER-GUEST: cpus 1", 2, client, log); // 1 at boot
        ConfigMapVolume.publish(configDir, "config.yaml", config("256M", 2));
        awaitCount(log, "vm.currentCpus: 1 -> 2: applied (2 vCPUs)", 2, client, log);
        awaitCount(serial, "VMRUNNER-GUEST: cpus 2", 2, client, log);
        System.out.println("the runner re-plugged the emptied vCPU slot; the guest has 2 again");

        long stopping = System.nanoTime();
        Podman.Result stop = Podman.run(Waits.seconds(90), "stop", "-t", "30", name);
        double stopSeconds = (System.nanoTime() - stopping) / 1e9;
        assertTrue(
                client.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS), "podman run did not end");
        String output = Files.readString(log);
        assertEquals(0, stop.code(), stop.output());
        assertEquals(0, client.exitValue(), "container exit code; its log:\n" + output);
        assertTrue(
                Files.readString(serial).contains("VMRUNNER-GUEST: power button"),
                "the guest did not see the power button:\n" + Files.readString(serial));
        assertTrue(stopSeconds < 30, "stop took " + stopSeconds + " s (SIGKILL?)");
        assertTrue(
                Files.exists(data.resolve("uuid.txt")) || !isEmpty(data),
                "nothing persisted in the data volume");
        System.out.printf("graceful stop took %.2f s%n", stopSeconds);
    }

    /** Waits until {@code text} occurs {@code count} times in {@code file}. */
    private static void awaitCount(Path file, String text, int count, Process client, Path log)
            throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (; ; ) {
            String content = Files.exists(file) ? Files.readString(file) : "";
            if (content.split(java.util.regex.Pattern.quote(text), -1).length - 1 >= count) {
                return;
            }
            if (System.nanoTime() - deadline > 0 || !client.isAlive()) {
                fail(
                        "no "
                                + count
                                + " x '"
                                + text
                                + "' in "
                                + file
                                + ":\n"
                                + content
                                + "\ncontainer log:\n"
                                + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    private String config(String currentRam, int currentCpus) {
        return "\"/Runner\":\n"
                + "  dataDir: /var/opt/vmrunner/data\n"
                + "  runtimeDir: /run/vmrunner/runtime\n"
                + "  template: testguest.ftl.yaml\n"
                + "  vm:\n"
                + "    name: container-it\n"
                + "    firmware: bios\n"
                + "    accelerator: tcg\n"
                + "    cpuModel: max\n"
                + "    maximumRam: 512M\n"
                + "    maximumCpus: 3\n"
                + "    currentCpus: "
                + currentCpus
                + "\n"
                + "    currentRam: "
                + currentRam
                + "\n"
                + "    powerdownTimeout: 25\n"
                + "    useTpm: true\n"
                + "    network: []\n";
    }

    /**
     * Pod-style networking: the guest on the pod's network through passt, its port forwarded, all
     * in the restricted pod. The container shares the host's network namespace, standing in for the
     * pod's (a namespace of its own needs podman's CNI bridge here, which changes the host's
     * iptables under other tests), so passt gives the guest the host's address and the guest's web
     * server (port 80) answers on the forwarded port from outside the container. passt runs as the
     * image's user without capabilities, like the runner and QEMU.
     */
    @Test
    void passtPutsTheGuestOnThePodsNetworkWithItsPortForwarded() throws Exception {
        Volumes pod = volumes();
        Path log = dir.resolve("container.log");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        ConfigMapVolume.publish(
                pod.configMap(),
                "config.yaml",
                config("256M", 1)
                        .replace(
                                "    network: []\n",
                                "    network:\n      - type: passt\n        ports: [\""
                                        + port
                                        + ":80\"]\n"));
        String name = name();
        Process client = startRestricted(name, "host", pod, log);
        awaitText(pod.serial(), "VMRUNNER-GUEST: dhcp ", BOOT, client, log);
        String page = fetch(port);
        assertTrue(
                page.startsWith("HTTP/1.") && page.contains("vmrunner-guest"),
                page + "\nserial:\n" + Files.readString(pod.serial()));
        System.out.println(
                "the guest's page through passt on port "
                        + port
                        + ": "
                        + page.lines().filter(l -> l.contains("vmrunner-guest")).findFirst());
        assertUnprivileged(name, "java", "qemu-system-x86_64", "swtpm", "passt");

        Podman.Result stop = Podman.run(Waits.seconds(90), "stop", "-t", "30", name);
        assertTrue(
                client.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS), "podman run did not end");
        assertEquals(0, stop.code(), stop.output());
        assertEquals(
                0, client.exitValue(), "container exit code; its log:\n" + Files.readString(log));
    }

    /** The page the guest's web server serves, fetched from the host on the forwarded port. */
    private static String fetch(int port) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout((int) WAIT.toMillis());
            socket.getOutputStream()
                    .write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * The host directories of a restricted pod's volumes: its ConfigMap, the templates (the test
     * guest's on the {@code pc-q35-9.2} machine upstream's template names, QEMU 9.2 and newer), the
     * data volume, and the test's own volume with the guest's serial log and sockets.
     */
    private record Volumes(Path configMap, Path templates, Path data, Path vm) {
        Path serial() {
            return vm.resolve("serial.log");
        }
    }

    private Volumes volumes() throws IOException {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        String standard =
                Files.readString(
                        Path.of("src/main/resources/templates/Standard-VM-latest.ftl.yaml"));
        assertTrue(standard.contains("\"q35,usb=off"), "the standard template's -machine changed");
        Files.writeString(
                templates.resolve("Q35-9.2.ftl.yaml"),
                standard.replace("\"q35,usb=off", "\"pc-q35-9.2,usb=off"));
        Files.writeString(
                templates.resolve("testguest.ftl.yaml"),
                Files.readString(Path.of("testguest/testguest.ftl.yaml.in"))
                        .replace("Standard-VM-latest.ftl.yaml", "Q35-9.2.ftl.yaml")
                        .replace("@GUEST@", "/guest")
                        .replace("@SERIAL@", "/vm/serial.log")
                        .replace("@CMDSOCK@", "/vm/command.sock")
                        .replace("@TESTQMP@", "/vm/observer.sock")
                        .replace("@APPEND@", ""));
        return new Volumes(
                dir.resolve("configmap"),
                templates,
                ownedByTheImagesUser(dir.resolve("data")),
                ownedByTheImagesUser(dir.resolve("vm")));
    }

    /** Starts the image as a restricted pod with these volumes on {@code --network=NETWORK}. */
    private Process startRestricted(String name, String network, Volumes pod, Path log)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--name", name));
        args.add("--network=" + network);
        args.addAll(RESTRICTED);
        args.addAll(
                List.of(
                        "-e",
                        Waits.ENV + "=" + Waits.text(),
                        "-v",
                        guest + ":/guest:ro",
                        "-v",
                        pod.configMap() + ":/etc/opt/vmrunner:ro",
                        "-v",
                        pod.templates() + ":/opt/vmrunner/templates:ro",
                        "-v",
                        pod.data() + ":/var/opt/vmrunner/data",
                        "-v",
                        pod.vm() + ":/vm",
                        image));
        Process client = Podman.start(log, args.toArray(String[]::new));
        clients.add(client);
        return client;
    }

    /**
     * /dev/kvm as a device plugin hands it to a container: the node's device with the node's owner
     * and mode (here root, group 993, 0660; a copy of the host's node, which keeps its own). The
     * image's user opens it through that group given as a supplemental group (a pod's {@code
     * securityContext.supplementalGroups}, podman's {@code --group-add}), a GID the image does not
     * know; or through the runtime's device ownership (containerd's and CRI-O's {@code
     * device_ownership_from_security_context}: the node owned by the pod's user). Without either,
     * the runner's check names the device and the user. QEMU only opens KVM here ({@code -machine
     * none}): guests under KVM do not boot on our nested hosts.
     */
    @Test
    void opensKvmThroughTheNodesGroupOrDeviceOwnership() throws Exception {
        Path kvm = Path.of("/dev/kvm");
        Assumptions.assumeTrue(Files.exists(kvm), "no /dev/kvm on this host");
        Path byGroup = deviceNodeLike(kvm, dir.resolve("kvm-group"), "0:993");
        Path byOwner = deviceNodeLike(kvm, dir.resolve("kvm-owner"), "107:107");
        Path configDir = dir.resolve("configmap");
        ConfigMapVolume.publish(
                configDir,
                "config.yaml",
                config("256M", 1)
                        .replace("  template: testguest.ftl.yaml\n", "")
                        .replace("accelerator: tcg", "accelerator: kvm")
                        .replace("cpuModel: max", "cpuModel: qemu64"));
        String check = "vmrunner check && ";
        String openKvm =
                "printf 'info kvm\\nquit\\n' | qemu-system-x86_64 -machine none -accel kvm"
                        + " -display none -nodefaults -S -monitor stdio 2>&1 | grep 'kvm support'";

        Podman.Result without = Podman.run(WAIT, kvmRun(configDir, byGroup, check + openKvm));
        assertEquals(2, without.code(), without.output());
        assertTrue(
                without.output()
                        .contains(
                                "vm.accelerator (kvm): /dev/kvm is not readable and writable by"
                                        + " user vmrunner"),
                without.output());
        for (String[] run :
                List.of(
                        kvmRun(configDir, byGroup, check + openKvm, "--group-add", "993"),
                        kvmRun(configDir, byOwner, check + openKvm))) {
            String out = Podman.ok(WAIT, run);
            assertTrue(out.contains("config.yaml: OK"), out);
            assertTrue(out.contains("kvm support: enabled"), "QEMU did not open KVM:\n" + out);
        }
    }

    /** A device node with the major and minor of {@code device}, its owner and mode 0660. */
    private static Path deviceNodeLike(Path device, Path node, String owner) throws Exception {
        Process mknod =
                new ProcessBuilder(
                                "sh",
                                "-c",
                                "mknod -m 0660 \"$2\" c $((0x$(stat -c %t \"$1\")))"
                                        + " $((0x$(stat -c %T \"$1\"))) && chown \"$3\" \"$2\"",
                                "mknod",
                                device.toString(),
                                node.toString(),
                                owner)
                        .redirectErrorStream(true)
                        .start();
        String out = new String(mknod.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, mknod.waitFor(), "mknod " + node + ": " + out);
        return node;
    }

    /**
     * podman run arguments: the restricted pod with {@code node} as /dev/kvm, running {@code sh}.
     */
    private String[] kvmRun(Path configDir, Path node, String script, String... extra) {
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--name", name()));
        args.add("--network=none");
        args.addAll(RESTRICTED);
        args.addAll(List.of(extra));
        args.addAll(
                List.of(
                        "-v",
                        configDir + ":/etc/opt/vmrunner:ro",
                        "--device",
                        node + ":/dev/kvm",
                        "--entrypoint",
                        "/bin/sh",
                        image,
                        "-c",
                        script));
        return args.toArray(String[]::new);
    }

    /**
     * The image's QEMU (10 on Debian 13) plugs a vCPU into a slot an unplug emptied: add, remove
     * (the guest ejects it), add again, and QEMU still runs with both vCPUs (QEMU 7.2 aborts
     * there). With maxcpus 3 that uses up the third of QEMU's three TCG contexts, so {@link
     * CpuReplugPolicy} refuses a further plug (which would abort QEMU 10 too). QEMU runs in the
     * container; the test drives it over a QMP socket in a mounted directory.
     */
    @Test
    void replugsAnEmptiedCpuSlot() throws Exception {
        Path work = ownedByTheImagesUser(dir.resolve("replug"));
        Path serial = work.resolve("serial.log");
        Path log = dir.resolve("replug.log");
        String name = name();
        Process client =
                Podman.start(
                        log,
                        "run",
                        "--rm",
                        "--name",
                        name,
                        "--network=none",
                        "--cap-drop=ALL",
                        "--security-opt=no-new-privileges",
                        "-v",
                        guest + ":/guest:ro",
                        "-v",
                        work + ":/work",
                        "--entrypoint",
                        "/usr/bin/qemu-system-x86_64",
                        image,
                        "-machine",
                        "pc-q35-9.2,accel=tcg",
                        "-cpu",
                        "max",
                        "-smp",
                        "1,maxcpus=3",
                        "-m",
                        "256M",
                        "-nodefaults",
                        "-display",
                        "none",
                        "-no-reboot",
                        "-kernel",
                        "/guest/vmlinuz",
                        "-initrd",
                        "/guest/initrd.img",
                        "-append",
                        "console=ttyS0 panic=-1",
                        "-serial",
                        "file:/work/serial.log",
                        "-qmp",
                        "unix:/work/qmp.sock,server=on,wait=off");
        clients.add(client);
        awaitText(serial, "VMRUNNER-GUEST: booted", BOOT, client, log);
        try (QmpConnection connection =
                QmpConnection.connect(work.resolve("qmp.sock"), WAIT, null)) {
            Qmp qmp = new Qmp(connection, WAIT);
            QemuVersion version = get(qmp.queryVersion());
            System.out.println("QEMU in the image: " + version);
            assertTrue(version.atLeast(10, 0), "the image's QEMU is " + version);
            assertTrue(CpuReplugPolicy.emptiedSlotsReusable(version));

            long start = System.nanoTime();
            HotpluggableCpu slot = plugTheLowestFreeSlot(qmp, "cpu1");
            awaitCpus(qmp, 2, client, log);
            awaitText(serial, "VMRUNNER-GUEST: cpus 2", BOOT, client, log);
            System.out.printf("plugged and onlined after %.1f s%n", seconds(start));
            get(qmp.deleteDevice("cpu1"));
            awaitCpus(qmp, 1, client, log);
            System.out.printf("unplugged after %.1f s%n", seconds(start));
            assertTrue(CpuReplugPolicy.mayPlug(version, "tcg", true, 2, 3));
            HotpluggableCpu again = plugTheLowestFreeSlot(qmp, "cpu1-again");
            assertEquals(slot.props(), again.props(), "not the emptied slot");
            awaitCpus(qmp, 2, client, log);
            Thread.sleep(2000);
            assertTrue(client.isAlive(), "QEMU ended after the re-plug:\n" + Files.readString(log));
            assertEquals("running", get(qmp.queryStatus()).status());
            assertEquals(2, get(qmp.queryCpusFast()).size());
            System.out.printf("re-plugged the emptied slot after %.1f s%n", seconds(start));
            // Three vCPUs created with maxcpus 3: every TCG context is used.
            assertFalse(CpuReplugPolicy.mayPlug(version, "tcg", false, 3, 3));
            get(qmp.quit());
        }
        assertTrue(client.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS), "QEMU did not quit");
    }

    /** Plugs a vCPU into the free slot with the lowest core-id; returns that slot. */
    private static HotpluggableCpu plugTheLowestFreeSlot(Qmp qmp, String id) throws Exception {
        HotpluggableCpu slot =
                get(qmp.queryHotpluggableCpus()).stream()
                        .filter(HotpluggableCpu::isFree)
                        .min(Comparator.comparingInt(s -> s.props().get("core-id").getAsInt()))
                        .orElseThrow();
        get(qmp.addCpu(slot, id));
        return slot;
    }

    private static void awaitCpus(Qmp qmp, int count, Process client, Path log) throws Exception {
        long deadline = System.nanoTime() + BOOT.toNanos();
        List<CpuInfo> cpus = List.of();
        while (System.nanoTime() < deadline) {
            if (!client.isAlive()) {
                fail("QEMU ended (" + client.exitValue() + "):\n" + Files.readString(log));
            }
            cpus = get(qmp.queryCpusFast());
            if (cpus.size() == count) {
                return;
            }
            Thread.sleep(100);
        }
        fail("QEMU has " + cpus.size() + " vCPUs, not " + count + ", after " + BOOT);
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private String name() {
        String name = "vmrunner-it-" + UUID.randomUUID().toString().substring(0, 8);
        containers.add(name);
        return name;
    }

    private static void awaitText(
            Path file, String text, Duration timeout, Process client, Path log) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return;
            }
            if (!client.isAlive()) {
                fail(
                        "the container ended ("
                                + client.exitValue()
                                + ") before '"
                                + text
                                + "' appeared in "
                                + file.getFileName()
                                + "; its log:\n"
                                + Files.readString(log));
            }
            Thread.sleep(100);
        }
        fail(
                "'"
                        + text
                        + "' did not appear in "
                        + file.getFileName()
                        + " within "
                        + timeout
                        + "; container log:\n"
                        + Files.readString(log));
    }

    /**
     * The runner and its children in container {@code name}, the processes of each of {@code
     * programs} (executables' names; passt may run as passt.avx2), run as the image's user, with no
     * capabilities and no way to gain any, on a root file system they cannot write.
     */
    private static void assertUnprivileged(String name, String... programs) throws Exception {
        String status =
                Podman.ok(
                        WAIT,
                        "exec",
                        name,
                        "sh",
                        "-c",
                        "for p in /proc/[0-9]*; do c=$(cat $p/comm 2>/dev/null); case $c in"
                                + " java|qemu-system-x*|swtpm|passt*) echo \"process $c"
                                + " $(grep -E '^(Uid|Gid|CapEff|CapPrm|NoNewPrivs):' $p/status"
                                + " | tr -s '\\t\\n' '  ')\";; esac; done;"
                                + " touch /opt/vmrunner/lib/x 2>&1 || true");
        // By the command name: passt makes itself undumpable, so its /proc/PID/exe is root's.
        List<String> processes = status.lines().filter(l -> l.startsWith("process ")).toList();
        List<String> names =
                processes.stream()
                        .map(l -> l.split(" ")[1])
                        .map(n -> n.startsWith("passt") ? "passt" : n)
                        .map(n -> n.startsWith("qemu-system-x") ? "qemu-system-x86_64" : n)
                        .distinct() // swtpm may be two processes
                        .sorted()
                        .toList();
        assertEquals(Arrays.stream(programs).sorted().toList(), names, status);
        for (String process : processes) {
            assertTrue(
                    process.contains("Uid: 107 107 107 107")
                            && process.contains("Gid: 107 107 107 107")
                            && process.contains("CapPrm: 0000000000000000")
                            && process.contains("CapEff: 0000000000000000")
                            && process.contains("NoNewPrivs: 1"),
                    "not the unprivileged user:\n" + status);
        }
        assertTrue(status.contains("Read-only file system"), status);
        System.out.println(String.join(", ", programs) + " unprivileged:\n" + status.strip());
    }

    /**
     * Creates {@code dir} owned by the image's user, as a volume is for a pod whose fsGroup or
     * volume owner is that user; the test runs as root.
     */
    private static Path ownedByTheImagesUser(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setAttribute(dir, "unix:uid", USER);
        Files.setAttribute(dir, "unix:gid", USER);
        return dir;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }
}
