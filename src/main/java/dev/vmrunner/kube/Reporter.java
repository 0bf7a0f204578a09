package dev.vmrunner.kube;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Tells the API server what the runner wants it to know, on one background thread, so that the loop
 * never waits for the cluster: Events on the pod ({@link #event}) and the pod's labels and
 * annotations ({@link #podFacts}). Everything is bounded: at most {@link #QUEUE} events wait (the
 * oldest is dropped, and counted), the same reason is sent at most once per {@code perReason} (the
 * ones between are sent after it as one Event with their count, as kubectl's series), the pod is
 * patched only when its facts changed (the latest facts only), and after a failure the thread waits
 * (1 s, doubling to a minute) and logs at most one line per minute. Nothing is sent before {@link
 * #release} (the VM runs): the HTTP client's classes load off the start path.
 */
final class Reporter {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** Events that may wait to be sent. */
    static final int QUEUE = 32;

    /** The longest message sent; Kubernetes shows about this much. */
    static final int MAX_MESSAGE = 1000;

    private static final long BACKOFF_MIN = TimeUnit.SECONDS.toNanos(1);
    private static final long BACKOFF_MAX = TimeUnit.MINUTES.toNanos(1);
    private static final long FAILURE_LOG = TimeUnit.MINUTES.toNanos(1);

    /** One Event to send: {@code count} occurrences of a reason, the first and the last. */
    record Occurrence(
            String reason,
            boolean warning,
            String message,
            Instant first,
            Instant last,
            int count) {}

    /** Per reason: when it was last queued, and the occurrences held back since. */
    private static final class Held {
        long queuedAt;
        int suppressed;
        boolean warning;
        String message;
        Instant first;
        Instant last;
    }

    private final PodRef pod;
    private final Callable<ApiClient> connect;
    private final LongSupplier nanoTime;
    private final Supplier<Instant> wallClock;
    private final long perReason;

    private final Object lock = new Object();
    private final ArrayDeque<Occurrence> queue = new ArrayDeque<>();
    private final Map<String, Held> held = new LinkedHashMap<>();
    private String wantedPatch;
    private boolean released;
    private boolean closing;
    private long dropped;
    private long failed;

    // The sender's own, never touched by the loop thread.
    private ApiClient client;
    private String appliedPatch;
    private long retryAt;
    private long backoff;
    private long failureLoggedAt;
    private int failuresUnlogged;
    private boolean loggedOnce;

    /**
     * @param connect makes the API client, on the sender's thread at its first call
     * @param perReason the least time between two Events of one reason
     */
    Reporter(
            PodRef pod,
            Callable<ApiClient> connect,
            Duration perReason,
            LongSupplier nanoTime,
            Supplier<Instant> wallClock) {
        this.pod = pod;
        this.connect = connect;
        this.perReason = perReason.toNanos();
        this.nanoTime = nanoTime;
        this.wallClock = wallClock;
    }

    // ---- any thread (the loop's): never blocks but for the short lock ---------------------

    /** An Event on the pod, of the reason's type (Normal or Warning). */
    void event(Reason why, String message) {
        String reason = why.text;
        boolean warning = why.warning;
        String text = message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) : message;
        Instant at = wallClock.get();
        synchronized (lock) {
            long now = nanoTime.getAsLong();
            Held h = held.computeIfAbsent(reason, r -> new Held());
            if (h.first == null || now - h.queuedAt >= perReason) {
                enqueue(new Occurrence(reason, warning, text, at, at, 1));
                h.queuedAt = now;
                h.first = at;
            } else {
                if (h.suppressed == 0) {
                    h.first = at;
                }
                h.suppressed++;
                h.warning = warning;
                h.message = text;
                h.last = at;
            }
            lock.notifyAll();
        }
    }

    /** The pod's labels and annotations now; patched when they differ from the last patch. */
    void podFacts(Map<String, String> labels, Map<String, String> annotations) {
        String patch = PodJson.metadataPatch(labels, annotations);
        synchronized (lock) {
            wantedPatch = patch;
            lock.notifyAll();
        }
    }

    /** From now on the reports are sent (the VM runs, or the start is over). */
    void release() {
        synchronized (lock) {
            released = true;
            lock.notifyAll();
        }
    }

    /** Events dropped because the queue was full, or because the API server refused them. */
    long dropped() {
        synchronized (lock) {
            return dropped + failed;
        }
    }

    private void enqueue(Occurrence occurrence) {
        if (queue.size() >= QUEUE) {
            queue.removeFirst();
            dropped++;
        }
        queue.addLast(occurrence);
    }

    // ---- the sender's thread --------------------------------------------------------------

    /** The sender's thread: waits for work, sends it, until {@link #stop}. */
    void run() {
        try {
            while (awaitWork()) {
                sendDue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            // A bug here must not reach the VM; the cluster just hears no more.
            LOG.log(Level.WARNING, "Stopped reporting to Kubernetes: " + e, e);
        }
    }

    /** After the run: what is queued may still go out (the thread is given a while), then stop. */
    void stop() {
        synchronized (lock) {
            closing = true;
            released = true;
            lock.notifyAll();
        }
    }

    /** Waits until something is due; false once stopping with nothing left. */
    private boolean awaitWork() throws InterruptedException {
        synchronized (lock) {
            while (true) {
                long now = nanoTime.getAsLong();
                releaseHeld(now);
                boolean work =
                        !queue.isEmpty()
                                || wantedPatch != null && !wantedPatch.equals(appliedPatch);
                if (closing && !work) {
                    return false;
                }
                long wait = Long.MAX_VALUE;
                if (released && work) {
                    if (now >= retryAt) {
                        return true;
                    }
                    wait = retryAt - now;
                }
                wait = Math.min(wait, nextHeldDue(now));
                if (wait == Long.MAX_VALUE) {
                    lock.wait();
                } else {
                    TimeUnit.NANOSECONDS.timedWait(lock, Math.max(wait, 1));
                }
            }
        }
    }

    /** Held-back occurrences whose reason may be sent again are queued as one. */
    private void releaseHeld(long now) {
        for (Map.Entry<String, Held> entry : held.entrySet()) {
            Held h = entry.getValue();
            if (h.suppressed > 0 && now - h.queuedAt >= perReason) {
                enqueue(
                        new Occurrence(
                                entry.getKey(),
                                h.warning,
                                h.message,
                                h.first,
                                h.last,
                                h.suppressed));
                h.suppressed = 0;
                h.queuedAt = now;
                h.first = h.last;
            }
        }
    }

    private long nextHeldDue(long now) {
        long wait = Long.MAX_VALUE;
        for (Held h : held.values()) {
            if (h.suppressed > 0) {
                wait = Math.min(wait, h.queuedAt + perReason - now);
            }
        }
        return wait;
    }

    /**
     * Sends what is due now: the pod's facts first, then the queued Events; stops at the first
     * failure (and waits before trying again). Called by the thread, and by tests directly.
     */
    void sendDue() throws InterruptedException {
        String patch;
        synchronized (lock) {
            releaseHeld(nanoTime.getAsLong());
            patch = wantedPatch;
        }
        // A refused patch (the pod going away) does not hold the Events back; a server that
        // does not answer fails the Events too, and the backoff then waits for both.
        if (patch != null
                && !patch.equals(appliedPatch)
                && send("patch the pod", () -> client().mergePatch(pod.podPath(), patch))) {
            appliedPatch = patch;
        }
        while (true) {
            Occurrence next;
            synchronized (lock) {
                next = queue.pollFirst();
            }
            if (next == null) {
                return;
            }
            String json = PodJson.event(pod, next);
            if (!send("create an Event", () -> client().post(pod.eventsPath(), json))) {
                synchronized (lock) {
                    failed++;
                }
                return;
            }
        }
    }

    private interface Call {
        ApiClient.Reply call() throws Exception;
    }

    private ApiClient client() throws Exception {
        if (client == null) {
            client = connect.call();
        }
        return client;
    }

    @SuppressWarnings("CatchingUnchecked") // the cluster is untrusted: any failure is one failure
    private boolean send(String what, Call call) throws InterruptedException {
        String problem;
        try {
            ApiClient.Reply reply = call.call();
            if (reply.ok()) {
                succeeded();
                return true;
            }
            if (reply.status() == 401 && client != null) {
                client.tokenRejected();
            }
            problem = "HTTP " + reply.status() + " " + oneLine(reply.body());
        } catch (InterruptedException e) {
            throw e;
        } catch (IOException e) {
            problem = String.valueOf(e.getMessage());
        } catch (Exception e) {
            problem = e.toString();
        }
        failedNow(what, problem);
        return false;
    }

    private void succeeded() {
        backoff = 0;
        retryAt = 0;
        if (failuresUnlogged > 0 || loggedOnce) {
            LOG.info("Reporting to Kubernetes works again");
            failuresUnlogged = 0;
            loggedOnce = false;
        }
    }

    private void failedNow(String what, String problem) {
        long now = nanoTime.getAsLong();
        backoff = backoff == 0 ? BACKOFF_MIN : Math.min(backoff * 2, BACKOFF_MAX);
        retryAt = now + backoff;
        if (!loggedOnce || now - failureLoggedAt >= FAILURE_LOG) {
            int more = failuresUnlogged;
            LOG.warning(
                    () ->
                            "Failed to "
                                    + what
                                    + " in Kubernetes: "
                                    + problem
                                    + (more > 0 ? " (" + more + " more failures before)" : "")
                                    + "; trying again in "
                                    + TimeUnit.NANOSECONDS.toSeconds(backoff)
                                    + " s");
            failureLoggedAt = now;
            failuresUnlogged = 0;
            loggedOnce = true;
        } else {
            failuresUnlogged++;
        }
    }

    private static String oneLine(String body) {
        String line = body.replaceAll("[\\r\\n\\t]+", " ").strip();
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }
}
