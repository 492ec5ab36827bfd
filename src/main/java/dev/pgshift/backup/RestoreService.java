package dev.pgshift.backup;

import dev.pgshift.ExitCode;
import dev.pgshift.Json;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.BackupSettings;
import dev.pgshift.db.Database;
import dev.pgshift.db.Identifiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Restores a pgshift backup. The dump's sha256 is checked against its manifest before anything is touched. By default
 * it goes into a new database; over the live database only when the caller says so explicitly.
 */
public final class RestoreService {
    private static final Logger LOG = Logger.getLogger(RestoreService.class);

    private final BackupSettings settings;
    private final Database db;

    public RestoreService(BackupSettings settings, Database db) {
        this.settings = settings;
        this.db = db;
    }

    /**
     * A rehearsal's copy: restored into {@code into}, which stays marked as the live database's rehearsal copy until it
     * is dropped, so a run killed meanwhile leaves nothing the next run does not drop.
     *
     * @return the database restored into
     */
    public String restoreRehearsal(Path dump, String into) {
        return restore(dump, checkedManifest(dump), into, false, 1, ScratchDatabases.Purpose.REHEARSAL);
    }

    /**
     * Restores {@code dump}, whose sha256 the caller has checked ({@link #checkedManifest}), with {@code jobs} parallel
     * pg_restore jobs. One job restores in a single transaction; several cannot (pg_restore refuses), so they are only
     * allowed into a new database, which is dropped again when the restore fails, as it is with one job: a retry finds
     * no half-restored database in its way.
     *
     * @return the database restored into
     */
    public String restore(Path dump, BackupManifest manifest, String into, boolean overwriteLive, int jobs) {
        return restore(dump, manifest, into, overwriteLive, jobs, ScratchDatabases.Purpose.RESTORE);
    }

    private String restore(Path dump, BackupManifest manifest, String into, boolean overwriteLive, int jobs, ScratchDatabases.Purpose purpose) {
        String live = db.settings().database();
        String target = overwriteLive ? live : into != null ? into : defaultTarget(manifest.database());
        if (!overwriteLive && into != null && (into.isBlank() || into.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63)) {
            throw new PgshiftException(ExitCode.CONFIG, "bad database name '" + dev.pgshift.Printable.escape(into) + "' for --into: "
                    + "1 to 63 bytes (PostgreSQL cuts longer names, and the restore would land in another name than the one given)");
        }
        if (overwriteLive && !sameDatabase(manifest)) {
            throw new PgshiftException(ExitCode.CONFIG, "refusing to restore the backup of " + manifest.database() + " (" + manifest.host()
                    + (manifest.port() == null ? "" : ":" + manifest.port()) + ") over the live database " + db.settings().describe()
                    + " (--overwrite-live replaces a database's contents with its own backup): restore it into a new database (--into NAME)"
                    + ", or connect to " + manifest.database() + " to restore it there. Nothing was restored.");
        }
        if (!overwriteLive && target.equals(live)) {
            throw new PgshiftException(ExitCode.CONFIG, "refusing to restore over the live database " + live
                    + ": restore into a new database (--into NAME), or pass --overwrite-live to replace its contents");
        }
        if (jobs < 1) {
            throw new PgshiftException(ExitCode.CONFIG, "--jobs must be 1 or more, not " + jobs);
        }
        if (jobs > 1 && overwriteLive) {
            throw new PgshiftException(ExitCode.CONFIG, "--jobs " + jobs + " cannot be combined with --overwrite-live: over the live "
                    + "database pgshift restores in one transaction (all or nothing), which pg_restore allows with one job only");
        }
        try (PgTools tools = PgTools.locate(settings.pgDump(), db.stopSignal())) {
            return restore(dump, manifest, target, overwriteLive, jobs, purpose, tools);
        }
    }

