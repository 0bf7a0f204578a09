package dev.vmrunner.config;

import java.util.List;

/** A configuration that cannot be used; lists every problem found, each naming its key and line. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String[] problems;
    private final String[] warnings;

    public ConfigException(List<String> problems) {
        this(problems, List.of());
    }

    /** The problems, and the warnings the file also gave (unknown keys, ignored values). */
    public ConfigException(List<String> problems, List<String> warnings) {
        super(String.join("\n", problems));
        this.problems = problems.toArray(String[]::new);
        this.warnings = warnings.toArray(String[]::new);
    }

    public ConfigException(String problem, Throwable cause) {
        super(problem, cause);
        this.problems = new String[] {problem};
        this.warnings = new String[0];
    }

    /** The problems, one message each, in document order. */
    public List<String> problems() {
        return List.of(problems);
    }

    /** Warnings found beside the problems; a misspelt key often explains a missing one. */
    public List<String> warnings() {
        return List.of(warnings);
    }
}
