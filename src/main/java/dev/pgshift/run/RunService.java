package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.backup.BackupService;
import dev.pgshift.backup.ScratchDatabases;
import dev.pgshift.config.BackupSettings;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.LeftoverSessions;
import dev.pgshift.db.RunLock;
import dev.pgshift.db.StopSignal;
import dev.pgshift.migrate.Migrator;
import dev.pgshift.report.ReportPublisher;
import dev.pgshift.report.RunResult;
import dev.pgshift.source.MigrationCatalog;
import dev.pgshift.source.MigrationLocations;
import dev.pgshift.source.MigrationScript;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.jboss.logging.Logger;

/**
 * The pipeline behind run, migrate, backup, verify, rollback and reset: preflight, connect, run lock, plan, backup,
 * (rehearsal), migrate, verify, report. Each phase is recorded with its duration; any failure ends the run with the exit
 * code its exception carries, after releasing the lock, and every run publishes its report.
 */
public final class RunService {
    private static final Logger LOG = Logger.getLogger(RunService.class);

    /** What an invocation does after connecting. */
    enum Mode {
        MIGRATE, BACKUP, VERIFY, ROLLBACK, RESET
    }

    /**
     * Per-invocation choices.
     *
     * @param rehearse   run migrate and verify on a restored copy first (run --rehearse)
     * @param rollbackTo the version rollback returns to
     */
    public record Options(Phase phase, boolean rehearse, String rollbackTo) {
        public static Options defaults() {
            return new Options(Phase.ALL, false, null);
        }
    }

    private final Settings settings;
    private final StopSignal stop;
    private final String version;
    private final Options options;
    /** Why the last pipeline failed, for --verbose's stack trace; null when it succeeded. */
    private PgshiftException failure;
    /** Files of the locations that are no migration, found by the last {@link #loadScripts()}. */
    private List<String> skipped = List.of();

    public RunService(Settings settings, StopSignal stop, String version, Options options) {
        this.settings = settings;
        this.stop = stop;
        this.version = version;
        this.options = options;
    }

    /** plan: takes no lock and changes nothing. */
    public Plan plan() {
        return readOnly((db, c, scripts) -> {
            Migrator migrator = migrator(db, scripts);
            migrator.check(c);
            return Planner.plan(settings, db, c, migrator, scripts, skipped);
        });
    }

    /** plan --rollback: what rollback --to would run; changes nothing. */
    public RollbackPlan planRollback() {
        return readOnly((db, c, scripts) -> Planner.rollbackPlan(migrator(db, scripts), scripts, options.rollbackTo()));
    }

    /** What a read-only command does with a session, once the files are read and the database answers. */
    @FunctionalInterface
    private interface ReadOnly<T> {
        T apply(Database db, Connection c, List<MigrationScript> scripts);
    }

    private <T> T readOnly(ReadOnly<T> body) {
        MemoryReserve.hold();
        try {
            List<MigrationScript> scripts = loadScripts();
            Database db = database();
            try (Connection c = new DatabaseWaiter(db, stop).connect(settings.connectTimeout()); Database.Beat beat = db.heartbeat()) {
                return body.apply(db, c, scripts);
            } catch (SQLException e) {
                throw new PgshiftException(ExitCode.TEMPORARY, "database error: " + e.getMessage(), e);
            }
        } catch (OutOfMemoryError e) {
            throw MemoryReserve.release(e); // pgshift's own error line and exit 1, not the JVM's stack trace
        }
    }

    /** Why the last run, migrate, backup, verify, rollback or reset failed (its stack trace is --verbose's); null if it did not. */
    public PgshiftException failure() {
        return failure;
    }

    /** run and migrate. */
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

    /** pgshift rollback --to: back up, then run rollback scripts newest first. */
    public RunResult rollback() {
        return execute("rollback", Mode.ROLLBACK);
    }

    /** pgshift reset: back up, drop and recreate the managed schema, migrate. */
    public RunResult reset() {
        return execute("reset", Mode.RESET);
    }

    private Database database() {
        return Database.of(settings, stop);
    }

    private Migrator migrator(Database db, List<MigrationScript> scripts) {
        return migrator(settings, stop, db, scripts);
    }

