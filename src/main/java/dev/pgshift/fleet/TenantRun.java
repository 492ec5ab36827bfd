package dev.pgshift.fleet;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.Printable;
import dev.pgshift.config.FleetSettings;
import dev.pgshift.config.Settings;
import dev.pgshift.config.SettingsResolver;
import dev.pgshift.db.Database;
import dev.pgshift.db.Identifiers;
import dev.pgshift.db.StopSignal;
import dev.pgshift.migrate.Failures;
import dev.pgshift.report.RunResult;
import dev.pgshift.run.RunService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * One tenant of a shard: claimed in the control table, migrated with the whole single-database routine (preflight, run
 * lock, backup, migrate, verify; its report in the tenant's own pgshift.run_history), and its outcome recorded. A
 * SIGTERM to the process stops it as it stops a single run (exit 75). Several run at once on one control session, each
 * of their uses of it synchronized on it.
 */
final class TenantRun {
    private static final Logger LOG = Logger.getLogger(TenantRun.class);

    /**
     * How a tenant's run ended.
     *
     * @param errorClass the failure's SQLSTATE, else "exit N"; null when it succeeded
     * @param error      the first line of its error; null when it succeeded
     */
    @io.quarkus.runtime.annotations.RegisterForReflection
    record Result(String tenant, int wave, int attempt, String status, String before, String after, String errorClass, String error,
            int exitCode, long durationMs) {

        /** The line stdout gets for it. */
        String line() {
            return String.format("  %-24s wave %d  attempt %d  %-9s %s -> %s  %.2fs%s", tenant, wave, attempt, status,
                    before == null ? "none" : before, after == null ? "none" : after, durationMs / 1000.0,
                    error == null ? "" : "  " + FleetView.failure(exitCode, errorClass, error));
        }
    }

    private final Settings settings;
    private final FleetSettings fleet;
    private final String version;
    private final StopSignal fleetStop;
    private final String pod;

    TenantRun(Settings settings, FleetSettings fleet, String version, StopSignal fleetStop, String pod) {
        this.settings = settings;
        this.fleet = fleet;
        this.version = version;
        this.fleetStop = fleetStop;
        this.pod = pod;
    }

    Result run(Connection control, ControlTable.Tenant t) throws SQLException {
        long start = System.nanoTime();
        StopSignal stop = fleetStop.child(); // SIGTERM stops this tenant's run as it stops a single run (75)
        int attempt;
        synchronized (control) {
            attempt = ControlTable.claim(control, fleet.release(), t.name(), pod, stop.runId());
        }
        LOG.infof("tenant %s (wave %d, position %d, attempt %d): starting", t.name(), t.wave(), t.position(), attempt);
        String before = null;
        String after = null;
        RunResult result;
        PgshiftException failure;
        try {
            Settings ts = SettingsResolver.forTenant(settings, t.name(), t.url());
            before = appliedVersion(ts, stop);
            RunService service = new RunService(ts, stop, version, RunService.Options.defaults());
            result = service.migrate("fleet run");
            failure = service.failure();
            after = appliedVersion(ts, stop);
        } catch (PgshiftException e) { // the tenant's URL or password file
            result = null;
            failure = e;
        } finally {
            fleetStop.release(stop);
        }
        int exit = result != null ? result.exitCode() : failure.exitCode().code();
        String status = exit == 0 ? ControlTable.SUCCEEDED : exit == ExitCode.TEMPORARY.code() ? ControlTable.RETRY : ControlTable.FAILED;
        String errorClass = null;
        String error = null;
        if (exit != 0) {
            String state = failure == null ? null : Failures.sqlState(failure);
            String phase = result == null ? null : result.failedPhase();
            errorClass = state != null ? state : "exit " + exit + (phase == null ? "" : " in " + phase);
            String text = result != null && result.error() != null ? result.error() : failure == null ? "failed" : failure.getMessage();
            error = Printable.escape(firstLines(text));
            LOG.errorf("tenant %s: %s", t.name(), FleetView.failure(exit, errorClass, error));
        }
        synchronized (control) {
            ControlTable.finish(control, fleet.release(), t.name(), status, before, after, errorClass, error, exit);
        }
        return new Result(t.name(), t.wave(), attempt, status, before, after, errorClass, error, exit, (System.nanoTime() - start) / 1_000_000);
    }

    /** An error's first line, and the server's answer where the next line holds it ("failed: ERROR 23505: ..."). */
    static String firstLines(String text) {
        List<String> lines = text.lines().toList();
        String first = lines.isEmpty() ? "" : lines.get(0);
        return lines.size() > 1 && lines.get(1).strip().startsWith("failed:") ? first + " " + lines.get(1).strip() : first;
    }

    /** The tenant's last applied migration, or null (none yet, or not readable now: the run's own report says why). */
    private static String appliedVersion(Settings ts, StopSignal stop) {
        try (Connection c = Database.of(ts, stop).cleanupConnection(); Statement st = c.createStatement()) {
            String table = Identifiers.quote(ts.schema()) + "." + dev.pgshift.config.OwnTables.MIGRATION_HISTORY;
            try (ResultSet exists = st.executeQuery("select to_regclass('" + table.replace("'", "''") + "') is not null")) {
                exists.next();
                if (!exists.getBoolean(1)) {
                    return null;
                }
            }
            try (ResultSet rs = st.executeQuery("select version from " + table + " where success and version is not null "
                    + "order by installed_rank desc limit 1")) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException | RuntimeException e) {
            return null;
        }
    }
}
