package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.RunLock;
import dev.pgshift.db.StopSignal;
import dev.pgshift.migrate.Repair;
import dev.pgshift.report.ReportPublisher;
import dev.pgshift.report.RunResult;
import dev.pgshift.source.MigrationScript;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * pgshift repair as a run: reads the files, connects, takes the run lock (so no run migrates meanwhile), changes the
 * history as {@link Repair} does, and records the run, its actions, its reason and who ran it in the run history. It
 * never runs a migration's SQL and makes no backup: it changes only pgshift's bookkeeping.
 */
public final class RepairService {
    private final Settings settings;
    private final StopSignal stop;
    private final String version;

    public RepairService(Settings settings, StopSignal stop, String version) {
        this.settings = settings;
        this.stop = stop;
        this.version = version;
    }

    /** Why the last repair failed, for --verbose's stack trace; null when it did not. */
    public PgshiftException failure() {
        return failure;
    }

    private PgshiftException failure;

    public RunResult repair(List<Repair.Request> requests, String reason) {
        RunRecorder rec = new RunRecorder(stop, "repair", version);
        rec.reason(reason);
        Database db = Database.of(settings, stop);
        boolean reached = false;
        RunResult result;
        try {
            List<MigrationScript> scripts = rec.phase("preflight",
                    () -> new RunService(settings, stop, version, RunService.Options.defaults()).loadScripts());
            Connection session = rec.phase("connect", () -> new DatabaseWaiter(db, stop).connect(settings.connectTimeout()));
            reached = true;
            rec.database(db.settings().describe(), RunService.serverVersion(session), RunService.tls(session, db.settings().sslMode()));
            try (Connection c = session; RunLock lock = rec.phase("lock", () -> RunLock.acquire(db, settings.lockWait(), stop))) {
                rec.phase("repair", () -> {
                    try {
                        rec.applied(new Repair(scripts, settings.schema()).apply(c, requests));
                    } catch (SQLException e) {
                        throw new PgshiftException(ExitCode.TEMPORARY, "database error: " + DatabaseWaiter.describe(e) + ". Nothing was changed.", e);
                    }
                });
            }
            result = rec.succeeded();
        } catch (PgshiftException e) {
            failure = e;
            result = rec.failed(e);
        } catch (SQLException e) {
            failure = new PgshiftException(ExitCode.TEMPORARY, "database error: " + DatabaseWaiter.describe(e), e);
            result = rec.failed(failure);
        }
        boolean recordable = reached;
        new ReportPublisher(settings.reportFile(), settings.terminationLog()).publish(result, () -> {
            try {
                return recordable ? db.cleanupConnection() : null;
            } catch (SQLException e) {
                throw new PgshiftException(ExitCode.TEMPORARY, "database unreachable: " + e.getMessage(), e);
            }
        });
        return result;
    }
}
