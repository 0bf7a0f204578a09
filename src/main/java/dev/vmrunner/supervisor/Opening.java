package dev.vmrunner.supervisor;

import dev.vmrunner.console.ConsoleTail;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.qmp.VcpuSlot;
import dev.vmrunner.supervisor.claim.RunnerState;
import java.util.Set;
import java.util.function.Supplier;

/**
 * How a run begins: QEMU is started ({@link StartSequence}) or an earlier runner's QEMU is taken on
 * ({@link AdoptionSequence}). Everything after QEMU runs is the same for both; what differs is
 * asked here. Loop thread only.
 */
interface Opening {

    /** What an opening tells the supervisor. */
    interface Host {
        /** A step failed: the start ends ({@link Opening#failed}). */
        void failStart(String message);

        /**
         * QEMU runs (paused, after a start) or was found running: connect to its monitor.
         *
         * @param state what a later runner would need to adopt it, kept from now on
         * @param emptied the vCPU slots an unplug emptied; null when unknown
         * @param console follows its serial console log (null: none), once QEMU is connected to
         */
        void qemuStarted(
                ChildProcess qemu,
                RunnerState state,
                Set<VcpuSlot> emptied,
                Supplier<ConsoleTail> console);

        /** The monitor is lost while QEMU lives: connect again. */
        void reconnect(String why);
    }

    /** Starts, on the loop thread; what follows arrives as events. */
    void begin();

    /** On the monitor's first connection: true when the vCPUs run already (nothing to set up). */
    boolean vcpusRun();

    /** The start failed (the message is logged): ends the run the way this opening must. */
    void failed();

    /** The monitor closed while QEMU seems to live; true when the opening looks after it. */
    boolean monitorClosed();

    /** Once the VM runs: configuration content to apply now, or null. */
    byte[] toApply();

    /** After the run: removes what the opening left behind. */
    void close();
}
