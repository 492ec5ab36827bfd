package dev.pgshift.backup;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.Database;
import dev.pgshift.db.StopSignal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/** --verify-restore: restores a backup into a scratch database on the same server, compares row counts, drops it. */
final class ScratchRestore {
    private static final Logger LOG = Logger.getLogger(ScratchRestore.class);

    private final Database db;
    private final PgTools tools;
    private final StopSignal stop;

    ScratchRestore(Database db, PgTools tools, StopSignal stop) {
        this.db = db;
        this.tools = tools;
        this.stop = stop;
    }

    void verify(Path dump, Map<String, Long> expected, String runId) {
        String scratch = "pgshift_verify_" + runId.substring(0, 8);
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            ScratchDatabases.create(st, scratch, ScratchDatabases.Purpose.VERIFY_RESTORE, db.settings().database());
            try {
                tools.run(tools.restore(List.of(PgTools.dbnameArgument(scratch), "--no-owner", "--exit-on-error", dump.toString()), db.settings(), scratch),
                        "restoring the backup into the scratch database " + scratch);
                Map<String, Long> actual;
                try (Connection sc = new Database(db.settings().withDatabase(scratch), Duration.ofSeconds(5), stop).getConnection()) {
                    actual = RowCounts.of(sc);
                }
                if (!actual.equals(expected)) {
                    throw new PgshiftException(ExitCode.BACKUP, "the backup restored into " + scratch + " does not hold the rows of the "
                            + "database: expected " + expected + ", found " + actual);
                }
                LOG.infof("backup restored into scratch database %s: %d tables, row counts equal", scratch, actual.size());
            } finally {
                st.execute("drop database if exists " + scratch + " with (force)");
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot verify the backup by restoring it (--verify-restore needs CREATEDB): "
                    + e.getMessage(), e);
        }
    }
}
