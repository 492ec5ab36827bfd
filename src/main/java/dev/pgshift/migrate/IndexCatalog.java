package dev.pgshift.migrate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import dev.pgshift.source.QualifiedName;
import dev.pgshift.source.SqlStatement;
import java.sql.Statement;
import org.jboss.logging.Logger;

/**
 * What the catalog says about the indexes and partitions that pgshift's concurrent steps create, drop, rebuild or
 * detach. Every name is resolved on the migration's own session, as the statement itself would resolve it: a qualified
 * name in its schema, an unqualified one through that session's search_path ({@code to_regclass}, which also truncates
 * each part to 63 bytes as the statement's parser does), and the index of {@code CREATE INDEX name ON s.t} in the
 * schema of {@code s.t}. Generated SQL names what the catalog returned, schema-qualified and quoted.
 */
final class IndexCatalog {
    private static final Logger LOG = Logger.getLogger(IndexCatalog.class);

    /**
     * An index as it stands: valid or not, its definition, and whether a backend is still building it.
     *
     * @param name its schema-qualified name for messages ({@code audit.events_idx})
     * @param sql  its schema-qualified name, quoted, for generated SQL
     */
    record IndexState(String name, long oid, boolean valid, String definition, Integer builderPid, String sql) {
    }

    private IndexCatalog() {
    }

