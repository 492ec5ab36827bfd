package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.backup.BackupManifest;
import dev.pgshift.backup.RestoreService;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.StopSignal;
import dev.pgshift.report.RunResult;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.jboss.logging.Logger;

/**
 * "Always test migrations on a copy of production data": restores the backup just made into a scratch database on the
 * same server, runs migrate and verify there, drops it. A failure there leaves the real database untouched and ends the
 * run with the code of the failing phase.
 */
final class Rehearsal {
    private static final Logger LOG = Logger.getLogger(Rehearsal.class);

    private final Settings settings;
    private final StopSignal stop;
    private final String version;
    private final RunService.Options options;

    Rehearsal(Settings settings, StopSignal stop, String version, RunService.Options options) {
        this.settings = settings;
        this.stop = stop;
        this.version = version;
        this.options = options;
    }

    void rehearse(Database db, BackupManifest backup, String runId) {
        if (backup == null) {
            throw new PgshiftException(ExitCode.CONFIG, "--rehearse restores the run's backup into a scratch database, but no backup was "
                    + "made (--backup=never)");
        }
        String scratch = "pgshift_rehearsal_" + runId.substring(0, 8);
        LOG.infof("rehearsal: restoring the backup into %s and migrating the copy first", scratch);
        new RestoreService(settings.backup(), db).restoreRehearsal(settings.backup().dir().resolve(backup.file()), scratch);
        try {
            RunResult r = new RunService(settings.forRehearsal(scratch), stop, version,
                    new RunService.Options(options.phase(), false, null)).migrate("rehearsal");
            if (r.exitCode() != 0) {
                throw new PgshiftException(ExitCode.all().stream().filter(c -> c.code() == r.exitCode()).findFirst().orElse(ExitCode.INTERNAL),
                        "rehearsal on a copy of the database failed in phase " + r.failedPhase() + ": " + r.error()
                                + ". The real database was not touched.");
            }
            LOG.infof("rehearsal succeeded on %s: %d migration(s) applied, all checks passed", scratch, r.migrations().size());
        } finally {
            try (Connection c = db.cleanupConnection(); Statement st = c.createStatement()) {
                st.execute("drop database if exists " + scratch + " with (force)");
            } catch (SQLException e) {
                LOG.errorf("could not drop the rehearsal database %s: %s", scratch, e.getMessage());
            }
        }
    }
}
