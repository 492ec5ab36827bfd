package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.Map;
import picocli.CommandLine.Option;

/** Lock timeout and retries of ordinary DDL: the commands that run migration SQL. */
final class DdlOptions implements SettingFlags {

    @Option(names = "--lock-timeout", paramLabel = "DURATION", description = "lock_timeout for ordinary DDL: a migration waiting longer "
            + "for a lock gives up, is rolled back and retried (default 5s; env PGSHIFT_LOCK_TIMEOUT). Concurrent index builds are "
            + "not bounded by it: cutting their wait for old snapshots would leave an INVALID index.")
    String lockTimeout;

    @Option(names = "--lock-retries", paramLabel = "N", description = "retries after a lock timeout or deadlock, with backoff; "
            + "then exit 75 (default 5; env PGSHIFT_LOCK_RETRIES)")
    String lockRetries;

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.LOCK_TIMEOUT, lockTimeout);
        SettingFlags.put(flags, Setting.LOCK_RETRIES, lockRetries);
    }
}
