/**
 * What the runner tells Kubernetes when it runs in a pod: Events on its pod and the VM's state on
 * the pod's labels and annotations ({@link dev.vmrunner.kube.PodReport}), sent by a few REST calls
 * (HTTP/1.1 over the JDK's sockets and TLS) on one background thread, bounded against a slow or
 * hostile API server. The supervisor tells it the facts its status does not carry through {@link
 * dev.vmrunner.kube.VmFacts}.
 *
 * <p>Dependency rule: uses {@code status} and {@code config} only; the supervisor and the command
 * line use it.
 */
package dev.vmrunner.kube;
