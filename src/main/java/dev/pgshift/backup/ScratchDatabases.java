package dev.pgshift.backup;

import dev.pgshift.db.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The databases pgshift creates to restore into (a rehearsal copy, a --verify-restore copy, a restore --into target).
 * Each carries a comment saying whose copy it is while it is unfinished, so that what a killed run left (a whole copy
 * of the data) is found and dropped instead of piling up: a run drops its database's rehearsal and verify copies once
 * it holds the run lock (no run of that database can be using them), and a restore retried into the same name drops
 * the unfinished target the killed one left.
 */
public final class ScratchDatabases {
    private static final Logger LOG = Logger.getLogger(ScratchDatabases.class);

    /** What a scratch database is for. */
    public enum Purpose {
        REHEARSAL("rehearsal copy"), VERIFY_RESTORE("verify-restore copy"), RESTORE("restore");

        private final String words;

        Purpose(String words) {
            this.words = words;
        }
    }

    private ScratchDatabases() {
    }

    /** Creates {@code name}, marked unfinished: a {@code purpose} of {@code source}. */
    static void create(Statement st, String name, Purpose purpose, String source) throws SQLException {
        st.execute("create database " + Identifiers.quote(name));
        st.execute("comment on database " + Identifiers.quote(name) + " is '" + marker(purpose, source).replace("'", "''") + "'");
    }

    /** The restore into {@code name} finished: it is the user's database now. */
    static void finished(Statement st, String name) throws SQLException {
        st.execute("comment on database " + Identifiers.quote(name) + " is null");
    }

    private static String marker(Purpose purpose, String source) {
        return "pgshift " + purpose.words + " of " + source + ", unfinished";
    }

    /**
     * Drops the {@code purposes} databases of {@code source} that an interrupted pgshift left unfinished and that no
     * session uses; returns their names. A failure to drop one is logged: it is never a reason to stop a run.
     */
    public static List<String> dropUnfinished(Connection c, String source, Purpose... purposes) {
        List<String> dropped = new ArrayList<>();
        for (Purpose p : purposes) {
            for (String name : unfinished(c, marker(p, source))) {
                try (Statement st = c.createStatement()) {
                    st.execute("drop database if exists " + Identifiers.quote(name) + " with (force)");
                    LOG.warnf("dropped database %s: the %s of %s that an interrupted pgshift left", name, p.words, source);
                    dropped.add(name);
                } catch (SQLException e) {
                    LOG.warnf("database %s is the %s of %s that an interrupted pgshift left, and could not be dropped: %s", name, p.words,
                            source, e.getMessage());
                }
            }
        }
        return dropped;
    }

    /** Whether {@code name} is a database an interrupted restore of {@code source} left unfinished (and no session uses). */
    static boolean unfinishedRestore(Connection c, String name, String source) {
        return unfinished(c, marker(Purpose.RESTORE, source)).contains(name);
    }

    private static List<String> unfinished(Connection c, String marker) {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select d.datname from pg_database d where shobj_description(d.oid, 'pg_database') = ? "
                + "and not exists (select 1 from pg_stat_activity a where a.datname = d.datname)")) {
            ps.setString(1, marker);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            LOG.debugf("cannot look for unfinished scratch databases: %s", e.getMessage());
        }
        return out;
    }
}
