package dev.vmrunner.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The validated content of a configuration file (the {@code /Runner} section).
 *
 * @param configFile the file it was loaded from (absolute), or {@code null}
 * @param dataDir persistent per-VM files (absolute unless derived from a relative default)
 * @param runtimeDir sockets, pid files, generated images
 * @param template the configured template name or path, {@code null} for the standard one
 * @param updateTemplate whether to re-copy the template into {@code dataDir}
 * @param cloudInit cloud-init sources or {@code null}
 * @param guestShutdownStops whether a power-off the guest does by itself leaves the runner up with
 *     the VM stopped (else the runner ends, exit 0)
 * @param resetCounter the reset counter or {@code null}
 * @param vm the VM
 * @param http where the HTTP endpoints listen, {@code null} for none (the default)
 * @param migration how this runner takes part in a live migration
 */
public record RunnerConfig(
        Path configFile,
        Path dataDir,
        Path runtimeDir,
        String template,
        boolean updateTemplate,
        CloudInit cloudInit,
        boolean guestShutdownStops,
        Long resetCounter,
        Vm vm,
        HttpAddress http,
        Migration migration) {

    public RunnerConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(runtimeDir, "runtimeDir");
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(migration, "migration");
    }

    /** The same configuration, waiting for the guest at {@code incoming} ({@code --incoming}). */
    public RunnerConfig incoming(MigrationUri incoming) {
        return new RunnerConfig(
                configFile,
                dataDir,
                runtimeDir,
                template,
                updateTemplate,
                cloudInit,
                guestShutdownStops,
                resetCounter,
                vm,
                http,
                migration.incoming(incoming));
    }
}
