/**
 * Live reconfiguration as observe → diff → act. {@link dev.vmrunner.reconcile.Reconciler#diff}
 * turns what the configuration wants ({@link dev.vmrunner.reconcile.Desired}) and what QEMU reports
 * ({@link dev.vmrunner.reconcile.Observed}) into {@link dev.vmrunner.reconcile.Action}s; {@link
 * dev.vmrunner.reconcile.ChangeReport} says, per changed key, whether it can be applied live or
 * needs a restart. Nothing here talks to QEMU.
 */
package dev.vmrunner.reconcile;
