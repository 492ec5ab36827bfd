package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.backup.BackupManifest;
import dev.pgshift.db.StopSignal;
import dev.pgshift.migrate.AppliedMigration;
import dev.pgshift.report.Outcome;
import dev.pgshift.report.PhaseResult;
import dev.pgshift.report.RunResult;
import dev.pgshift.verify.CheckResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Collects phases, migrations and warnings while a run goes on, and produces its immutable {@link RunResult}. */
final class RunRecorder {
    private final StopSignal stop;
    private final String runId;
    private final String command;
    private final String version;
    private final Instant startedAt = Instant.now();
    private final List<PhaseResult> phases = new ArrayList<>();
    private final List<AppliedMigration> migrations = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private List<dev.pgshift.source.Finding> lint = List.of();
    private BackupManifest backup;
    private final List<CheckResult> checks = new ArrayList<>();
    private String database;
    private String serverVersion;
    private String tls;
    private String reason;

    public RunRecorder(StopSignal stop, String command, String version) {
        this.stop = stop;
        this.runId = stop.runId();
        this.command = command;
        this.version = version;
    }

    public String runId() {
        return runId;
    }

    public String serverVersion() {
        return serverVersion;
    }

    /** Runs one phase, recording its outcome and duration; a failure is recorded and rethrown. */
    public <T> T phase(String name, Supplier<T> body) {
        Instant start = Instant.now();
        try {
            T result = body.get();
            phases.add(new PhaseResult(name, Outcome.SUCCEEDED, Duration.between(start, Instant.now()), null));
            return result;
        } catch (PgshiftException e) {
            phases.add(new PhaseResult(name, outcomeOf(e), Duration.between(start, Instant.now()), e.getMessage()));
            throw e;
        } catch (RuntimeException e) {
            phases.add(new PhaseResult(name, Outcome.FAILED, Duration.between(start, Instant.now()), String.valueOf(e.getMessage())));
            throw e;
        } catch (OutOfMemoryError e) {
            PgshiftException failure = MemoryReserve.release(e);
            phases.add(new PhaseResult(name, Outcome.FAILED, Duration.between(start, Instant.now()), failure.getMessage()));
            throw failure;
        }
    }

    public void phase(String name, Runnable body) {
        phase(name, () -> {
            body.run();
            return null;
        });
    }

    public void skipped(String name, String why) {
        phases.add(new PhaseResult(name, Outcome.SKIPPED, Duration.ZERO, why));
    }

    public void applied(List<AppliedMigration> applied) {
        migrations.addAll(applied);
    }

    public BackupManifest backupManifest() {
        return backup;
    }

    public void backup(BackupManifest manifest) {
        this.backup = manifest;
    }

    public void checks(List<CheckResult> results) {
        checks.addAll(results);
    }

    public void warn(String warning) {
        warnings.add(warning);
    }

    /** The lint's findings that count (under-threshold ones are in plan --json only). */
    public void lint(List<dev.pgshift.source.Finding> findings) {
        this.lint = findings.stream().filter(f -> !f.decision().equals(dev.pgshift.source.Finding.UNDER_THRESHOLD)).toList();
    }

    public void reason(String reason) {
        this.reason = reason;
    }

    public void database(String database, String serverVersion, String tls) {
        this.database = database;
        this.serverVersion = serverVersion;
        this.tls = tls;
    }

    public RunResult succeeded() {
        return result(Outcome.SUCCEEDED, ExitCode.OK, null);
    }

    public RunResult failed(PgshiftException e) {
        return result(outcomeOf(e), e.exitCode(), e.getMessage());
    }

    /** A run that was asked to stop and ended with exit 75 is STOPPED; any other failure FAILED. */
    private Outcome outcomeOf(PgshiftException e) {
        return e instanceof StopSignal.Stopped || stop.stopped() && e.exitCode() == ExitCode.TEMPORARY ? Outcome.STOPPED : Outcome.FAILED;
    }

    private RunResult result(Outcome outcome, ExitCode code, String error) {
        String failedPhase = phases.stream().filter(p -> p.outcome() == Outcome.FAILED || p.outcome() == Outcome.STOPPED)
                .map(PhaseResult::name).findFirst().orElse(null);
        return new RunResult(runId, command, version, startedAt, Instant.now(), outcome, code.code(), failedPhase, error, database,
                serverVersion, List.copyOf(phases), List.copyOf(migrations), backup, List.copyOf(checks),
                List.copyOf(warnings), reason, tls, lint);
    }
}
