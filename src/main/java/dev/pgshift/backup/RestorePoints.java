package dev.pgshift.backup;

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
 * <p>Before: the server is a primary, archive_mode is on, wal_level replica or logical, the role may create restore points,
 * and pg_stat_archiver shows no failure newer than its last success. After creating the point: the WAL segment holding it
 * is closed ({@code pg_switch_wal}, where the role may) and pgshift waits until pg_stat_archiver's last archived file
 * covers it, up to --archive-wait; a point whose WAL is not archived cannot be restored to, so that is a failed backup
 * (exit 4) and nothing migrates.
 */
final class RestorePoints {
    private static final Logger LOG = Logger.getLogger(RestorePoints.class);
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    /** PostgreSQL's limit on a restore point's name (MAXFNAMELEN - 1). */
    static final int MAX_NAME_BYTES = 63;

    private RestorePoints() {
    }

    /** pg_stat_archiver's row. */
    record Archiver(String lastArchivedWal, Instant lastArchivedAt, String lastFailedWal, Instant lastFailedAt) {

        /** Whether archiving failed after it last succeeded (or failed and never succeeded). */
        boolean failing() {
            return lastFailedAt != null && (lastArchivedAt == null || lastFailedAt.isAfter(lastArchivedAt));
        }

        String described() {
            return "last archived " + (lastArchivedWal == null ? "nothing since the statistics were reset" : lastArchivedWal + " at " + lastArchivedAt)
                    + (lastFailedWal == null ? "" : "; last failed " + lastFailedWal + " at " + lastFailedAt);
        }
    }

    /** What the server says about itself, in one query. */
    record Server(boolean inRecovery, String archiveMode, String walLevel, boolean mayCreate, boolean maySwitch, int archiveTimeoutSeconds,
            String role, String database, Archiver archiver) {
    }

