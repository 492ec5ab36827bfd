package dev.pgshift.source;

import dev.pgshift.Durations;
import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A backfill migration: a file whose first line is {@code -- pgshift:backfill [option=value ...]} and whose one statement,
 * an UPDATE, a DELETE or an INSERT ... SELECT, is written for the whole table. pgshift runs it in batches along the
 * table's key (the migrate package's BackfillRunner): each batch is the statement with a key range added to its WHERE.
 * This class reads the directive and the statement's shape: which table is batched, by what name its columns are
 * qualified, and where the range goes.
 *
 * @param options   the directive's options, defaults filled in
 * @param statement the one statement
 * @param verb      UPDATE, DELETE or INSERT
 * @param table     the table batched along its key: the UPDATE's or DELETE's target, the INSERT's first table after FROM
 * @param qualifier what qualifies that table's columns in the statement: its alias, or its name as written
 * @param bodyStart where the WHERE condition starts in the statement's text, right after WHERE (-1: it has no WHERE)
 * @param bodyEnd   where the WHERE condition ends (the next clause's first word, or the statement's end), or where a
 *                  WHERE is inserted when it has none
 * @param assigned  the columns an UPDATE's SET assigns, as PostgreSQL folds them (a key column among them is refused)
 */
public record Backfill(Options options, SqlStatement statement, String verb, QualifiedName table, String qualifier, int bodyStart,
        int bodyEnd, List<String> assigned) {

    /** The directive, on a migration's first line. */
    public static final String DIRECTIVE = "-- pgshift:backfill";
    private static final Pattern FIRST_LINE = Pattern.compile("\\A\\uFEFF?--[ \\t]*pgshift:backfill(?<options>[ \\t][^\\n]*)?\\r?(\\n|\\z)");
    /** What looks like the directive, however written (case, spaces, another comment before it). */
    private static final Pattern LOOKALIKE = Pattern.compile("(?i)pgshift\\s*:\\s*backfill");

    /**
     * @param batch            rows of the table in the first batch (the size then adapts toward {@code target})
     * @param target           the time a batch should take: the size doubles at most while batches are quicker and halves
     *                         when slower; zero keeps the size fixed
     * @param pause            the pause after each batch
     * @param lockTimeout      lock_timeout of each batch
     * @param statementTimeout statement_timeout of each batch
     * @param retries          how often one batch is retried (halved) after a lock timeout, statement timeout, deadlock
     *                         or serialization failure before the run gives up (exit 75; the next run resumes)
     * @param maxLag           the replay lag of a replica (pg_stat_replication) above which the next batch waits; zero: no wait
     */
    public record Options(int batch, Duration target, Duration pause, Duration lockTimeout, Duration statementTimeout, int retries,
            Duration maxLag) {
        static final Options DEFAULTS = new Options(1000, Duration.ofMillis(300), Duration.ofMillis(50), Duration.ofSeconds(2),
                Duration.ofSeconds(30), 10, Duration.ofSeconds(30));

        /** As the directive would write them. */
        @Override
        public String toString() {
            return "batch=" + batch + " target=" + ms(target) + " pause=" + ms(pause) + " lock-timeout=" + ms(lockTimeout)
                    + " statement-timeout=" + ms(statementTimeout) + " retries=" + retries + " max-lag=" + ms(maxLag);
        }

        private static String ms(Duration d) {
            return dev.pgshift.Durations.display(d);
        }
    }

    private static final Set<String> OPTIONS = Set.of("batch", "target", "pause", "lock-timeout", "statement-timeout", "retries", "max-lag");

    /**
     * The backfill a file declares, or null when its first line is no directive.
     *
     * @throws PgshiftException exit 3: the directive elsewhere than on the first line, a bad option, no statement or more
     *                          than one, a statement pgshift cannot batch; each naming file:line and what to do
     */
    static Backfill of(MigrationFile file, Iterable<SqlStatement> statements) {
        String path = file.displayPath();
        Matcher first = FIRST_LINE.matcher(file.content());
        if (!first.find()) {
            Matcher lookalike = LOOKALIKE.matcher(file.content());
            if (lookalike.find()) {
                int line = 1 + (int) file.content().substring(0, lookalike.start()).chars().filter(c -> c == '\n').count();
                throw new PgshiftException(ExitCode.CONFIG, path + ":" + line + ": " + (line == 1
                        ? "line 1 looks like a backfill directive but is not one as written: it is '" + DIRECTIVE + "' exactly (lower case, "
                                + "no space before 'backfill', nothing before it on the line), then options as name=value separated by spaces"
                        : "'" + DIRECTIVE + "' counts only on the file's first line") + "; as it is, the file would run as one statement "
                        + "over the whole table");
            }
            return null;
        }
        Options options = options(path, first.group("options") == null ? "" : first.group("options").strip());
        SqlStatement only = null;
        for (SqlStatement s : statements) {
            if (only != null) {
                throw new PgshiftException(ExitCode.CONFIG, path + ":" + s.line() + ": a backfill file holds one statement (an UPDATE, a DELETE or "
                        + "an INSERT ... SELECT), and '" + s.excerpt(50) + "' is a second one after line " + only.line()
                        + ": move it to a migration of its own" + (s.startsWith("SET") || only.startsWith("SET") ? " (a backfill runs "
                                + "with the session's defaults: schema-qualify its names rather than SET search_path)" : ""));
            }
            only = s;
        }
        if (only == null) {
            throw new PgshiftException(ExitCode.CONFIG, path + ": a backfill file needs its statement (an UPDATE, a DELETE or an INSERT ... SELECT) "
                    + "after the directive; it has none");
        }
        return new BackfillShape(path, only).read(options);
    }

    private static Options options(String path, String written) {
        Map<String, String> given = new LinkedHashMap<>();
        for (String part : written.isEmpty() ? new String[0] : written.split("[ \\t]+")) {
            int eq = part.indexOf('=');
            String name = eq < 0 ? part : part.substring(0, eq);
            if (eq < 0 || !OPTIONS.contains(name) || given.containsKey(name)) {
                throw new PgshiftException(ExitCode.CONFIG, path + ":1: " + (eq >= 0 && given.containsKey(name) ? "option '" + name + "' is given twice"
                        : "'" + part + "' is no backfill option") + "; the directive takes name=value options among batch, target, pause, "
                        + "lock-timeout, statement-timeout, retries, max-lag (defaults: " + Options.DEFAULTS + ")");
            }
            given.put(name, part.substring(eq + 1));
        }
        Options d = Options.DEFAULTS;
        Options o = new Options(count(path, given, "batch", d.batch(), 1, 1_000_000), duration(path, given, "target", d.target()),
                duration(path, given, "pause", d.pause()), duration(path, given, "lock-timeout", d.lockTimeout()),
                duration(path, given, "statement-timeout", d.statementTimeout()), count(path, given, "retries", d.retries(), 0, 1000),
                duration(path, given, "max-lag", d.maxLag()));
        if (o.lockTimeout().isZero() || o.statementTimeout().isZero()) {
            throw new PgshiftException(ExitCode.CONFIG, path + ":1: lock-timeout and statement-timeout bound each batch and cannot be 0");
        }
        return o;
    }

    private static int count(String path, Map<String, String> given, String name, int fallback, int min, int max) {
        String v = given.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.replace("_", ""));
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // said below
        }
        throw new PgshiftException(ExitCode.CONFIG, path + ":1: bad value '" + v + "' for backfill option " + name + ": a whole number from "
                + min + " to " + max);
    }

    private static Duration duration(String path, Map<String, String> given, String name, Duration fallback) {
        String v = given.get(name);
        if (v != null && v.matches("\\d+") && !v.matches("0+")) {
            throw new PgshiftException(ExitCode.CONFIG, path + ":1: backfill option " + name + "=" + v + " needs a unit: " + v + "ms or " + v + "s");
        }
        Duration d = v == null ? fallback : Durations.parse(path + ":1: backfill option " + name, v);
        if (d.compareTo(Duration.ofHours(24)) > 0) {
            throw new PgshiftException(ExitCode.CONFIG, path + ":1: backfill option " + name + " is at most 24h, not '" + v + "'");
        }
        return d;
    }

    /** The statement of batch: the file's statement with {@code range} (a condition on the key) added to its WHERE. */
    public String batchSql(String range) {
        String text = statement.text();
        // each insertion after a newline: a -- comment at the end of the condition ends there
        if (bodyStart < 0) {
            return text.substring(0, bodyEnd).stripTrailing() + "\nWHERE " + range + "\n" + text.substring(bodyEnd);
        }
        return text.substring(0, bodyStart) + " " + range + " AND (" + text.substring(bodyStart, bodyEnd).stripTrailing() + "\n)"
                + (bodyEnd < text.length() ? " " : "") + text.substring(bodyEnd);
    }
}
