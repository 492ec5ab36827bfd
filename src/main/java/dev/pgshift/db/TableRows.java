package dev.pgshift.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * About how many rows a table holds, for the lint and a backfill's progress: the largest of the planner's estimate
 * ({@code reltuples}), that estimate's density times the table's pages now (as the planner scales it: a table grown
 * since its last ANALYZE), and the statistics' live rows ({@code n_live_tup}, which a stats reset zeroes). A table never
 * analyzed ({@code reltuples} -1 on PostgreSQL 14 and later) is counted, the count stopping at {@link #COUNT_LIMIT}.
 */
public final class TableRows {
    /** A count stops here: enough to know a table is big, without reading all of a big one. */
    public static final long COUNT_LIMIT = 1_000_000;

    private TableRows() {
    }

    /** Rows of the table with this oid; -1 when there is no such table. */
    public static long estimate(Connection c, long oid) throws SQLException {
        String name;
        long estimate;
        try (PreparedStatement ps = c.prepareStatement("select greatest(c.reltuples, coalesce(s.n_live_tup, 0), case when c.relpages > 0 "
                + "and c.reltuples > 0 then c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int) else 0 end)::bigint, "
                + "c.reltuples < 0 or c.reltuples = 0 and c.relpages = 0, c.oid::regclass::text "
                + "from pg_class c left join pg_stat_user_tables s on s.relid = c.oid where c.oid = ?")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return -1;
                }
                estimate = rs.getLong(1);
                if (estimate > 0 && !rs.getBoolean(2)) {
                    return estimate;
                }
                name = rs.getString(3);
            }
        }
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select count(*) from (select 1 from " + name + " limit " + COUNT_LIMIT + ") x")) {
            rs.next();
            return Math.max(estimate, rs.getLong(1));
        }
    }
}
