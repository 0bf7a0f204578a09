package dev.vmrunner.supervisor;

import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.qmp.QmpConnection;
import dev.vmrunner.qmp.VmEvent;

/** Everything that can happen to the VM, posted to the supervisor's single loop. */
sealed interface Event {

    /** A signal arrived (its name without SIG: TERM, INT, HUP, USR1, ...). */
    record SignalReceived(String name) implements Event {}

    record ChildExited(ChildProcess child) implements Event {}

    record QmpReady(QmpConnection connection) implements Event {}

    record QmpConnectFailed(Throwable cause) implements Event {}

    record QmpEventArrived(VmEvent event) implements Event {}

    /** A QMP connection closed; {@code cause} is null when the runner closed it. */
    record QmpClosed(QmpConnection connection, Throwable cause) implements Event {}

    /** The configuration file has new content. */
    @SuppressWarnings("ArrayRecordComponent") // handed over once, never compared or kept
    record ConfigFileChanged(byte[] content) implements Event {}

    /** QEMU's part of the run is over: the one way to the end starts ({@link QemuEnd}). */
    record QemuEnded() implements Event {}

    /** The continuation of an asynchronous call, to be run on the loop thread. */
    record Continuation(Runnable action) implements Event {}
}
