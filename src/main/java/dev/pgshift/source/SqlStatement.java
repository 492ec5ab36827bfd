package dev.pgshift.source;

import java.util.List;

/**
 * One statement of a migration file, as pgshift's tokenizer split it.
 *
 * @param text      the statement's text from its first token (leading comments are not part of it) up to, not
 *                  including, the terminating semicolon
 * @param line      the 1-based line where the statement starts (its first token, after comments)
 * @param words     its words in upper case, outside comments and dollar-quoted bodies; quoted identifiers and string
 *                  literals keep their quotes and case; "(", ")", ".", "," and "=" are kept as words
 * @param kind      whether PostgreSQL accepts it inside a transaction block
 * @param wordStart where each word starts in {@code text}
 * @param wordEnd   where each word ends in {@code text}
 * @param copyData  the data lines of a {@code COPY ... FROM stdin}, each with its newline, without the {@code \.} line;
 *                  null for other statements
 */
public record SqlStatement(String text, int line, List<String> words, Kind kind, int[] wordStart, int[] wordEnd, String copyData) {

    /** How a statement relates to transactions. */
    public enum Kind {
        /** Runs inside a transaction block. */
        TRANSACTIONAL,
        /** PostgreSQL refuses it inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...). */
        NON_TRANSACTIONAL,
        /** Session settings and queries (SET, RESET, SHOW, SELECT): fine either way. */
        NEUTRAL,
        /** BEGIN, COMMIT, ROLLBACK, SAVEPOINT ...: the file manages its own transactions. */
        TRANSACTION_CONTROL,
        /** A psql meta-command ({@code \set}, {@code \i} ...): not SQL, refused before anything runs. */
        PSQL_META
    }

    SqlStatement withCopyData(String data) {
        return new SqlStatement(text, line, words, kind, wordStart, wordEnd, data);
    }

    /** COPY ... FROM STDIN: its data follows it in the file. */
    public boolean isCopyFromStdin() {
        return startsWith("COPY") && containsSequence("FROM", "STDIN");
    }

    /** The file's own text of words {@code from} to {@code to} (inclusive), comments and spacing as written. */
    public String source(int from, int to) {
        return text.substring(wordStart[from], wordEnd[to]);
    }

    /** The statement on one line, white space collapsed, cut after {@code max} characters, control characters escaped: for messages. */
    public String excerpt(int max) {
        String flat = text.replaceAll("\\s+", " ").strip();
        return dev.pgshift.Printable.escape(flat.length() <= max ? flat : flat.substring(0, max - 1) + "...");
    }

    /** The first {@code n} words joined by spaces, for messages. */
    public String head(int n) {
        return String.join(" ", words.subList(0, Math.min(n, words.size())));
    }

