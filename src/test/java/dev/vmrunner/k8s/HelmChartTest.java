package dev.vmrunner.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.Drive;
import dev.vmrunner.config.Network;
import dev.vmrunner.config.RunnerConfig;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1PersistentVolumeClaim;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V1VolumeDevice;
import io.kubernetes.client.openapi.models.V1VolumeMount;
import io.kubernetes.client.openapi.models.V1VolumeProjection;
import io.kubernetes.client.util.Yaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Helm chart (deploy/helm/vmrunner) with every value set in deploy/helm/test-values: {@code
 * helm lint --strict}, {@code helm template}, the rendered manifests parsed strictly into the
 * Kubernetes API types (an unknown field or a wrong type fails), the ConfigMap's config.yaml
 * validated by the runner itself, and the packaging contract: the config directory mounted as a
 * whole, a grace period beyond powerdownTimeout, no config checksum annotation. Helm runs in the
 * JVM (helm-java); no cluster is needed.
 */
class HelmChartTest {

    static final Path CHART = Path.of("deploy/helm/vmrunner").toAbsolutePath();
    static final Path VALUES = Path.of("deploy/helm/test-values").toAbsolutePath();
    static final String CONFIG_DIR = "/etc/opt/vmrunner";

    @TempDir Path tmp;

    static Stream<Path> valueSets() throws IOException {
        try (Stream<Path> files = Files.list(VALUES)) {
            List<Path> sets = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
            assertTrue(sets.size() >= 3, "value sets in " + VALUES);
            return sets.stream();
        }
    }

