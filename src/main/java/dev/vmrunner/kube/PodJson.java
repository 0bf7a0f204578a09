package dev.vmrunner.kube;

import com.google.gson.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/** The JSON the runner sends: a core/v1 Event on its pod, and a merge patch of its metadata. */
final class PodJson {

    /** Who reports, in {@code source.component} and {@code reportingComponent}. */
    static final String COMPONENT = "vmrunner";

    private PodJson() {}

    static String event(PodRef pod, Reporter.Occurrence occurrence) {
        JsonObject metadata = new JsonObject();
        metadata.addProperty("generateName", pod.name() + ".");
        metadata.addProperty("namespace", pod.namespace());
        JsonObject involved = new JsonObject();
        involved.addProperty("apiVersion", "v1");
        involved.addProperty("kind", "Pod");
        involved.addProperty("namespace", pod.namespace());
        involved.addProperty("name", pod.name());
        if (!pod.uid().isEmpty()) {
            involved.addProperty("uid", pod.uid());
        }
        JsonObject source = new JsonObject();
        source.addProperty("component", COMPONENT);
        if (!pod.node().isEmpty()) {
            source.addProperty("host", pod.node());
        }
        JsonObject event = new JsonObject();
        event.addProperty("apiVersion", "v1");
        event.addProperty("kind", "Event");
        event.add("metadata", metadata);
        event.add("involvedObject", involved);
        event.addProperty("reason", occurrence.reason());
        event.addProperty("message", occurrence.message());
        event.addProperty("type", occurrence.warning() ? "Warning" : "Normal");
        event.addProperty("count", occurrence.count());
        event.addProperty("firstTimestamp", time(occurrence.first()));
        event.addProperty("lastTimestamp", time(occurrence.last()));
        event.add("source", source);
        event.addProperty("reportingComponent", COMPONENT);
        event.addProperty("reportingInstance", pod.name());
        return event.toString();
    }

    /** A JSON merge patch setting these labels and annotations (and leaving others alone). */
    static String metadataPatch(Map<String, String> labels, Map<String, String> annotations) {
        JsonObject metadata = new JsonObject();
        metadata.add("labels", strings(labels));
        metadata.add("annotations", strings(annotations));
        JsonObject patch = new JsonObject();
        patch.add("metadata", metadata);
        return patch.toString();
    }

    private static JsonObject strings(Map<String, String> map) {
        JsonObject o = new JsonObject();
        map.forEach(o::addProperty);
        return o;
    }

    private static String time(Instant at) {
        return at.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
