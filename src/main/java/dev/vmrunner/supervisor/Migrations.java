package dev.vmrunner.supervisor;

import dev.vmrunner.config.MigrationUri;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.ProcessSpec;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.VmEvent;
import dev.vmrunner.status.State;
import dev.vmrunner.supervisor.Event.Continuation;
import dev.vmrunner.supervisor.claim.VmClaim;
import dev.vmrunner.supervisor.migrate.Incoming;
import dev.vmrunner.supervisor.migrate.IncomingCommands;
import dev.vmrunner.supervisor.migrate.Outgoing;
import dev.vmrunner.supervisor.migrate.Requests;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The supervisor's side of a live migration ({@code supervisor.migrate} holds the logic): what the
 * source's {@link Outgoing} and the target's {@link Incoming} are lent of the loop, and the few
 * places where the run asks them. Loop thread only, except {@link #request}.
 */
final class Migrations {

    private final RunnerConfig config;
    private final Parts parts;
    private final Teardown teardown;
    private final VmClaim claim;
    private final Consumer<String> failStart;
    private final Outgoing outgoing;

    /** The target's side ({@code --incoming}); null for a runner that starts the guest itself. */
    private final Incoming incoming;

    Migrations(
            RunnerConfig config,
            RunnerConfig started,
            Parts parts,
            Teardown teardown,
            VmClaim claim,
            Consumer<String> failStart) {
        this.config = config;
        this.parts = parts;
        this.teardown = teardown;
        this.claim = claim;
        this.failStart = failStart;
        this.outgoing = new Outgoing(parts.loop(), config.migration(), new Migrating(started));
        MigrationUri from = config.migration().incoming();
        this.incoming = from == null ? null : new Incoming(parts.loop(), from, new Arriving());
    }

    /** A target receives the guest before its start goes on; the status shows either side. */
    void wire(Boot boot, StatusPublisher publisher) {
        if (incoming != null) {
            boot.receiveFirst(incoming::receive);
        }
        publisher.migration(
                () -> incoming != null ? incoming.status() : outgoing.status(),
                () -> incoming != null && incoming.waiting());
    }

    /** The VM's TPM state directory, from the target's swtpm command. */
    void swtpm(Optional<ProcessSpec> swtpm) {
        if (incoming != null) {
            incoming.tpmStateDir(swtpm.flatMap(IncomingCommands::templateStateDir));
        }
    }

    /** A socket request ({@link Requests}); on a status client's thread. Null: not ours. */
    String request(String line) {
        return Requests.answer(
                line,
                outgoing,
                config.migration(),
                action -> parts.loop().post(new Continuation(action)));
    }

    /**
     * SIGTERM or SIGINT: true when a migration takes it (a running one is cancelled, an arrived
     * guest is taken over first); false for the usual stop.
     */
    boolean onStop(String signal) {
        return outgoing.cancelOnStop(signal) || incoming != null && incoming.stopLater();
    }

    /** QEMU's {@code MIGRATION} event (the migration sets that capability): asks at once. */
    void onQmpEvent(VmEvent event) {
        if (event instanceof VmEvent.Other other && other.name().equals("MIGRATION")) {
            outgoing.migrationEvent();
            if (incoming != null) {
                incoming.migrationEvent();
            }
        }
    }

    /**
     * QEMU has exited. After a completed migration the guest runs nowhere here any more: the VM's
     * lock goes at once, so that the target need not wait for this runner's cleanup.
     */
    void qemuExited() {
        if (parts.life().ending.migrated && claim != null) {
            claim.letGo();
        }
    }

    /** The start fails: while a target waits for the guest, that is the exit code of its own. */
    void startFailing() {
        if (incoming != null && incoming.waiting()) {
            parts.life().ending.incomingFailed = true;
        }
    }

    /** After the run, once every child has ended. */
    void close() {
        if (incoming != null) {
            incoming.close(config);
        }
    }

    /** What an outgoing migration is lent: the monitor, the state, the end without powerdown. */
    private final class Migrating implements Outgoing.Host {
        private final RunnerConfig started;

        Migrating(RunnerConfig started) {
            this.started = started;
        }

        @Override
        public Qmp qmp() {
            return parts.monitor().isOpen() ? parts.monitor().qmp() : null;
        }

        @Override
        public String notReady() {
            State state = parts.life().state();
            return state == State.RUNNING ? null : "the VM is " + state.label();
        }

        @Override
        public RunnerConfig started() {
            return started;
        }

        @Override
        public RunnerConfig current() {
            return parts.live().current();
        }

        @Override
        public void migrated() {
            teardown.migratedAway();
        }
    }

    /** What an incoming migration is lent: the claim, the start's failure, the stop. */
    private final class Arriving implements Incoming.Host {
        @Override
        public void failed(String message) {
            failStart.accept(message);
        }

        @Override
        public boolean takeOver() {
            return claim == null || claim.takeOver(config);
        }

        @Override
        public boolean running() {
            return parts.life().state() == State.RUNNING;
        }

        @Override
        public void stop() {
            teardown.stopAsked();
        }
    }
}
