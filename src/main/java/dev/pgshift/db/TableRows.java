package dev.pgshift.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * About how many rows a table holds, for the plan's downtime rules and a backfill's progress: the larger of the
 * planner's estimate ({@code reltuples}) and the statistics' live rows; where both say nothing (a table never analyzed,
 * whose reltuples is -1 on PostgreSQL 14 and later, or 0 before), a count that stops at {@link #COUNT_LIMIT}.
 */
public final class TableRows {
    /** A count stops here: enough to know a table is big, without reading all of a big one. */
    public static final long COUNT_LIMIT = 1_000_000;

    private TableRows() {
    }

    /** Rows of the table with this oid; -1 when there is no such table. */
    public static long estimate(Connection c, long oid) throws SQLException {
        String name;
        try (PreparedStatement ps = c.prepareStatement("select greatest(c.reltuples, coalesce(s.n_live_tup, 0))::bigint, c.oid::regclass::text "
                + "from pg_class c left join pg_stat_user_tables s on s.relid = c.oid where c.oid = ?")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return -1;
                }
                if (rs.getLong(1) > 0) {
                    return rs.getLong(1);
                }
                name = rs.getString(2);
            }
        }
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select count(*) from (select 1 from " + name + " limit " + COUNT_LIMIT + ") x")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
