package dev.pgshift.config;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The value of one setting as text, parsed and checked: a bad one is exit 3 naming the setting and what it expects. */
final class SettingValues {
    private SettingValues() {
    }

    /**
     * The network timeout: 1s to 24h. It cannot be switched off (a run must never hang for good on a server that stopped
     * answering); a long, healthy statement is never cut by it, so more than a day buys nothing.
     */
    static Duration networkTimeout(String value) {
        return secondToDay(Setting.NETWORK_TIMEOUT, value, " (a run must notice a server that stopped answering; a long, healthy statement is never cut by it)");
    }

    /** A duration from 1s to 24h; anything else (unreadable too) is refused naming the range and {@code why}. */
    static Duration secondToDay(Setting s, String value, String why) {
        Duration d;
        try {
            d = parseDuration(s, value);
        } catch (PgshiftException e) {
            d = Duration.ZERO;
        }
        if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofHours(24)) > 0) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + value + "' for " + s.displayName() + ": a duration between 1s and 24h" + why);
        }
        return d;
    }

    static java.util.Set<String> names(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(java.util.stream.Collectors.toSet());
    }

    static List<Path> directories(Setting s, String value) {
        List<Path> dirs = new ArrayList<>();
        if (value == null) {
            return dirs;
        }
        for (String d : value.split(",")) {
            if (d.isBlank()) {
                continue;
            }
            Path p = Path.of(d.trim());
            if (!Files.isDirectory(p)) {
                throw new PgshiftException(ExitCode.CONFIG, "directory " + p + " given by " + s.displayName() + " does not exist or is not a directory");
            }
            // -m d -m d, or -m d -m ./d: one directory read twice would clash with itself
            if (dirs.stream().noneMatch(seen -> sameDirectory(seen, p))) {
                dirs.add(p);
            }
        }
        return List.copyOf(dirs);
    }

    static boolean sameDirectory(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (java.io.IOException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }

    static <E extends Enum<E>> E parseEnum(Setting s, String value, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (written(e).equalsIgnoreCase(value.trim())) {
                return e;
            }
        }
        throw new PgshiftException(ExitCode.CONFIG, "bad value '" + value + "' for " + s.displayName() + ": expected one of "
                + java.util.Arrays.stream(type.getEnumConstants()).map(SettingValues::written).toList());
    }

    /** A value as the user writes it: lower case, words joined by '-' (RESTORE_POINT: restore-point). */
    static String written(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static int parsePort(String value) {
        try {
            int port = Integer.parseInt(value.trim());
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PgshiftException(ExitCode.CONFIG, "bad port '" + value + "' for " + Setting.PORT.displayName() + ": expected 1-65535");
    }

    static int parseCount(Setting s, String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PgshiftException(ExitCode.CONFIG, "bad value '" + value + "' for " + s.displayName() + ": expected a whole number >= 0");
    }

    static boolean parseBoolean(Setting s, String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new PgshiftException(ExitCode.CONFIG, "bad value '" + value + "' for " + s.displayName() + ": expected true or false");
        };
    }

    static Duration parseDuration(Setting s, String value) {
        return dev.pgshift.Durations.parse(s.displayName(), value);
    }
}