    static Migrator migrator(Settings settings, StopSignal stop, Database db, List<MigrationScript> scripts) {
        return new Migrator(db, scripts, settings.schema(), stop, settings.lockWait(), settings.outOfOrder());
    }

    private RunResult execute(String command, Mode mode) {
        MemoryReserve.hold();
        RunRecorder rec = new RunRecorder(stop, command, version);
        Database db = database();
        boolean[] reached = {false};
        // The run's first session: plan, verify and the run's history row (closed after it); the run lock and the
        // migrations have their own.
        Connection[] main = {null};
        Database.Beat[] beat = {null};
        RunResult result;
        try {
            // An emergency backup must work whatever state the migration files are in: it reads none of them.
            List<MigrationScript> scripts = rec.phase("preflight", () -> {
                settings.backup().checkWith(options.rehearse());
                // a restore point writes no file: --backup-dir may be missing (a Job without a volume for backups)
                if ((mode == Mode.BACKUP || mode != Mode.VERIFY && settings.backup().mode() != BackupSettings.Mode.NEVER)
                        && settings.backup().method() != BackupSettings.Method.RESTORE_POINT) {
                    BackupService.preflight(settings.backup().dir(), db.settings(), mode != Mode.BACKUP);
                }
                return mode == Mode.BACKUP ? List.<MigrationScript>of() : loadScripts();
            });
            // Flyway's configuration needs no session: it is built on a second thread while the first session opens, both
            // CPU-bound on a cold JVM (a Job has two cores). A start that cannot reach the database still builds it, so
            // the launcher's class-data archive, made from such a start (pom.xml), holds the classes a run loads first.
            FutureTask<Migrator> prepared = mode == Mode.BACKUP ? null : new FutureTask<>(() -> migrator(db, scripts));
            if (prepared != null) {
                Thread t = new Thread(prepared, "pgshift-flyway-setup");
                t.setDaemon(true);
                t.start();
            }
            Connection session;
            try {
                session = rec.phase("connect", () -> new DatabaseWaiter(db, stop).connect(settings.connectTimeout()));
            } catch (RuntimeException e) {
                awaitQuietly(prepared);
                throw e;
            }
            main[0] = session;
            reached[0] = true;
            beat[0] = db.heartbeat();
            rec.database(db.settings().describe(), serverVersion(session), tls(session, db.settings().sslMode()));
            if (mode == Mode.VERIFY) {
                new LockedPhases(settings, stop, version, options, rec, skipped).verify(session, await(prepared), scripts, latest(scripts));
            } else {
                try (RunLock lock = rec.phase("lock", () -> {
                    if (mode != Mode.BACKUP) { // pg_dump backs a standby up; nothing migrates one
                        dev.pgshift.db.Primary.require(session, db.settings().describe());
                    }
                    RunLock l = RunLock.acquire(db, settings.lockWait(), stop);
                    // No run of this database can be using its rehearsal or verify copies now: a killed run's are dropped.
                    ScratchDatabases.dropUnfinished(session, db.settings().database(), ScratchDatabases.Purpose.REHEARSAL,
                            ScratchDatabases.Purpose.VERIFY_RESTORE);
                    try {
                        if (mode != Mode.BACKUP) {
                            LeftoverSessions.awaitGone(session, stop, settings.lockWait());
                        }
                        return l;
                    } catch (RuntimeException e) {
                        l.close();
                        throw e;
                    }
                })) {
                    // Flyway's configuration is needed from the plan on: the lock is taken while it is still being built.
                    Migrator migrator = prepared == null ? null : await(prepared);
                    LockedPhases phases = new LockedPhases(settings, stop, version, options, rec, skipped);
                    switch (mode) {
                        case ROLLBACK -> phases.rollback(db, session, scripts);
                        case RESET -> {
                            phases.backup(db, session, null, List.of(), true);
                            rec.phase("reset", () -> phases.dropSchema(session));
                            phases.migrate(db, session, migrator, scripts, Mode.RESET);
                        }
                        default -> phases.migrate(db, session, migrator, scripts, mode);
                    }
                }
            }
            result = rec.succeeded();
        } catch (PgshiftException e) {
            failure = e;
            result = rec.failed(e);
        } catch (OutOfMemoryError e) {
            failure = MemoryReserve.release(e);
            result = rec.failed(failure); // outside a phase: the reserve pays for the report
        } catch (RuntimeException e) {
            // Not one of pgshift's own failures: still a report, a termination message and a history row, with exit 1.
            LOG.debug("internal error", e);
            failure = new PgshiftException(ExitCode.INTERNAL, "internal error: " + e + " (a bug in pgshift: please report it with the "
                    + "output of the same run with --verbose, which adds the stack trace; the run stopped where the report says)", e);
            result = rec.failed(failure);
        }
        if (beat[0] != null) {
            beat[0].close();
        }
        new ReportPublisher(settings.reportFile(), settings.terminationLog()).publish(result, () -> {
            boolean restorePoint = rec.backupManifest() != null && rec.backupManifest().restorePoint() != null;
            if (!reached[0] || mode == Mode.BACKUP && !restorePoint) {
                return null; // a dump writes nothing into the database; a restore point is found again from the history (restore --show-recipe)
            }
            Connection session = main[0];
            main[0] = null; // the publisher closes the session it is given
            if (session != null && !stop.stopped() && usable(session)) {
                return session;
            }
            Database.closeQuietly(session);
            try {
                if (!stop.stopped()) {
                    // A lost session (a restarted server): the row is written once the database answers again, within the
                    // connect timeout, as the run waited for it at the start.
                    LOG.info("the run's session is gone: reconnecting to record the run in the history");
                    return new DatabaseWaiter(db, stop).connect(settings.connectTimeout());
                }
                return db.cleanupConnection(); // after a stop: one try, to record what happened
            } catch (PgshiftException e) {
                throw new PgshiftException(ExitCode.TEMPORARY, "database unreachable: " + e.getMessage(), e);
            } catch (SQLException e) {
                throw new PgshiftException(ExitCode.TEMPORARY, "database unreachable: " + e.getMessage(), e);
            }
        });
        Database.closeQuietly(main[0]);
        return result;
    }

