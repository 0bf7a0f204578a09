package dev.vmrunner.supervisor;

import dev.vmrunner.supervisor.live.LiveConfig;

/**
 * The parts of a supervisor that its rooms (the openings, {@link Boot}, {@link Teardown}, {@link
 * StatusPublisher}) share; all of them loop-thread only.
 */
record Parts(
        Loop loop,
        Lifecycle life,
        Children children,
        MonitorLink monitor,
        DisplayAccess display,
        LiveConfig live) {}
