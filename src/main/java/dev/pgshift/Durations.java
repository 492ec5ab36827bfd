package dev.pgshift;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Durations as a user writes them in a flag, a setting or a migration's directive: 500ms, 30s, 5m, 1h, a bare number of seconds, or ISO-8601. */
public final class Durations {
    private Durations() {
    }

    /**
     * @param what the setting or option, for the message
     * @throws PgshiftException exit 3 naming {@code what}
     */
    public static Duration parse(String what, String value) {
        String t = value.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("-")) {
            throw new PgshiftException(ExitCode.CONFIG, "bad duration '" + value + "' for " + what + ": it cannot be negative");
        }
        try {
            if (t.startsWith("p")) {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (NumberFormatException | DateTimeParseException | ArithmeticException e) {
            throw new PgshiftException(ExitCode.CONFIG, "bad duration '" + value + "' for " + what + ": expected e.g. 500ms, 30s, 5m, 1h");
        }
    }

    /** As a user would write it: whole seconds as {@code 30s}, else milliseconds ({@code 500ms}). */
    public static String display(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
