package dev.pgshift.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** All resolved settings of one pgshift invocation. */
public record Settings(
        ConnectionSettings connection,
        List<Path> migrationDirs,
        boolean bundled,
        Duration connectTimeout,
        Duration lockWait,
        String schema,
        Duration lockTimeout,
        int lockRetries,
        Duration progressInterval,
        BackupSettings backup) {
}
