package dev.vmrunner.supervisor;

import dev.vmrunner.qmp.QmpStats;
import dev.vmrunner.qmp.VmEvent;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * QMP events on their way from the reader thread to the loop, with the guest-driven ones held to
 * one a second per kind, device and direction: a guest can reset itself, move a tray, open and
 * close a serial port, and a SPICE client can connect, as fast as it likes, and each event costs
 * the loop a log line or a QMP query. An event that arrives within the second after the last of its
 * kind waits; a later one of the same kind replaces it (the latest wins, the others are counted as
 * merged), so at most one per kind is queued and a storm costs bounded memory, CPU and log lines.
 * Merges are logged at most once a minute, summed by event. Events the runner itself causes or must
 * see each of (SHUTDOWN, POWERDOWN, STOP, RESUME, DEVICE_DELETED) pass at once.
 */
final class EventGate {
    private static final Logger LOG = Logger.getLogger("vmrunner");

    static final Duration INTERVAL = Duration.ofSeconds(1);
    static final Duration LOG_INTERVAL = Duration.ofMinutes(1);

    private final Loop loop;
    private final QmpStats stats;
    private final Map<String, Slot> slots = new HashMap<>();
    private final Map<String, Long> unlogged = new TreeMap<>();
    private long lastLogged;
    private boolean logged;

    /** One kind's last delivery and the event that waits for its turn. */
    private static final class Slot {
        long delivered;
        boolean ever;
        VmEvent waiting;
    }

    EventGate(Loop loop, QmpStats stats) {
        this.loop = loop;
        this.stats = stats;
    }

    /** Passes the event to the loop now, later, or merged into a later one. Any thread. */
    void offer(VmEvent event) {
        String key = key(event);
        if (key == null) {
            loop.post(new Event.QmpEventArrived(event));
            return;
        }
        synchronized (this) {
            Slot slot = slots.computeIfAbsent(key, k -> new Slot());
            long now = loop.clock().nanoTime();
            if (slot.waiting != null) {
                slot.waiting = event;
                merged(key, now);
                return;
            }
            long since = now - slot.delivered;
            if (!slot.ever || since >= INTERVAL.toNanos()) {
                slot.ever = true;
                slot.delivered = now;
                loop.post(new Event.QmpEventArrived(event));
                return;
            }
            slot.waiting = event;
            Duration wait = Duration.ofNanos(INTERVAL.toNanos() - since);
            loop.post(new Event.Continuation(() -> loop.schedule(wait, () -> release(slot))));
        }
    }

    /** The slot's waiting event gets its turn (loop thread). */
    private void release(Slot slot) {
        VmEvent event;
        synchronized (this) {
            event = slot.waiting;
            slot.waiting = null;
            slot.delivered = loop.clock().nanoTime();
        }
        if (event != null) {
            loop.post(new Event.QmpEventArrived(event));
        }
    }

    private void merged(String key, long now) {
        String name = key.split(" ", 2)[0];
        stats.eventMerged(name);
        unlogged.merge(key, 1L, Long::sum);
        if (!logged || now - lastLogged >= LOG_INTERVAL.toNanos()) {
            String counts = unlogged.toString();
            LOG.warning(
                    () ->
                            "The guest sends QMP events faster than one a second; merged "
                                    + counts
                                    + (logged ? " since the last message" : ""));
            unlogged.clear();
            logged = true;
            lastLogged = now;
        }
    }

    /** The kind an event is held by, or null for one that passes at once. */
    private static String key(VmEvent event) {
        if (event instanceof VmEvent.Reset) {
            return "RESET";
        } else if (event instanceof VmEvent.TrayMoved t) {
            return "DEVICE_TRAY_MOVED " + t.qdevId() + (t.open() ? " open" : " closed");
        } else if (event instanceof VmEvent.BalloonChange) {
            return "BALLOON_CHANGE";
        } else if (event instanceof VmEvent.SerialPortChanged p) {
            return "VSERPORT_CHANGE " + p.device() + (p.open() ? " open" : " closed");
        } else if (event instanceof VmEvent.SpiceClient c) {
            return "SPICE " + (c.connected() ? "connected" : "disconnected");
        } else if (event instanceof VmEvent.Other o) {
            return o.name();
        }
        return null;
    }
}
