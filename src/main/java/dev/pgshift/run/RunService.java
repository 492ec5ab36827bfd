package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.backup.BackupManifest;
import dev.pgshift.backup.BackupService;
import dev.pgshift.backup.ScratchDatabases;
import dev.pgshift.config.BackupSettings;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.Heartbeat;
import dev.pgshift.db.Identifiers;
import dev.pgshift.db.LeftoverSessions;
import dev.pgshift.db.RunLock;
import dev.pgshift.db.SessionMonitor;
import dev.pgshift.db.StopSignal;
import dev.pgshift.migrate.AppliedMigration;
import dev.pgshift.migrate.Migrator;
import dev.pgshift.migrate.RollbackRunner;
import dev.pgshift.report.ReportPublisher;
import dev.pgshift.report.RunResult;
import dev.pgshift.source.MigrationCatalog;
import dev.pgshift.source.MigrationLocations;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.PlanWarning;
import dev.pgshift.verify.CheckResult;
import dev.pgshift.verify.VerifyService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
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
    private enum Mode {
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
            try (Connection c = new DatabaseWaiter(db, stop).connect(settings.connectTimeout()); Heartbeat beat = Heartbeat.start(db)) {
                return body.apply(db, c, scripts);
            } catch (SQLException e) {
                throw new PgshiftException(ExitCode.TEMPORARY, "database error: " + e.getMessage(), e);
            }
        } catch (OutOfMemoryError e) {
            throw MemoryReserve.release(e); // pgshift's own error line and exit 1, not the JVM's stack trace
        }
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
        Heartbeat[] beat = {null};
        RunResult result;
        try {
            // An emergency backup must work whatever state the migration files are in: it reads none of them.
            List<MigrationScript> scripts = rec.phase("preflight", () -> {
                if (mode == Mode.BACKUP || mode != Mode.VERIFY && settings.backup().mode() != BackupSettings.Mode.NEVER) {
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
            beat[0] = Heartbeat.start(db);
            rec.database(db.settings().describe(), serverVersion(session), tls(session, db.settings().sslMode()));
            if (mode == Mode.VERIFY) {
                verify(rec, session, await(prepared), scripts, latest(scripts));
            } else {
                try (RunLock lock = rec.phase("lock", () -> {
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
                    switch (mode) {
                        case ROLLBACK -> rollbackLocked(rec, db, session, scripts);
                        case RESET -> {
                            backup(rec, db, session, null, List.of(), true);
                            rec.phase("reset", () -> dropSchema(session));
                            migrateLocked(rec, db, session, migrator, scripts, Mode.RESET);
                        }
                        default -> migrateLocked(rec, db, session, migrator, scripts, mode);
                    }
                }
            }
            result = rec.succeeded();
        } catch (PgshiftException e) {
            result = rec.failed(e);
        } catch (OutOfMemoryError e) {
            result = rec.failed(MemoryReserve.release(e)); // outside a phase: the reserve pays for the report
        } catch (RuntimeException e) {
            // Not one of pgshift's own failures: still a report, a termination message and a history row, with exit 1.
            LOG.debug("internal error", e);
            result = rec.failed(new PgshiftException(ExitCode.INTERNAL, "internal error: " + e
                    + " (a bug in pgshift: please report it with the log; the run stopped where the report says)", e));
        }
        if (beat[0] != null) {
            beat[0].close();
        }
        new ReportPublisher(settings.reportFile(), settings.terminationLog()).publish(result, () -> {
            if (!reached[0] || mode == Mode.BACKUP) {
                return null; // backup writes nothing into the database
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

    private void migrateLocked(RunRecorder rec, Database db, Connection session, Migrator migrator, List<MigrationScript> scripts,
            Mode mode) {
        checkStop();
        if (mode == Mode.BACKUP) {
            backup(rec, db, session, null, List.of(), true);
            rec.skipped("migrate", "pgshift backup migrates nothing");
            return;
        }
        Plan plan = rec.phase("plan", () -> {
            migrator.validate(session);
            return Planner.plan(settings, db, session, migrator, scripts, skipped);
        });
        for (PlanWarning w : plan.warnings()) {
            LOG.warn("plan for downtime: " + w.describe());
            rec.warn(w.describe());
        }
        plan.adoption().notes().forEach(n -> {
            LOG.warn(n);
            rec.warn(n);
        });
        List<MigrationScript> pending = plan.pendingScripts();
        String target = pending.isEmpty() ? null : options.phase().target(pending);
        if (mode != Mode.RESET) {
            backup(rec, db, session, plan, pending, false);
        }
        if (options.rehearse() && plan.changes()) {
            rec.phase("rehearsal", () -> new Rehearsal(settings, stop, version, options).rehearse(db, rec.backupManifest(), rec.runId()));
        }
        if (!plan.adoption().adopt().isEmpty()) {
            rec.phase("adopt", () -> {
                List<dev.pgshift.migrate.AppliedMigration> adopted = new ArrayList<>();
                try {
                    migrator.adopt(plan.adoption().target(), adopted);
                } finally {
                    rec.applied(adopted);
                }
                LOG.infof("adopted %d migration(s) that Prisma (or the team) already applied, without running them", adopted.size());
            });
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
        String expected = target == null ? latest(scripts) : target.isEmpty() ? plan.currentVersion() : target;
        verify(rec, session, migrator, scripts, expected);
    }

    private void rollbackLocked(RunRecorder rec, Database db, Connection session, List<MigrationScript> scripts) {
        Migrator migrator = migrator(db, scripts);
        RollbackPlan plan = rec.phase("plan", () -> {
            migrator.validate(session);
            RollbackPlan p = Planner.rollbackPlan(migrator, scripts, options.rollbackTo());
            if (!p.missing().isEmpty()) {
                throw new PgshiftException(ExitCode.CONFIG, "cannot roll back to " + options.rollbackTo() + ": no rollback script for "
                        + String.join(", ", p.missing()) + ". Nothing was changed.");
            }
            return p;
        });
        if (plan.scripts().isEmpty()) {
            rec.skipped("rollback", "already at " + options.rollbackTo());
            return;
        }
        backup(rec, db, session, null, plan.scripts(), true);
        rec.phase("rollback", () -> {
            List<AppliedMigration> done = new ArrayList<>();
            try {
                new RollbackRunner(db, settings.schema(), stop, settings.lockWait()).rollBack(plan.scripts(), done);
            } finally {
                rec.applied(done);
            }
        });
        verify(rec, session, migrator(db, scripts), scripts, options.rollbackTo()); // a new look: the rollback rewrote the history
    }

    /** Backs up before anything changes, as the backup mode says; a backup that cannot be made stops the run (exit 4). */
    private void backup(RunRecorder rec, Database db, Connection c, Plan plan, List<MigrationScript> pending, boolean always) {
        BackupSettings.Mode mode = always && settings.backup().mode() != BackupSettings.Mode.NEVER ? BackupSettings.Mode.ALWAYS
                : settings.backup().mode();
        boolean changes = plan == null ? !pending.isEmpty() || always : plan.changes();
        if (mode == BackupSettings.Mode.NEVER) {
            rec.skipped("backup", "--backup=never");
            if (changes) {
                rec.warn("no backup was made before migrating (--backup=never)");
            }
            return;
        }
        if (mode == BackupSettings.Mode.AUTO && !changes) {
            rec.skipped("backup", "nothing pending");
            return;
        }
        checkStop();
        BackupService.Context ctx = new BackupService.Context(rec.runId(), plan == null ? appliedVersion(db) : plan.currentVersion(),
                pending.stream().map(MigrationScript::version).toList(), rec.serverVersion(), serverMajor(c));
        BackupManifest manifest = rec.phase("backup", () -> new BackupService(settings.backup(), db, settings.progressInterval(), stop).backup(ctx));
        rec.backup(manifest);
    }

    /** The version the database is at, for a backup's manifest when nothing was planned; null when it cannot be read. */
    private String appliedVersion(Database db) {
        try {
            return new Migrator(db, List.of(), settings.schema(), stop, settings.lockWait(), false).status().currentVersion();
        } catch (RuntimeException e) {
            LOG.debugf("no applied version for the backup's manifest: %s", e.getMessage());
            return null;
        }
    }

    /** reset: the managed schema dropped with everything in it and created again, owned by the migration user. */
    private void dropSchema(Connection c) {
        try (Statement st = c.createStatement()) {
            LOG.warnf("reset: dropping schema %s and everything in it", settings.schema());
            st.execute("drop schema if exists " + Identifiers.quote(settings.schema()) + " cascade");
            st.execute("create schema " + Identifiers.quote(settings.schema()));
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.MIGRATION, "reset: cannot drop and recreate schema " + settings.schema() + ": " + e.getMessage(), e);
        }
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

    private static int serverMajor(Connection c) {
        try {
            return c.getMetaData().getDatabaseMajorVersion();
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the server version: " + e.getMessage(), e);
        }
    }

    private void checkStop() {
        stop.checkStop("");
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
