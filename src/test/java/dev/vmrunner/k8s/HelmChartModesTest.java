package dev.vmrunner.k8s;

import static dev.vmrunner.k8s.HelmChartTest.VALUES;
import static dev.vmrunner.k8s.HelmChartTest.quantity;
import static dev.vmrunner.k8s.HelmChartTest.render;
import static dev.vmrunner.k8s.HelmChartTest.renderSet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import dev.vmrunner.k8s.HelmChartTest.Rendered;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1ServicePort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The chart's modes, each rendering what it needs and no more: KVM from a device plugin, TCG with
 * no device, a tap interface with exactly host networking, NET_ADMIN and tun; the CPU request per
 * vCPU; the guest's forwarded ports, SPICE and the runner's HTTP port as container and Service
 * ports; env and args.
 */
class HelmChartModesTest {

    @Test
    void kvmTakesTheDevicePluginsKvmAndNothingPrivileged() throws Exception {
        Rendered r = render(VALUES.resolve("default.yaml"));
        var limits = r.runnerContainer().getResources().getLimits();
        assertEquals("1", limits.get("devices.kubevirt.io/kvm").toSuffixedString());
        assertEquals(Set.of("devices.kubevirt.io/kvm", "memory"), limits.keySet());
        assertNull(r.pod().getHostNetwork());
        assertTrue(
                HelmChartTest.empty(
                        r.runnerContainer().getSecurityContext().getCapabilities().getAdd()));
        // Another plugin's resource name; the node's kvm group as a supplemental group.
        Rendered other =
                renderSet(
                        Map.of(
                                "security.devices.kvm",
                                "example.com/kvm",
                                "security.kvmGroup",
                                "36"));
        assertEquals(
                "1", quantity(other, false, "example.com/kvm"), "the configured resource name");
        assertNull(quantity(other, false, "devices.kubevirt.io/kvm"));
        assertEquals(List.of(36L), other.pod().getSecurityContext().getSupplementalGroups());
        // TCG: no device at all, and no kvm group.
        Rendered tcg = renderSet(Map.of("vm.accelerator", "tcg", "security.kvmGroup", "36"));
        assertEquals(Set.of("memory"), tcg.runnerContainer().getResources().getLimits().keySet());
        assertTrue(HelmChartTest.empty(tcg.pod().getSecurityContext().getSupplementalGroups()));
    }

    @Test
    void tapRendersExactlyHostNetworkNetAdminAndTun() throws Exception {
        Rendered r = render(VALUES.resolve("tap.yaml"));
        Rendered passt = render(VALUES.resolve("default.yaml"));
        assertEquals(Boolean.TRUE, r.pod().getHostNetwork());
        assertEquals("ClusterFirstWithHostNet", r.pod().getDnsPolicy());
        var c = r.runnerContainer().getSecurityContext();
        assertEquals(List.of("NET_ADMIN"), c.getCapabilities().getAdd());
        assertEquals(List.of("ALL"), c.getCapabilities().getDrop());
        assertEquals(Boolean.FALSE, c.getPrivileged());
        assertEquals(Boolean.FALSE, c.getAllowPrivilegeEscalation());
        assertEquals(Boolean.TRUE, c.getReadOnlyRootFilesystem());
        // Root: Kubernetes gives a non-root process no added capability (no ambient set).
        var pod = r.pod().getSecurityContext();
        assertEquals(0L, pod.getRunAsUser());
        assertEquals(Boolean.FALSE, pod.getRunAsNonRoot());
        assertEquals("RuntimeDefault", pod.getSeccompProfile().getType());
        var limits = r.runnerContainer().getResources().getLimits();
        assertEquals("1", limits.get("devices.kubevirt.io/tun").toSuffixedString());
        assertEquals("1", limits.get("devices.kubevirt.io/kvm").toSuffixedString());
        // Nothing else differs from the passt pod's: the same volumes, no hostPath.
        assertEquals(
                passt.pod().getVolumes().stream().map(v -> v.getName()).toList(),
                r.pod().getVolumes().stream().map(v -> v.getName()).toList());
        r.pod().getVolumes().forEach(v -> assertNull(v.getHostPath(), v.getName()));
        // Host networking: the ports are the node's, so each is declared (the scheduler keeps
        // two pods with one port off one node).
        assertEquals(
                List.of("http:8091", "spice:5931"),
                r.runnerContainer().getPorts().stream()
                        .map(p -> p.getName() + ":" + p.getContainerPort())
                        .toList());
    }

    @Test
    void cpuRequestFollowsTheMaximumVcpus() throws Exception {
        assertEquals("500m", quantity(render(VALUES.resolve("default.yaml")), true, "cpu"));
        assertEquals(
                "1", quantity(renderSet(Map.of("vm.maximumCpus", "4")), true, "cpu"), "4 x 250m");
        assertEquals(
                "3",
                quantity(
                        renderSet(Map.of("vm.maximumCpus", "3", "cpu.perVcpu", "1")), true, "cpu"));
        assertEquals(
                "300m",
                quantity(
                        renderSet(
                                Map.of(
                                        "vm.maximumCpus", "3",
                                        "vm.currentCpus", "1",
                                        "cpu.perVcpu", "0.1")),
                        true,
                        "cpu"),
                "maximumCpus, not the live-changeable currentCpus");
        // resources.requests.cpu replaces it; no CPU limit.
        Rendered given = render(VALUES.resolve("user-network-devices.yaml"));
        assertEquals("500m", quantity(given, true, "cpu"));
        assertNull(quantity(given, false, "cpu"));
        // A live vCPU change (currentCpus) leaves the pod template alone.
        assertEquals(
                render(VALUES.resolve("default.yaml")).runnerContainer().getResources(),
                renderSet(Map.of("vm.currentCpus", "2")).runnerContainer().getResources());
    }

