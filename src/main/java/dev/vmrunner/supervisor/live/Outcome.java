package dev.vmrunner.supervisor.live;

/**
 * What a live change did. The type is the category (counted for metrics, kept for the status); the
 * detail is for people. {@link #text()} is what the log line says after the change.
 */
sealed interface Outcome {

    /** The category as the metrics label it: one of a fixed few, never a message's text. */
    default String kind() {
        if (this instanceof Applied) {
            return "applied";
        } else if (this instanceof Pending) {
            return "pending";
        } else if (this instanceof Ignored) {
            return "ignored";
        }
        return "rejected";
    }

    /** As logged after the change, e.g. {@code applied (VM reset)}. */
    String text();

    /** The running VM has it now. {@code detail}, null for none, says how. */
    record Applied(String detail) implements Outcome {
        static final Applied PLAINLY = new Applied(null);

        @Override
        public String text() {
            return detail == null ? "applied" : "applied (" + detail + ")";
        }
    }

    /**
     * The change waits. {@code detail} says for what; null: for the VM to run (it is then applied
     * like any other change).
     */
    record Pending(String detail) implements Outcome {
        static final Pending UNTIL_RUNNING = new Pending(null);

        @Override
        public String text() {
            return detail == null ? "pending, applied once the VM runs" : "pending: " + detail;
        }
    }

    /** The change is not acted on, for the reason given. */
    record Ignored(Why why) implements Outcome {

        /** Why a change is ignored. */
        enum Why {
            NOT_RUNNING(", the VM is not running"),
            STOPPING(", the VM is stopping"),
            NOT_AN_INCREASE(" (only an increase resets the VM)");

            private final String said;

            Why(String said) {
                this.said = said;
            }
        }

        @Override
        public String text() {
            return "ignored" + why.said;
        }
    }

    /**
     * QEMU or the guest refused the change, or the runner would not risk it; {@code inPart}: some
     * of it was applied (fewer vCPUs than wanted).
     */
    record Rejected(String detail, boolean inPart) implements Outcome {

        /** Rejected as a whole. */
        Rejected(String detail) {
            this(detail, false);
        }

        /** Rejected with the cause's message. */
        static Rejected by(Throwable cause) {
            return new Rejected(cause.getMessage());
        }

        @Override
        public String text() {
            return (inPart ? "rejected in part: " : "rejected: ") + detail;
        }
    }
}
