package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.source.TableCatalog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The plan's view of the live database: the tables on the session's search_path, and whether a column type change
 * rewrites its table, decided by the server's own catalog. The new type is resolved by PostgreSQL (a temporary table
 * with a column of that type, in a transaction that is rolled back), so aliases, typmods and the user's own types are
 * read as the server reads them.
 */
final class LiveTableCatalog implements TableCatalog {
    private static final Logger LOG = Logger.getLogger(LiveTableCatalog.class);

    private final Connection c;
    private final Set<String> tables = new HashSet<>();

    LiveTableCatalog(Connection c) {
        this.c = c;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select c.relname from pg_class c "
                + "join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p') and n.nspname = any (current_schemas(false))")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the catalog: " + DatabaseWaiter.describe(e), e);
        }
    }

    @Override
    public boolean exists(String table) {
        return tables.contains(table);
    }

    @Override
    public long rows(String tableRef) {
        try {
            Long oid = oid(tableRef);
            return oid == null ? -1 : dev.pgshift.db.TableRows.estimate(c, oid);
        } catch (SQLException e) {
            LOG.debugf("cannot estimate the rows of %s: %s", tableRef, e.getMessage());
            return -1;
        }
    }

    @Override
    public java.util.List<String> keyColumns(String tableRef) {
        try (PreparedStatement ps = c.prepareStatement("select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
                + "and a.attnum = any (i.indkey) where i.indrelid = to_regclass(?) and i.indisprimary")) {
            ps.setString(1, tableRef);
            java.util.List<String> out = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        } catch (SQLException e) {
            LOG.debugf("cannot read the key of %s: %s", tableRef, e.getMessage());
            return java.util.List.of();
        }
    }

    private Long oid(String tableRef) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select to_regclass(?)::oid::bigint")) {
            ps.setString(1, tableRef);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    /**
     * No rewrite when the type and its modifier stay; when varchar or varbit widen or lose their limit; when numeric keeps
     * its scale and widens its precision (or loses its limit); when a binary-coercible cast leads to an unconstrained type
     * (varchar to text, text to varchar, cidr to inet). Anything else rewrites (or at least scans) under the lock.
     */
    @Override
    public Boolean rewrites(String tableRef, String column, String newType) {
        boolean autoCommit = true;
        try {
            autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            long[] before = attribute("select a.atttypid::bigint, a.atttypmod from pg_attribute a where a.attrelid = to_regclass(?) "
                    + "and a.attname = ? and not a.attisdropped", tableRef, column);
            if (before == null) {
                return null;
            }
            try (Statement st = c.createStatement()) {
                st.execute("create temporary table pgshift_type_probe (x " + newType + ")");
            }
            long[] after = attribute("select a.atttypid::bigint, a.atttypmod from pg_attribute a "
                    + "where a.attrelid = 'pg_temp.pgshift_type_probe'::regclass and a.attname = ?", null, "x");
            return after == null ? null : !keepsStorage(before, after);
        } catch (SQLException e) {
            LOG.debugf("cannot tell whether %s.%s to %s rewrites: %s", tableRef, column, newType, e.getMessage());
            return null;
        } finally {
            try {
                c.rollback();
                c.setAutoCommit(autoCommit);
            } catch (SQLException ignored) {
                // the session is gone; the caller's next query says so
            }
        }
    }

    private boolean keepsStorage(long[] before, long[] after) throws SQLException {
        long oldType = before[0];
        long newType = after[0];
        int oldMod = (int) before[1];
        int newMod = (int) after[1];
        if (oldType == newType) {
            if (oldMod == newMod) {
                return true;
            }
            String name = typeName(newType);
            return switch (name) {
                case "varchar", "varbit", "bit varying" -> newMod == -1 || oldMod != -1 && newMod >= oldMod;
                case "numeric" -> newMod == -1 || oldMod != -1 && ((newMod - 4) & 0xffff) == ((oldMod - 4) & 0xffff)
                        && ((newMod - 4) >> 16) >= ((oldMod - 4) >> 16);
                default -> false;
            };
        }
        if (newMod != -1) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement("select 1 from pg_cast where castsource = ?::oid and casttarget = ?::oid "
                + "and castmethod = 'b'")) {
            ps.setLong(1, oldType);
            ps.setLong(2, newType);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private String typeName(long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select typname from pg_type where oid = ?::oid")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : "";
            }
        }
    }

    private long[] attribute(String sql, String table, String column) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (table != null) {
                ps.setString(i++, table);
            }
            ps.setString(i, column);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new long[] {rs.getLong(1), rs.getInt(2)} : null;
            }
        }
    }
}
