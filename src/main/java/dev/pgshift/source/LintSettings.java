package dev.pgshift.source;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the lint runs: its mode and, per rule, the threshold from which a finding counts.
 *
 * @param thresholds the thresholds the user set; the others are {@link #DEFAULT_ROWS} rows or {@link #DEFAULT_BYTES}
 *                   bytes on disk for SIZE rules, {@link #DEFAULT_AGE} for AGE rules
 */
public record LintSettings(Mode mode, Map<LintRule, Threshold> thresholds) {
    public static final long DEFAULT_ROWS = 100_000;
    public static final long DEFAULT_BYTES = 100L << 20;
    public static final Duration DEFAULT_AGE = Duration.ofMinutes(1);
    public static final LintSettings DEFAULT = new LintSettings(Mode.WARN, Map.of());

    /** What a finding does. */
    public enum Mode {
        /** Findings in plan, the run's log and the report. */
        WARN,
        /** Findings refuse the run before the backup (exit 3), unless allowed on the statement. */
        ENFORCE,
        /** No lint. */
        OFF
    }

    /**
     * From which size (rows or bytes on disk, whichever is reached first; 0 = never by that measure) or transaction age a
     * finding counts.
     */
    public record Threshold(long rows, long bytes, Duration age) {
        public boolean reached(long tableRows, long tableBytes) {
            return rows > 0 && tableRows >= rows || bytes > 0 && tableBytes >= bytes;
        }

        @Override
        public String toString() {
            if (age != null) {
                return "transactions open " + age.toSeconds() + "s or longer";
            }
            String r = rows > 0 ? String.format(Locale.ROOT, "%,d rows", rows) : null;
            String b = bytes > 0 ? dev.pgshift.Sizes.display(bytes) : null;
            return r == null ? b : b == null ? r : r + " or " + b;
        }
    }

    public Threshold threshold(LintRule rule) {
        Threshold t = thresholds.get(rule);
        if (t != null) {
            return t;
        }
        return switch (rule.kind()) {
            case SIZE -> new Threshold(DEFAULT_ROWS, DEFAULT_BYTES, null);
            case AGE -> new Threshold(0, 0, DEFAULT_AGE);
            case ALWAYS -> new Threshold(0, 0, null);
        };
    }

    private static final Pattern ENTRY = Pattern.compile("\\s*([A-Za-z-]+)\\s*=\\s*([^,]+?)\\s*");

    /**
     * @param mode       warn, enforce or off
     * @param thresholds {@code rule=LIMIT[/LIMIT],...}: a bare number is rows, a number with B, kB, MB, GB or TB is bytes
     *                   on disk; for lock-queue a duration
     * @param modeName   the setting, for messages; {@code thresholdsName} likewise
     */
    public static LintSettings parse(String mode, String modeName, String thresholds, String thresholdsName) {
        Mode m = switch (mode.trim().toLowerCase(Locale.ROOT)) {
            case "warn" -> Mode.WARN;
            case "enforce" -> Mode.ENFORCE;
            case "off" -> Mode.OFF;
            default -> throw new PgshiftException(ExitCode.CONFIG, "bad value '" + mode + "' for " + modeName
                    + ": expected warn (findings in plan, log and report), enforce (findings refuse the run before the backup, exit 3) or off");
        };
        Map<LintRule, Threshold> out = new EnumMap<>(LintRule.class);
        if (thresholds != null && !thresholds.isBlank()) {
            for (String entry : thresholds.split(",")) {
                Matcher e = ENTRY.matcher(entry);
                LintRule rule = e.matches() ? LintRule.byId(e.group(1)) : null;
                if (rule == null || rule.kind() == LintRule.Kind.ALWAYS) {
                    throw new PgshiftException(ExitCode.CONFIG, "bad entry '" + entry.trim() + "' for " + thresholdsName + ": expected RULE=LIMIT, "
                            + "RULE one of " + LintRule.ids().replace(", " + LintRule.ENUM_VALUE_IN_TRANSACTION.id(), "").replace(", "
                                    + LintRule.NAME_TRUNCATED.id(), "").replace(", " + LintRule.UNCHECKED_DO_BLOCK.id(), "")
                            + " (e.g. add-check=1000000/1GB, create-index=50000, lock-queue=30s)");
                }
                if (out.containsKey(rule)) {
                    throw new PgshiftException(ExitCode.CONFIG, rule.id() + " is given twice in " + thresholdsName + ": give each rule once");
                }
                out.put(rule, rule.kind() == LintRule.Kind.AGE ? new Threshold(0, 0, age(e.group(2), entry.trim(), thresholdsName))
                        : size(e.group(2), entry.trim(), thresholdsName));
            }
        }
        return new LintSettings(m, Map.copyOf(out));
    }

    private static Duration age(String value, String entry, String name) {
        Duration d = dev.pgshift.Durations.parse(name + " (" + entry + ")", value);
        if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofDays(1)) > 0) {
            throw new PgshiftException(ExitCode.CONFIG, "'" + entry + "' for " + name + ": the age of a transaction in the way is from 1s to 24h "
                    + "(e.g. lock-queue=30s)");
        }
        return d;
    }

    private static Threshold size(String value, String entry, String name) {
        long rows = 0;
        long bytes = 0;
        for (String part : value.split("/")) {
            long b = dev.pgshift.Sizes.parse(part);
            if (b >= 0) {
                bytes = b;
            } else if (part.trim().matches("[0-9]{1,15}")) {
                rows = Long.parseLong(part.trim());
            } else {
                throw new PgshiftException(ExitCode.CONFIG, "bad limit '" + part.trim() + "' in '" + entry + "' for " + name
                        + ": expected rows (a whole number, e.g. 100000) or a size on disk (e.g. 500MB, 2GB), or both as ROWS/SIZE");
            }
        }
        if (rows == 0 && bytes == 0) {
            throw new PgshiftException(ExitCode.CONFIG, "'" + entry + "' for " + name + " would flag every table, the empty ones too: "
                    + "give a limit above 0 (or --lint off to switch the lint off)");
        }
        return new Threshold(rows, bytes, null);
    }
}
