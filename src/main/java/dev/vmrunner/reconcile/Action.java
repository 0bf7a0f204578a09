package dev.vmrunner.reconcile;

/** A change to make to the running VM, the result of {@link Reconciler#diff}. */
public sealed interface Action {

    /** A change of a CD drive's medium; {@code key} names the drive's position. */
    sealed interface Medium extends Action {
        /** QEMU's id of the drive. */
        String qdevId();

        @Override
        default LiveKey liveKey() {
            return LiveKey.CD_MEDIUM;
        }
    }

    /** The configuration key the action serves, for the per-change report. */
    String key();

    /** Which live key that is. */
    LiveKey liveKey();

    /** {@code balloon}: the guest should give memory back, or may use more. */
    record SetBalloon(long bytes) implements Action {
        @Override
        public String key() {
            return LiveKey.CURRENT_RAM.path();
        }

        @Override
        public LiveKey liveKey() {
            return LiveKey.CURRENT_RAM;
        }
    }

    /** Hot-plug vCPUs until {@code target} are present. */
    record AddCpus(int present, int target) implements Action {
        @Override
        public String key() {
            return LiveKey.CURRENT_CPUS.path();
        }

        @Override
        public LiveKey liveKey() {
            return LiveKey.CURRENT_CPUS;
        }
    }

    /** Unplug vCPUs until {@code target} are present. */
    record RemoveCpus(int present, int target) implements Action {
        @Override
        public String key() {
            return LiveKey.CURRENT_CPUS.path();
        }

        @Override
        public LiveKey liveKey() {
            return LiveKey.CURRENT_CPUS;
        }
    }

    /** Put a medium into a CD drive (replacing what is there). */
    record ChangeMedium(String key, String qdevId, String file) implements Medium {}

    /** Take the medium out of a CD drive. */
    record EjectMedium(String key, String qdevId) implements Medium {}

    /**
     * The guest has locked the drive's tray (a mounted CD): the change waits until the guest ejects
     * the medium itself. Nothing is sent to QEMU: a non-forced open of a locked tray makes QEMU
     * send the guest an eject request, which udev guests answer by ejecting even a mounted disc.
     *
     * @param file the medium wanted, null for an empty drive
     */
    record AwaitEject(String key, String qdevId, String file, boolean requestEject)
            implements Medium {
        /** Waits without asking the guest anything. */
        public AwaitEject(String key, String qdevId, String file) {
            this(key, qdevId, file, false);
        }
    }
}
