package dev.vmrunner.supervisor.claim;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

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
public record LiveQemu(long pid, Path monitor) {

    /** The verified live QEMU of the VM whose runtime directory this is, if any. */
    static Optional<LiveQemu> find(Path runtimeDir, Processes processes) {
        return livePid(runtimeDir, "qemu", processes)
                .filter(pid -> isQemu(pid, processes))
                .filter(pid -> namesFile(pid, runtimeDir.resolve(RuntimeFiles.MONITOR), processes))
                .map(pid -> new LiveQemu(pid, runtimeDir.resolve(RuntimeFiles.MONITOR)));
    }

    /** Whether the process's command line names this VM (its name or uuid). */
    boolean isOf(RunnerConfig config, Processes processes) {
        List<String> words = new ArrayList<>();
        words.add(config.vm().name());
        words.add(config.vm().name().replace(",", ",,"));
        if (config.vm().uuid() != null) {
            words.add(config.vm().uuid());
        }
        try {
            Path stored = config.dataDir().resolve("uuid.txt");
            if (Files.isRegularFile(stored) && Files.size(stored) < 100) {
                words.add(Files.readString(stored).strip());
            }
        } catch (IOException e) {
            // the name must do
        }
        List<String> args = processes.commandLine(pid);
        return args.stream()
                .anyMatch(
                        arg ->
                                words.stream()
                                        .filter(w -> !w.isEmpty())
                                        .anyMatch(w -> arg.equals(w) || hasValue(arg, w)));
    }

    /** Whether an option string ({@code guest=NAME,debug-threads=on}) has this value. */
    private static boolean hasValue(String arg, String value) {
        String key = "=" + value;
        for (int at = arg.indexOf(key); at >= 0; at = arg.indexOf(key, at + 1)) {
            int end = at + key.length();
            if (end == arg.length() || arg.charAt(end) == ',') {
                return true;
            }
        }
        return false;
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
        Set<String> forms = new HashSet<>();
        for (String path : new String[] {file.toString(), file.toAbsolutePath().toString()}) {
            forms.add(path);
            forms.add(path.replace(",", ",,")); // as qv() writes it into an option string
        }
        return processes.commandLine(pid).stream()
                .anyMatch(arg -> forms.stream().anyMatch(arg::contains));
    }
}
