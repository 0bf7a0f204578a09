package dev.vmrunner.supervisor;

/**
 * The supervisor's time source: monotonic nanoseconds, as {@link System#nanoTime()}. Tests pass a
 * clock they advance themselves, so a 900 s powerdown timeout is tested in a millisecond.
 */
@FunctionalInterface
public interface Clock {

    Clock SYSTEM = System::nanoTime;

    long nanoTime();
}
