package dev.pgshift.source;

/** What the plan's downtime rules ask of the live database. */
public interface TableCatalog {

    /** Whether {@code table} (as PostgreSQL folds it: lower case unless quoted) exists now. */
    boolean exists(String table);

    /**
     * Whether {@code ALTER TABLE tableRef ALTER COLUMN column TYPE newType} rewrites the table, as the server's catalog
     * says for its running major (same type, varchar widening, binary-coercible casts do not); null when it cannot tell.
     *
     * @param tableRef the table as the statement writes it (maybe quoted or schema-qualified)
     * @param column   the column as PostgreSQL folds it
     * @param newType  the type as the statement writes it
     */
    Boolean rewrites(String tableRef, String column, String newType);

    /** About how many rows {@code tableRef} (as the statement writes it) holds; -1 when unknown or no such table. */
    default long rows(String tableRef) {
        return -1;
    }

    /** The columns of {@code tableRef}'s primary key (or narrowest unique NOT NULL key), as PostgreSQL names them; empty when none or unknown. */
    default java.util.List<String> keyColumns(String tableRef) {
        return java.util.List.of();
    }
}
