package dev.pgshift.source;

import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A migration's statements. A file's text is kept; its statements are kept too when the file is small (nearly every
 * migration), and read again by the tokenizer on each pass when it is large: a 50 MB data file of 740,000 INSERTs made
 * of its statements and their words about 1 GB of objects, while a pass that reads one statement at a time holds one.
 * The plan reads a large file a few times (its mode, its warnings, its index builds), then the apply loop once more,
 * sending each statement as it is read.
 */
public final class Statements implements Iterable<SqlStatement> {
    /** Texts up to this many characters keep their statements (a pass over them costs nothing again). */
    static final int KEPT_UP_TO = 1 << 20;

    private final String sql;
    private final List<SqlStatement> kept;

    private Statements(String sql, List<SqlStatement> kept) {
        this.sql = sql;
        this.kept = kept;
    }

    /** The statements of {@code sql}. */
    public static Statements of(String sql) {
        return new Statements(sql, sql.length() <= KEPT_UP_TO ? List.copyOf(SqlTokenizer.split(sql)) : null);
    }

    /** A pass over the statements, in order; for a large text, each is read as the pass reaches it. */
    @Override
    public Iterator<SqlStatement> iterator() {
        return kept != null ? kept.iterator() : SqlTokenizer.iterate(sql);
    }

    /** The statements after the first {@code skip}. */
    public Iterator<SqlStatement> after(int skip) {
        Iterator<SqlStatement> it = iterator();
        for (int k = 0; k < skip && it.hasNext(); k++) {
            it.next();
        }
        return it;
    }

    public Stream<SqlStatement> stream() {
        return StreamSupport.stream(spliterator(), false);
    }
}
