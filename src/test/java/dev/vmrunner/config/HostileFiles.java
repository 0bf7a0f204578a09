package dev.vmrunner.config;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Configuration files written to hurt a reader: too large, nested too deep, aliases that expand
 * without end, bytes that are no text. Shared by the unit tests and the end-to-end tests.
 */
public enum HostileFiles {
    /** About 9 MB: a mapping nested 3000 deep. */
    DEEP_9MB,
    /** 60 MB of comment lines. */
    HUGE_60MB,
    /** Billion laughs: nine levels of nine aliases each. */
    ALIAS_BOMB,
    /** Few aliases, each of a long list: expands to far more values than the file has. */
    ALIAS_EXPANSION,
    /** {@code name: &a [*a]}: a list that contains itself. */
    RECURSIVE_ALIAS,
    /** Random bytes. */
    GARBAGE,
    /** No bytes at all. */
    EMPTY,
    /** A flow list nested 100000 deep, well within the size limit. */
    DEEP_FLOW,
    /** Half a million values in 1 MB. */
    MANY_VALUES;

    /** Writes the file (streaming: never holds the large ones in memory). */
    public Path write(Path file) throws IOException {
        switch (this) {
            case DEEP_9MB -> deepMapping(file, 3000);
            case HUGE_60MB -> repeat(file, "# " + "x".repeat(97) + "\n", 60 * 1024 * 1024 / 100);
            case GARBAGE -> {
                byte[] bytes = new byte[4096];
                new Random(12).nextBytes(bytes);
                Files.write(file, bytes);
            }
            default -> Files.writeString(file, text());
        }
        return file;
    }

    /** The content of the small files. */
    String text() {
        return switch (this) {
            case ALIAS_BOMB -> aliasBomb();
            case ALIAS_EXPANSION -> aliasExpansion();
            case RECURSIVE_ALIAS -> "\"/Runner\":\n  vm:\n    name: &a [*a]\n";
            case EMPTY -> "";
            case DEEP_FLOW -> "\"/Runner\": " + "[".repeat(100_000) + "]".repeat(100_000) + "\n";
            case MANY_VALUES -> "\"/Runner\": [" + "a,".repeat(500_000) + "a]\n";
            default -> throw new IllegalStateException(name() + " is written by write()");
        };
    }

    private static String aliasBomb() {
        StringBuilder yaml =
                new StringBuilder("\"/Runner\":\n  vm:\n    name: bomb\n  cloudInit:\n")
                        .append(
                                "    userData:\n"
                                        + "      l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
        for (int level = 1; level < 10; level++) {
            yaml.append("      l").append(level).append(": &l").append(level).append(" [");
            for (int i = 0; i < 9; i++) {
                yaml.append(i == 0 ? "" : ",").append("*l").append(level - 1);
            }
            yaml.append("]\n");
        }
        return yaml.toString();
    }

    private static String aliasExpansion() {
        StringBuilder yaml =
                new StringBuilder("\"/Runner\":\n  vm:\n    name: wide\n  cloudInit:\n")
                        .append("    userData:\n      wide: &w [")
                        .append("x,".repeat(1999))
                        .append("x]\n      copies: [");
        for (int i = 0; i < 15; i++) {
            yaml.append(i == 0 ? "" : ",").append("*w");
        }
        return yaml.append("]\n").toString();
    }

    private static void deepMapping(Path file, int depth) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write("\"/Runner\":\n");
            for (int i = 1; i <= depth; i++) {
                out.write("  ".repeat(i));
                out.write("a:\n");
            }
            out.write("  ".repeat(depth + 1));
            out.write("b: c\n");
        }
    }

    private static void repeat(Path file, String line, int times) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int i = 0; i < times; i++) {
                out.write(line);
            }
        }
    }
}
