/**
 * The guest's serial console log, followed on a thread of its own and copied to the runner's log as
 * bounded, printable lines ({@link dev.vmrunner.console.ConsoleTail}, {@link
 * dev.vmrunner.console.ConsoleLines}). Child output like {@code launch}'s {@code ChildOutput}, in a
 * package of its own because {@code launch} is past 3,000 lines.
 *
 * <p>Dependency rule: uses {@code config} ({@code RuntimeFiles}) only; never the supervisor.
 */
package dev.vmrunner.console;
