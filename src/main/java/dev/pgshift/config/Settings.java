package dev.pgshift.config;

import dev.pgshift.verify.VerifySettings;
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
        BackupSettings backup,
        VerifySettings verify,
        Path reportFile,
        Path terminationLog) {
}
