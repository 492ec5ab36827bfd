package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where and how backups are made and kept: the commands that back up. */
final class BackupOptions implements SettingFlags {

    @Option(names = "--backup", paramLabel = "MODE", description = "auto: back up before migrating when something is pending "
            + "(default); always; never (recorded in the report) (env PGSHIFT_BACKUP)")
    String backup;

    @Option(names = "--backup-dir", paramLabel = "DIR", description = "where backups go, e.g. a PersistentVolume (default ./backups; "
            + "env PGSHIFT_BACKUP_DIR)")
    String backupDir;

    @Option(names = "--backup-keep", paramLabel = "N", description = "keep the newest N backups of this database (default 5; "
            + "env PGSHIFT_BACKUP_KEEP)")
    String backupKeep;

    @Option(names = "--backup-max-age", paramLabel = "DURATION", description = "also delete backups older than this, e.g. 720h "
            + "(env PGSHIFT_BACKUP_MAX_AGE)")
    String backupMaxAge;

    @Option(names = "--backup-scope", paramLabel = "SCOPE", description = "full (default) or schema (env PGSHIFT_BACKUP_SCOPE)")
    String backupScope;

    @Option(names = "--backup-method", paramLabel = "METHOD", description = "dump: pg_dump, read back whole (default); restore-point: "
            + "a named restore point in the server's archived WAL, proven archived before anything migrates, for databases too big to "
            + "dump (needs archive_mode on, EXECUTE on pg_create_restore_point, and on pg_switch_wal or an archive_timeout shorter than "
            + "--archive-wait); auto: a restore point above --restore-point-above "
            + "where the server archives WAL, else a dump (env PGSHIFT_BACKUP_METHOD)")
    String backupMethod;

    @Option(names = "--restore-point-above", paramLabel = "SIZE", description = "with --backup-method auto: databases larger than this "
            + "get a restore point, e.g. 50GB (default 10GB; env PGSHIFT_RESTORE_POINT_ABOVE)")
    String restorePointAbove;

    @Option(names = "--archive-wait", paramLabel = "DURATION", description = "how long a restore point waits for its WAL file to be "
            + "archived before the run fails, exit 4, nothing migrated (default 2m; env PGSHIFT_ARCHIVE_WAIT)")
    String archiveWait;

    @Option(names = "--verify-restore", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "also restore each backup into a scratch database on the same server, compare per-table row counts, "
                    + "drop it (env PGSHIFT_VERIFY_RESTORE)")
    String verifyRestore;

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.BACKUP, backup);
        SettingFlags.put(flags, Setting.BACKUP_DIR, backupDir);
        SettingFlags.put(flags, Setting.BACKUP_KEEP, backupKeep);
        SettingFlags.put(flags, Setting.BACKUP_MAX_AGE, backupMaxAge);
        SettingFlags.put(flags, Setting.BACKUP_SCOPE, backupScope);
        SettingFlags.put(flags, Setting.VERIFY_RESTORE, verifyRestore);
        SettingFlags.put(flags, Setting.BACKUP_METHOD, backupMethod);
        SettingFlags.put(flags, Setting.RESTORE_POINT_ABOVE, restorePointAbove);
        SettingFlags.put(flags, Setting.ARCHIVE_WAIT, archiveWait);
    }
}
