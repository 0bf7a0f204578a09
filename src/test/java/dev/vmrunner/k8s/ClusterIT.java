package dev.vmrunner.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The chart and the image on a real single-node Kubernetes built from Debian's sources, with a pod
 * network and kube-proxy: {@code scripts/k8s-cluster-test.sh} (helm install with the chart's
 * defaults in a namespace labelled for Pod Security "restricted", until the pod is Ready through
 * its HTTP probes; the restricted securityContext in force; the guest's console in {@code kubectl
 * logs}; the guest's port and the runner's /metrics through the ClusterIP Service from another pod;
 * live upgrade; server-side dry run; graceful uninstall). The script prints each step's time, the
 * pod's time to Ready, what one probe costs and the memory peak. The script stops everything it
 * started, also when it fails. It exits 77 when the machine lacks the disk space to build the
 * cluster: the test is then reported as skipped with the script's reason, never as passed.
 */
class ClusterIT {

    @Test
    void chartRunsAVmOnARealCluster() throws Exception {
        assumeFalse(
                Boolean.getBoolean("vmrunner.skipClusterTests"),
                "skipped on request (-Dvmrunner.skipClusterTests=true)");
        Path log = Path.of("target/k8s-cluster-test.log");
        Process script =
                new ProcessBuilder("scripts/k8s-cluster-test.sh")
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        if (!script.waitFor(40, TimeUnit.MINUTES)) {
            script.destroy(); // its exit trap tears the cluster down
            script.waitFor(2, TimeUnit.MINUTES);
            throw new AssertionError(
                    "the cluster stage did not finish within 40 minutes: "
                            + lastLines(Files.readString(log)));
        }
        int code = script.exitValue();
        String output = Files.readString(log);
        System.out.println(output); // the figures, in the test's report
        if (code == 77) {
            abort("cluster stage skipped: " + lastLines(output));
        }
        assertEquals(0, code, "cluster stage failed: " + lastLines(output));
        assertTrue(output.contains("PASSED"), lastLines(output));
    }

    private static String lastLines(String output) {
        List<String> lines = output.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }
}
