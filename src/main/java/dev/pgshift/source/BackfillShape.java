package dev.pgshift.source;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.util.List;
import java.util.Set;

/**
 * A backfill statement's shape ({@link Backfill}), read along its words at parenthesis depth 0: the table, what qualifies
 * its columns, where the key range goes, and what cannot be batched.
 */
record BackfillShape(String path, SqlStatement s) {
    private static final Set<String> CLAUSE_ENDS = Set.of("GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "RETURNING",
            "UNION", "INTERSECT", "EXCEPT", "FOR");
    private static final Set<String> NOT_ALIASES = Set.of("SET", "USING", "WHERE", "RETURNING", "JOIN", "INNER", "LEFT", "RIGHT", "FULL",
            "CROSS", "NATURAL", "ON", ",", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "UNION", "INTERSECT", "EXCEPT",
            "FOR", "TABLESAMPLE");

    Backfill read(Backfill.Options options) {
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
                if (s.firstOutsideParentheses(i, k -> true) == i && (call && AGGREGATES.contains(w.get(i)) || w.get(i).equals("OVER"))) {
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
        int stop = s.firstOutsideParentheses(set + 1, i -> Set.of("FROM", "WHERE", "RETURNING").contains(w.get(i)));
        stop = stop < 0 ? w.size() : stop;
        for (int i = set + 1; i < stop; i++) {
            boolean starts = i == set + 1 || w.get(i - 1).equals(",") && s.firstOutsideParentheses(i - 1, k -> true) == i - 1;
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
        return s.firstOutsideParentheses(from, i -> words.contains(s.words().get(i)));
    }

    /** Where the clause from {@code from} ends: the first of {@code ends} (or ON CONFLICT) at depth 0, or the statement's end. */
    private int clauseEnd(int from, Set<String> ends) {
        List<String> w = s.words();
        int at = s.firstOutsideParentheses(from, i -> ends.contains(w.get(i)) || w.get(i).equals("ON") && i + 1 < w.size() && w.get(i + 1).equals("CONFLICT"));
        return at < 0 ? w.size() : at;
    }

    private PgshiftException refuse(String why) {
        return new PgshiftException(ExitCode.CONFIG, path + ":" + s.line() + ": '" + s.excerpt(60) + "' cannot run as a backfill: " + why
                + ". A backfill file (first line '" + Backfill.DIRECTIVE + "') holds one UPDATE, DELETE or INSERT ... SELECT written for the "
                + "whole table; pgshift runs it in batches along that table's key.");
    }
}
