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
            return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
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
        return new Shape(path, only).read(options);
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

    /** Reads a statement's shape along its words, at parenthesis depth 0. */
    private record Shape(String path, SqlStatement s) {
        private static final Set<String> CLAUSE_ENDS = Set.of("GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "RETURNING",
                "UNION", "INTERSECT", "EXCEPT", "FOR");
        private static final Set<String> NOT_ALIASES = Set.of("SET", "USING", "WHERE", "RETURNING", "JOIN", "INNER", "LEFT", "RIGHT", "FULL",
                "CROSS", "NATURAL", "ON", ",", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "UNION", "INTERSECT", "EXCEPT",
                "FOR", "TABLESAMPLE");

        Backfill read(Options options) {
            List<String> w = s.words();
            String verb = w.get(0);
            int at;
            switch (verb) {
                case "UPDATE" -> at = 1;
                case "DELETE" -> at = expect(1, "FROM");
                case "INSERT" -> {
                    expect(1, "INTO");
                    int select = find(2, Set.of("SELECT", "VALUES", "DEFAULT"));
                    if (select < 0 || !w.get(select).equals("SELECT")) {
                        throw refuse("an INSERT that is no INSERT ... SELECT inserts the same rows whatever the batch: write it as an ordinary migration");
                    }
                    int from = find(select + 1, Set.of("FROM"));
                    if (from < 0) {
                        throw refuse("its SELECT reads no table (no FROM): there is nothing to batch along");
                    }
                    at = from + 1;
                    if (w.get(select + 1).equals("DISTINCT") || find(from, Set.of("GROUP", "HAVING", "WINDOW")) >= 0) {
                        throw refuse("a SELECT with DISTINCT, GROUP BY, HAVING or WINDOW gives other rows when it reads the table batch by batch");
                    }
                }
                case "WITH" -> throw refuse("a WITH query cannot be batched: write it as UPDATE ... FROM (subquery), DELETE ... USING or "
                        + "INSERT ... SELECT ... FROM the table to batch");
                default -> throw refuse("a backfill's statement is an UPDATE, a DELETE or an INSERT ... SELECT");
            }
            if (at < w.size() && w.get(at).equals("ONLY")) {
                at++;
            }
            QualifiedName table = s.qualifiedNameAt(at);
            if (table == null) {
                throw refuse("pgshift batches along the key of the table at word " + (at + 1) + ", but '" + (at < w.size() ? w.get(at) : "")
                        + "' names no table (a subquery or a function cannot be batched: put the table there)");
            }
            int end = at;
            while (end + 2 < w.size() && w.get(end + 1).equals(".")) {
                end += 2;
            }
            String qualifier = s.source(at, end);
            int next = end + 1;
            if (next < w.size() && w.get(next).equals("*")) {
                next++;
            }
            if (next + 1 < w.size() && w.get(next).equals("AS")) {
                qualifier = s.source(next + 1, next + 1);
            } else if (next < w.size() && !NOT_ALIASES.contains(w.get(next)) && !w.get(next).equals("(")) {
                qualifier = s.source(next, next);
            }
            refuseWhatBatchesChange(verb, at, table);
            Set<String> ends = verb.equals("INSERT") ? CLAUSE_ENDS : Set.of("RETURNING");
            int where = find(next, Set.of("WHERE"));
            if (where > clauseEnd(next, ends)) {
                where = -1; // ON CONFLICT ... DO UPDATE ... WHERE: not the SELECT's
            }
            if (verb.equals("INSERT") && (find(next, Set.of("LIMIT", "OFFSET", "FETCH", "UNION", "INTERSECT", "EXCEPT")) >= 0)) {
                throw refuse("a SELECT with LIMIT, OFFSET, FETCH or a set operation gives other rows when it reads the table batch by batch");
            }
            if (where >= 0) {
                if (where + 2 < w.size() && w.get(where + 1).equals("CURRENT") && w.get(where + 2).equals("OF")) {
                    throw refuse("WHERE CURRENT OF works on a cursor, not in batches");
                }
                int bodyEnd = at(clauseEnd(where + 1, ends));
                if (s.text().substring(s.wordEnd()[where], bodyEnd).isBlank()) {
                    throw refuse("its WHERE has no condition");
                }
                return new Backfill(options, s, verb, table, qualifier, s.wordEnd()[where], bodyEnd, assigned());
            }
            return new Backfill(options, s, verb, table, qualifier, -1, at(clauseEnd(next, ends)), assigned());
        }

        /** Where word {@code i} starts, or the statement's end past the last word (numbers, operators and $$ bodies are no words). */
        private int at(int i) {
            return i < s.words().size() ? s.wordStart()[i] : s.text().length();
        }

        /**
         * What would make the batches' result differ from the one statement's, or cannot be run in batches: RETURNING, a
         * WITH inside the INSERT, aggregates or window functions in an INSERT's select list, and reading the batched
         * table again (a subquery, a join, USING): later batches would see what earlier ones wrote.
         */
        private void refuseWhatBatchesChange(String verb, int at, QualifiedName table) {
            List<String> w = s.words();
            if (find(0, Set.of("RETURNING")) >= 0) {
                throw refuse("RETURNING would hand each batch's rows to pgshift, which has nowhere to put them: leave it out");
            }
            if (verb.equals("INSERT")) {
                int select = find(2, Set.of("SELECT"));
                if (find(2, Set.of("WITH")) >= 0 && find(2, Set.of("WITH")) < select) {
                    throw refuse("a WITH query cannot be batched: write INSERT ... SELECT ... FROM the table to batch, joining what the WITH computed");
                }
                int from = find(select + 1, Set.of("FROM"));
                for (int i = select + 1; i < from; i++) {
                    boolean call = i + 1 < w.size() && w.get(i + 1).equals("(");
                    if (first(i, k -> true) == i && (call && AGGREGATES.contains(w.get(i)) || w.get(i).equals("OVER"))) {
                        throw refuse("its select list computes " + (w.get(i).equals("OVER") ? "a window function" : "an aggregate (" + w.get(i).toLowerCase(java.util.Locale.ROOT) + ")")
                                + " over the rows it reads, which in batches would be computed per batch");
                    }
                }
            }
            QualifiedName mine = table.truncated();
            for (int i = 1; i < w.size(); i++) {
                QualifiedName other = i == at ? null : s.qualifiedNameAt(i);
                boolean readsTable = other != null && Set.of("FROM", "JOIN", "USING", "ONLY", ",").contains(w.get(i - 1))
                        && other.truncated().name().equals(mine.name())
                        && (other.schema() == null || mine.schema() == null || other.truncated().schema().equals(mine.schema()));
                if (readsTable) {
                    throw refuse("it reads " + mine + ", the table it batches, again (word " + (i + 1) + "): each batch would see what the "
                            + "earlier ones wrote, where the one statement sees the table as it was. Compute what it needs into a table of its "
                            + "own first, in an earlier migration");
                }
            }
        }

        /** Built-in aggregates: in an INSERT ... SELECT's select list, computed per batch. */
        private static final Set<String> AGGREGATES = Set.of("COUNT", "SUM", "AVG", "MIN", "MAX", "ARRAY_AGG", "STRING_AGG", "BOOL_AND", "BOOL_OR",
                "EVERY", "BIT_AND", "BIT_OR", "BIT_XOR", "JSON_AGG", "JSONB_AGG", "JSON_OBJECT_AGG", "JSONB_OBJECT_AGG", "JSON_ARRAYAGG",
                "JSON_OBJECTAGG", "XMLAGG", "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "VARIANCE", "VAR_POP", "VAR_SAMP", "CORR", "COVAR_POP",
                "COVAR_SAMP", "MODE", "PERCENTILE_CONT", "PERCENTILE_DISC", "RANGE_AGG", "RANGE_INTERSECT_AGG", "ANY_VALUE");

        /** The columns an UPDATE's SET assigns (as PostgreSQL folds them), for the key check: a moved key would be met again. */
        List<String> assigned() {
            List<String> w = s.words();
            List<String> out = new java.util.ArrayList<>();
            int set = find(0, Set.of("SET"));
            if (!w.get(0).equals("UPDATE") || set < 0) {
                return out;
            }
            int stop = first(set + 1, i -> Set.of("FROM", "WHERE", "RETURNING").contains(w.get(i)));
            stop = stop < 0 ? w.size() : stop;
            for (int i = set + 1; i < stop; i++) {
                boolean starts = i == set + 1 || w.get(i - 1).equals(",") && first(i - 1, k -> true) == i - 1;
                if (!starts) {
                    continue;
                }
                if (w.get(i).equals("(")) {
                    for (int k = i + 1; k < stop && !w.get(k).equals(")"); k++) {
                        if (!w.get(k).equals(",")) {
                            out.add(QualifiedName.fold(s.source(k, k)));
                        }
                    }
                } else {
                    out.add(QualifiedName.fold(s.source(i, i)));
                }
            }
            return out;
        }

        private int expect(int i, String word) {
            if (i >= s.words().size() || !s.words().get(i).equals(word)) {
                throw refuse("expected " + word + " after " + s.head(i));
            }
            return i + 1;
        }

        /** The first word at depth 0 from {@code from} on that is one of {@code words}, or -1. */
        private int find(int from, Set<String> words) {
            return first(from, i -> words.contains(s.words().get(i)));
        }

        /** Where the clause from {@code from} ends: the first of {@code ends} (or ON CONFLICT) at depth 0, or the statement's end. */
        private int clauseEnd(int from, Set<String> ends) {
            List<String> w = s.words();
            int at = first(from, i -> ends.contains(w.get(i)) || w.get(i).equals("ON") && i + 1 < w.size() && w.get(i + 1).equals("CONFLICT"));
            return at < 0 ? w.size() : at;
        }

        /** The first word from {@code from} on, outside parentheses, that {@code is} accepts; -1 if none. */
        private int first(int from, java.util.function.IntPredicate is) {
            int depth = 0;
            List<String> w = s.words();
            for (int i = 0; i < w.size(); i++) {
                String x = w.get(i);
                depth += x.equals("(") ? 1 : x.equals(")") ? -1 : 0;
                if (i >= from && depth == 0 && is.test(i)) {
                    return i;
                }
            }
            return -1;
        }

        private PgshiftException refuse(String why) {
            return new PgshiftException(ExitCode.CONFIG, path + ":" + s.line() + ": '" + s.excerpt(60) + "' cannot run as a backfill: " + why
                    + ". A backfill file (first line '" + DIRECTIVE + "') holds one UPDATE, DELETE or INSERT ... SELECT written for the "
                    + "whole table; pgshift runs it in batches along that table's key.");
        }
    }
}