    /** The rendered manifests of one release. */
    record Rendered(
            V1StatefulSet statefulSet,
            V1ConfigMap config,
            List<V1ConfigMap> configMaps,
            List<V1PersistentVolumeClaim> claims,
            List<V1Secret> secrets,
            List<V1Service> services,
            List<String> serviceMonitors,
            RunnerConfig runner,
            List<Object> reporting) {

        V1PodSpec pod() {
            return statefulSet.getSpec().getTemplate().getSpec();
        }

        V1Container runnerContainer() {
            return pod().getContainers().stream()
                    .filter(c -> c.getName().equals("vmrunner"))
                    .findFirst()
                    .orElseThrow();
        }

        V1Volume volume(String name) {
            return pod().getVolumes().stream()
                    .filter(v -> v.getName().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no volume " + name));
        }

        Optional<V1VolumeMount> mountAt(String path) {
            return Optional.ofNullable(runnerContainer().getVolumeMounts())
                    .orElse(List.of())
                    .stream()
                    .filter(m -> m.getMountPath().equals(path))
                    .findFirst();
        }
    }

    static Rendered render(Path values) throws Exception {
        return render("myvm", values);
    }

    static Rendered render(String release, Path values) throws Exception {
        String manifests =
                new Helm(CHART)
                        .template()
                        .withName(release)
                        .withNamespace("vms")
                        .withValuesFile(values)
                        .call();
        List<V1StatefulSet> sets = new ArrayList<>();
        List<V1ConfigMap> maps = new ArrayList<>();
        List<V1PersistentVolumeClaim> claims = new ArrayList<>();
        List<V1Secret> secrets = new ArrayList<>();
        List<V1Service> services = new ArrayList<>();
        // The Prometheus Operator's kind is no type of the client: kept as text.
        List<String> monitors = new ArrayList<>();
        // The runner's ServiceAccount, Role and RoleBinding (reporting.enabled).
        List<Object> reporting = new ArrayList<>();
        StringBuilder core = new StringBuilder();
        for (String doc : manifests.split("(?m)^---$")) {
            if (doc.contains("\nkind: ServiceMonitor\n")) {
                monitors.add(doc);
            } else if (!doc.isBlank()) {
                core.append("\n---").append(doc);
            }
        }
        for (Object o :
                Yaml.loadAll(core.toString())) { // strict: unknown fields and wrong types fail
            if (o instanceof V1StatefulSet s) {
                sets.add(s);
            } else if (o instanceof V1ConfigMap m) {
                maps.add(m);
            } else if (o instanceof V1PersistentVolumeClaim c) {
                claims.add(c);
            } else if (o instanceof V1Secret x) {
                secrets.add(x);
            } else if (o instanceof V1Service v) {
                services.add(v);
            } else if (o instanceof V1ServiceAccount
                    || o instanceof V1Role
                    || o instanceof V1RoleBinding) {
                reporting.add(o);
            } else {
                throw new AssertionError("unexpected kind " + o.getClass().getSimpleName());
            }
        }
        assertEquals(1, sets.size(), "one StatefulSet");
        V1StatefulSet set = sets.get(0);
        V1ConfigMap config =
                maps.stream()
                        .filter(m -> m.getData() != null && m.getData().containsKey("config.yaml"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no ConfigMap with config.yaml"));
        ConfigLoader.Loaded loaded =
                ConfigLoader.parseWithWarnings(
                        config.getData().get("config.yaml"),
                        Path.of(CONFIG_DIR, "config.yaml"),
                        Map.of());
        assertEquals(List.of(), loaded.warnings(), "warnings for the rendered config.yaml");
        return new Rendered(
                set, config, maps, claims, secrets, services, monitors, loaded.config(), reporting);
    }

    @ParameterizedTest
    @MethodSource("valueSets")
    void lintsStrictlyWithTheValueSet(Path values) throws Exception {
        // helm-java's lint takes no values file: lint a copy of the chart whose values.yaml
        // is the defaults with the set merged in, as "helm lint -f" would.
        Path chart = tmp.resolve("vmrunner");
        copyTree(CHART, chart);
        Map<String, Object> merged =
                merge(loadYaml(CHART.resolve("values.yaml")), loadYaml(values));
        Files.writeString(chart.resolve("values.yaml"), new org.yaml.snakeyaml.Yaml().dump(merged));
        LintResult result = new Helm(chart).lint().strict().call();
        List<String> problems =
                result.getMessages().stream().filter(m -> !m.startsWith("[INFO]")).toList();
        assertFalse(result.isFailed(), String.join("\n", result.getMessages()));
        assertEquals(List.of(), problems);
    }

    @ParameterizedTest
    @MethodSource("valueSets")
    void rendersValidManifestsThatKeepTheContract(Path values) throws Exception {
        Rendered r = render(values);
        V1StatefulSet set = r.statefulSet();
        assertEquals(1, set.getSpec().getReplicas(), "one VM, one pod");

        // The config directory: the whole ConfigMap volume, read-only, never a subPath.
        V1VolumeMount config =
                r.mountAt(CONFIG_DIR)
                        .orElseThrow(() -> new AssertionError("nothing mounted at " + CONFIG_DIR));
        assertNull(config.getSubPath(), "subPath mounts never receive ConfigMap updates");
        assertNull(config.getSubPathExpr());
        assertEquals(Boolean.TRUE, config.getReadOnly());
        V1Volume volume = r.volume(config.getName());
        boolean projected = volume.getProjected() != null;
        var projection =
                projected ? volume.getProjected().getSources().get(0).getConfigMap() : null;
        assertTrue(projected || volume.getConfigMap() != null, "a ConfigMap (or projected) volume");
        assertEquals(
                r.config().getMetadata().getName(),
                projected ? projection.getName() : volume.getConfigMap().getName());
        var items = projected ? projection.getItems() : volume.getConfigMap().getItems();
        assertTrue(items == null || items.isEmpty(), "all keys, as the runner expects");
        for (V1Container c : r.pod().getContainers()) {
            for (V1VolumeMount m : Optional.ofNullable(c.getVolumeMounts()).orElse(List.of())) {
                assertNull(
                        m.getSubPath(), c.getName() + " mounts " + m.getName() + " with subPath");
            }
        }
        assertEquals(CONFIG_DIR + "/config.yaml", r.runner().configFile().toString());

        // Grace period: longer than powerdownTimeout plus the runner's own 5 s kill ladder.
        long grace = r.pod().getTerminationGracePeriodSeconds();
        int powerdown = r.runner().vm().powerdownTimeout();
        assertTrue(
                grace >= powerdown + 10,
                "terminationGracePeriodSeconds " + grace + " vs powerdownTimeout " + powerdown);

        // No checksum of the config in the pod template: an edit must not restart the VM.
        Map<String, String> annotations =
                Optional.ofNullable(set.getSpec().getTemplate().getMetadata().getAnnotations())
                        .orElse(Map.of());
        assertTrue(
                annotations.keySet().stream()
                        .noneMatch(k -> k.toLowerCase(Locale.ROOT).contains("checksum")),
                "pod annotations " + annotations);

        // The runner is PID 1 of the image: no command override; args only as the values ask.
        assertTrue(empty(r.runnerContainer().getCommand()), "command overridden");
        Map<String, Object> given = loadYaml(values);
        assertEquals(
                given.getOrDefault("args", List.of()),
                Optional.ofNullable(r.runnerContainer().getArgs()).orElse(List.of()),
                "args");

        // The data directory (NVRAM, TPM state, uuid) is on a persistent volume, the runtime
        // directory is not.
        V1VolumeMount data =
                r.mountAt(r.runner().dataDir().toString())
                        .orElseThrow(() -> new AssertionError("nothing mounted at dataDir"));
        V1Volume dataVolume = r.volume(data.getName());
        assertTrue(
                dataVolume.getPersistentVolumeClaim() != null || dataVolume.getEmptyDir() != null,
                "dataDir is on " + dataVolume);
        String runtimeDir = r.runner().runtimeDir().toString();
        V1VolumeMount runtime =
                r.runnerContainer().getVolumeMounts().stream()
                        .filter(m -> runtimeDir.startsWith(m.getMountPath() + "/"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("runtimeDir is in no volume"));
        assertNotNull(r.volume(runtime.getName()).getEmptyDir());

        // Networking and devices: host networking, NET_ADMIN and tun only for a tap interface,
        // /dev/kvm from the device plugin only with KVM; never privileged.
        boolean tap =
                r.runner().vm().network().stream().anyMatch(n -> Network.TAP.equals(n.type()));
        assertEquals(tap, Boolean.TRUE.equals(r.pod().getHostNetwork()), "host network");
        var security = r.runnerContainer().getSecurityContext();
        assertEquals(Boolean.FALSE, security.getPrivileged());
        var added = security.getCapabilities().getAdd();
        assertEquals(tap ? List.of("NET_ADMIN") : List.of(), empty(added) ? List.of() : added);
        Map<String, ?> limits =
                Optional.ofNullable(r.runnerContainer().getResources().getLimits())
                        .map(l -> (Map<String, ?>) l)
                        .orElse(Map.of());
        assertEquals(
                "kvm".equals(r.runner().vm().accelerator()),
                limits.containsKey("devices.kubevirt.io/kvm"),
                "/dev/kvm from the device plugin: " + limits);
        assertEquals(tap, limits.containsKey("devices.kubevirt.io/tun"), "tun: " + limits);

        // Every drive is reachable in the container: block claims as devices, image files on
        // mounted filesystem claims.
        List<String> devices =
                Optional.ofNullable(r.runnerContainer().getVolumeDevices())
                        .orElse(List.of())
                        .stream()
                        .map(V1VolumeDevice::getDevicePath)
                        .toList();
        for (Drive drive : r.runner().vm().drives()) {
            if (drive.device() != null) {
                assertTrue(devices.contains(drive.device()), drive + " not in " + devices);
            } else if (drive.file() != null) {
                assertTrue(
                        r.runnerContainer().getVolumeMounts().stream()
                                .anyMatch(m -> drive.file().startsWith(m.getMountPath() + "/")),
                        drive + " is on no mounted volume");
            }
        }
        for (V1PersistentVolumeClaim claim : r.claims()) {
            String mode = claim.getSpec().getVolumeMode();
            assertTrue("Block".equals(mode) || "Filesystem".equals(mode), claim.toString());
        }

        // A template named in config.yaml must be mounted (the standard one is built in).
        if (r.runner().template() != null) {
            assertTrue(
                    r.mountAt("/opt/vmrunner/templates").isPresent(),
                    "template " + r.runner().template() + " but no templates mounted");
        }
        assertOperable(r);
        Map<String, Object> merged =
                merge(loadYaml(CHART.resolve("values.yaml")), loadYaml(values));
        if (!memoryOverridden(merged)) {
            String memory = expectedMemory(r, merged);
            assertEquals(memory, quantity(r, true, "memory"), "memory request");
            assertEquals(memory, quantity(r, false, "memory"), "memory limit");
        }
    }

    /**
     * What makes the release operable on a cluster, for any release and disk names: names
     * Kubernetes accepts, nothing clashing, the Service the StatefulSet names, a memory request,
     * probes on the runner's CLI, the log as the termination message.
     */
    static void assertOperable(Rendered r) {
        V1StatefulSet set = r.statefulSet();
        String name = set.getMetadata().getName();
        // The pods' controller-revision-hash label is "<name>-<up to 10 characters>".
        assertTrue(name.length() <= 52, name + ": " + name.length() + " characters");
        assertTrue(name.matches(DNS_LABEL), name);
        List<String> objects = new ArrayList<>();
        r.configMaps().forEach(m -> objects.add(m.getMetadata().getName()));
        r.secrets().forEach(m -> objects.add(m.getMetadata().getName()));
        for (String object : objects) {
            assertTrue(object.length() <= 253 && object.matches(DNS_SUBDOMAIN), object);
        }
        List<String> claims = r.claims().stream().map(c -> c.getMetadata().getName()).toList();
        assertEquals(claims.size(), Set.copyOf(claims).size(), "claim names clash: " + claims);
        claims.forEach(c -> assertTrue(c.length() <= 253 && c.matches(DNS_SUBDOMAIN), c));
        List<String> volumes = r.pod().getVolumes().stream().map(V1Volume::getName).toList();
        assertEquals(volumes.size(), Set.copyOf(volumes).size(), "volume names clash: " + volumes);
        volumes.forEach(v -> assertTrue(v.length() <= 63 && v.matches(DNS_LABEL), v));
        List<String> claimed =
                r.pod().getVolumes().stream()
                        .filter(v -> v.getPersistentVolumeClaim() != null)
                        .map(v -> v.getPersistentVolumeClaim().getClaimName())
                        .toList();
        assertEquals(claimed.size(), Set.copyOf(claimed).size(), "one claim, two volumes");

        // The Service that serviceName names, selecting the pod.
        assertEquals(1, r.services().size(), "one Service");
        V1Service service = r.services().get(0);
        String serviceName = service.getMetadata().getName();
        assertEquals(set.getSpec().getServiceName(), serviceName);
        assertTrue(serviceName.length() <= 63 && serviceName.matches(DNS_1035), serviceName);
        // Headless by default; else a cluster IP the API server picks.
        String clusterIp = service.getSpec().getClusterIP();
        assertTrue(clusterIp == null || clusterIp.equals("None"), clusterIp);
        assertEquals(set.getSpec().getSelector().getMatchLabels(), service.getSpec().getSelector());
        Map<String, String> podLabels = set.getSpec().getTemplate().getMetadata().getLabels();
        service.getSpec().getSelector().forEach((k, v) -> assertEquals(v, podLabels.get(k), k));
        String pod = name + "-0";
        assertTrue(pod.length() <= 63 && pod.matches(DNS_LABEL), pod);

        // Never BestEffort: a memory request (and by default the same limit).
        V1Container c = r.runnerContainer();
        assertNotNull(quantity(r, true, "memory"), "memory request");
        assertEquals("FallbackToLogsOnError", c.getTerminationMessagePolicy());

        // Probes: HTTP GETs of the kubelet on the runner's port, no process in the pod (no JVM
        // exec); liveness on /healthz (the loop answers), and patient.
        assertHttpProbe("/readyz", c.getStartupProbe(), c);
        assertHttpProbe("/readyz", c.getReadinessProbe(), c);
        assertHttpProbe("/healthz", c.getLivenessProbe(), c);
        for (V1Container any : allContainers(r.pod())) {
            for (var probe :
                    Stream.of(
                                    any.getStartupProbe(),
                                    any.getReadinessProbe(),
                                    any.getLivenessProbe())
                            .filter(java.util.Objects::nonNull)
                            .toList()) {
                assertNull(probe.getExec(), any.getName() + ": an exec probe " + probe);
            }
        }
        var live = c.getLivenessProbe();
        assertTrue(
                live.getPeriodSeconds() * live.getFailureThreshold() >= 180,
                "liveness gives up after less than 3 minutes");
        assertTrue(live.getTimeoutSeconds() >= 2, "liveness timeout");
        var startup = c.getStartupProbe();
        assertTrue(
                startup.getPeriodSeconds() * startup.getFailureThreshold() >= 300,
                "the startup probe gives the runner less than 5 minutes");
    }

    /** An HTTP probe of PATH on the container's port "http", which runner.http listens on. */
    static void assertHttpProbe(
            String path, io.kubernetes.client.openapi.models.V1Probe probe, V1Container c) {
        assertNotNull(probe, path);
        assertNull(probe.getExec(), "no exec probe");
        assertEquals(path, probe.getHttpGet().getPath());
        assertEquals("http", probe.getHttpGet().getPort().getStrValue());
        assertTrue(
                c.getPorts().stream().anyMatch(p -> "http".equals(p.getName())),
                "no container port http");
    }

    static List<V1Container> allContainers(V1PodSpec pod) {
        List<V1Container> all = new ArrayList<>(pod.getContainers());
        Optional.ofNullable(pod.getInitContainers()).ifPresent(all::addAll);
        return all;
    }

    @Test
    void anyReleaseNameHelmAcceptsFits() throws Exception {
        Path data = VALUES.resolve("data-disk-and-knobs.yaml");
        // 53 characters is the longest release name helm accepts.
        String a = "a" + "0123456789".repeat(5) + "-1";
        String b = "a" + "0123456789".repeat(5) + "-2";
        assertEquals(53, a.length());
        assertThrows(Exception.class, () -> render(a + "x", data), "helm takes at most 53");
        Rendered ra = render(a, data);
        Rendered rb = render(b, data);
        assertOperable(ra);
        assertOperable(rb);
        assertEquals(52, ra.statefulSet().getMetadata().getName().length());
        assertNotEquals(
                ra.statefulSet().getMetadata().getName(),
                rb.statefulSet().getMetadata().getName(),
                "two long names stay distinct");
        assertEquals(a, ra.statefulSet().getMetadata().getLabels().get(INSTANCE));
        // A release name with a digit first and a dot: the Service name starts with a letter.
        Rendered digit = render("1.vm", VALUES.resolve("default.yaml"));
        assertOperable(digit);
        assertEquals("1-vm-vmrunner", digit.statefulSet().getMetadata().getName());
        assertEquals("vm-1-vm-vmrunner", digit.services().get(0).getMetadata().getName());
        // A 52-character name is kept as it is.
        String fits = "v".repeat(43);
        assertEquals(fits + "-vmrunner", render(fits, data).statefulSet().getMetadata().getName());
    }

    @Test
    void aDiskNamedDataHasAClaimOfItsOwn() throws Exception {
        Rendered r = render(VALUES.resolve("data-disk-and-knobs.yaml"));
        assertEquals(
                List.of("myvm-vmrunner-data", "myvm-vmrunner-disk-root", "myvm-vmrunner-disk-data"),
                r.claims().stream().map(c -> c.getMetadata().getName()).toList());
        assertEquals(
                "myvm-vmrunner-data", r.volume("data").getPersistentVolumeClaim().getClaimName());
        assertEquals(
                "myvm-vmrunner-disk-data",
                r.volume("disk-data").getPersistentVolumeClaim().getClaimName());
        assertEquals(
                "/var/opt/vmrunner/disks/data/disk.img", r.runner().vm().drives().get(1).file());
        Exception twice =
                assertThrows(
                        Exception.class,
                        () ->
                                new Helm(CHART)
                                        .template()
                                        .withName("x")
                                        .set("disks[0].name", "a")
                                        .set("disks[0].size", "1Gi")
                                        .set("disks[1].name", "a")
                                        .set("disks[1].size", "1Gi")
                                        .call());
        assertTrue(twice.getMessage().contains("two disks are named \"a\""), twice.getMessage());
    }

    @Test
    void memoryIsMaximumRamPlusTheMeasuredOverheads() throws Exception {
        // 1G + runner 160 + QEMU under KVM 64
        assertEquals("1248Mi", quantity(render(VALUES.resolve("default.yaml")), true, "memory"));
        // 512M + 160 + QEMU under TCG 256
        Rendered tcg = render(VALUES.resolve("test-guest.yaml"));
        assertEquals("928Mi", quantity(tcg, true, "memory"));
        assertEquals("928Mi", quantity(tcg, false, "memory"));
        // 1536M + 160 + 64 + swtpm 16
        Rendered tpm = render(VALUES.resolve("data-disk-and-knobs.yaml"));
        assertEquals("1776Mi", quantity(tpm, true, "memory"));
        // resources override the derived values
        Rendered given = render(VALUES.resolve("user-network-devices.yaml"));
        assertEquals("4608Mi", quantity(given, true, "memory"));
        assertEquals("5Gi", quantity(given, false, "memory"));
        assertEquals("1", quantity(given, false, "devices.kubevirt.io/kvm"));
        // decimal units, rounded up to whole MiB; no limit when asked
        String manifests =
                new Helm(CHART)
                        .template()
                        .withName("x")
                        .set("vm.maximumRam", "1.5GB")
                        .set("memory.limit", "false")
                        .call();
        V1StatefulSet set =
                Yaml.loadAll(manifests).stream()
                        .filter(V1StatefulSet.class::isInstance)
                        .map(V1StatefulSet.class::cast)
                        .findFirst()
                        .orElseThrow();
        var resources = set.getSpec().getTemplate().getSpec().getContainers().get(0).getResources();
        assertEquals("1655Mi", resources.getRequests().get("memory").toSuffixedString());
        assertTrue(resources.getLimits() == null || !resources.getLimits().containsKey("memory"));
    }

    @Test
    void theUsualKnobsAreRendered() throws Exception {
        Rendered r = render(VALUES.resolve("data-disk-and-knobs.yaml"));
        V1PodSpec pod = r.pod();
        assertEquals(Map.of("kubernetes.io/os", "linux"), pod.getNodeSelector());
        assertEquals("vms", pod.getTolerations().get(0).getValue());
        assertNotNull(pod.getAffinity().getNodeAffinity());
        assertEquals(107L, pod.getSecurityContext().getFsGroup());
        assertEquals("OnRootMismatch", pod.getSecurityContext().getFsGroupChangePolicy());
        var security = r.runnerContainer().getSecurityContext();
        assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
        assertEquals(Boolean.FALSE, security.getPrivileged());
        var template = r.statefulSet().getSpec().getTemplate().getMetadata();
        assertEquals("team-a", template.getAnnotations().get("example.com/owner"));
        assertEquals("vm", template.getLabels().get("example.com/tier"));
        assertEquals("a", template.getLabels().get("example.com/team"));
        assertEquals("a", r.statefulSet().getMetadata().getLabels().get("example.com/team"));
        assertEquals("a", r.services().get(0).getMetadata().getLabels().get("example.com/team"));
        r.claims()
                .forEach(
                        c ->
                                assertEquals(
                                        "a", c.getMetadata().getLabels().get("example.com/team")));
        var ports = r.services().get(0).getSpec().getPorts();
        assertEquals(List.of("http", "spice"), ports.stream().map(p -> p.getName()).toList());
        assertEquals(5930, ports.get(1).getPort());
        // The ServiceMonitor on the Service's http port, with its labels.
        assertEquals(1, r.serviceMonitors().size());
        String monitor = r.serviceMonitors().get(0);
        assertTrue(monitor.contains("- port: http\n      path: /metrics"), monitor);
        assertTrue(monitor.contains("release: prometheus"), monitor);
        assertEquals(List.of(), render(VALUES.resolve("default.yaml")).serviceMonitors());
    }

    static final String INSTANCE = "app.kubernetes.io/instance";
    static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    static final String DNS_1035 = "[a-z]([-a-z0-9]*[a-z0-9])?";
    static final String DNS_SUBDOMAIN = DNS_LABEL + "(\\." + DNS_LABEL + ")*";

    /** A request ({@code true}) or limit of the runner container, or null. */
    static String quantity(Rendered r, boolean request, String resource) {
        var resources = r.runnerContainer().getResources();
        var map = request ? resources.getRequests() : resources.getLimits();
        return map == null || !map.containsKey(resource)
                ? null
                : map.get(resource).toSuffixedString();
    }

    @SuppressWarnings("unchecked") // YAML mappings
    static boolean memoryOverridden(Map<String, Object> values) {
        Map<String, Object> resources =
                (Map<String, Object>) values.getOrDefault("resources", Map.of());
        return resources.containsKey("requests") || resources.containsKey("limits");
    }

    /** The formula of values.yaml, with the runner's own reading of maximumRam. */
    @SuppressWarnings("unchecked") // YAML mappings
    static String expectedMemory(Rendered r, Map<String, Object> values) {
        Map<String, Object> memory = (Map<String, Object>) values.get("memory");
        var vm = r.runner().vm();
        long mib = (vm.maximumRam() + (1 << 20) - 1) >> 20;
        mib += ((Number) memory.get("runnerMiB")).longValue();
        mib +=
                ((Number) memory.get("kvm".equals(vm.accelerator()) ? "qemuKvmMiB" : "qemuTcgMiB"))
                        .longValue();
        if (vm.useTpm()) {
            mib += ((Number) memory.get("swtpmMiB")).longValue();
        }
        return mib + "Mi";
    }

    @Test
    void defaultsAreAnUnprivilegedUserNetworkUefiVm() throws Exception {
        Rendered r = render(VALUES.resolve("default.yaml"));
        assertNull(r.pod().getHostNetwork());
        assertEquals("user", r.runner().vm().network().get(0).type());
        assertEquals("kvm", r.runner().vm().accelerator());
        var pod = r.pod().getSecurityContext();
        assertEquals(107L, pod.getRunAsUser());
        assertEquals(107L, pod.getRunAsGroup());
        assertEquals(Boolean.TRUE, pod.getRunAsNonRoot());
        assertEquals("RuntimeDefault", pod.getSeccompProfile().getType());
        assertTrue(empty(pod.getSupplementalGroups()), "no kvm group unless given");
        var container = r.runnerContainer().getSecurityContext();
        assertEquals(Boolean.FALSE, container.getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), container.getCapabilities().getDrop());
        assertEquals(Boolean.TRUE, container.getReadOnlyRootFilesystem());
        assertEquals("0.0.0.0:8080", r.runner().http().toString());
        assertEquals(930L, r.pod().getTerminationGracePeriodSeconds());
        assertEquals("myvm-vmrunner", r.runner().vm().name());
        assertEquals("/var/opt/vmrunner/data", r.runner().dataDir().toString());
        assertEquals(1, r.claims().size(), "the data claim");
        assertEquals(
                "keep",
                r.claims().get(0).getMetadata().getAnnotations().get("helm.sh/resource-policy"));
    }

    @Test
    void displayPasswordSecretIsProjectedBesideTheConfig() throws Exception {
        Rendered r = render(VALUES.resolve("display-password.yaml"));
        assertEquals(1, r.secrets().size(), "the chart makes the display password's Secret");
        V1Secret secret = r.secrets().get(0);
        assertEquals("myvm-vmrunner-display", secret.getMetadata().getName());
        assertEquals("t0p-s3cret", secret.getStringData().get("display-password"));
        assertEquals("+3600", secret.getStringData().get("password-expiry"));
        V1Volume volume = r.volume(r.mountAt(CONFIG_DIR).orElseThrow().getName());
        List<V1VolumeProjection> sources = volume.getProjected().getSources();
        assertEquals("myvm-vmrunner-config", sources.get(0).getConfigMap().getName());
        assertEquals("myvm-vmrunner-display", sources.get(1).getSecret().getName());
        // Only the password's keys, readable by the runner's group (fsGroup) alone: 0440.
        var items = sources.get(1).getSecret().getItems();
        assertEquals(
                List.of("display-password", "password-expiry"),
                items.stream().map(i -> i.getKey()).toList());
        items.forEach(i -> assertEquals(0440, i.getMode(), i.getKey()));
        items.forEach(i -> assertEquals(i.getKey(), i.getPath()));
        // An existing Secret without an expiry: only the password; as root without fsGroup
        // (a tap interface): 0400.
        V1Volume existing =
                renderSet(
                                Map.of(
                                        "displayPassword.secretName", "mine",
                                        "vm.network[0].type", "tap",
                                        "vm.network[0].bridge", "br0",
                                        "security.fsGroup", "null"))
                        .volume("config");
        var only = existing.getProjected().getSources().get(1).getSecret();
        assertEquals("mine", only.getName());
        assertEquals(1, only.getItems().size());
        assertEquals(0400, only.getItems().get(0).getMode());
        // A non-root runner without fsGroup could not read the files: refused.
        Exception unreadable =
                assertThrows(
                        Exception.class,
                        () ->
                                renderSet(
                                        Map.of(
                                                "displayPassword.secretName", "mine",
                                                "security.fsGroup", "null")));
        assertTrue(
                unreadable.getMessage().contains("set security.fsGroup"), unreadable.getMessage());
        // no Secret, a plain ConfigMap volume, without displayPassword
        Rendered plain = render(VALUES.resolve("default.yaml"));
        assertEquals(List.of(), plain.secrets());
        assertNotNull(plain.volume("config").getConfigMap());
    }

    @Test
    void disksBecomeClaimsAndDrivesInOrder() throws Exception {
        Rendered r = render(VALUES.resolve("user-network-devices.yaml"));
        List<Drive> drives = r.runner().vm().drives();
        assertEquals("/dev/vmrunner/root", drives.get(0).device());
        assertEquals(1, drives.get(0).bootindex());
        assertEquals("/var/opt/vmrunner/disks/scratch/scratch.img", drives.get(1).file());
        assertTrue(drives.get(2).isCd());
        assertEquals(3, drives.size(), "the iso claim is mounted, not attached");
        assertEquals(
                List.of(
                        "myvm-vmrunner-data",
                        "myvm-vmrunner-disk-root",
                        "myvm-vmrunner-disk-scratch"),
                r.claims().stream().map(c -> c.getMetadata().getName()).toList());
        assertEquals(150L, r.pod().getTerminationGracePeriodSeconds());
        assertNull(r.pod().getHostNetwork());
        assertEquals("custom.ftl.yaml", r.runner().template());
        assertTrue(
                r.configMaps().stream().anyMatch(m -> m.getData().containsKey("custom.ftl.yaml")));
        V1Container init = r.pod().getInitContainers().get(0);
        assertEquals(
                List.of("/var/opt/vmrunner/disks/scratch/scratch.img", "10G"),
                init.getCommand().subList(init.getCommand().size() - 2, init.getCommand().size()));
    }

    @Test
    void invalidValuesAreRejected() {
        Helm helm = new Helm(CHART);
        Exception firmware =
                assertThrows(
                        Exception.class,
                        () -> helm.template().withName("x").set("vm.firmware", "floppy").call());
        assertTrue(firmware.getMessage().contains("firmware"), firmware.getMessage());
        Exception typo =
                assertThrows(
                        Exception.class,
                        () -> helm.template().withName("x").set("vm.currentRAM", "1G").call());
        assertTrue(typo.getMessage().contains("currentRAM"), typo.getMessage());
        // The probes need the runner's HTTP port on the pod's address.
        for (String http : List.of("127.0.0.1:8080", "8080", "[::1]:8080", "")) {
            Exception e =
                    assertThrows(
                            Exception.class,
                            () -> helm.template().withName("x").set("runner.http", http).call(),
                            http);
            assertTrue(e.getMessage().contains("http"), http + ": " + e.getMessage());
        }
        Exception privileged =
                assertThrows(
                        Exception.class,
                        () ->
                                helm.template()
                                        .withName("x")
                                        .set("security.privileged", true)
                                        .call());
        assertTrue(privileged.getMessage().contains("privileged"), privileged.getMessage());
    }

    /**
     * What the runner would refuse and the values alone tell stops {@code helm upgrade} (here
     * {@code template}) with the value named, so the ConfigMap never changes.
     */
    @Test
    void crossFieldInvalidValuesFailWithTheValueNamed() {
        Helm helm = new Helm(CHART);
        // compared in bytes as the runner does: 1.1GB (decimal) is above 1G (1 GiB)
        for (String[] ram : new String[][] {{"4G", "1G"}, {"1025M", "1GiB"}, {"1.1GB", "1G"}}) {
            assertFailsNaming(
                    helm,
                    Map.of("vm.currentRam", ram[0], "vm.maximumRam", ram[1]),
                    "vm.currentRam: " + ram[0] + " is larger than vm.maximumRam (" + ram[1] + ")");
        }
        assertFailsNaming(
                helm,
                Map.of("vm.currentCpus", "4", "vm.maximumCpus", "2"),
                "vm.currentCpus: 4 is more than vm.maximumCpus (2)");
        // malformed or ambiguous sizes: the schema or the template names the value
        for (String size : List.of("1KB", "4Gb", "1.5 X", "-1G", "0", "0M", "G")) {
            Exception e =
                    assertThrows(
                            Exception.class,
                            () ->
                                    helm.template()
                                            .withName("x")
                                            .set("vm.maximumRam", size)
                                            .set("vm.currentRam", "1M")
                                            .call(),
                            size);
            assertTrue(e.getMessage().contains("maximumRam"), size + ": " + e.getMessage());
        }
        Exception zeroCpus =
                assertThrows(
                        Exception.class,
                        () -> helm.template().withName("x").set("vm.currentCpus", "0").call());
        assertTrue(zeroCpus.getMessage().contains("currentCpus"), zeroCpus.getMessage());
    }

    @Test
    void sizesTheRunnerAcceptsPass() throws Exception {
        for (String[] ram :
                new String[][] {
                    {"1G", "1G"},
                    {"1024M", "1GiB"},
                    {"512 MiB", "1g"},
                    {"1GB", "1G"},
                    {"0.5G", "2G"}
                }) {
            new Helm(CHART)
                    .template()
                    .withName("x")
                    .set("vm.currentRam", ram[0])
                    .set("vm.maximumRam", ram[1])
                    .call();
        }
    }

    private static void assertFailsNaming(Helm helm, Map<String, String> set, String message) {
        Exception e =
                assertThrows(
                        Exception.class,
                        () -> {
                            var template = helm.template().withName("x");
                            set.forEach(template::set);
                            template.call();
                        },
                        set.toString());
        assertTrue(e.getMessage().contains(message), set + ": " + e.getMessage());
    }

    /** The defaults with --set values ("null" unsets a value). */
    static Rendered renderSet(Map<String, String> set) throws Exception {
        Path values = Files.createTempFile("values", ".yaml");
        try {
            Map<String, Object> tree = new LinkedHashMap<>();
            set.forEach((k, v) -> HelmChartModesTest.put(tree, k, v));
            Files.writeString(values, new org.yaml.snakeyaml.Yaml().dump(tree));
            return render(values);
        } finally {
            Files.delete(values);
        }
    }

    @Test
    void theManifestValidatorIsStrict() {
        String typo =
                "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  hostNetwrok: true\n"
                        + "  containers: [{name: c, image: i}]\n";
        assertThrows(Exception.class, () -> Yaml.loadAll(typo));
        String type =
                "apiVersion: v1\n"
                        + "kind: Pod\n"
                        + "metadata: {name: x}\n"
                        + "spec:\n"
                        + "  terminationGracePeriodSeconds: soon\n"
                        + "  containers: [{name: c, image: i}]\n";
        assertThrows(Exception.class, () -> Yaml.loadAll(type));
    }

    static boolean empty(List<?> list) {
        return list == null || list.isEmpty();
    }

    @SuppressWarnings("unchecked") // YAML mappings are maps of strings to objects
    static Map<String, Object> loadYaml(Path file) throws IOException {
        Object o = new org.yaml.snakeyaml.Yaml().load(Files.readString(file));
        return o == null ? new LinkedHashMap<>() : (Map<String, Object>) o;
    }

    /** Helm's merge of a values file over the defaults: maps recursively, the rest replaced. */
    @SuppressWarnings("unchecked") // YAML mappings are maps of strings to objects
    static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> over) {
        Map<String, Object> result = new LinkedHashMap<>(base);
        over.forEach(
                (k, v) -> {
                    Object b = result.get(k);
                    result.put(
                            k,
                            b instanceof Map && v instanceof Map
                                    ? merge((Map<String, Object>) b, (Map<String, Object>) v)
                                    : v);
                });
        return result;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }
}
