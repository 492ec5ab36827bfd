package dev.pgshift.migrate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What the catalog says about indexes and partitions that pgshift's concurrent steps create, drop or detach. */
final class IndexCatalog {

    /** An index as it stands: valid or not, its definition, and whether a backend is still building it. */
    record IndexState(String name, boolean valid, String definition, Integer builderPid) {
    }

    private IndexCatalog() {
    }

    static IndexState index(Connection c, String name) throws SQLException {
        String sql = "select i.indisvalid, pg_get_indexdef(i.indexrelid), "
                + "(select p.pid from pg_stat_progress_create_index p where p.index_relid = i.indexrelid and p.pid <> pg_backend_pid() limit 1) "
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
                return new IndexState(name, rs.getBoolean(1), rs.getString(2), builder);
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

    /** Partition state: "attached", "detach-pending" (a DETACH CONCURRENTLY was interrupted) or "detached". */
    static String partition(Connection c, String partition) throws SQLException {
        String sql = "select h.inhdetachpending from pg_inherits h join pg_class c on c.oid = h.inhrelid "
                + "join pg_namespace n on n.oid = c.relnamespace where c.relname = ? and n.nspname = any (current_schemas(false))";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, partition);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "detached";
                }
                return rs.getBoolean(1) ? "detach-pending" : "attached";
            }
        }
    }

    /**
     * Whether an existing index's definition (pg_get_indexdef) is the one a CREATE INDEX statement asks for. Both are
     * reduced to the same canonical shape: no CONCURRENTLY / IF NOT EXISTS / ONLY, no default "USING btree", no
     * quotes, schema prefixes, parentheses or white space.
     */
    static boolean sameDefinition(String existing, String statement) {
        return canonical(existing).equals(canonical(statement));
    }

    static String canonical(String def) {
        String s = def.toLowerCase(Locale.ROOT).replace("\"", "");
        s = s.replaceAll("\\bconcurrently\\b", " ").replaceAll("\\bif\\s+not\\s+exists\\b", " ").replaceAll("\\bon\\s+only\\b", "on");
        s = s.replaceAll("\\busing\\s+btree\\b", " ");
        s = s.replaceAll("\\b[a-z_][a-z0-9_$]*\\.", "");
        return s.replaceAll("[\\s()]", "");
    }
}
