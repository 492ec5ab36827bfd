package dev.pgshift.report;

import dev.pgshift.backup.BackupManifest;
import io.quarkus.runtime.annotations.RegisterForReflection;
import java.time.Instant;
import java.util.List;

/**
 * The report of one run, as written to the JSON file and the history table. Its format is versioned
 * ({@link #FORMAT_VERSION}) and described by docs/report.schema.json; durations are milliseconds.
 *
 * @param reason why it was run (pgshift repair's --reason), else null
 * @param host   where it ran: the pod's name in Kubernetes (HOSTNAME), else the machine's host name
 * @param osUser the operating-system user it ran as
 */
@RegisterForReflection
record Report(
        int formatVersion,
        String runId,
        String command,
        String pgshiftVersion,
        Instant startedAt,
        Instant finishedAt,
        long durationMs,
        String outcome,
        int exitCode,
        String failedPhase,
        String error,
        String database,
        String serverVersion,
        String tls,
        List<Phase> phases,
        List<Migration> migrations,
        BackupManifest backup,
        List<Check> checks,
        List<String> warnings,
        List<dev.pgshift.source.Finding> lint,
        String reason,
        String host,
        String osUser) {

    public static final int FORMAT_VERSION = 1;

    /** A phase of the run. */
    @RegisterForReflection
    public record Phase(String name, String outcome, long durationMs, String detail) {
    }

    /** A migration the run applied. */
    @RegisterForReflection
    public record Migration(String version, String description, String script, String mode, long durationMs, Backfill backfill) {
    }

    /** How a backfill migration went (null for other migrations). */
    @RegisterForReflection
    public record Backfill(String table, long rows, long batches, long retries, long lagWaits, long pausedMs, boolean resumed) {
        static Backfill of(dev.pgshift.migrate.BackfillStats b) {
            return b == null ? null : new Backfill(b.table(), b.rows(), b.batches(), b.retries(), b.lagWaits(), b.paused().toMillis(), b.resumed());
        }
    }

    /** A verify check. */
    @RegisterForReflection
    public record Check(String name, String outcome, long durationMs, String detail) {
    }

    public static Report of(RunResult r) {
        return new Report(FORMAT_VERSION, r.runId(), r.command(), r.pgshiftVersion(), r.startedAt(), r.finishedAt(), r.duration().toMillis(),
                r.outcome().name(), r.exitCode(), r.failedPhase(), r.error(), r.database(), r.serverVersion(), r.tls(),
                r.phases().stream().map(p -> new Phase(p.name(), p.outcome().name(), p.duration().toMillis(), p.detail())).toList(),
                r.migrations().stream().map(m -> new Migration(m.version(), m.description(), m.script(), m.mode(), m.duration().toMillis(),
                        Backfill.of(m.backfill())))
                        .toList(),
                r.backup(),
                r.checks().stream().map(c -> new Check(c.name(), c.status().name(), c.duration().toMillis(), c.detail())).toList(),
                r.warnings(), r.lint(), r.reason(), dev.pgshift.Host.name(), System.getProperty("user.name"));
    }
}
