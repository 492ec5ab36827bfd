package dev.pgshift.source;

import java.time.Duration;
import java.util.List;

/**
 * What the lint asks of the live database. Names are resolved as the server resolves the statement's own (schema or
 * search_path, quoting, 63 bytes).
 */
public interface TableCatalog {

    /** Whether {@code table} is an existing table (plain or partitioned). */
    boolean exists(QualifiedName table);

    /**
     * Whether {@code ALTER TABLE table ALTER COLUMN column TYPE newType} rewrites the table, as the server's catalog says
     * for its running major (same type, varchar widening, binary-coercible casts do not); null when it cannot tell.
     */
    Boolean rewrites(QualifiedName table, String column, String newType);

    /** About how many rows the table holds (see {@code TableRows}); -1 when unknown. */
    default long rows(QualifiedName table) {
        return -1;
    }

    /** Its size on disk with indexes and TOAST; -1 when unknown. */
    default long bytes(QualifiedName table) {
        return -1;
    }

    /** The columns of its primary key, as PostgreSQL names them; empty when none or unknown. */
    default List<String> keyColumns(QualifiedName table) {
        return List.of();
    }

    /** The server's major version (14 ...); 0 when unknown (then the forms every supported major accepts are named). */
    default int major() {
        return 0;
    }

    /** Whether a function of this name (folded; schema-qualified or on the search_path) is volatile; null when none is known. */
    default Boolean isVolatile(String function) {
        return null;
    }

    /** Whether {@code type} (as written) is a domain with constraints (CHECK or NOT NULL), which a new column's rows are checked against. */
    default boolean constrainedDomain(String type) {
        return false;
    }

    /** Whether {@code column} of the table has a validated CHECK ({@code column IS NOT NULL}) already, so SET NOT NULL need not scan. */
    default boolean notNullChecked(QualifiedName table, String column) {
        return false;
    }

    /** The schemas of the session's search_path that exist, in order (where an unqualified name is looked up and created); empty when unknown. */
    default List<String> searchPath() {
        return List.of();
    }

    /** The table an index belongs to, or null. */
    default QualifiedName tableOfIndex(QualifiedName index) {
        return null;
    }

    /**
     * Other sessions whose transaction has been open for {@code age} or longer and that hold a lock on the table that
     * {@code lock} conflicts with (or, with a null table, any such transaction in the database): one line each, without
     * their query text.
     */
    default List<String> blockers(QualifiedName table, Effect.Lock lock, Duration age) {
        return List.of();
    }
}
