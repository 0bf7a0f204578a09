/**
 * The runner's configuration: {@link dev.vmrunner.config.ConfigLoader} reads the {@code /Runner}
 * section of a JGrapes-style YAML file into immutable records ({@link
 * dev.vmrunner.config.RunnerConfig}, {@link dev.vmrunner.config.Vm} …), with every default filled
 * in and every value validated once.
 *
 * <p>Problems are collected, not thrown one by one: a {@link dev.vmrunner.config.ConfigException}
 * lists all of them in document order, each as {@code line N: key.path: what is wrong} (key paths
 * are relative to {@code /Runner}, list items indexed: {@code vm.drives[1].file}). Unknown keys are
 * warnings in the same format, returned with the configuration.
 */
package dev.vmrunner.config;
