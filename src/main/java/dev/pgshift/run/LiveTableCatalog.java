package dev.pgshift.run;

import dev.pgshift.source.Effect;
import dev.pgshift.source.QualifiedName;
import dev.pgshift.source.TableCatalog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The lint's view of the live database, on the plan's session: tables resolved as the server resolves the statement's
 * names ({@code to_regclass}), their rows and size on disk, volatility from {@code pg_proc}, validated NOT NULL CHECKs,
 * and long-open transactions from {@code pg_locks} and {@code pg_stat_activity}. Whether a column type change rewrites
 * is decided by the server's own catalog: the new type is resolved by PostgreSQL (a temporary table with a column of
 * that type, in a transaction that is rolled back), so aliases, typmods and the user's own types are read as the server
 * reads them. A question the catalog cannot answer is logged at debug and answered "unknown".
 */
final class LiveTableCatalog implements TableCatalog {
    private static final Logger LOG = Logger.getLogger(LiveTableCatalog.class);

    private final Connection c;
    private final int major;

    LiveTableCatalog(Connection c) {
        this.c = c;
        int m = 0;
        try {
            m = c.getMetaData().getDatabaseMajorVersion();
        } catch (SQLException e) {
            LOG.debugf("cannot read the server version: %s", e.getMessage());
        }
        this.major = m;
    }

    @Override
    public int major() {
        return major;
    }

    @Override
    public boolean exists(QualifiedName table) {
        return Boolean.TRUE.equals(one("select relkind in ('r', 'p') from pg_class where oid = to_regclass(?)", table.sql()));
    }

    @Override
    public long rows(QualifiedName table) {
        try {
            Long oid = (Long) one("select to_regclass(?)::oid::bigint", table.sql());
            return oid == null ? -1 : dev.pgshift.db.TableRows.estimate(c, oid);
        } catch (SQLException e) {
            LOG.debugf("cannot estimate the rows of %s: %s", table, e.getMessage());
            return -1;
        }
    }

    @Override
    public long bytes(QualifiedName table) {
        Object v = one("select pg_total_relation_size(to_regclass(?))", table.sql());
        return v == null ? -1 : (Long) v;
    }

    @Override
    public List<String> keyColumns(QualifiedName table) {
        return list("select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
                + "and a.attnum = any (i.indkey) where i.indrelid = to_regclass(?) and i.indisprimary", table.sql());
    }

    @Override
    public Boolean isVolatile(String function) {
        int dot = function.lastIndexOf('.');
        return (Boolean) one("select bool_or(p.provolatile = 'v') from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = ? "
                + "and " + (dot < 0 ? "(n.nspname = any (current_schemas(true)) or ? = '')" : "n.nspname = ?"), dot < 0 ? function : function.substring(dot + 1),
                dot < 0 ? "" : function.substring(0, dot));
    }

    @Override
    public boolean constrainedDomain(String type) {
        return Boolean.TRUE.equals(one("select t.typtype = 'd' and (t.typnotnull or exists (select 1 from pg_constraint k where k.contypid = t.oid)) "
                + "from pg_type t where t.oid = to_regtype(?)", type));
    }

    @Override
    public boolean notNullChecked(QualifiedName table, String column) {
        return Boolean.TRUE.equals(one("select bool_or(pg_get_constraintdef(k.oid) = format('CHECK ((%I IS NOT NULL))', ?::text)) from pg_constraint k "
                + "where k.conrelid = to_regclass(?) and k.contype = 'c' and k.convalidated", column, table.sql()));
    }

    @Override
    public QualifiedName tableOfIndex(QualifiedName index) {
        return name("select n.nspname::text, t.relname::text from pg_index i join pg_class t on t.oid = i.indrelid "
                + "join pg_namespace n on n.oid = t.relnamespace where i.indexrelid = to_regclass(?)", index);
    }

    @Override
    public List<String> searchPath() {
        return list("select s::text from unnest(current_schemas(false)) with ordinality u(s, n) order by n");
    }

    private QualifiedName name(String sql, QualifiedName of) {
        try (PreparedStatement ps = prepare(sql, of.sql()); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? new QualifiedName(rs.getString(1), rs.getString(2)) : null;
        } catch (SQLException e) {
            LOG.debugf("cannot resolve %s: %s", of, e.getMessage());
            return null;
        }
    }

    /**
     * Sessions of this database, other than this one, whose transaction has been open for {@code age} or longer and that
     * hold a lock on the table that {@code lock} conflicts with (with a null table: every such transaction, as a
     * concurrent build waits for all of them). No query text: it may hold literals that are secrets.
     */
    @Override
    public List<String> blockers(QualifiedName table, Effect.Lock lock, Duration age) {
        String sql = "select format('pid %s (%s%s) %s, its transaction open %s s', a.pid, coalesce(nullif(a.application_name, ''), 'no application name'), "
                + "coalesce(', user ' || a.usename, ''), coalesce(a.state, 'state unknown'), extract(epoch from now() - a.xact_start)::bigint) "
                + "from pg_stat_activity a where a.datname = current_database() and a.pid <> pg_backend_pid() and a.xact_start is not null "
                + "and now() - a.xact_start >= make_interval(secs => ?) and a.backend_type = 'client backend' "
                + (table == null ? "" : "and exists (select 1 from pg_locks l where l.pid = a.pid and l.locktype = 'relation' and l.granted "
                        + "and l.relation = to_regclass(?) and l.mode = any (?::text[])) ")
                + "order by a.xact_start limit 5";
        return table == null ? list(sql, (double) age.toMillis() / 1000) : list(sql, (double) age.toMillis() / 1000, table.sql(),
                "{" + String.join(",", lock.conflicts()) + "}");
    }

    private Object one(String sql, Object... args) {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getObject(1) : null;
        } catch (SQLException e) {
            LOG.debugf("the lint's catalog question failed (%s): %s", sql, e.getMessage());
            return null;
        }
    }

    private List<String> list(String sql, Object... args) {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            LOG.debugf("the lint's catalog question failed (%s): %s", sql, e.getMessage());
        }
        return out;
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }

    /**
     * No rewrite when the type and its modifier stay; when varchar or varbit widen or lose their limit; when numeric keeps
     * its scale and widens its precision (or loses its limit); when a binary-coercible cast leads to an unconstrained type
     * (varchar to text, text to varchar, cidr to inet). Anything else rewrites (or at least scans) under the lock.
     */
    @Override
    public Boolean rewrites(QualifiedName table, String column, String newType) {
        boolean autoCommit = true;
        try {
            autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            long[] before = attribute("select a.atttypid::bigint, a.atttypmod from pg_attribute a where a.attrelid = to_regclass(?) "
                    + "and a.attname = ? and not a.attisdropped", table.sql(), column);
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
            LOG.debugf("cannot tell whether %s.%s to %s rewrites: %s", table, column, newType, e.getMessage());
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
