package dev.vmrunner.kube;

import java.util.regex.Pattern;

/**
 * The pod the runner runs in, as the chart tells it through the downward API: what its Events name
 * as their object and what is patched.
 *
 * @param uid the pod's uid (so that {@code kubectl describe pod} finds the Events), may be empty
 * @param node the node's name, may be empty
 */
record PodRef(String namespace, String name, String uid, String node) {

    /** A DNS subdomain name (RFC 1123), as Kubernetes names pods and namespaces. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

    private static final Pattern UID = Pattern.compile("[-0-9a-fA-F]{0,64}");

    PodRef {
        if (!NAME.matcher(namespace).matches()) {
            throw new IllegalArgumentException("not a namespace name: " + namespace);
        }
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a pod name: " + name);
        }
        if (!UID.matcher(uid).matches()) {
            throw new IllegalArgumentException("not a uid: " + uid);
        }
        if (!node.isEmpty() && !NAME.matcher(node).matches()) {
            throw new IllegalArgumentException("not a node name: " + node);
        }
    }

    String podPath() {
        return "/api/v1/namespaces/" + namespace + "/pods/" + name;
    }

    String eventsPath() {
        return "/api/v1/namespaces/" + namespace + "/events";
    }
}