    @Test
    void forwardedPortsAreContainerAndServicePorts() throws Exception {
        Rendered r = render(VALUES.resolve("user-network-devices.yaml"));
        assertEquals(
                List.of(
                        "http:8080/TCP",
                        "guest-22:22/TCP",
                        "guest-3389:3389/TCP",
                        "guest-udp-53:53/UDP"),
                r.runnerContainer().getPorts().stream().map(HelmChartModesTest::port).toList());
        assertEquals(
                List.of(
                        "http:8080>http",
                        "guest-22:22>guest-22",
                        "guest-3389:3389>guest-3389",
                        "guest-udp-53:53>guest-udp-53"),
                r.services().get(0).getSpec().getPorts().stream()
                        .map(HelmChartModesTest::port)
                        .toList());
        // A ClusterIP Service when asked (the cluster stage's).
        Rendered tg = render(VALUES.resolve("test-guest.yaml"));
        assertNull(tg.services().get(0).getSpec().getClusterIP());
        assertEquals("guest-8000", tg.services().get(0).getSpec().getPorts().get(1).getName());
        // SPICE at its default port when a display has none.
        Rendered spice =
                renderSet(Map.of("vm.display.outputs", "1", "vm.display.spice.usbRedirects", "1"));
        assertTrue(
                spice.runnerContainer().getPorts().stream()
                        .anyMatch(p -> "spice".equals(p.getName()) && p.getContainerPort() == 5900),
                spice.runnerContainer().getPorts().toString());
    }

    @Test
    void envAndArgsReachTheRunner() throws Exception {
        Rendered r = render(VALUES.resolve("user-network-devices.yaml"));
        assertEquals(List.of("--log-format", "json"), r.runnerContainer().getArgs());
        V1EnvVar env = r.runnerContainer().getEnv().get(0);
        assertEquals("JAVA_TOOL_OPTIONS", env.getName());
        assertEquals("-Xss512k", env.getValue());
    }

    /**
     * {@code helm upgrade --set vm.state=Stopped} (or {@code runner.guestShutdownStops}) changes
     * the runner's configuration and nothing of the pod's template, so the StatefulSet restarts
     * nothing: the runner powers the guest down itself. Upstream's values only.
     */
    @Test
    void vmStateAndGuestShutdownStopsChangeOnlyTheConfig() throws Exception {
        Rendered running = render(VALUES.resolve("default.yaml"));
        Rendered stopped =
                renderSet(Map.of("vm.state", "Stopped", "runner.guestShutdownStops", "true"));
        assertTrue(running.runner().vm().meantToRun());
        assertFalse(running.runner().guestShutdownStops());
        assertFalse(stopped.runner().vm().meantToRun());
        assertTrue(stopped.runner().guestShutdownStops());
        assertEquals(
                running.statefulSet().getSpec().getTemplate(),
                stopped.statefulSet().getSpec().getTemplate());
        Exception lower =
                assertThrows(
                        Exception.class,
                        () ->
                                new Helm(HelmChartTest.CHART)
                                        .template()
                                        .withName("x")
                                        .set("vm.state", "stopped")
                                        .call());
        // The schema names the value ("/vm/state" or "vm.state", by helm's version).
        assertTrue(lower.getMessage().matches("(?s).*vm.state.*Stopped.*"), lower.getMessage());
    }

    static String port(V1ContainerPort p) {
        return p.getName()
                + ":"
                + p.getContainerPort()
                + "/"
                + Optional.ofNullable(p.getProtocol()).orElse("TCP");
    }

    static String port(V1ServicePort p) {
        return p.getName() + ":" + p.getPort() + ">" + p.getTargetPort().getStrValue();
    }

    /** Sets a --set style KEY (a.b, a[0].b) to VALUE in a values tree; "null" is null. */
    @SuppressWarnings("unchecked") // YAML mappings
    static void put(Map<String, Object> tree, String key, String value) {
        String[] parts = key.split("\\.");
        Object node = tree;
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            int index = -1;
            if (part.endsWith("]")) {
                index = Integer.parseInt(part.substring(part.indexOf('[') + 1, part.length() - 1));
                part = part.substring(0, part.indexOf('['));
            }
            Map<String, Object> map = (Map<String, Object>) node;
            boolean last = i == parts.length - 1;
            if (index < 0 && last) {
                map.put(part, "null".equals(value) ? null : scalar(value));
            } else if (index < 0) {
                node = map.computeIfAbsent(part, k -> new LinkedHashMap<String, Object>());
            } else {
                List<Object> list =
                        (List<Object>) map.computeIfAbsent(part, k -> new ArrayList<>());
                while (list.size() <= index) {
                    list.add(new LinkedHashMap<String, Object>());
                }
                node = list.get(index);
            }
        }
    }

    /** As helm's --set reads a value: integers and booleans typed, anything else a string. */
    private static Object scalar(String value) {
        if ("true".equals(value) || "false".equals(value)) {
            return Boolean.parseBoolean(value);
        }
        return value.matches("-?[0-9]+") ? (Object) Long.parseLong(value) : value;
    }
}
