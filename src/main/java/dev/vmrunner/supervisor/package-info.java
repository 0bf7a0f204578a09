/**
 * The single loop that owns one VM: {@link dev.vmrunner.supervisor.Supervisor} wires it, {@link
 * dev.vmrunner.supervisor.Loop} runs it, {@link dev.vmrunner.supervisor.Lifecycle} holds what it
 * knows. A run begins with an {@link dev.vmrunner.supervisor.Opening} (a start or an adoption),
 * goes on through {@link dev.vmrunner.supervisor.Boot}, and ends by the one route of {@link
 * dev.vmrunner.supervisor.Teardown}. The states are drawn in {@link dev.vmrunner.status.State}.
 *
 * <p>Dependency rule: uses every package below it ({@code config}, {@code launch}, {@code qmp},
 * {@code agent}, {@code reconcile}, {@code status}, {@code kube}, {@code console}, {@code files},
 * {@code supervisor.claim} and {@code supervisor.live}); none of them uses it. Code that never
 * touches the loop lives in those packages, not here.
 */
package dev.vmrunner.supervisor;
