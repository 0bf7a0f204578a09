/**
 * Where the VM is meant to be, running or stopped, and what the runner's power commands mean: pure
 * decisions without the loop, QEMU or threads, unit-tested on their own. The supervisor's loop
 * carries them out.
 *
 * <p>The file is the desired state: {@code vm.state} ({@code Running}, the default, or {@code
 * Stopped}). A command ({@code vmrunner start}, {@code vmrunner stop}) or a power-off the guest
 * does by itself under {@code guestShutdownStops} is an edge: it holds until the file's {@code
 * vm.state} changes (or the next command), so {@code stop} while the file says {@code Running}
 * keeps the VM stopped until {@code start} or an edit of {@code vm.state}. A restarted runner
 * follows the file.
 *
 * <p>Dependency rule: uses {@code status} only.
 */
package dev.vmrunner.supervisor.power;