    /** The index {@code oid}, or null when there is none (any more). */
    static IndexState index(Connection c, long oid) throws SQLException {
        String sql = "select i.indisvalid, pg_get_indexdef(i.indexrelid), "
                + "(select p.pid from pg_stat_progress_create_index p where p.index_relid = i.indexrelid and p.pid <> pg_backend_pid() limit 1), "
                + "n.nspname, c.relname "
                + "from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace where i.indexrelid = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                int pid = rs.getInt(3);
                Integer builder = rs.wasNull() ? null : pid;
                QualifiedName name = new QualifiedName(rs.getString(4), rs.getString(5));
                return new IndexState(name.toString(), oid, rs.getBoolean(1), rs.getString(2), builder, name.sql());
            }
        }
    }

    /** The index {@code name} names, resolved as a DROP INDEX or REINDEX INDEX resolves it; null when it names none. */
    static IndexState index(Connection c, QualifiedName name) throws SQLException {
        Long oid = oid(c, "select to_regclass(?)::oid", name.sql());
        return oid == null ? null : index(c, oid);
    }

    /**
     * The index a CREATE INDEX statement names, where it would stand: in the schema of the table it indexes (resolved as
     * the statement resolves it). Null when that table or that index does not exist.
     */
    static IndexState createdIndex(Connection c, SqlStatement s) throws SQLException {
        QualifiedName table = s.indexedTable();
        String index = s.createdIndex();
        if (table == null || index == null) {
            return null;
        }
        Long oid = oid(c, "select to_regclass(format('%I.', n.nspname) || ?)::oid from pg_class t join pg_namespace n on n.oid = t.relnamespace "
                + "where t.oid = to_regclass(?)", QualifiedName.quote(index), table.sql());
        return oid == null ? null : index(c, oid);
    }

    /** The indexes {@link #createdIndex} finds for each of {@code creates}, in one round trip: their oids. */
    static java.util.Set<Long> createdIndexes(Connection c, List<SqlStatement> creates) throws SQLException {
        java.util.Set<Long> out = new java.util.HashSet<>();
        if (creates.isEmpty()) {
            return out;
        }
        String[] tables = creates.stream().map(s -> s.indexedTable().sql()).toArray(String[]::new);
        String[] indexes = creates.stream().map(s -> QualifiedName.quote(s.createdIndex())).toArray(String[]::new);
        try (PreparedStatement ps = c.prepareStatement("select to_regclass(format('%I.', n.nspname) || x.idx)::oid from unnest(?::text[], "
                + "?::text[]) x(tab, idx) join pg_class t on t.oid = to_regclass(x.tab) join pg_namespace n on n.oid = t.relnamespace")) {
            ps.setArray(1, c.createArrayOf("text", tables));
            ps.setArray(2, c.createArrayOf("text", indexes));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long oid = rs.getLong(1);
                    if (!rs.wasNull()) {
                        out.add(oid);
                    }
                }
            }
        }
        return out;
    }

    private static Long oid(Connection c, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int k = 0; k < args.length; k++) {
                ps.setString(k + 1, args[k]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long oid = rs.getLong(1);
                return rs.wasNull() ? null : oid;
            }
        }
    }

    /**
     * The INVALID indexes an interrupted REINDEX CONCURRENTLY of {@code target} left (named {@code <index>_ccnew} or
     * {@code _ccold}, maybe numbered, the index's name cut to fit): of that index only, of that table's indexes, of that
     * schema's; of every schema for REINDEX DATABASE or SYSTEM. None that a backend is still building.
     */
    static List<IndexState> reindexLeftovers(Connection c, ConcurrentStatements.Reindex target) throws SQLException {
        String scope;
        String arg = target.name() == null ? null : target.name().sql();
        switch (target.kind()) {
            case "INDEX" -> scope = "i.indrelid = (select t.indrelid from pg_index t where t.indexrelid = to_regclass(?)) and starts_with("
                    + "(select relname from pg_class where oid = to_regclass(?)), regexp_replace(c.relname, '_cc(new|old)[0-9]*$', ''))";
            case "TABLE" -> scope = "i.indrelid = to_regclass(?)";
            case "SCHEMA" -> scope = "c.relnamespace = to_regnamespace(?)";
            default -> {
                scope = "n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'";
                arg = null;
            }
        }
        String sql = "select i.indexrelid::bigint from pg_class c join pg_index i on i.indexrelid = c.oid join pg_namespace n on n.oid = c.relnamespace "
                + "where not i.indisvalid and c.relname ~ '_cc(new|old)[0-9]*$' and " + scope
                + " and not exists (select 1 from pg_stat_progress_create_index p where p.index_relid = i.indexrelid) order by 1";
        List<Long> oids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int params = arg == null ? 0 : target.kind().equals("INDEX") ? 2 : 1;
            for (int k = 1; k <= params; k++) {
                ps.setString(k, arg);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    oids.add(rs.getLong(1));
                }
            }
        }
        List<IndexState> out = new ArrayList<>();
        for (long oid : oids) {
            IndexState st = index(c, oid);
            if (st != null) {
                out.add(st);
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

    /**
     * A table named as a partition to detach, resolved as the statement resolves it.
     *
     * @param name      schema-qualified, for messages
     * @param sql       schema-qualified and quoted, for generated SQL; null when MISSING
     * @param parentSql the table it is (being) detached from, quoted; null unless ATTACHED or DETACH_PENDING
     */
    record Partition(PartitionState state, String name, String sql, String parentSql) {
    }

    static Partition partition(Connection c, QualifiedName partition) throws SQLException {
        String sql = "select h.inhdetachpending, n.nspname, c.relname, case when p.oid is not null then format('%I.%I', pn.nspname, p.relname) end "
                + "from pg_class c join pg_namespace n on n.oid = c.relnamespace left join pg_inherits h on h.inhrelid = c.oid "
                + "left join pg_class p on p.oid = h.inhparent left join pg_namespace pn on pn.oid = p.relnamespace where c.oid = to_regclass(?)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, partition.sql());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new Partition(PartitionState.MISSING, partition.toString(), null, null);
                }
                boolean pending = rs.getBoolean(1);
                boolean none = rs.wasNull();
                QualifiedName name = new QualifiedName(rs.getString(2), rs.getString(3));
                PartitionState state = none ? PartitionState.DETACHED : pending ? PartitionState.DETACH_PENDING : PartitionState.ATTACHED;
                return new Partition(state, name.toString(), name.sql(), none ? null : rs.getString(4));
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
