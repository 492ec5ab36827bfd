package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.backup.BackupService;
import dev.pgshift.config.BackupSettings;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.RunLock;
import dev.pgshift.db.SessionMonitor;
import dev.pgshift.report.ReportPublisher;
import dev.pgshift.verify.CheckResult;
import dev.pgshift.verify.VerifyService;
import dev.pgshift.db.StopSignal;
import dev.pgshift.migrate.Migrator;
import dev.pgshift.migrate.PlannedMigration;
import dev.pgshift.source.DowntimeRules;
import dev.pgshift.source.MigrationCatalog;
import dev.pgshift.source.MigrationLocations;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.PlanWarning;
import dev.pgshift.source.SqlStatement;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The pipeline behind run, migrate and plan: preflight, connect, run lock, plan, migrate. Each phase is recorded with
 * its duration; any failure ends the run with the exit code its exception carries, after releasing the lock.
 */
public final class RunService {
    private static final Logger LOG = Logger.getLogger(RunService.class);

    private final Settings settings;
    private final StopSignal stop;
    private final String version;
    private final Phase phase;

    public RunService(Settings settings, StopSignal stop, String version, Phase phase) {
        this.settings = settings;
        this.stop = stop;
        this.version = version;
        this.phase = phase;
    }

    /** What `plan` shows: applied and pending migrations with their modes, and the downtime warnings. */
    public record Plan(List<PlannedMigration> migrations, List<MigrationScript> pendingScripts, String currentVersion, String database,
            List<PlanWarning> warnings) {
        public List<PlannedMigration> pending() {
            return migrations.stream().filter(PlannedMigration::pending).toList();
        }
    }

