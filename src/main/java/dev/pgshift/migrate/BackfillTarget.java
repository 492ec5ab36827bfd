package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.TableRows;
import dev.pgshift.source.Backfill;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The table a backfill walks, as the server resolves the statement's name on the session that runs it, and its key: the
 * primary key, else the narrowest unique index over NOT NULL columns (no expression, no predicate, not deferrable).
 * Key values travel as text and come back into SQL as escaped literals cast to the column's type, so any key type
 * sorts and compares as the server sorts it.
 *
 * @param name    the table as PostgreSQL names it ({@code regclass}: quoted, schema-qualified when off the search_path)
 * @param columns the key's columns, quoted
 * @param types   each key column's type, as {@code format_type} writes it
 */
record BackfillTarget(long oid, String name, List<String> columns, List<String> types) {

    /** Resolves the table of {@code b} on {@code c} and its key; exit 5 when there is no such table, exit 3 when it has no usable key. */
    static BackfillTarget resolve(Connection c, Backfill b, String path) throws SQLException {
        String where = path + ":" + b.statement().line() + ": ";
        long oid;
        String name;
        String kind;
        try (PreparedStatement ps = c.prepareStatement("select c.oid, c.oid::regclass::text, c.relkind::text from pg_class c where c.oid = to_regclass(?)")) {
            ps.setString(1, b.table().truncated().sql());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new PgshiftException(ExitCode.MIGRATION, where + "the backfill's table " + b.table() + " does not exist (as the "
                            + "session's search_path resolves the name): nothing to batch along");
                }
                oid = rs.getLong(1);
                name = rs.getString(2);
                kind = rs.getString(3);
            }
        }
        if (!kind.equals("r") && !kind.equals("p")) {
            throw new PgshiftException(ExitCode.CONFIG, where + name + " is no table (relkind " + kind + "): a backfill batches along a "
                    + "table's key; name the table itself");
        }
        try (PreparedStatement ps = c.prepareStatement("select array_agg(quote_ident(a.attname::text) order by k.ord), "
                + "array_agg(format_type(a.atttypid, a.atttypmod) order by k.ord), array_agg(a.attname::text order by k.ord) from pg_index i "
                + "cross join lateral unnest(i.indkey::int2[]) with ordinality k(attnum, ord) "
                + "join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum "
                + "where i.indrelid = ? and i.indisunique and i.indimmediate and i.indisvalid and i.indpred is null and i.indexprs is null "
                + "and k.ord <= i.indnkeyatts group by i.indexrelid, i.indisprimary having bool_and(a.attnotnull) "
                + "order by i.indisprimary desc, count(*), i.indexrelid limit 1")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new PgshiftException(ExitCode.CONFIG, where + "table " + name + " has no key a backfill can walk: no primary key "
                            + "or unique index over NOT NULL columns that is valid, not DEFERRABLE, and without expressions or a WHERE. Without "
                            + "one it cannot go batch by batch without touching a row twice. Add such a key in an earlier migration, or run the "
                            + "statement as an ordinary migration.");
                }
                for (String column : (String[]) rs.getArray(3).getArray()) {
                    if (b.assigned().contains(column)) {
                        throw new PgshiftException(ExitCode.CONFIG, where + "the statement sets " + column + ", a column of the key along which "
                                + name + " is batched: a row it moves forward would be met again by a later batch. Run it as an ordinary "
                                + "migration, or batch along another key (a primary key on other columns).");
                    }
                }
                return new BackfillTarget(oid, name, List.of((String[]) rs.getArray(1).getArray()), List.of((String[]) rs.getArray(2).getArray()));
            }
        }
    }

    /** The largest key now, where the backfill's range ends; null for an empty table. */
    List<String> largestKey(Connection c) throws SQLException {
        return key(c, "select " + texts() + " from " + name + " as " + SELF + " order by " + String.join(" desc, ", qualified(SELF)) + " desc limit 1");
    }

    /** The key {@code size} rows after {@code last} (null: from the start), not beyond {@code end}; null when fewer rows are left. */
    List<String> boundAfter(Connection c, List<String> last, List<String> end, int size) throws SQLException {
        return key(c, "select " + texts() + " from " + name + " as " + SELF + " where " + range(SELF, last, end) + " order by "
                + String.join(", ", qualified(SELF))
                + " offset " + (size - 1) + " limit 1");
    }

    /** The rows after {@code last} (null: from the start) up to {@code upper}, with columns qualified by {@code qualifier}. */
    String range(String qualifier, List<String> last, List<String> upper) {
        String k = tuple(qualified(qualifier));
        String upTo = k + " <= " + tuple(literals(upper));
        return "(" + (last == null ? upTo : k + " > " + tuple(literals(last)) + " AND " + upTo) + ")";
    }

    /** About how many rows the table has ({@link TableRows}). */
    long estimatedRows(Connection c) throws SQLException {
        return Math.max(0, TableRows.estimate(c, oid));
    }

    /** A key as messages show it, as PostgreSQL's own messages do: {@code (id)=(5000)}. */
    String describe(List<String> key) {
        return key == null ? "(none)" : "(" + String.join(", ", columns) + ")=(" + String.join(", ", key) + ")";
    }

    /**
     * The table's alias in pgshift's own queries on it. Their ORDER BY names the key qualified by it: an unqualified name
     * would be the text output of the same name (or an output alias a column may share), sorted as text.
     */
    private static final String SELF = "pgshift_t";

    private String texts() {
        return String.join(", ", qualified(SELF).stream().map(col -> col + "::text").toList());
    }

    private List<String> qualified(String qualifier) {
        return columns.stream().map(col -> qualifier + "." + col).toList();
    }

    private List<String> literals(List<String> key) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            out.add("E'" + key.get(i).replace("\\", "\\\\").replace("'", "''") + "'::" + types.get(i));
        }
        return out;
    }

    private static String tuple(List<String> parts) {
        return parts.size() == 1 ? parts.get(0) : "(" + String.join(", ", parts) + ")";
    }

    private static List<String> key(Connection c, String sql) throws SQLException {
        // a plain statement: a '?' in a name or a key is no parameter
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                return null;
            }
            List<String> out = new ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                out.add(rs.getString(i));
            }
            return out;
        }
    }
}
