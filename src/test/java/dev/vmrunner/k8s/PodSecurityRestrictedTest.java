package dev.vmrunner.k8s;

import static dev.vmrunner.k8s.HelmChartTest.VALUES;
import static dev.vmrunner.k8s.HelmChartTest.render;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.models.V1Capabilities;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1SeccompProfile;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The rendered pod of each mode against the Pod Security Standards' "restricted" profile, rule by
 * rule, for every container (init containers included). Our test cluster (Kubernetes 1.20) predates
 * Pod Security admission, so its namespace label proves nothing there: this is the check. The
 * rules, as the Pod Security Standards page (kubernetes.io/docs/concepts/security/
 * pod-security-standards) lists them, baseline's included: no host namespaces, no privileged
 * container, capabilities only from baseline's list (restricted: drop ALL, add at most
 * NET_BIND_SERVICE), no hostPath, no hostPort, AppArmor only the runtime's or a local profile,
 * SELinux only the container types and no user or role, procMount Default, seccomp never Unconfined
 * (restricted: RuntimeDefault or Localhost set for every container), only safe sysctls, volume
 * types configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and
 * secret, allowPrivilegeEscalation false, runAsNonRoot true, runAsUser never 0.
 */
class PodSecurityRestrictedTest {

    static final Set<String> BASELINE_CAPABILITIES =
            Set.of(
                    "AUDIT_WRITE",
                    "CHOWN",
                    "DAC_OVERRIDE",
                    "FOWNER",
                    "FSETID",
                    "KILL",
                    "MKNOD",
                    "NET_BIND_SERVICE",
                    "SETFCAP",
                    "SETGID",
                    "SETPCAP",
                    "SETUID",
                    "SYS_CHROOT");
    static final Set<String> SAFE_SYSCTLS =
            Set.of(
                    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes");
    static final Set<String> SELINUX_TYPES =
            Set.of("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t");

    /** What of the restricted profile POD breaks, one line per broken rule and container. */
    static List<String> violations(V1PodSpec pod, Map<String, String> annotations) {
        List<String> v = new ArrayList<>();
        V1PodSecurityContext ps =
                Optional.ofNullable(pod.getSecurityContext()).orElse(new V1PodSecurityContext());
        // Baseline: host namespaces, volumes, sysctls, pod-level SELinux and seccomp.
        check(v, !isTrue(pod.getHostNetwork()), "pod: hostNetwork");
        check(v, !isTrue(pod.getHostPID()), "pod: hostPID");
        check(v, !isTrue(pod.getHostIPC()), "pod: hostIPC");
        for (V1Volume vol : Optional.ofNullable(pod.getVolumes()).orElse(List.of())) {
            check(v, vol.getHostPath() == null, "volume " + vol.getName() + ": hostPath");
            check(v, restrictedVolume(vol), "volume " + vol.getName() + ": type not allowed");
        }
        Optional.ofNullable(ps.getSysctls())
                .orElse(List.of())
                .forEach(
                        s -> check(v, SAFE_SYSCTLS.contains(s.getName()), "sysctl " + s.getName()));
        check(v, seLinuxOk(ps.getSeLinuxOptions()), "pod: seLinuxOptions");
        check(v, !unconfined(ps.getSeccompProfile()), "pod: seccomp Unconfined");
        check(v, ps.getRunAsUser() == null || ps.getRunAsUser() != 0, "pod: runAsUser 0");
        Optional.ofNullable(ps.getWindowsOptions())
                .ifPresent(w -> check(v, !isTrue(w.getHostProcess()), "pod: hostProcess"));
        annotations.forEach(
                (k, val) -> {
                    if (k.startsWith("container.apparmor.security.beta.kubernetes.io/")) {
                        check(
                                v,
                                val.equals("runtime/default") || val.startsWith("localhost/"),
                                "AppArmor " + k);
                    }
                });
        for (V1Container c : containers(pod)) {
            String n = "container " + c.getName() + ": ";
            V1SecurityContext cs =
                    Optional.ofNullable(c.getSecurityContext()).orElse(new V1SecurityContext());
            check(v, !isTrue(cs.getPrivileged()), n + "privileged");
            V1Capabilities caps =
                    Optional.ofNullable(cs.getCapabilities()).orElse(new V1Capabilities());
            List<String> add = Optional.ofNullable(caps.getAdd()).orElse(List.of());
            add.forEach(a -> check(v, BASELINE_CAPABILITIES.contains(a), n + "adds " + a));
            add.forEach(a -> check(v, a.equals("NET_BIND_SERVICE"), n + "restricted adds " + a));
            check(
                    v,
                    Optional.ofNullable(caps.getDrop()).orElse(List.of()).contains("ALL"),
                    n + "does not drop ALL");
            Optional.ofNullable(c.getPorts())
                    .orElse(List.of())
                    .forEach(
                            p ->
                                    check(
                                            v,
                                            p.getHostPort() == null || p.getHostPort() == 0,
                                            n + "hostPort " + p.getHostPort()));
            check(v, seLinuxOk(cs.getSeLinuxOptions()), n + "seLinuxOptions");
            check(
                    v,
                    cs.getProcMount() == null || cs.getProcMount().equals("Default"),
                    n + "procMount");
            check(v, !unconfined(cs.getSeccompProfile()), n + "seccomp Unconfined");
            check(
                    v,
                    allowedSeccomp(first(cs.getSeccompProfile(), ps.getSeccompProfile())),
                    n + "no seccomp profile RuntimeDefault or Localhost");
            check(
                    v,
                    Boolean.FALSE.equals(cs.getAllowPrivilegeEscalation()),
                    n + "allowPrivilegeEscalation not false");
            check(
                    v,
                    isTrue(first(cs.getRunAsNonRoot(), ps.getRunAsNonRoot())),
                    n + "runAsNonRoot not true");
            check(v, cs.getRunAsUser() == null || cs.getRunAsUser() != 0, n + "runAsUser 0");
            Optional.ofNullable(cs.getWindowsOptions())
                    .ifPresent(w -> check(v, !isTrue(w.getHostProcess()), n + "hostProcess"));
        }
        return v;
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "default.yaml",
                "test-guest.yaml",
                "user-network-devices.yaml",
                "display-password.yaml",
                "data-disk-and-knobs.yaml",
                "passt.yaml"
            })
    void everyUnprivilegedModePassesRestricted(String values) throws Exception {
        HelmChartTest.Rendered r = render(VALUES.resolve(values));
        var template = r.statefulSet().getSpec().getTemplate();
        assertEquals(
                List.of(),
                violations(
                        template.getSpec(),
                        Optional.ofNullable(template.getMetadata().getAnnotations())
                                .orElse(Map.of())),
                values);
    }