    /** Takes no lock and changes nothing. */
    public Plan plan() {
        List<MigrationScript> scripts = loadScripts();
        Database db = new Database(settings.connection(), settings.lockTimeout(), stop);
        try (Connection c = new DatabaseWaiter(db, stop).connect(settings.connectTimeout())) {
            return plan(db, c, migrator(db, scripts), scripts);
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "database error: " + e.getMessage(), e);
        }
    }

    private Migrator migrator(Database db, List<MigrationScript> scripts) {
        return new Migrator(db, scripts, settings.schema(), stop, settings.lockWait());
    }

    private static Plan plan(Database db, Connection c, Migrator migrator, List<MigrationScript> scripts) {
        List<PlannedMigration> planned = migrator.plan();
        Set<String> pendingVersions = planned.stream().filter(PlannedMigration::pending).map(PlannedMigration::version)
                .collect(Collectors.toSet());
        List<MigrationScript> pending = scripts.stream().filter(s -> pendingVersions.contains(s.version())).toList();
        refuseUnnamedConcurrentIndexes(pending);
        Set<String> deferrable = pending.subList(Phase.firstDeferrable(pending), pending.size()).stream().map(MigrationScript::version)
                .collect(Collectors.toSet());
        List<PlannedMigration> migrations = planned.stream()
                .map(m -> m.pending() ? m.inPhase(deferrable.contains(m.version()) ? "post" : "pre") : m).toList();
        List<PlanWarning> warnings = DowntimeRules.check(pending, existingTables(c));
        return new Plan(migrations, pending, migrator.currentVersion(), db.settings().describe(), warnings);
    }

    /** A retry of an unnamed CREATE INDEX CONCURRENTLY would build t_c_idx1 beside the INVALID t_c_idx it left. */
    private static void refuseUnnamedConcurrentIndexes(List<MigrationScript> pending) {
        List<String> unnamed = new ArrayList<>();
        for (MigrationScript m : pending) {
            for (SqlStatement s : m.statements()) {
                if (s.isUnnamedConcurrentIndex()) {
                    unnamed.add(m.file().displayPath() + ":" + s.line());
                }
            }
        }
        if (!unnamed.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "CREATE INDEX CONCURRENTLY without an index name at " + String.join(", ", unnamed)
                    + ": name the index (CREATE INDEX CONCURRENTLY name ON ...), so that a retry after a failure finds and repairs "
                    + "the index instead of building a second one beside it");
        }
    }

    /** The version {@link #phase} stops at (null: all pending), or an error when the phase cannot run now. */
    private String target(List<MigrationScript> pending) {
        int first = Phase.firstDeferrable(pending);
        return switch (phase) {
            case ALL -> null;
            case PRE -> first == pending.size() ? null : first == 0 ? "" : pending.get(first - 1).version();
            case POST -> {
                if (first > 0) {
                    throw new PgshiftException(ExitCode.CONFIG, "--phase post runs only the concurrent builds at the end of the pending "
                            + "list, but " + first + " other migration(s) are pending first ("
                            + pending.subList(0, first).stream().map(MigrationScript::version).collect(Collectors.joining(", "))
                            + "): run --phase pre (or all) first");
                }
                yield null;
            }
        };
    }

    private static Set<String> existingTables(Connection c) {
        Set<String> tables = new HashSet<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select c.relname from pg_class c "
                + "join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p') and n.nspname = any (current_schemas(false))")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the catalog: " + DatabaseWaiter.describe(e), e);
        }
        return tables;
    }

    /** What an invocation does after connecting. */
    private enum Mode {
        MIGRATE, BACKUP, VERIFY
    }

    /** run and migrate: preflight, connect, lock, plan, backup, migrate, verify, report. */
    public RunResult migrate(String command) {
        return execute(command, Mode.MIGRATE);
    }

    /** pgshift backup: the same preflight, connection and lock, then a verified backup whatever the backup mode. */
    public RunResult backupOnly() {
        return execute("backup", Mode.BACKUP);
    }

    /** pgshift verify: the post-migration checks alone; takes no lock and changes nothing. */
    public RunResult verifyOnly() {
        return execute("verify", Mode.VERIFY);
    }

    private RunResult execute(String command, Mode mode) {
        RunRecorder rec = new RunRecorder(command, version);
        Database db = new Database(settings.connection(), settings.lockTimeout(), stop);
        boolean[] reached = {false};
        RunResult result;
        try {
            List<MigrationScript> scripts = rec.phase("preflight", this::loadScripts);
            Connection session = rec.phase("connect", () -> new DatabaseWaiter(db, stop).connect(settings.connectTimeout()));
            reached[0] = true;
            rec.database(db.settings().describe(), serverVersion(session));
            if (mode == Mode.VERIFY) {
                try (Connection c = session) {
                    verify(rec, c, migrator(db, scripts), scripts, latest(scripts));
                } catch (SQLException e) {
                    throw new PgshiftException(ExitCode.TEMPORARY, "database error: " + e.getMessage(), e);
                }
            } else {
                try (RunLock lock = rec.phase("lock", () -> RunLock.acquire(session, settings.lockWait(), stop))) {
                    migrateLocked(rec, db, session, scripts, mode);
                }
            }
            result = rec.succeeded();
        } catch (PgshiftException e) {
            result = rec.failed(e);
        }
        new ReportPublisher(settings.reportFile(), settings.terminationLog(), settings.schema()).publish(result, () -> {
            try {
                return reached[0] ? db.getConnection() : null;
            } catch (SQLException e) {
                throw new PgshiftException(ExitCode.TEMPORARY, "database unreachable: " + e.getMessage(), e);
            }
        });
        return result;
    }

    private void migrateLocked(RunRecorder rec, Database db, Connection session, List<MigrationScript> scripts, Mode mode) {
        checkStop();
        Migrator migrator = migrator(db, scripts);
        Plan plan = rec.phase("plan", () -> {
            migrator.validate();
            return plan(db, session, migrator, scripts);
        });
        for (PlanWarning w : plan.warnings()) {
            LOG.warn("plan for downtime: " + w.describe());
            rec.warn(w.describe());
        }
        List<MigrationScript> pending = plan.pendingScripts();
        String target = pending.isEmpty() ? null : target(pending);
        backup(rec, db, session, plan, pending, mode == Mode.BACKUP);
        if (mode == Mode.BACKUP) {
            rec.skipped("migrate", "pgshift backup migrates nothing");
            return;
        }
        if (pending.isEmpty()) {
            LOG.info("nothing pending: the database is up to date");
            rec.skipped("migrate", "nothing pending");
        } else if ("".equals(target)) {
            LOG.infof("--phase pre: all %d pending migration(s) are concurrent builds deferred to --phase post", pending.size());
            rec.skipped("migrate", "phase pre: everything pending is deferred to phase post");
        } else {
            LOG.infof("%d migration(s) pending%s", pending.size(), target == null ? "" : "; phase pre runs up to " + target);
            rec.phase("migrate", () -> {
                checkStop();
                List<AppliedMigration> applied = new ArrayList<>();
                try (SessionMonitor monitor = SessionMonitor.start(db, settings.progressInterval())) {
                    migrator.migrate(target, settings.lockRetries(), applied);
                } finally {
                    rec.applied(applied);
                }
            });
        }
        checkStop();
        String expected = target == null || target.isEmpty() ? (target == null ? latest(scripts) : plan.currentVersion()) : target;
        verify(rec, session, migrator, scripts, expected);
    }

    /** The verify phase: a failed check fails the run with exit 6. */
    private void verify(RunRecorder rec, Connection c, Migrator migrator, List<MigrationScript> scripts, String expected) {
        rec.phase("verify", () -> {
            List<CheckResult> checks = new VerifyService(c, migrator, scripts, settings.verify(), settings.schema()).verify(expected);
            rec.checks(checks);
            List<String> failed = checks.stream().filter(r -> r.status() == CheckResult.Status.FAILED).map(CheckResult::name).toList();
            if (!failed.isEmpty()) {
                throw new PgshiftException(ExitCode.VERIFY, "verification failed: " + String.join(", ", failed));
            }
        });
    }

    private static String latest(List<MigrationScript> scripts) {
        return scripts.isEmpty() ? null : scripts.get(scripts.size() - 1).version();
    }

    /** Backs up before anything changes, as the backup mode says; a backup that cannot be made stops the run (exit 4). */
    private void backup(RunRecorder rec, Database db, Connection c, Plan plan, List<MigrationScript> pending, boolean always) {
        BackupSettings.Mode mode = always ? BackupSettings.Mode.ALWAYS : settings.backup().mode();
        if (mode == BackupSettings.Mode.NEVER) {
            rec.skipped("backup", "--backup=never");
            if (!pending.isEmpty()) {
                rec.warn("no backup was made before migrating (--backup=never)");
            }
            return;
        }
        if (mode == BackupSettings.Mode.AUTO && pending.isEmpty()) {
            rec.skipped("backup", "nothing pending");
            return;
        }
        checkStop();
        BackupService.Context ctx = new BackupService.Context(rec.runId(), plan.currentVersion(),
                pending.stream().map(MigrationScript::version).toList(), rec.serverVersion(), serverMajor(c));
        rec.backup(rec.phase("backup", () -> new BackupService(settings.backup(), db, settings.progressInterval(), stop).backup(ctx)));
    }

    private static int serverMajor(Connection c) {
        try {
            return c.getMetaData().getDatabaseMajorVersion();
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the server version: " + e.getMessage(), e);
        }
    }

    private void checkStop() {
        if (stop.stopped()) {
            throw new PgshiftException(ExitCode.TEMPORARY, "stopped by " + stop.stoppedBy());
        }
    }

    private List<MigrationScript> loadScripts() {
        List<MigrationScript> scripts = MigrationCatalog.order(MigrationLocations.read(settings.bundled(), settings.migrationDirs()));
        if (scripts.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "no migrations found: the bundled location is "
                    + (settings.bundled() ? "empty" : "switched off (--bundled=false)") + " and no directory was given (--migrations)");
        }
        return scripts;
    }

    private static String serverVersion(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select current_setting('server_version')")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "unknown";
        }
    }
}
