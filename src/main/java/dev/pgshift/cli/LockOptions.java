package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.Map;
import picocli.CommandLine.Option;

/** Waiting for another run's lock, and how often long work logs its progress: the commands that take the run lock. */
final class LockOptions implements SettingFlags {

    @Option(names = "--lock-wait", paramLabel = "DURATION", description = "wait this long for another run's lock, then exit 75 "
            + "(default 5m; env PGSHIFT_LOCK_WAIT)")
    String lockWait;

    @Option(names = "--progress-interval", paramLabel = "DURATION", description = "log the progress of a long index build, dump or migration file this often "
            + "(default 10s; env PGSHIFT_PROGRESS_INTERVAL)")
    String progressInterval;

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.LOCK_WAIT, lockWait);
        SettingFlags.put(flags, Setting.PROGRESS_INTERVAL, progressInterval);
    }
}
