package dev.vmrunner.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's part of the runner's reports to Kubernetes: a ServiceAccount whose Role may create
 * Events and get and patch the one pod, the pod's identity in the runner's environment, its token
 * only with reporting on. (helm-java renders no hooks: the "helm test" pod is run by the cluster
 * stage.)
 */
class HelmChartReportingTest {

    @TempDir Path tmp;

    private static <T> List<T> of(HelmChartTest.Rendered r, Class<T> kind) {
        return r.reporting().stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    @Test
    void theRunnerMayCreateEventsAndPatchItsOwnPodOnly() throws Exception {
        HelmChartTest.Rendered r =
                HelmChartTest.render(HelmChartTest.VALUES.resolve("default.yaml"));
        V1ServiceAccount account = of(r, V1ServiceAccount.class).get(0);
        assertEquals("myvm-vmrunner", account.getMetadata().getName());
        assertEquals(Boolean.FALSE, account.getAutomountServiceAccountToken());
        List<V1PolicyRule> rules = of(r, V1Role.class).get(0).getRules();
        assertEquals(2, rules.size(), rules.toString());
        assertEquals(List.of("events"), rules.get(0).getResources());
        assertEquals(List.of("create"), rules.get(0).getVerbs());
        assertTrue(
                rules.get(0).getResourceNames() == null
                        || rules.get(0).getResourceNames().isEmpty());
        assertEquals(List.of("pods"), rules.get(1).getResources());
        assertEquals(List.of("myvm-vmrunner-0"), rules.get(1).getResourceNames());
        assertEquals(List.of("get", "patch"), rules.get(1).getVerbs());
        V1RoleBinding binding = of(r, V1RoleBinding.class).get(0);
        assertEquals("myvm-vmrunner", binding.getRoleRef().getName());
        assertEquals("myvm-vmrunner", binding.getSubjects().get(0).getName());
        assertEquals("vms", binding.getSubjects().get(0).getNamespace());

        assertEquals("myvm-vmrunner", r.pod().getServiceAccountName());
        assertEquals(Boolean.TRUE, r.pod().getAutomountServiceAccountToken());
        Map<String, String> env =
                r.runnerContainer().getEnv().stream()
                        .filter(e -> e.getValueFrom() != null)
                        .collect(
                                Collectors.toMap(
                                        V1EnvVar::getName,
                                        e -> e.getValueFrom().getFieldRef().getFieldPath()));
        assertEquals(
                Map.of(
                        "VMRUNNER_POD_NAME", "metadata.name",
                        "VMRUNNER_POD_NAMESPACE", "metadata.namespace",
                        "VMRUNNER_POD_UID", "metadata.uid",
                        "VMRUNNER_NODE_NAME", "spec.nodeName"),
                env);
    }

    @Test
    void reportingOffMakesNoAccountAndMountsNoToken() throws Exception {
        Path values = tmp.resolve("off.yaml");
        Files.writeString(values, "reporting:\n  enabled: false\n");
        HelmChartTest.Rendered r = HelmChartTest.render(values);
        assertEquals(List.of(), of(r, V1ServiceAccount.class));
        assertEquals(List.of(), of(r, V1Role.class));
        assertEquals(List.of(), of(r, V1RoleBinding.class));
        assertEquals(Boolean.FALSE, r.pod().getAutomountServiceAccountToken());
        assertNull(r.pod().getServiceAccountName());
        List<V1EnvVar> env = r.runnerContainer().getEnv();
        assertTrue(
                env == null || env.stream().noneMatch(e -> e.getName().startsWith("VMRUNNER_POD")));
    }
}
