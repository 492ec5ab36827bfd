package dev.pgshift.source;

import java.util.ArrayList;
import java.util.List;

/**
 * The one classification table: which statements PostgreSQL (14 and later) refuses inside a transaction block, which
 * are the file's own transaction control, and which are session settings and queries that fit either mode. The README's
 * "Statements that run outside a transaction" lists the same table; the conformance corpus proves each row against a
 * real server.
 *
 * <p>Outside a transaction block only: {@code CREATE [UNIQUE] INDEX CONCURRENTLY}, {@code DROP INDEX CONCURRENTLY},
 * {@code REINDEX} with {@code CONCURRENTLY} (as a keyword or in the option list) and every {@code REINDEX SCHEMA /
 * DATABASE / SYSTEM}, {@code VACUUM}, {@code CLUSTER} without a table, {@code CREATE / DROP DATABASE}, {@code ALTER
 * DATABASE ... SET TABLESPACE}, {@code CREATE / DROP TABLESPACE}, {@code ALTER SYSTEM}, {@code ALTER TABLE ... DETACH
 * PARTITION ... CONCURRENTLY} (not {@code FINALIZE}: the server accepts it in a transaction block), {@code CREATE / DROP
 * SUBSCRIPTION}, {@code ALTER SUBSCRIPTION ... REFRESH
 * PUBLICATION}, {@code DISCARD ALL}, {@code COMMIT PREPARED} and {@code ROLLBACK PREPARED}. ({@code ALTER TYPE ... ADD
 * VALUE} joined the transactional statements in PostgreSQL 12, below the oldest major pgshift supports.)
 */
final class SqlClassifier {

    private SqlClassifier() {
    }

