package dev.vmrunner.launch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One process to start: what the template said, with the executable chosen. */
public record ProcessSpec(
        String name, Path executable, List<String> arguments, Map<String, String> environment) {

    public ProcessSpec {
        arguments = List.copyOf(arguments);
        environment = Map.copyOf(environment);
    }

    /** The complete argv, executable first. */
    public List<String> argv() {
        List<String> argv = new ArrayList<>(arguments.size() + 1);
        argv.add(executable.toString());
        argv.addAll(arguments);
        return argv;
    }
}