    @Test
    void initContainersAreCheckedToo() throws Exception {
        HelmChartTest.Rendered r = render(VALUES.resolve("data-disk-and-knobs.yaml"));
        V1Container init = r.pod().getInitContainers().get(0);
        assertEquals(r.runnerContainer().getSecurityContext(), init.getSecurityContext());
        init.getSecurityContext().setAllowPrivilegeEscalation(null);
        assertEquals(
                List.of("container disk-images: allowPrivilegeEscalation not false"),
                violations(r.pod(), Map.of()));
    }

    @Test
    void tapNeedsPrivilegedForExactlyHostNetworkNetAdminAndRoot() throws Exception {
        HelmChartTest.Rendered r = render(VALUES.resolve("tap.yaml"));
        assertEquals(
                List.of(
                        "pod: hostNetwork",
                        "pod: runAsUser 0",
                        "container vmrunner: adds NET_ADMIN",
                        "container vmrunner: restricted adds NET_ADMIN",
                        "container vmrunner: runAsNonRoot not true"),
                violations(r.pod(), Map.of()));
    }

    @Test
    void theCheckerSeesWhatTheOldDefaultsBroke() {
        V1PodSpec old =
                new V1PodSpec()
                        .hostNetwork(true)
                        .addVolumesItem(
                                new V1Volume()
                                        .name("data")
                                        .hostPath(
                                                new io.kubernetes.client.openapi.models
                                                                .V1HostPathVolumeSource()
                                                        .path("/srv")))
                        .addContainersItem(
                                new V1Container()
                                        .name("vmrunner")
                                        .securityContext(new V1SecurityContext().privileged(true)));
        List<String> v = violations(old, Map.of());
        for (String broken :
                List.of(
                        "pod: hostNetwork",
                        "volume data: hostPath",
                        "volume data: type not allowed",
                        "container vmrunner: privileged",
                        "container vmrunner: does not drop ALL",
                        "container vmrunner: no seccomp profile RuntimeDefault or Localhost",
                        "container vmrunner: allowPrivilegeEscalation not false",
                        "container vmrunner: runAsNonRoot not true")) {
            assertTrue(v.contains(broken), broken + " not in " + v);
        }
    }

    static List<V1Container> containers(V1PodSpec pod) {
        return Stream.of(pod.getInitContainers(), pod.getContainers())
                .filter(Objects::nonNull)
                .flatMap(List::stream)
                .toList();
    }

    static boolean restrictedVolume(V1Volume v) {
        return Stream.<Function<V1Volume, Object>>of(
                        V1Volume::getConfigMap,
                        V1Volume::getCsi,
                        V1Volume::getDownwardAPI,
                        V1Volume::getEmptyDir,
                        V1Volume::getEphemeral,
                        V1Volume::getPersistentVolumeClaim,
                        V1Volume::getProjected,
                        V1Volume::getSecret)
                .anyMatch(f -> f.apply(v) != null);
    }

    static boolean seLinuxOk(io.kubernetes.client.openapi.models.V1SELinuxOptions o) {
        return o == null
                || (o.getUser() == null
                        && o.getRole() == null
                        && SELINUX_TYPES.contains(Optional.ofNullable(o.getType()).orElse("")));
    }

    static boolean unconfined(V1SeccompProfile p) {
        return p != null && "Unconfined".equals(p.getType());
    }

    static boolean allowedSeccomp(V1SeccompProfile p) {
        return p != null
                && ("RuntimeDefault".equals(p.getType()) || "Localhost".equals(p.getType()));
    }

    static <T> T first(T a, T b) {
        return a != null ? a : b;
    }

    static boolean isTrue(Boolean b) {
        return Boolean.TRUE.equals(b);
    }

    static void check(List<String> violations, boolean ok, String rule) {
        if (!ok) {
            violations.add(rule);
        }
    }
}
