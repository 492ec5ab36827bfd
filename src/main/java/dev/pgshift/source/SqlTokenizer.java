package dev.pgshift.source;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * pgshift's own SQL splitter and classifier. It decides which statements PostgreSQL refuses inside a transaction block,
 * which Flyway's parser gets wrong for REINDEX ... CONCURRENTLY and DETACH PARTITION ... CONCURRENTLY. Comments (nested
 * too), string literals (standard, E'' and U&''), quoted identifiers, dollar-quoted bodies and BEGIN ATOMIC bodies do
 * not fool it: a "CONCURRENTLY" or ";" inside them is no word and no statement end.
 */
public final class SqlTokenizer {

    private SqlTokenizer() {
    }

    public static List<SqlStatement> split(String sql) {
        List<SqlStatement> out = new ArrayList<>();
        int n = sql.length();
        int i = 0;
        int line = 1;
        int stmtStart = 0;
        int stmtLine = -1;
        List<String> words = new ArrayList<>();
        int atomicDepth = 0;
        while (i < n) {
            char c = sql.charAt(i);
            char next = i + 1 < n ? sql.charAt(i + 1) : '\0';
            if (c == '\n') {
                line++;
                i++;
            } else if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && next == '-') {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && next == '*') {
                int depth = 0;
                do {
                    if (sql.startsWith("/*", i)) {
                        depth++;
                        i += 2;
                    } else if (sql.startsWith("*/", i)) {
                        depth--;
                        i += 2;
                    } else {
                        if (sql.charAt(i) == '\n') {
                            line++;
                        }
                        i++;
                    }
                } while (depth > 0 && i < n);
            } else if (c == '\'' || c == '"') {
                if (stmtLine < 0) {
                    stmtLine = line;
                }
                int quoteStart = i;
                boolean backslashEscapes = c == '\'' && i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                        && (i < 2 || !isWordChar(sql.charAt(i - 2)));
                i++;
                while (i < n) {
                    char d = sql.charAt(i);
                    if (d == '\n') {
                        line++;
                    }
                    if (backslashEscapes && d == '\\' && i + 1 < n) {
                        i += 2;
                        continue;
                    }
                    if (d == c) {
                        if (i + 1 < n && sql.charAt(i + 1) == c) {
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    i++;
                }
                if (c == '"') {
                    // Kept with its quotes: never mistaken for a keyword, still a name for the plan warnings.
                    words.add(sql.substring(quoteStart, i));
                }
            } else if (c == '$' && dollarTag(sql, i) != null) {
                if (stmtLine < 0) {
                    stmtLine = line;
                }
                String tag = dollarTag(sql, i);
                int end = sql.indexOf(tag, i + tag.length());
                int stop = end < 0 ? n : end + tag.length();
                for (int k = i; k < stop; k++) {
                    if (sql.charAt(k) == '\n') {
                        line++;
                    }
                }
                i = stop;
            } else if (isWordStart(c)) {
                if (stmtLine < 0) {
                    stmtLine = line;
                }
                int s = i;
                while (i < n && isWordChar(sql.charAt(i))) {
                    i++;
                }
                String w = sql.substring(s, i).toUpperCase(Locale.ROOT);
                words.add(w);
                int size = words.size();
                if (w.equals("ATOMIC") && size >= 2 && words.get(size - 2).equals("BEGIN")) {
                    atomicDepth++;
                } else if (atomicDepth > 0 && w.equals("CASE")) {
                    atomicDepth++;
                } else if (atomicDepth > 0 && w.equals("END")) {
                    atomicDepth--;
                }
            } else if (c == ';' && atomicDepth == 0) {
                if (stmtLine >= 0) {
                    out.add(statement(sql.substring(stmtStart, i), stmtLine, words));
                }
                words = new ArrayList<>();
                stmtLine = -1;
                i++;
                stmtStart = i;
            } else {
                if (stmtLine < 0) {
                    stmtLine = line;
                }
                if (c == '(' || c == ')' || c == '.' || c == ',') {
                    words.add(String.valueOf(c));
                }
                i++;
            }
        }
        if (stmtLine >= 0) {
            out.add(statement(sql.substring(stmtStart), stmtLine, words));
        }
        return out;
    }

    private static SqlStatement statement(String text, int line, List<String> words) {
        List<String> w = List.copyOf(words);
        return new SqlStatement(text.strip(), line, w, classify(w));
    }

    static SqlStatement.Kind classify(List<String> w) {
        if (w.isEmpty()) {
            return SqlStatement.Kind.NEUTRAL;
        }
        String first = w.get(0);
        switch (first) {
            case "SET", "RESET", "SHOW", "SELECT", "ANALYZE", "ANALYSE":
                if (first.equals("SET") && w.size() > 1 && (w.get(1).equals("TRANSACTION") || w.get(1).equals("CONSTRAINTS"))) {
                    return SqlStatement.Kind.TRANSACTIONAL;
                }
                return SqlStatement.Kind.NEUTRAL;
            case "VACUUM":
                return SqlStatement.Kind.NON_TRANSACTIONAL;
            case "CREATE":
                if (at(w, 1, "DATABASE") || at(w, 1, "TABLESPACE")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                if (at(w, 1, "INDEX") && at(w, 2, "CONCURRENTLY") || at(w, 1, "UNIQUE") && at(w, 2, "INDEX") && at(w, 3, "CONCURRENTLY")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                if (at(w, 1, "SUBSCRIPTION")) {
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
                List<String> rest = skipParens(w.subList(1, w.size()));
                // REINDEX DATABASE and REINDEX SYSTEM cannot run in a transaction block, concurrently or not.
                if (rest.contains("CONCURRENTLY") || at(rest, 0, "DATABASE") || at(rest, 0, "SYSTEM")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                return SqlStatement.Kind.TRANSACTIONAL;
            }
            case "ALTER":
                if (at(w, 1, "SYSTEM")) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                if (at(w, 1, "TABLE") && w.contains("DETACH") && w.contains("PARTITION")
                        && (w.contains("CONCURRENTLY") || w.contains("FINALIZE"))) {
                    return SqlStatement.Kind.NON_TRANSACTIONAL;
                }
                return SqlStatement.Kind.TRANSACTIONAL;
            case "CLUSTER":
                return w.size() == 1 ? SqlStatement.Kind.NON_TRANSACTIONAL : SqlStatement.Kind.TRANSACTIONAL;
            default:
                return SqlStatement.Kind.TRANSACTIONAL;
        }
    }

    private static List<String> skipParens(List<String> w) {
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

    private static boolean at(List<String> w, int i, String word) {
        return w.size() > i && w.get(i).equals(word);
    }

    /** The opening tag ($$ or $name$) of a dollar quote at {@code i}, or null if "$" starts none (e.g. $1). */
    private static String dollarTag(String sql, int i) {
        if (i > 0 && isWordChar(sql.charAt(i - 1))) {
            return null;
        }
        int j = i + 1;
        while (j < sql.length() && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
            j++;
        }
        if (j < sql.length() && sql.charAt(j) == '$') {
            String tag = sql.substring(i, j + 1);
            if (tag.length() > 2 && Character.isDigit(tag.charAt(1))) {
                return null;
            }
            return tag;
        }
        return null;
    }

    private static boolean isWordStart(char c) {
        return Character.isLetter(c) || c == '_';
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }
}
