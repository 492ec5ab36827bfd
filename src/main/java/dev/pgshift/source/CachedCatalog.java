package dev.pgshift.source;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The live catalog asked once per question in a lint over a pending set: a data file of 740,000 INSERTs or UPDATEs on
 * one table asks for its existence, size and key once, not once per statement. Answers are those of the moment the
 * plan reads the database (pending statements have not run yet).
 */
final class CachedCatalog implements TableCatalog {
    private final TableCatalog live;
    private final Names names;
    private final Map<Key, Object> answers = new HashMap<>();

    /** A question and what it is about (a name, or a name with a column and type): compared as values, never printed. */
    private record Key(String question, Object about, Object more) {
    }

    /** @param names how a table the pending set renamed or moved is found under its name now */
    CachedCatalog(TableCatalog live, Names names) {
        this.live = live;
        this.names = names;
    }

    @SuppressWarnings("unchecked")
    private <T> T once(String question, Object about, Function<Key, T> ask) {
        return (T) answers.computeIfAbsent(new Key(question, about, null), ask);
    }

    @SuppressWarnings("unchecked")
    private <T> T once(String question, Object about, Object more, Function<Key, T> ask) {
        return (T) answers.computeIfAbsent(new Key(question, about, more), ask);
    }

    @Override
    public boolean exists(QualifiedName table) {
        QualifiedName t = names.live(table.truncated());
        return once("exists", t, k -> live.exists(t));
    }

    @Override
    public Boolean rewrites(QualifiedName table, String column, String newType) {
        QualifiedName t = names.live(table.truncated());
        return once("rewrites", t, List.of(column, newType), k -> live.rewrites(t, column, newType));
    }

    @Override
    public long rows(QualifiedName table) {
        QualifiedName t = names.live(table.truncated());
        return once("rows", t, k -> live.rows(t));
    }

    @Override
    public long bytes(QualifiedName table) {
        QualifiedName t = names.live(table.truncated());
        return once("bytes", t, k -> live.bytes(t));
    }

    @Override
    public List<String> keyColumns(QualifiedName table) {
        QualifiedName t = names.live(table.truncated());
        return once("key", t, k -> live.keyColumns(t));
    }

    @Override
    public int major() {
        return live.major();
    }

    @Override
    public Boolean isVolatile(String function) {
        return once("volatile", function, k -> live.isVolatile(function));
    }

    @Override
    public boolean constrainedDomain(String type) {
        return once("domain", type, k -> live.constrainedDomain(type));
    }

    @Override
    public boolean notNullChecked(QualifiedName table, String column) {
        QualifiedName t = names.live(table.truncated());
        return once("checked", t, column, k -> live.notNullChecked(t, column));
    }

    @Override
    public List<String> searchPath() {
        return once("path", "", k -> live.searchPath());
    }

    @Override
    public QualifiedName tableOfIndex(QualifiedName index) {
        return once("index", index.truncated(), k -> live.tableOfIndex(index));
    }

    @Override
    public List<String> blockers(QualifiedName table, Effect.Lock lock, Duration age) {
        QualifiedName t = table == null ? null : names.live(table.truncated());
        return once("blockers", t, lock, k -> live.blockers(t, lock, age));
    }
}
