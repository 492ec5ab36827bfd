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
    private final Map<String, Object> answers = new HashMap<>();

    CachedCatalog(TableCatalog live) {
        this.live = live;
    }

    @SuppressWarnings("unchecked")
    private <T> T once(String question, Object about, Function<String, T> ask) {
        return (T) answers.computeIfAbsent(question + " " + about, ask);
    }

    @Override
    public boolean exists(QualifiedName table) {
        return once("exists", table.truncated(), k -> live.exists(table));
    }

    @Override
    public Boolean rewrites(QualifiedName table, String column, String newType) {
        return once("rewrites", table.truncated() + " " + column + " " + newType, k -> live.rewrites(table, column, newType));
    }

    @Override
    public long rows(QualifiedName table) {
        return once("rows", table.truncated(), k -> live.rows(table));
    }

    @Override
    public long bytes(QualifiedName table) {
        return once("bytes", table.truncated(), k -> live.bytes(table));
    }

    @Override
    public List<String> keyColumns(QualifiedName table) {
        return once("key", table.truncated(), k -> live.keyColumns(table));
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
    public boolean notNullChecked(QualifiedName table, String column) {
        return once("checked", table.truncated() + " " + column, k -> live.notNullChecked(table, column));
    }

    @Override
    public QualifiedName resolved(QualifiedName table) {
        return once("resolved", table.truncated(), k -> live.resolved(table));
    }

    @Override
    public QualifiedName tableOfIndex(QualifiedName index) {
        return once("index", index.truncated(), k -> live.tableOfIndex(index));
    }

    @Override
    public List<String> blockers(QualifiedName table, Effect.Lock lock, Duration age) {
        return once("blockers", (table == null ? "" : table.truncated()) + " " + lock, k -> live.blockers(table, lock, age));
    }
}
