package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.backup.BackupManifest;
import dev.pgshift.backup.BackupService;
import dev.pgshift.config.BackupSettings;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.Identifiers;
import dev.pgshift.db.SessionMonitor;
import dev.pgshift.db.StopSignal;
import dev.pgshift.migrate.AppliedMigration;
import dev.pgshift.migrate.Migrator;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.Finding;
import dev.pgshift.verify.CheckResult;
import dev.pgshift.verify.VerifyService;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * What a command does once it holds the run lock, phase by phase, each recorded by the run's {@link RunRecorder}: plan,
 * backup, (rehearsal), adopt, migrate and verify for run and migrate; plan, backup, rollback and verify for rollback; the
 * backup alone for backup; backup, the schema's drop and migrate for reset.
 */
final class LockedPhases {
    private static final Logger LOG = Logger.getLogger(RunService.class); // the run speaks for it

    private final Settings settings;
    private final StopSignal stop;
    private final String version;
    private final RunService.Options options;
    private final RunRecorder rec;
    private final List<String> skipped;

    LockedPhases(Settings settings, StopSignal stop, String version, RunService.Options options, RunRecorder rec, List<String> skipped) {
        this.settings = settings;
        this.stop = stop;
        this.version = version;
        this.options = options;
        this.rec = rec;
        this.skipped = skipped;
    }

    void migrate(Database db, Connection session, Migrator migrator, List<MigrationScript> scripts, RunService.Mode mode) {
        checkStop();
        if (mode == RunService.Mode.BACKUP) {
            backup(db, session, null, List.of(), true);
            rec.skipped("migrate", "pgshift backup migrates nothing");
            return;
        }
        Plan plan = rec.phase("plan", () -> {
            migrator.validate(session);
            Plan p = Planner.plan(settings, db, session, migrator, scripts, skipped);
            rec.lint(p.lint());
            for (Finding f : p.findings()) {
                if (f.decision().equals(Finding.ALLOWED)) {
                    LOG.info("plan for downtime, allowed: " + f.describe());
                } else {
                    LOG.warn("plan for downtime: " + f.describe());
                    rec.warn(f.describe());
                }
            }
            p.refuseLint();
            return p;
        });
        plan.adoption().notes().forEach(n -> {
            LOG.warn(n);
            rec.warn(n);
        });
        List<MigrationScript> pending = plan.pendingScripts();
        String target = pending.isEmpty() ? null : options.phase().target(pending);
        if (mode != RunService.Mode.RESET) {
            backup(db, session, plan, pending, false);
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
        String expected = target == null ? RunService.latest(scripts) : target.isEmpty() ? plan.currentVersion() : target;
        verify(session, migrator, scripts, expected);
    }

    void rollback(Database db, Connection session, List<MigrationScript> scripts) {
        Migrator migrator = RunService.migrator(settings, stop, db, scripts);
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
        backup(db, session, null, plan.scripts(), true);
        rec.phase("rollback", () -> {
            List<AppliedMigration> done = new ArrayList<>();
            try {
                migrator.rollBack(plan.scripts(), done);
            } finally {
                rec.applied(done);
            }
        });
        verify(session, RunService.migrator(settings, stop, db, scripts), scripts, options.rollbackTo()); // a new look: the rollback rewrote the history
    }

    /** Backs up before anything changes, as the backup mode says; a backup that cannot be made stops the run (exit 4). */
    void backup(Database db, Connection c, Plan plan, List<MigrationScript> pending, boolean always) {
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
                pending.stream().map(MigrationScript::version).toList(), rec.serverVersion(), serverMajor(c), options.rehearse() && changes, rec::warn);
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
    void dropSchema(Connection c) {
        try (Statement st = c.createStatement()) {
            LOG.warnf("reset: dropping schema %s and everything in it", settings.schema());
            st.execute("drop schema if exists " + Identifiers.quote(settings.schema()) + " cascade");
            st.execute("create schema " + Identifiers.quote(settings.schema()));
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.MIGRATION, "reset: cannot drop and recreate schema " + settings.schema() + ": " + e.getMessage(), e);
        }
    }

    /** The verify phase: a failed check fails the run with exit 6. */
    void verify(Connection c, Migrator migrator, List<MigrationScript> scripts, String expected) {
        rec.phase("verify", () -> {
            List<CheckResult> checks = new VerifyService(c, migrator, scripts, settings.verify(), settings.schema()).verify(expected);
            rec.checks(checks);
            List<String> failed = checks.stream().filter(r -> r.status() == CheckResult.Status.FAILED).map(CheckResult::name).toList();
            if (!failed.isEmpty()) {
                throw new PgshiftException(ExitCode.VERIFY, "verification failed: " + String.join(", ", failed));
            }
        });
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
}
