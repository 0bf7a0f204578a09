package dev.vmrunner.kube;

import dev.vmrunner.status.Status;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The runner's reports to Kubernetes when it runs in a pod: Events on the pod and its state on the
 * pod's labels and annotations. It watches the status the loop publishes ({@link #accept}) and
 * hears the facts the status does not carry ({@link VmFacts}); both only queue, on the loop thread,
 * and one background thread sends ({@link Reporter}).
 *
 * <p>On when the chart says which pod this is ({@code VMRUNNER_POD_NAME}, {@code
 * VMRUNNER_POD_NAMESPACE}, and {@code VMRUNNER_POD_UID}, {@code VMRUNNER_NODE_NAME} for the Events)
 * and the pod has the API server ({@code KUBERNETES_SERVICE_HOST}/{@code _PORT}) and a
 * ServiceAccount token; off with {@code VMRUNNER_KUBE_REPORT=off}. {@code VMRUNNER_KUBE_API} (a
 * URL) and {@code VMRUNNER_KUBE_ACCOUNT_DIR} (token and ca.crt) replace the pod's, for tests.
 */
public final class PodReport implements VmFacts, Consumer<Status> {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    static final Path ACCOUNT_DIR = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    /** The least time between two Events of one reason; those between are counted into one. */
    static final Duration PER_REASON = Duration.ofSeconds(10);

    /** How long one call to the API server may take in all. */
    static final Duration CALL_DEADLINE = Duration.ofSeconds(5);

    /** How long the end of the run waits for the last reports (the VM has stopped). */
    static final Duration FLUSH = Duration.ofSeconds(3);

    private final Reporter reporter;
    private final Thread sender;
    private Status last;
    private Map<String, String> labels;
    private Map<String, String> annotations;

    PodReport(Reporter reporter) {
        this.reporter = reporter;
        this.sender = new Thread(reporter::run, "kube-report");
        sender.setDaemon(true);
    }

    /**
     * The reports for the pod the environment names, sending from now on; null outside a pod (or
     * when switched off), which costs nothing more than reading the environment.
     */
    public static PodReport fromEnvironment(Map<String, String> env) {
        if ("off".equalsIgnoreCase(env.getOrDefault("VMRUNNER_KUBE_REPORT", ""))) {
            return null;
        }
        String name = env.get("VMRUNNER_POD_NAME");
        String namespace = env.get("VMRUNNER_POD_NAMESPACE");
        URI api = apiServer(env);
        if (name == null || namespace == null || api == null) {
            return null;
        }
        Path dir = Path.of(env.getOrDefault("VMRUNNER_KUBE_ACCOUNT_DIR", ACCOUNT_DIR.toString()));
        Path token = dir.resolve("token");
        if (!Files.isReadable(token)) {
            LOG.info(
                    () ->
                            "Not reporting to Kubernetes: no ServiceAccount token at "
                                    + token
                                    + " (automountServiceAccountToken is off)");
            return null;
        }
        PodRef pod;
        try {
            pod =
                    new PodRef(
                            namespace,
                            name,
                            env.getOrDefault("VMRUNNER_POD_UID", ""),
                            env.getOrDefault("VMRUNNER_NODE_NAME", ""));
        } catch (IllegalArgumentException e) {
            LOG.warning("Not reporting to Kubernetes: " + e.getMessage());
            return null;
        }
        Path ca = dir.resolve("ca.crt");
        Reporter reporter =
                new Reporter(
                        pod,
                        () ->
                                new ApiClient(
                                        api,
                                        token,
                                        Files.exists(ca) ? ca : null,
                                        CALL_DEADLINE,
                                        System::nanoTime),
                        PER_REASON,
                        System::nanoTime,
                        Instant::now);
        PodReport report = new PodReport(reporter);
        report.sender.start();
        LOG.fine(() -> "Reporting to Kubernetes at " + api + " on pod " + namespace + "/" + name);
        return report;
    }

    /** The API server: {@code VMRUNNER_KUBE_API}, else the pod's service address; null: none. */
    static URI apiServer(Map<String, String> env) {
        String given = env.get("VMRUNNER_KUBE_API");
        if (given != null) {
            try {
                URI uri = URI.create(given);
                return uri.getHost() == null ? null : uri;
            } catch (IllegalArgumentException e) {
                LOG.warning("Not reporting to Kubernetes: VMRUNNER_KUBE_API " + e.getMessage());
                return null;
            }
        }
        String host = env.get("KUBERNETES_SERVICE_HOST");
        String port = env.get("KUBERNETES_SERVICE_PORT");
        if (host == null || port == null || !port.matches("[0-9]{1,5}")) {
            return null;
        }
        try {
            return URI.create(
                    "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** A new status from the loop: what changed becomes Events, and the pod's facts. */
    @Override
    public void accept(Status now) {
        for (StatusEvents.Told told : StatusEvents.between(last, now)) {
            reporter.event(told.reason(), told.message());
        }
        last = now;
        Map<String, String> nowLabels = StatusEvents.labels(now);
        Map<String, String> nowAnnotations = StatusEvents.annotations(now);
        if (!nowLabels.equals(labels) || !nowAnnotations.equals(annotations)) {
            labels = nowLabels;
            annotations = nowAnnotations;
            reporter.podFacts(nowLabels, nowAnnotations);
        }
        if (!"starting".equals(now.state())) {
            reporter.release();
        }
    }

    @Override
    public void changeDone(String key, String kind, String text) {
        reporter.event(Reason.ofChange(kind), key + ": " + text);
    }

    @Override
    public void poweredOff(boolean asked) {
        reporter.event(
                Reason.POWERED_OFF,
                asked ? "The guest powered off as asked" : "The guest powered off by itself");
    }

    @Override
    public void agentLost(String why) {
        reporter.event(Reason.AGENT_LOST, "The guest agent stopped answering: " + why);
    }

    @Override
    public void stopRequested(String by) {
        requested(Reason.STOP_REQUESTED, "Stopping", by);
    }

    @Override
    public void startRequested(String by) {
        requested(Reason.START_REQUESTED, "Starting", by);
    }

    @Override
    public void resetRequested(String by) {
        requested(Reason.RESET_REQUESTED, "Resetting", by);
    }

    private void requested(Reason reason, String doing, String by) {
        reporter.event(reason, doing + " the VM, as asked by " + by);
    }

    /** After the run: the last reports get {@link #FLUSH} to go out, then the thread ends. */
    public void close() {
        reporter.stop();
        try {
            sender.join(FLUSH.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.interrupt();
    }
}
