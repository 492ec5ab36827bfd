package dev.pgshift.migrate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import dev.pgshift.source.SqlStatement;
import java.sql.Statement;
import org.jboss.logging.Logger;

/** What the catalog says about indexes and partitions that pgshift's concurrent steps create, drop or detach. */
final class IndexCatalog {
    private static final Logger LOG = Logger.getLogger(IndexCatalog.class);

    /** An index as it stands: valid or not, its definition, and whether a backend is still building it. */
    record IndexState(String name, long oid, boolean valid, String definition, Integer builderPid) {
    }

    private IndexCatalog() {
    }

    static IndexState index(Connection c, String name) throws SQLException {
        String sql = "select i.indisvalid, pg_get_indexdef(i.indexrelid), "
                + "(select p.pid from pg_stat_progress_create_index p where p.index_relid = i.indexrelid and p.pid <> pg_backend_pid() limit 1), "
                + "i.indexrelid::bigint "
                + "from pg_class c join pg_index i on i.indexrelid = c.oid join pg_namespace n on n.oid = c.relnamespace "
                + "where c.relname = ? and n.nspname = any (current_schemas(false)) order by array_position(current_schemas(false), n.nspname) limit 1";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                int pid = rs.getInt(3);
                Integer builder = rs.wasNull() ? null : pid;
                return new IndexState(name, rs.getLong(4), rs.getBoolean(1), rs.getString(2), builder);
            }
        }
    }

    /** INVALID indexes left by an interrupted REINDEX CONCURRENTLY (names ending in _ccnew or _ccold, maybe numbered). */
    static List<String> reindexLeftovers(Connection c) throws SQLException {
        String sql = "select c.relname from pg_class c join pg_index i on i.indexrelid = c.oid join pg_namespace n on n.oid = c.relnamespace "
                + "where not i.indisvalid and c.relname ~ '_cc(new|old)[0-9]*$' and n.nspname = any (current_schemas(false)) "
                + "and not exists (select 1 from pg_stat_progress_create_index p where p.index_relid = i.indexrelid)";
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** Where a partition stands. */
    enum PartitionState {
        ATTACHED,
        /** A DETACH CONCURRENTLY was interrupted: FINALIZE finishes it. */
        DETACH_PENDING,
        /** The table exists and is no partition (any more). */
        DETACHED,
        /** No such table. */
        MISSING
    }

    static PartitionState partition(Connection c, String partition) throws SQLException {
        String sql = "select h.inhdetachpending from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                + "left join pg_inherits h on h.inhrelid = c.oid where c.relname = ? and n.nspname = any (current_schemas(false)) "
                + "order by array_position(current_schemas(false), n.nspname) limit 1";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, partition);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return PartitionState.MISSING;
                }
                boolean pending = rs.getBoolean(1);
                if (rs.wasNull()) {
                    return PartitionState.DETACHED;
                }
                return pending ? PartitionState.DETACH_PENDING : PartitionState.ATTACHED;
            }
        }
    }

    /**
     * Whether an existing index is the one a CREATE INDEX statement asks for, as PostgreSQL itself reads both: the
     * statement builds an index on an empty temporary copy of the table's columns, in a transaction that is rolled
     * back, and the two indexes are compared in the catalog (uniqueness, NULLS NOT DISTINCT, method, key and INCLUDE
     * columns or expressions, order, operator classes, collations, predicate, storage options). Comments, white space,
     * casts, quoting, schema qualification and IF NOT EXISTS make no difference; columns, order, predicate, uniqueness,
     * method, INCLUDE and opclass do. Should the probe fail (no right to create a temporary table), the definitions are
     * compared as text, the statement's comments left out.
     */
    static boolean sameDefinition(Connection c, IndexState existing, SqlStatement statement) throws SQLException {
        List<String> w = statement.words();
        int on = w.indexOf("ON");
        if (on < 0) {
            return false;
        }
        int first = on + 1 < w.size() && w.get(on + 1).equals("ONLY") ? on + 2 : on + 1;
        int last = first;
        while (last + 2 < w.size() && w.get(last + 1).equals(".")) {
            last += 2;
        }
        if (last >= w.size()) {
            return false;
        }
        String table = statement.source(first, last);
        String rest = statement.text().substring(statement.wordEnd()[last]);
        boolean unique = w.size() > 1 && w.get(1).equals("UNIQUE");
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("create temporary table pgshift_index_probe (like " + table + ")");
            st.execute("create " + (unique ? "unique " : "") + "index pgshift_index_probe_idx on pg_temp.pgshift_index_probe " + rest);
            return signature(c, "pg_temp.pgshift_index_probe_idx").equals(signature(c, existing.oid()));
        } catch (SQLException e) {
            LOG.debugf("index probe failed (%s): comparing the definitions as text", e.getMessage());
            c.rollback();
            return canonical(existing.definition()).equals(canonical(statement.text()));
        } finally {
            c.rollback();
            c.setAutoCommit(autoCommit);
        }
    }

    /** What makes an index the index it is, read from the catalog. */
    private static String signature(Connection c, Object index) throws SQLException {
        String sql = "select concat_ws(' | ', i.indisunique, to_jsonb(i) ->> 'indnullsnotdistinct', am.amname, i.indnkeyatts, "
                + "(select string_agg(pg_get_indexdef(i.indexrelid, k, true), ', ' order by k) from generate_series(1, i.indnatts) k), "
                + "i.indoption::text, "
                + "(select string_agg(coalesce(o.opcname, '-'), ',' order by u.k) from unnest(i.indclass::oid[]) with ordinality u(x, k) "
                + "left join pg_opclass o on o.oid = u.x), "
                + "(select string_agg(coalesce(co.collname, '-'), ',' order by u.k) from unnest(i.indcollation::oid[]) with ordinality u(x, k) "
                + "left join pg_collation co on co.oid = u.x), "
                + "pg_get_expr(i.indpred, i.indrelid, true), ic.reloptions::text) "
                + "from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam where i.indexrelid = "
                + (index instanceof Long ? "?" : "?::regclass");
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (index instanceof Long oid) {
                ps.setLong(1, oid);
            } else {
                ps.setString(1, index.toString());
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : "";
            }
        }
    }

    /** The definitions as text without quotes, schema prefixes, defaults and white space: the fallback of {@link #sameDefinition}. */
    static String canonical(String def) {
        String s = def.toLowerCase(Locale.ROOT).replace("\"", "");
        s = s.replaceAll("\\bconcurrently\\b", " ").replaceAll("\\bif\\s+not\\s+exists\\b", " ").replaceAll("\\bon\\s+only\\b", "on");
        s = s.replaceAll("\\busing\\s+btree\\b", " ");
        s = s.replaceAll("\\b[a-z_][a-z0-9_$]*\\.", "");
        return s.replaceAll("[\\s()]", "");
    }
}
