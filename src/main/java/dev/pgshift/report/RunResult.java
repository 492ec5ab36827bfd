package dev.pgshift.report;

import dev.pgshift.backup.BackupManifest;
import dev.pgshift.migrate.AppliedMigration;
import dev.pgshift.verify.CheckResult;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Everything one pgshift run did, as the report renders it: outcome, exit code, the failed phase and its error, each
 * phase with its duration, and the migrations applied. Later stages (backup, verify) add their parts here.
 *
 * @param reason why the operator ran it (pgshift repair's --reason); null for other commands
 * @param tls    the connection's TLS as the server saw it and the sslmode asked for ("TLSv1.3, sslmode verify-full",
 *               "none, sslmode prefer"); null before connecting
 */
public record RunResult(
        String runId,
        String command,
        String pgshiftVersion,
        Instant startedAt,
        Instant finishedAt,
        Outcome outcome,
        int exitCode,
        String failedPhase,
        String error,
        String database,
        String serverVersion,
        List<PhaseResult> phases,
        List<AppliedMigration> migrations,
        BackupManifest backup,
        List<CheckResult> checks,
        List<String> warnings,
        String reason,
        String tls,
        List<dev.pgshift.source.Finding> lint) {

    public Duration duration() {
        return Duration.between(startedAt, finishedAt);
    }
}