    private String restore(Path dump, BackupManifest manifest, String target, boolean overwriteLive, int jobs, ScratchDatabases.Purpose purpose, PgTools tools) {
        String live = db.settings().database();
        List<String> args = new ArrayList<>(List.of(PgTools.dbnameArgument(target), "--no-owner", "--exit-on-error"));
        args.add(jobs == 1 ? "--single-transaction" : "--jobs=" + jobs);
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            try (ResultSet rs = st.executeQuery("select current_setting('server_version')")) {
                rs.next();
                tools.checkRestoreTarget(c.getMetaData().getDatabaseMajorVersion(), rs.getString(1));
            }
            if (overwriteLive) {
                args.addAll(List.of("--clean", "--if-exists"));
                LOG.warnf("restoring %s over the live database %s (--overwrite-live)", dump, live);
            } else {
                if (exists(c, target) && ScratchDatabases.unfinishedRestore(c, target, live)) {
                    LOG.warnf("database %s is what an interrupted restore of %s left: dropping it and restoring again", target, live);
                    st.execute("drop database " + Identifiers.quote(target));
                }
                if (exists(c, target)) {
                    throw new PgshiftException(ExitCode.CONFIG, "database " + target + " already exists: restore creates a new database; "
                            + "name another with --into");
                }
                ScratchDatabases.create(st, target, purpose, live);
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot prepare the restore target " + target + ": " + e.getMessage(), e);
        }
        args.add(dump.toString());
        try {
            tools.run(tools.restore(args, db.settings(), target), "pg_restore into " + target);
        } catch (PgshiftException e) {
            if (!overwriteLive) {
                dropQuietly(target);
            }
            throw e;
        }
        if (purpose == ScratchDatabases.Purpose.RESTORE && !overwriteLive) {
            try (Connection c = db.cleanupConnection(); Statement st = c.createStatement()) {
                ScratchDatabases.finished(st, target);
            } catch (SQLException e) {
                LOG.warnf("restored into %s, but could not clear its 'unfinished' comment: %s", target, e.getMessage());
            }
        }
        LOG.infof("restored %s (taken %s at schema version %s) into %s", dump.getFileName(), manifest.startedAt(),
                manifest.schemaVersionBefore(), target);
        return target;
    }

    /**
     * {@code <database>_restored_<time>}, the time to the millisecond (two restores started in one second get two
     * databases: the second took the first's, still empty, for an interrupted restore's and dropped it), the database
     * part shortened so that the whole fits PostgreSQL's 63 bytes.
     */
    static String defaultTarget(String database) {
        String suffix = "_restored_" + BackupService.NAME_STAMP.format(Instant.now()).replace(".", "").toLowerCase(java.util.Locale.ROOT);
        String base = database;
        while (base.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + suffix.length() > 63) {
            base = base.substring(0, base.offsetByCodePoints(base.length(), -1));
        }
        return base + suffix;
    }

    /** Whether the backup is of the database this restore is connected to (its manifest's database, host and port). */
    private boolean sameDatabase(BackupManifest m) {
        return db.settings().database().equals(m.database()) && db.settings().host().equalsIgnoreCase(m.host())
                && (m.port() == null || m.port() == db.settings().port());
    }

    /** The database this restore created, dropped after a failed restore; a failure to drop it is logged, not thrown. */
    private void dropQuietly(String database) {
        try (Connection c = db.cleanupConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            st.execute("drop database if exists " + Identifiers.quote(database) + " with (force)");
            LOG.warnf("the restore failed: dropped the database %s it had created", database);
        } catch (SQLException e) {
            LOG.warnf("the restore failed, and the database %s it created could not be dropped: %s", database, e.getMessage());
        }
    }


    /** The manifest of {@code dump}, after checking the dump's sha256 against it: a changed byte refuses the restore. */
    public static BackupManifest checkedManifest(Path dump) {
        Path manifestFile = dump.resolveSibling(dump.getFileName() + BackupService.MANIFEST_SUFFIX);
        if (!Files.isRegularFile(dump)) {
            throw new PgshiftException(ExitCode.BACKUP, "no backup at " + dump);
        }
        if (!Files.isRegularFile(manifestFile)) {
            throw new PgshiftException(ExitCode.BACKUP, "no manifest " + manifestFile.getFileName() + " beside " + dump.getFileName()
                    + ": not a complete pgshift backup");
        }
        try {
            BackupManifest manifest = Json.MAPPER.readValue(manifestFile.toFile(), BackupManifest.class);
            String actual = BackupService.sha256(dump);
            if (!actual.equals(manifest.sha256())) {
                throw new PgshiftException(ExitCode.BACKUP, "backup " + dump + " is damaged: its sha256 is " + actual + ", the manifest says "
                        + manifest.sha256() + ". Nothing was restored.");
            }
            return manifest;
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot read " + manifestFile + ": " + e.getMessage(), e);
        }
    }

    private static boolean exists(Connection c, String database) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select 1 from pg_database where datname = ?")) {
            ps.setString(1, database);
            return ps.executeQuery().next();
        }
    }
}