    /** Whether the words start with {@code prefix}. */
    public boolean startsWith(String... prefix) {
        if (words.size() < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (!words.get(i).equals(prefix[i])) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code sequence} stands somewhere in the words, in that order and adjacent. */
    public boolean containsSequence(String... sequence) {
        outer:
        for (int i = 0; i + sequence.length <= words.size(); i++) {
            for (int j = 0; j < sequence.length; j++) {
                if (!words.get(i + j).equals(sequence[j])) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The first word from {@code from} on, outside every parenthesis, that {@code is} accepts (by index); -1 if none. */
    public int firstOutsideParentheses(int from, java.util.function.IntPredicate is) {
        int depth = 0;
        for (int i = 0; i < words.size(); i++) {
            String x = words.get(i);
            depth += x.equals("(") ? 1 : x.equals(")") ? -1 : 0;
            if (i >= from && depth == 0 && is.test(i)) {
                return i;
            }
        }
        return -1;
    }

    /** CREATE [UNIQUE] INDEX CONCURRENTLY. */
    public boolean isCreateIndexConcurrently() {
        return startsWith("CREATE", "INDEX", "CONCURRENTLY") || startsWith("CREATE", "UNIQUE", "INDEX", "CONCURRENTLY");
    }

    /** DROP INDEX CONCURRENTLY. */
    public boolean isDropIndexConcurrently() {
        return startsWith("DROP", "INDEX", "CONCURRENTLY");
    }

    /** REINDEX ... CONCURRENTLY, or REINDEX (CONCURRENTLY) ... (not switched off). */
    public boolean isReindexConcurrently() {
        return SqlClassifier.reindexesConcurrently(words);
    }

    /** ALTER TABLE ... DETACH PARTITION ... (CONCURRENTLY or FINALIZE, or neither). */
    public boolean isDetachPartition() {
        return startsWith("ALTER", "TABLE") && containsSequence("DETACH", "PARTITION");
    }

    /**
     * The index a CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON ... statement names, or null when it is no
     * such statement or names no index.
     */
    public String createdIndex() {
        int i;
        if (startsWith("CREATE", "INDEX")) {
            i = 2;
        } else if (startsWith("CREATE", "UNIQUE", "INDEX")) {
            i = 3;
        } else {
            return null;
        }
        if (i < words.size() && words.get(i).equals("CONCURRENTLY")) {
            i++;
        }
        if (i + 2 < words.size() && words.get(i).equals("IF") && words.get(i + 1).equals("NOT") && words.get(i + 2).equals("EXISTS")) {
            i += 3;
        }
        return i < words.size() && !words.get(i).equals("ON") ? nameAt(i) : null;
    }

    /** A CREATE INDEX CONCURRENTLY that names no index: PostgreSQL would choose t_c_idx, and t_c_idx1 on a retry. */
    public boolean isUnnamedConcurrentIndex() {
        return isCreateIndexConcurrently() && createdIndex() == null;
    }

    /** The table a CREATE [UNLOGGED] TABLE [IF NOT EXISTS] name statement creates (its last part, folded, not truncated), or null. */
    public String createdTable() {
        if (!(startsWith("CREATE", "TABLE") || startsWith("CREATE", "UNLOGGED", "TABLE"))) {
            return null;
        }
        int at = words.indexOf("TABLE") + 1;
        return nameAt(containsSequence("TABLE", "IF", "NOT", "EXISTS") ? at + 3 : at);
    }

    /** The table a CREATE [UNIQUE] INDEX ... ON [ONLY] name statement indexes, or null for other statements. */
    public QualifiedName indexedTable() {
        if (!(startsWith("CREATE", "INDEX") || startsWith("CREATE", "UNIQUE", "INDEX"))) {
            return null;
        }
        int on = words.indexOf("ON");
        if (on < 0) {
            return null;
        }
        return qualifiedNameAt(on + 1 < words.size() && words.get(on + 1).equals("ONLY") ? on + 2 : on + 1);
    }

    /** The table an ALTER TABLE [IF EXISTS] [ONLY] name ... statement works on, or null for other statements. */
    public QualifiedName alteredTable() {
        if (!startsWith("ALTER", "TABLE")) {
            return null;
        }
        int i = 2;
        while (i < words.size() && (words.get(i).equals("IF") || words.get(i).equals("EXISTS") || words.get(i).equals("ONLY"))) {
            i++;
        }
        return qualifiedNameAt(i);
    }

    /**
     * The name that starts at word {@code i}, as PostgreSQL reads it: {@code name}, {@code schema.name} (or
     * {@code database.schema.name}, its database left out), each part quoted or folded; null past the end or where no
     * identifier stands.
     */
    public QualifiedName qualifiedNameAt(int i) {
        if (i < 0 || i >= words.size() || !isIdentifier(i)) {
            return null;
        }
        String schema = null;
        String name = QualifiedName.fold(source(i, i));
        while (i + 2 < words.size() && words.get(i + 1).equals(".") && isIdentifier(i + 2)) {
            i += 2;
            schema = name;
            name = QualifiedName.fold(source(i, i));
        }
        return new QualifiedName(schema, name);
    }

    /** Whether word {@code i} is an identifier (bare, quoted or U&amp;-quoted), not a literal or punctuation. */
    private boolean isIdentifier(int i) {
        String w = words.get(i);
        char first = w.charAt(0);
        boolean unicode = (first == 'U' || first == 'u') && w.length() > 2 && w.charAt(1) == '&' && w.charAt(2) == '"';
        return first == '"' || unicode || (Character.isLetter(first) || first == '_') && w.indexOf('\'') < 0;
    }

    /**
     * The last part of the name that starts at word {@code i} (see {@link #qualifiedNameAt}), not truncated, or null.
     */
    public String nameAt(int i) {
        QualifiedName n = qualifiedNameAt(i);
        return n == null ? null : n.name();
    }

    /** The identifiers of the statement that PostgreSQL will cut to {@link QualifiedName#MAX_BYTES} bytes, as written (folded). */
    public List<String> truncatedNames() {
        List<String> out = new java.util.ArrayList<>();
        for (int k = 0; k < words.size(); k++) {
            if (isIdentifier(k)) {
                String name = QualifiedName.fold(source(k, k));
                if (!QualifiedName.truncate(name).equals(name) && !out.contains(name)) {
                    out.add(name);
                }
            }
        }
        return out;
    }
}
