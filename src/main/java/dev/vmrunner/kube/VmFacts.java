package dev.vmrunner.kube;

/**
 * Facts about the VM that the status snapshot does not carry, told by the supervisor as they
 * happen, for whoever reports them (the Events of {@link PodReport}). Called on the loop thread: an
 * implementation must return at once and never throw. All methods do nothing by default, so {@link
 * #NONE} is the supervisor's until it is told otherwise.
 */
public interface VmFacts {

    /** Tells nobody. */
    VmFacts NONE = new VmFacts() {};

    /**
     * A live change of {@code key} ended: {@code kind} is the outcome's category ({@code applied},
     * {@code pending}, {@code ignored}, {@code rejected}), {@code text} the line the log has.
     */
    default void changeDone(String key, String kind, String text) {}

    /**
     * The guest powered off: {@code asked} when the runner asked it to (a stop), else by itself.
     */
    default void poweredOff(boolean asked) {}

    /** The guest agent stopped answering after it had answered. */
    default void agentLost(String why) {}

    /** The VM is to stop and the runner to stay ({@code by}: e.g. {@code vm.state: Stopped}). */
    default void stopRequested(String by) {}

    /** A stopped VM is to start again ({@code by}: e.g. {@code vmrunner start}). */
    default void startRequested(String by) {}

    /** The VM is to be reset ({@code by}: e.g. {@code vmrunner reset}). */
    default void resetRequested(String by) {}
}