    static SqlStatement.Kind classify(List<String> w) {
        if (w.isEmpty()) {
            return SqlStatement.Kind.NEUTRAL;
        }
        String first = w.get(0);
        switch (first) {
            case "BEGIN", "START", "COMMIT", "END", "ABORT", "SAVEPOINT", "RELEASE":
                if (first.equals("COMMIT") && at(w, 1, "PREPARED")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                return SqlStatement.Kind.TRANSACTION_CONTROL;
            case "ROLLBACK":
                return at(w, 1, "PREPARED") ? SqlStatement.Kind.NON_TRANSACTIONAL : SqlStatement.Kind.TRANSACTION_CONTROL;
            case "PREPARE":
                return at(w, 1, "TRANSACTION") ? SqlStatement.Kind.TRANSACTION_CONTROL : SqlStatement.Kind.NEUTRAL;
            case "SET", "RESET", "SHOW", "SELECT", "VALUES", "EXECUTE", "DEALLOCATE", "ANALYZE", "ANALYSE":
                if (first.equals("SET") && (at(w, 1, "TRANSACTION") || at(w, 1, "CONSTRAINTS") || at(w, 1, "SESSION") && at(w, 2, "CHARACTERISTICS"))) {
                    return SqlStatement.Kind.TRANSACTIONAL;
                }
                if (first.equals("SELECT") && w.contains("INTO")) {
                    return SqlStatement.Kind.TRANSACTIONAL; // SELECT ... INTO creates a table
                }
                return SqlStatement.Kind.NEUTRAL;
            case "VACUUM":
                return SqlStatement.Kind.NON_TRANSACTIONAL;
            case "DISCARD":
                return at(w, 1, "ALL") ? SqlStatement.Kind.NON_TRANSACTIONAL : SqlStatement.Kind.NEUTRAL;
            case "CREATE":
                if (at(w, 1, "DATABASE") || at(w, 1, "TABLESPACE") || at(w, 1, "SUBSCRIPTION")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                if (at(w, 1, "INDEX") && at(w, 2, "CONCURRENTLY") || at(w, 1, "UNIQUE") && at(w, 2, "INDEX") && at(w, 3, "CONCURRENTLY")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                return SqlStatement.Kind.TRANSACTIONAL;
            case "DROP":
                if (at(w, 1, "DATABASE") || at(w, 1, "TABLESPACE") || at(w, 1, "SUBSCRIPTION")
                        || at(w, 1, "INDEX") && at(w, 2, "CONCURRENTLY")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                return SqlStatement.Kind.TRANSACTIONAL;
            case "REINDEX": {
                List<String> rest = topLevel(w.subList(1, w.size()));
                if (at(rest, 0, "DATABASE") || at(rest, 0, "SYSTEM") || at(rest, 0, "SCHEMA") || reindexesConcurrently(w)) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                return SqlStatement.Kind.TRANSACTIONAL;
            }
            case "ALTER":
                if (at(w, 1, "SYSTEM")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                if (at(w, 1, "DATABASE") && containsSequence(w, "SET", "TABLESPACE")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                if (at(w, 1, "SUBSCRIPTION") && w.contains("REFRESH")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                if (at(w, 1, "TABLE") && containsSequence(w, "DETACH", "PARTITION") && w.contains("CONCURRENTLY")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                return SqlStatement.Kind.TRANSACTIONAL;
            case "CLUSTER": {
                List<String> rest = topLevel(w.subList(1, w.size()));
                rest.remove("VERBOSE");
                return rest.isEmpty() ? SqlStatement.Kind.NON_TRANSACTIONAL : SqlStatement.Kind.TRANSACTIONAL;
            }
            default:
                return SqlStatement.Kind.TRANSACTIONAL;
        }
    }

    /** REINDEX ... CONCURRENTLY, or {@code REINDEX (CONCURRENTLY) ...}: the one test of it (classify, the concurrent step). */
    static boolean reindexesConcurrently(List<String> w) {
        return at(w, 0, "REINDEX") && (topLevel(w.subList(1, w.size())).contains("CONCURRENTLY") || concurrentOption(w));
    }

    /** {@code REINDEX (CONCURRENTLY [true|on|1]) ...}: the option list's CONCURRENTLY, unless switched off. */
    private static boolean concurrentOption(List<String> w) {
        if (!at(w, 1, "(")) {
            return false;
        }
        for (int k = 2; k < w.size() && !w.get(k).equals(")"); k++) {
            if (w.get(k).equals("CONCURRENTLY")) {
                String v = k + 1 < w.size() ? w.get(k + 1) : ")";
                return !(v.equals("FALSE") || v.equals("OFF") || v.equals("'0'") || v.equals("'FALSE'") || v.equals("'false'")
                        || v.equals("'off'"));
            }
        }
        return false;
    }

    /**
     * After {@code SET [SESSION] standard_conforming_strings = off}, plain string literals take backslash escapes (as
     * in pg_dump output of old servers); returns the setting in force after the statement {@code w}.
     */
    static boolean standardConformingStrings(List<String> w, boolean current) {
        int k = at(w, 1, "SESSION") ? 2 : 1;
        if (!at(w, 0, "SET") || !at(w, k, "STANDARD_CONFORMING_STRINGS")) {
            return current;
        }
        k++;
        if (at(w, k, "=") || at(w, k, "TO")) {
            k++;
        }
        String v = k < w.size() ? w.get(k).replace("'", "").toUpperCase(java.util.Locale.ROOT) : "";
        return switch (v) {
            case "OFF", "FALSE", "0" -> false;
            case "ON", "TRUE", "1", "DEFAULT" -> true;
            default -> current;
        };
    }

    /** The words outside any parentheses. */
    static List<String> topLevel(List<String> w) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        for (String s : w) {
            if (s.equals("(")) {
                depth++;
            } else if (s.equals(")")) {
                depth--;
            } else if (depth == 0) {
                out.add(s);
            }
        }
        return out;
    }

    private static boolean containsSequence(List<String> w, String a, String b) {
        for (int k = 0; k + 1 < w.size(); k++) {
            if (w.get(k).equals(a) && w.get(k + 1).equals(b)) {
                return true;
            }
        }
        return false;
    }

    private static boolean at(List<String> w, int i, String word) {
        return w.size() > i && w.get(i).equals(word);
    }
}
