package dev.pgshift.backup;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Exact row counts of every ordinary table outside the system schemas: what a restore is compared by. */
final class RowCounts {

    private RowCounts() {
    }

    static Map<String, Long> of(Connection c) throws SQLException {
        List<String> tables = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select format('%I.%I', n.nspname, c.relname) from pg_class c "
                + "join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') "
                + "and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%' order by 1")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        Map<String, Long> counts = new TreeMap<>();
        for (String t : tables) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select count(*) from " + t)) {
                rs.next();
                counts.put(t, rs.getLong(1));
            }
        }
        return counts;
    }
}
