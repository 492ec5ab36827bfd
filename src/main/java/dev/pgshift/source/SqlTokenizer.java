package dev.pgshift.source;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * pgshift's one reading of SQL: splits a file into statements the way psql does and classifies each one. It follows
 * PostgreSQL's and psql's lexical rules: line and nested block comments, standard and {@code E''} strings (and plain
 * strings with backslash escapes after {@code SET standard_conforming_strings = off}), quoted identifiers, dollar quotes
 * with tags, parentheses (a ";" inside them ends nothing, as in {@code CREATE RULE ... DO (a; b)}), {@code BEGIN ATOMIC
 * ... END} function bodies (psql's own rule: only in CREATE [OR REPLACE] FUNCTION/PROCEDURE), the data lines of
 * {@code COPY ... FROM stdin} up to {@code \.}, and psql meta-commands (a backslash outside quotes), which become
 * statements of kind {@link SqlStatement.Kind#PSQL_META} for the catalog to refuse.
 */
public final class SqlTokenizer {

    private SqlTokenizer() {
    }

    /** The statements of {@code sql}, in order. */
    public static List<SqlStatement> split(String sql) {
        List<SqlStatement> out = new ArrayList<>();
        iterate(sql).forEachRemaining(out::add);
        return out;
    }

    /**
     * The statements of {@code sql}, read one at a time as the iterator is advanced: a pass over a large file holds one
     * statement at a time, not all of them ({@link Statements}).
     */
    public static java.util.Iterator<SqlStatement> iterate(String sql) {
        Scan scan = new Scan(sql);
        return new java.util.Iterator<>() {
            private SqlStatement next = scan.next();

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public SqlStatement next() {
                if (next == null) {
                    throw new java.util.NoSuchElementException();
                }
                SqlStatement s = next;
                next = scan.next();
                return s;
            }
        };
    }

    /** One pass over a file's text. */
    private static final class Scan {
        private final String sql;
        private final int n;
        private final java.util.ArrayDeque<SqlStatement> out = new java.util.ArrayDeque<>();
        private boolean done;
        private int i;
        private int line = 1;
        private boolean standardStrings = true;
        // the statement being read
        private int stmtStart = -1;
        private int stmtLine;
        private List<String> words = new ArrayList<>();
        private List<Integer> starts = new ArrayList<>();
        private List<Integer> ends = new ArrayList<>();
        private int parenDepth;
        private int beginDepth;
        private int identifierCount;
        private final char[] identifiers = new char[4];

        Scan(String sql) {
            this.sql = sql;
            this.n = sql.length();
        }

        /** The next statement, or null at the end of the text. */
        SqlStatement next() {
            while (out.isEmpty() && !done) {
                if (i < n) {
                    step();
                } else {
                    finish(n);
                    done = true;
                }
            }
            return out.poll();
        }

        /** Reads one token (or comment, or white space) at {@code i}; a ";" that ends a statement queues it. */
        private void step() {
            {
                char c = sql.charAt(i);
                char next = i + 1 < n ? sql.charAt(i + 1) : '\0';
                if (c == '\n') {
                    line++;
                    i++;
                } else if (Character.isWhitespace(c) || c == '\uFEFF') { // a byte order mark, as psql skips it
                    i++;
                } else if (c == '-' && next == '-') {
                    while (i < n && sql.charAt(i) != '\n') {
                        i++;
                    }
                } else if (c == '/' && next == '*') {
                    blockComment();
                } else if (c == '\\') {
                    metaCommand();
                } else if (c == '\'') {
                    begin();
                    int s = i;
                    string(!standardStrings);
                    word(sql.substring(s, i), s, i);
                } else if (c == '"') {
                    begin();
                    int s = i;
                    quoted('"', false);
                    // Kept with its quotes: never mistaken for a keyword, still a name for the plan warnings.
                    word(sql.substring(s, i), s, i);
                } else if (c == '$' && dollarTag(i) != null) {
                    begin();
                    String tag = dollarTag(i);
                    int end = sql.indexOf(tag, i + tag.length());
                    int stop = end < 0 ? n : end + tag.length();
                    countLines(i, stop);
                    i = stop;
                } else if (isWordStart(c)) {
                    begin();
                    int s = i;
                    while (i < n && isWordChar(sql.charAt(i))) {
                        i++;
                    }
                    if (i < n && sql.charAt(i) == '\'' && i - s == 1 && "EeBbXxNn".indexOf(c) >= 0) {
                        string(c == 'E' || c == 'e'); // E'...', B'...', X'...', N'...': one literal
                        word(sql.substring(s, i), s, i);
                    } else if (i - s == 1 && (c == 'U' || c == 'u') && i + 1 < n && sql.charAt(i) == '&'
                            && (sql.charAt(i + 1) == '\'' || sql.charAt(i + 1) == '"')) {
                        char q = sql.charAt(i + 1);
                        i++;
                        quoted(q, false);
                        word(sql.substring(s, i), s, i);
                    } else {
                        identifier(sql.substring(s, i).toUpperCase(Locale.ROOT), s, i);
                    }
                } else if (c == ';' && parenDepth == 0 && beginDepth == 0) {
                    int semicolon = i;
                    i++;
                    finish(semicolon); // may move i past a COPY data block
                } else {
                    begin();
                    if (c == '(') {
                        parenDepth++;
                    } else if (c == ')' && parenDepth > 0) {
                        parenDepth--;
                    }
                    if (c == '(' || c == ')' || c == '.' || c == ',' || c == '=') {
                        word(String.valueOf(c), i, i + 1);
                    }
                    i++;
                }
            }
        }

        private void begin() {
            if (stmtStart < 0) {
                stmtStart = i;
                stmtLine = line;
            }
        }

        private void word(String w, int s, int e) {
            words.add(w);
            starts.add(s - stmtStart);
            ends.add(e - stmtStart);
        }

        /** psql's rule for BEGIN ATOMIC bodies: BEGIN/CASE/END counted only in CREATE [OR REPLACE] FUNCTION/PROCEDURE. */
        private void identifier(String w, int s, int e) {
            word(w, s, e);
            if (identifierCount < identifiers.length && (w.equals("CREATE") || w.equals("FUNCTION") || w.equals("PROCEDURE")
                    || w.equals("OR") || w.equals("REPLACE"))) {
                identifiers[identifierCount] = Character.toLowerCase(w.charAt(0));
            }
            identifierCount++;
            boolean routine = identifiers[0] == 'c' && (identifiers[1] == 'f' || identifiers[1] == 'p'
                    || identifiers[1] == 'o' && identifiers[2] == 'r' && (identifiers[3] == 'f' || identifiers[3] == 'p'));
            if (routine && parenDepth == 0) {
                if (w.equals("BEGIN")) {
                    beginDepth++;
                } else if (w.equals("CASE") && beginDepth >= 1) {
                    beginDepth++;
                } else if (w.equals("END") && beginDepth > 0) {
                    beginDepth--;
                }
            }
        }

        private void finish(int end) {
            if (stmtStart >= 0) {
                String text = sql.substring(stmtStart, end);
                String stripped = text.stripTrailing();
                SqlStatement s = new SqlStatement(stripped, stmtLine, List.copyOf(words), SqlClassifier.classify(words),
                        toArray(starts), toArray(ends), null);
                if (s.isCopyFromStdin() && end < n) {
                    s = s.withCopyData(copyData(end + 1));
                }
                out.add(s);
                standardStrings = SqlClassifier.standardConformingStrings(words, standardStrings);
            }
            stmtStart = -1;
            words = new ArrayList<>();
            starts = new ArrayList<>();
            ends = new ArrayList<>();
            parenDepth = 0;
            beginDepth = 0;
            identifierCount = 0;
            java.util.Arrays.fill(identifiers, '\0');
        }

        /**
         * psql reads COPY ... FROM stdin data from the line after the command up to a line holding only {@code \.} (or
         * the end of the file). Moves past it and returns it, each line with its newline.
         */
        private String copyData(int from) {
            int p = sql.indexOf('\n', from - 1);
            if (p < 0) {
                i = n;
                return "";
            }
            int dataStart = p + 1;
            line++;
            int q = dataStart;
            while (q < n) {
                int eol = sql.indexOf('\n', q);
                int lineEnd = eol < 0 ? n : eol;
                String l = sql.substring(q, lineEnd);
                if (l.equals("\\.") || l.equals("\\.\r")) {
                    String data = sql.substring(dataStart, q);
                    i = eol < 0 ? n : eol; // the loop counts this line's newline
                    return data;
                }
                line++;
                q = eol < 0 ? n : eol + 1;
            }
            i = n;
            return sql.substring(dataStart);
        }

        /** A psql meta-command runs to the end of its line: one statement of its own, for the catalog to refuse. */
        private void metaCommand() {
            if (stmtStart >= 0) {
                finish(i);
            }
            begin();
            int eol = sql.indexOf('\n', i);
            int end = eol < 0 ? n : eol;
            String text = sql.substring(i, end).strip();
            out.add(new SqlStatement(text, line, List.of(text.split("\\s+")[0]), SqlStatement.Kind.PSQL_META, new int[] {0},
                    new int[] {text.split("\\s+")[0].length()}, null));
            stmtStart = -1;
            i = end;
        }

        private void blockComment() {
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
        }

        private void string(boolean backslashEscapes) {
            quoted('\'', backslashEscapes);
        }

        /** Moves past a quoted literal or identifier that starts at {@code i}; a doubled quote is part of it. */
        private void quoted(char q, boolean backslashEscapes) {
            i++;
            while (i < n) {
                char d = sql.charAt(i);
                if (d == '\n') {
                    line++;
                }
                if (backslashEscapes && d == '\\' && i + 1 < n) {
                    if (sql.charAt(i + 1) == '\n') {
                        line++;
                    }
                    i += 2;
                    continue;
                }
                i++;
                if (d == q) {
                    if (i < n && sql.charAt(i) == q) {
                        i++;
                        continue;
                    }
                    return;
                }
            }
        }

        private void countLines(int from, int to) {
            for (int k = from; k < to; k++) {
                if (sql.charAt(k) == '\n') {
                    line++;
                }
            }
        }

        /** The opening tag ($$ or $name$) of a dollar quote at {@code at}, or null if "$" starts none (e.g. $1). */
        private String dollarTag(int at) {
            if (at > 0 && isWordChar(sql.charAt(at - 1))) {
                return null;
            }
            int j = at + 1;
            if (j < n && Character.isDigit(sql.charAt(j))) {
                return null;
            }
            while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
                j++;
            }
            return j < n && sql.charAt(j) == '$' ? sql.substring(at, j + 1) : null;
        }
    }

    private static int[] toArray(List<Integer> list) {
        int[] a = new int[list.size()];
        for (int k = 0; k < a.length; k++) {
            a[k] = list.get(k);
        }
        return a;
    }

    private static boolean isWordStart(char c) {
        return Character.isLetter(c) || c == '_';
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }
}
