package dev.vmrunner.supervisor;

import dev.vmrunner.config.RuntimeFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A QEMU of this VM that is still running although no runner supervises it: a runner was killed
 * (kill -9, the OOM killer) and QEMU, in a session of its own, went on. Found by its pid file in
 * the runtime directory and verified against {@code /proc}: the process is alive, it is a QEMU, and
 * its command line names this runtime directory's monitor socket (a pid file can outlive its
 * process, and the pid be reused by something else).
 *
 * @param pid QEMU's pid
 * @param monitor its QMP socket
 */
record LiveQemu(long pid, Path monitor) {

    /** The verified live QEMU of the VM whose runtime directory this is, if any. */
    static Optional<LiveQemu> find(Path runtimeDir, Processes processes) {
        return livePid(runtimeDir, "qemu", processes)
                .filter(pid -> isQemu(pid, processes))
                .filter(pid -> namesFile(pid, runtimeDir.resolve(RuntimeFiles.MONITOR), processes))
                .map(pid -> new LiveQemu(pid, runtimeDir.resolve(RuntimeFiles.MONITOR)));
    }

    /**
     * The live swtpm of this runtime directory, if one is left: it ends by itself with QEMU, but
     * one left from an interrupted start holds the TPM state's lock.
     */
    static Optional<Long> findSwtpm(Path runtimeDir, Processes processes) {
        return livePid(runtimeDir, "swtpm", processes)
                .filter(pid -> namesFile(pid, runtimeDir.resolve(RuntimeFiles.SWTPM), processes));
    }

    private static Optional<Long> livePid(Path runtimeDir, String name, Processes processes) {
        try {
            String text = Files.readString(runtimeDir.resolve(RuntimeFiles.pidFile(name))).strip();
            long pid = Long.parseLong(text);
            return pid > 0 && processes.alive(pid) ? Optional.of(pid) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static boolean isQemu(long pid, Processes processes) {
        Optional<Path> exe = processes.executable(pid);
        String name =
                exe.map(p -> String.valueOf(p.getFileName()))
                        .orElseGet(
                                () ->
                                        processes.commandLine(pid).isEmpty()
                                                ? ""
                                                : Path.of(processes.commandLine(pid).get(0))
                                                        .getFileName()
                                                        .toString());
        return name.startsWith("qemu");
    }

    /** Whether one of the process's arguments mentions the file (as a path option value). */
    private static boolean namesFile(long pid, Path file, Processes processes) {
        java.util.Set<String> forms = new java.util.HashSet<>();
        for (String path : new String[] {file.toString(), file.toAbsolutePath().toString()}) {
            forms.add(path);
            forms.add(path.replace(",", ",,")); // as qv() writes it into an option string
        }
        return processes.commandLine(pid).stream()
                .anyMatch(arg -> forms.stream().anyMatch(arg::contains));
    }
}
