package dev.pgshift.source;

import java.util.List;

/**
 * One statement of a migration file, as pgshift's tokenizer split it.
 *
 * @param text      the statement's text without the terminating semicolon
 * @param line      the 1-based line where the statement starts (its first token, after comments)
 * @param words     its words in upper case, outside comments, strings, quoted identifiers and dollar-quoted bodies;
 *                  quoted identifiers keep their quotes and case; "(", ")", "." and "," are kept as words
 * @param kind      whether PostgreSQL accepts it inside a transaction block
 */
public record SqlStatement(String text, int line, List<String> words, Kind kind) {

    /** How a statement relates to transactions. */
    public enum Kind {
        /** Runs inside a transaction block. */
        TRANSACTIONAL,
        /** PostgreSQL refuses it inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...). */
        NON_TRANSACTIONAL,
        /** Session settings and queries (SET, RESET, SHOW, SELECT): fine either way. */
        NEUTRAL
    }

    /** The first {@code n} words joined by spaces, for messages. */
    public String head(int n) {
        return String.join(" ", words.subList(0, Math.min(n, words.size())));
    }
}