    /** A session still open, out of any transaction, and answering. */
    private static boolean usable(Connection c) {
        try {
            return !c.isClosed() && c.getAutoCommit() && c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    /** The result of a task run beside the main thread; its failure is thrown as it was. */
    private <T> T await(FutureTask<T> task) {
        try {
            return task.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw stop.stoppedException("while preparing Flyway's configuration");
        }
    }

    /** Waits for a task beside the main thread to end, whatever its outcome (the run has failed already). */
    private static void awaitQuietly(FutureTask<?> task) {
        try {
            if (task != null) {
                task.get();
            }
        } catch (ExecutionException | RuntimeException e) {
            // the run's own failure is the one reported
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String latest(List<MigrationScript> scripts) {
        return scripts.isEmpty() ? null : scripts.get(scripts.size() - 1).version();
    }

    /** The migration files of the configured locations, in order; used by {@link RepairService} too. */
    List<MigrationScript> loadScripts() {
        List<dev.pgshift.source.MigrationFile> files = MigrationLocations.read(settings.bundled(), settings.migrationDirs());
        List<MigrationScript> scripts = MigrationCatalog.order(files);
        skipped = MigrationCatalog.skipped(files);
        skipped.forEach(s -> LOG.warn("skipped " + s));
        if (scripts.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "no migrations found: " + (settings.migrationDirs().isEmpty()
                    ? (settings.bundled() ? "the bundled location is empty" : "the bundled ones are switched off (--bundled=false)")
                            + " and no directory was given (--migrations)"
                    : "none in " + settings.migrationDirs() + (settings.bundled() ? " nor in the bundled location" : "")
                            + " (a migration is a V<version>__<description>.sql, a YYYY-MM-DD_HHMMSS_description.sql or a folder holding a "
                            + "migration.sql)"));
        }
        return scripts;
    }

    /**
     * The session's TLS as the server saw it (pg_stat_ssl) and the sslmode that asked for it: what the report says the
     * connection was, not what was configured ("prefer" connects in plain text to a server without TLS).
     */
    static String tls(Connection c, String sslMode) {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select ssl, version from pg_stat_ssl where pid = pg_backend_pid()")) {
            String used = rs.next() && rs.getBoolean(1) ? rs.getString(2) : "none";
            return used + ", sslmode " + sslMode;
        } catch (SQLException e) {
            return "unknown, sslmode " + sslMode;
        }
    }

    static String serverVersion(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select current_setting('server_version')")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "unknown";
        }
    }
}
