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
    }
}
