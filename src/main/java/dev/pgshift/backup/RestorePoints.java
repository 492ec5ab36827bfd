package dev.pgshift.backup;

import dev.pgshift.Durations;
import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.Identifiers;
import dev.pgshift.db.StopSignal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The backup for databases too big to dump: a named restore point in the server's WAL ({@code pg_create_restore_point}),
 * proven archived before anything migrates. The server must archive its WAL (pgBackRest, Barman, WAL-G, CloudNativePG,
 * an archive_command): a base backup older than the restore point plus the archived WAL up to it recover the database as
 * it was at that point, whatever its size, and making the point costs one WAL record and a segment switch.
 *
 * <p>Before: the server is a primary, archive_mode is on, wal_level replica or logical, the role may create restore points
 * (and switch WAL, or archive_timeout closes the file within --archive-wait), and pg_stat_archiver shows no failure newer
 * than its last success. After creating the point: the WAL segment holding it is closed ({@code pg_switch_wal}, where the
 * role may) and pgshift waits until pg_stat_archiver's last archived file covers it, up to --archive-wait, or until the
 * archiver has given up on it for this round (three failures, as PostgreSQL's archiver tries); a point whose WAL is not
 * archived cannot be restored to, so that is a failed backup (exit 4) and nothing migrates.
 */
final class RestorePoints {
    private static final Logger LOG = Logger.getLogger(RestorePoints.class);
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    /** PostgreSQL's limit on a restore point's name (MAXFNAMELEN - 1). */
    static final int MAX_NAME_BYTES = 63;
    /** PostgreSQL's archiver tries a file this many times in a row before it waits for its next round (a minute). */
    private static final int ARCHIVER_TRIES = 3;

    private RestorePoints() {
    }

    /** pg_stat_archiver's row. */
    record Archiver(String lastArchivedWal, Instant lastArchivedAt, String lastFailedWal, Instant lastFailedAt, long failedCount) {

        /** Whether archiving failed after it last succeeded (or failed and never succeeded). */
        boolean failing() {
            return lastFailedAt != null && (lastArchivedAt == null || lastFailedAt.isAfter(lastArchivedAt));
        }

        /** The last success, and the last failure where it is newer than {@code since} (null: any). */
        String described(Instant since) {
            return "last archived " + (lastArchivedWal == null ? "nothing since the statistics were reset" : lastArchivedWal + " at " + lastArchivedAt)
                    + (lastFailedWal == null || since != null && !lastFailedAt.isAfter(since) ? "" : "; last failed " + lastFailedWal + " at " + lastFailedAt);
        }
    }

    /** What the server says about itself, in one query. */
    record Server(boolean inRecovery, String archiveMode, String walLevel, boolean mayCreate, boolean maySwitch, int archiveTimeoutSeconds,
            String role, String database, Archiver archiver) {
    }

    private static final String ARCHIVER = "a.last_archived_wal, a.last_archived_time, a.last_failed_wal, a.last_failed_time, a.failed_count "
            + "from pg_catalog.pg_stat_archiver a";

    static Server read(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select pg_is_in_recovery(), current_setting('archive_mode'), "
                + "current_setting('wal_level'), has_function_privilege('pg_catalog.pg_create_restore_point(text)', 'execute'), "
                + "has_function_privilege('pg_catalog.pg_switch_wal()', 'execute'), "
                + "(select setting::int from pg_catalog.pg_settings where name = 'archive_timeout'), current_user, current_database(), " + ARCHIVER)) {
            rs.next();
            return new Server(rs.getBoolean(1), rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getBoolean(5), rs.getInt(6), rs.getString(7),
                    rs.getString(8), archiver(rs, 9));
        }
    }

    private static Archiver archiver(ResultSet rs, int from) throws SQLException {
        return new Archiver(rs.getString(from), instant(rs.getTimestamp(from + 1)), rs.getString(from + 2), instant(rs.getTimestamp(from + 3)),
                rs.getLong(from + 4));
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    /**
     * For --backup-method auto: why this server cannot take a restore-point backup (no advice: auto dumps then); null when
     * it can. A standby is refused outright (exit 4): nothing can be migrated there.
     */
    static String unfit(Connection c, Duration wait) {
        Server s;
        try {
            s = read(c);
        } catch (SQLException e) {
            return "cannot read whether the server archives WAL: " + e.getMessage();
        }
        if (s.inRecovery()) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot back up: " + unfit(s, wait, false) + " Nothing was migrated.");
        }
        return unfit(s, wait, false);
    }

    /** @param advise whether to add what to do instead (for --backup-method restore-point) */
    static String unfit(Server s, Duration wait, boolean advise) {
        if (s.inRecovery()) {
            return "the server is a standby (pg_is_in_recovery() is true): restore points are made on the primary, and migrations run "
                    + "there too. Connect pgshift to the primary.";
        }
        if (!s.archiveMode().equals("on") && !s.archiveMode().equals("always")) {
            return "the server does not archive its WAL (archive_mode is " + s.archiveMode() + "): a restore point is only a way back when "
                    + "the WAL up to it is kept in an archive, with a base backup older than it."
                    + advice(advise, ", or set up WAL archiving (pgBackRest, Barman, WAL-G, CloudNativePG's backup, or archive_mode = on with "
                            + "an archive_command).");
        }
        if (s.walLevel().equals("minimal")) {
            return "wal_level is minimal: WAL archiving and point-in-time recovery need replica or logical." + advice(advise, ".");
        }
        String role = Identifiers.quote(s.role());
        String grantSwitch = "GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO " + role + ";";
        if (!s.mayCreate()) {
            return "role " + s.role() + " may not create restore points: as a superuser, connected to database " + s.database() + " (a "
                    + "function's grants belong to each database), GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO " + role
                    + "; and, so that pgshift can close the WAL file at once, " + grantSwitch + " (a managed service that allows no such "
                    + "grant offers its own point-in-time restore: take that service's snapshot and run with --backup never"
                    + (advise ? ", or use --backup-method dump)." : ").");
        }
        if (!s.maySwitch() && (s.archiveTimeoutSeconds() == 0 || s.archiveTimeoutSeconds() > wait.toSeconds())) {
            return "role " + s.role() + " may not switch WAL files and archive_timeout is "
                    + (s.archiveTimeoutSeconds() == 0 ? "0" : s.archiveTimeoutSeconds() + "s, longer than --archive-wait " + Durations.display(wait))
                    + ", so the WAL file holding a restore point may be archived only once other writes fill it: as a superuser, "
                    + "connected to database " + s.database() + ", " + grantSwitch + " or set archive_timeout (below --archive-wait)."
                    + advice(advise, " instead.");
        }
        if (s.archiver().failing()) {
            return "WAL archiving is failing: pg_stat_archiver's " + s.archiver().described(null) + ". A restore point cannot be archived "
                    + "until archive_command (or archive_library) works again: see the server's log; the archiver tries again about "
                    + "once a minute." + advice(advise, " meanwhile.");
        }
        return null;
    }

    private static String advice(boolean advise, String tail) {
        return advise ? " Use --backup-method dump" + tail : "";
    }

    /**
     * Creates the restore point {@code name}, closes its WAL file where the role may and waits until the archive holds it,
     * logging progress every {@code progress}.
     *
     * @throws PgshiftException exit 4 when the server cannot take one or archiving does not catch up within {@code wait}
     */
    static RestorePoint make(Connection c, String name, Duration wait, Duration progress, StopSignal stop, long databaseBytes) {
        try {
            Server s = read(c);
            String why = unfit(s, wait, true);
            if (why != null) {
                throw new PgshiftException(ExitCode.BACKUP, "cannot back up with a restore point: " + why + " Nothing was migrated.");
            }
            String lsn;
            String walFile;
            Instant created;
            try (PreparedStatement ps = c.prepareStatement("select lsn::text, pg_catalog.pg_walfile_name(lsn), clock_timestamp() "
                    + "from pg_catalog.pg_create_restore_point(?) lsn")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    lsn = rs.getString(1);
                    walFile = rs.getString(2);
                    created = rs.getTimestamp(3).toInstant();
                }
            }
            LOG.infof("restore point %s created at LSN %s, in WAL file %s", name, lsn, walFile);
            if (s.maySwitch()) {
                try (Statement st = c.createStatement()) {
                    st.execute("select pg_catalog.pg_switch_wal()");
                }
            }
            Archiver archived = new Wait(c, walFile, name, s, created).await(wait, progress, stop);
            return new RestorePoint(name, lsn, walFile, Integer.parseInt(walFile.substring(0, 8), 16), systemIdentifier(c), created,
                    archived.lastArchivedAt(), s.maySwitch(), databaseBytes);
        } catch (SQLException e) {
            boolean lost = dev.pgshift.migrate.Failures.exitCode(e) == ExitCode.TEMPORARY;
            throw new PgshiftException(lost ? ExitCode.TEMPORARY : ExitCode.BACKUP, "cannot make the restore point " + name + ": " + e.getMessage()
                    + (lost ? "; the connection to the database was lost: run again" : "") + ". Nothing was migrated.", e);
        }
    }

    /** The wait for the archiver to archive the restore point's WAL file. */
    private record Wait(Connection c, String walFile, String name, Server server, Instant created) {

        Archiver await(Duration wait, Duration progress, StopSignal stop) throws SQLException {
            long started = System.nanoTime();
            long deadline = started + wait.toNanos();
            long nextLog = started + progress.toNanos();
            long pause = 50;
            while (true) {
                Archiver a;
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select " + ARCHIVER)) {
                    rs.next();
                    a = archiver(rs, 1);
                }
                if (covers(a.lastArchivedWal(), walFile)) {
                    LOG.infof("restore point %s: WAL file %s archived after %d ms", name, walFile, (System.nanoTime() - started) / 1_000_000);
                    return a;
                }
                if (a.failedCount() - server.archiver().failedCount() >= ARCHIVER_TRIES && covers(a.lastFailedWal(), walFile) && a.failing()) {
                    throw failed("the archiver failed to archive it " + (a.failedCount() - server.archiver().failedCount()) + " times since the "
                            + "restore point was made and waits about a minute before its next try; pg_stat_archiver's " + a.described(created));
                }
                long now = System.nanoTime();
                if (now >= deadline) {
                    throw failed("WAL archiving did not catch up within " + Durations.display(wait) + " (--archive-wait): pg_stat_archiver's "
                            + a.described(created) + (server.maySwitch() ? "" : " (the role may not call pg_switch_wal(), so the file closes only "
                                    + "when full or at archive_timeout)"));
                }
                if (now >= nextLog) {
                    LOG.infof("waiting for WAL file %s to be archived (restore point %s): %s; %d s of --archive-wait %s left", walFile, name,
                            a.described(created), (deadline - now) / 1_000_000_000L, Durations.display(wait));
                    nextLog = now + progress.toNanos();
                }
                stop.checkStop(BackupService.DURING_BACKUP);
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PgshiftException(ExitCode.TEMPORARY, "interrupted while waiting for WAL archiving", e);
                }
                pause = Math.min(pause * 2, 1000);
            }
        }

        private PgshiftException failed(String why) {
            return new PgshiftException(ExitCode.BACKUP, "the restore point " + name + " is in WAL file " + walFile + ", not archived: " + why
                    + ". Until that file is archived the restore point cannot be restored to. Nothing was migrated. Check archive_command "
                    + "(or archive_library) and the archive's storage in the server's log, then run again (with a longer --archive-wait if "
                    + "archiving is only slow), or use --backup-method dump.");
        }
    }

    /**
     * Whether the archiver's last archived file shows {@code walFile} archived. The archiver archives the files ready
     * for it in name order, so a later segment archived means this one was; a timeline history file, a backup history
     * file or a partial segment of the same number does not say so.
     */
    static boolean covers(String lastArchived, String walFile) {
        if (lastArchived == null || lastArchived.length() < 24 || !SEGMENT.matcher(lastArchived.substring(0, 24)).matches()) {
            return false;
        }
        int c = lastArchived.substring(0, 24).compareTo(walFile);
        return c > 0 || c == 0 && lastArchived.length() == 24;
    }

    /** The cluster's system identifier, which a restore must match; null when the role may not read pg_control. */
    private static String systemIdentifier(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select system_identifier::text from pg_catalog.pg_control_system()")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            LOG.debugf("no system identifier for the restore point: %s", e.getMessage());
            return null;
        }
    }

    /** {@code pgshift/<run id prefix>/<version before>}, cut to the 63 bytes PostgreSQL allows. */
    static String name(String runId, String versionBefore) {
        String n = "pgshift/" + runId.substring(0, 8) + "/" + (versionBefore == null ? "empty" : versionBefore);
        byte[] b = n.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return b.length <= MAX_NAME_BYTES ? n : new String(b, 0, MAX_NAME_BYTES, java.nio.charset.StandardCharsets.UTF_8).replace("\uFFFD", "");
    }
}
