package dev.vmrunner.config;

import java.util.List;

/** A configuration that cannot be used; lists every problem found, each naming its key and line. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String[] problems;

    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = problems.toArray(String[]::new);
    }

    public ConfigException(String problem, Throwable cause) {
        super(problem, cause);
        this.problems = new String[] {problem};
    }

    /** The problems, one message each, in document order. */
    public List<String> problems() {
        return List.of(problems);
    }
}