    static Server read(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select pg_is_in_recovery(), current_setting('archive_mode'), "
                + "current_setting('wal_level'), has_function_privilege('pg_catalog.pg_create_restore_point(text)', 'execute'), "
                + "has_function_privilege('pg_catalog.pg_switch_wal()', 'execute'), "
                + "(select setting::int from pg_catalog.pg_settings where name = 'archive_timeout'), current_user, current_database(), "
                + "a.last_archived_wal, a.last_archived_time, a.last_failed_wal, a.last_failed_time from pg_catalog.pg_stat_archiver a")) {
            rs.next();
            return new Server(rs.getBoolean(1), rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getBoolean(5), rs.getInt(6), rs.getString(7),
                    rs.getString(8), archiver(rs, 9));
        }
    }

    private static Archiver archiver(ResultSet rs, int from) throws SQLException {
        return new Archiver(rs.getString(from), instant(rs.getTimestamp(from + 1)), rs.getString(from + 2), instant(rs.getTimestamp(from + 3)));
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    /** Why this server cannot take a restore-point backup, and what to do instead; null when it can. */
    public static String unfit(Connection c) {
        try {
            return unfit(read(c));
        } catch (SQLException e) {
            return "cannot read whether the server archives WAL: " + e.getMessage();
        }
    }

    static String unfit(Server s) {
        if (s.inRecovery()) {
            return "the server is a standby (pg_is_in_recovery() is true): restore points are made on the primary, and migrations run "
                    + "there too. Connect pgshift to the primary.";
        }
        if (!s.archiveMode().equals("on") && !s.archiveMode().equals("always")) {
            return "the server does not archive its WAL (archive_mode is " + s.archiveMode() + "): a restore point is only a way back when "
                    + "the WAL up to it is kept in an archive, with a base backup older than it." + useDump(", or set up WAL archiving (pgBackRest, "
                    + "Barman, WAL-G, CloudNativePG's backup, or archive_mode = on with an archive_command).");
        }
        if (s.walLevel().equals("minimal")) {
            return "wal_level is minimal: WAL archiving and point-in-time recovery need replica or logical." + useDump(".");
        }
        String role = Identifiers.quote(s.role());
        if (!s.mayCreate()) {
            return "role " + s.role() + " may not create restore points: as a superuser, connected to database " + s.database() + " (a "
                    + "function's grants belong to each database), GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO " + role
                    + "; and, so that pgshift can close the WAL file at once, GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO " + role + "; (a managed service that allows no such grant offers its own point-in-time restore: take that "
                    + "service's snapshot and run with --backup never, or use --backup-method dump).";
        }
        if (!s.maySwitch() && s.archiveTimeoutSeconds() == 0) {
            return "role " + s.role() + " may not switch WAL files and archive_timeout is 0, so the WAL file holding a restore point would "
                    + "be archived only once other writes fill it: as a superuser, connected to database " + s.database() + ", GRANT EXECUTE ON "
                    + "FUNCTION pg_catalog.pg_switch_wal() TO " + role + "; or set archive_timeout." + useDump(" instead.");
        }
        if (s.archiver().failing()) {
            return "WAL archiving is failing: pg_stat_archiver's " + s.archiver().described() + ". A restore point cannot be archived "
                    + "until archive_command (or archive_library) works again: see the server's log." + useDump(" meanwhile.");
        }
        return null;
    }

    private static String useDump(String tail) {
        return " Use --backup-method dump" + tail;
    }

    /**
     * Creates the restore point {@code name}, closes its WAL file where the role may and waits until the archive holds it.
     *
     * @throws PgshiftException exit 4 when the server cannot take one or archiving does not catch up within {@code wait}
     */
    public static RestorePoint make(Connection c, String name, Duration wait, StopSignal stop, long databaseBytes) {
        try {
            Server s = read(c);
            String why = unfit(s);
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
            long started = System.nanoTime();
            Archiver archived = awaitArchived(c, walFile, wait, stop, s.maySwitch(), name);
            LOG.infof("restore point %s: WAL file %s archived after %d ms", name, walFile, (System.nanoTime() - started) / 1_000_000);
            return new RestorePoint(name, lsn, walFile, Integer.parseInt(walFile.substring(0, 8), 16), systemIdentifier(c), created,
                    archived.lastArchivedAt(), s.maySwitch(), databaseBytes);
        } catch (SQLException e) {
            boolean lost = dev.pgshift.migrate.Failures.exitCode(e) == ExitCode.TEMPORARY;
            throw new PgshiftException(lost ? ExitCode.TEMPORARY : ExitCode.BACKUP, "cannot make the restore point " + name + ": " + e.getMessage()
                    + (lost ? "; the connection to the database was lost: run again" : "") + ". Nothing was migrated.", e);
        }
    }

    private static Archiver awaitArchived(Connection c, String walFile, Duration wait, StopSignal stop, boolean switched, String name)
            throws SQLException {
        long deadline = System.nanoTime() + wait.toNanos();
        long pause = 50;
        while (true) {
            Archiver a;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select last_archived_wal, last_archived_time, last_failed_wal, "
                    + "last_failed_time from pg_catalog.pg_stat_archiver")) {
                rs.next();
                a = archiver(rs, 1);
            }
            if (covers(a.lastArchivedWal(), walFile)) {
                return a;
            }
            if (System.nanoTime() >= deadline) {
                throw new PgshiftException(ExitCode.BACKUP, "WAL archiving did not catch up within " + dev.pgshift.Durations.display(wait)
                        + " (--archive-wait): the restore point " + name + " is in WAL file " + walFile + ", and pg_stat_archiver's "
                        + a.described() + (switched ? "" : " (the role may not call pg_switch_wal(), so the file closes only when full or "
                                + "at archive_timeout)") + ". Until that file is archived the restore point cannot be restored to. "
                        + "Nothing was migrated. Check archive_command (or archive_library) and the archive's storage in the server's log, "
                        + "then run again, with a longer --archive-wait if archiving is only slow, or use --backup-method dump.");
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
    public static String name(String runId, String versionBefore) {
        String n = "pgshift/" + runId.substring(0, 8) + "/" + (versionBefore == null ? "empty" : versionBefore);
        byte[] b = n.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return b.length <= MAX_NAME_BYTES ? n : new String(b, 0, MAX_NAME_BYTES, java.nio.charset.StandardCharsets.UTF_8).replace("\uFFFD", "");
    }
}
