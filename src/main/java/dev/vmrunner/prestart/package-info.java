/**
 * The overlapped start: the launcher ({@code bin/vmrunner}) starts QEMU paused from the command
 * line of the VM's last start while the runner's JVM boots, and the runner takes it on only once it
 * is exactly the VM it would start itself. {@link dev.vmrunner.prestart.PrestartCache} writes what
 * the launcher reads; {@link dev.vmrunner.prestart.Prestarted} checks what it started before any
 * guest code runs. The whole path, and why it is safe, is in docs/design.md ("The start path").
 *
 * <p>Dependency rule: uses {@code config}, {@code launch}, {@code qmp}, {@code console} and {@code
 * supervisor.claim}; never the supervisor's loop.
 */
package dev.vmrunner.prestart;
