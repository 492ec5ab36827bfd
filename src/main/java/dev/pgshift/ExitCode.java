package dev.pgshift;

import java.util.Arrays;
import java.util.List;

/** The process exit codes of pgshift: the one place from which --help, the README and the chart take them. */
public enum ExitCode {
    OK(0, "success, including \"nothing to do\""),
    INTERNAL(1, "unexpected internal error"),
    USAGE(2, "usage error (unknown command or option)"),
    CONFIG(3, "configuration or migration-source error (bad setting, bad file name, duplicate version, checksum drift)"),
    BACKUP(4, "backup failed or refused"),
    MIGRATION(5, "migration failed (SQL error; transaction rolled back; a failed concurrent step cleaned up)"),
    VERIFY(6, "verification failed"),
    PENDING(10, "plan --exit-code only: migrations are pending, nothing is wrong (fleet status --exit-code: tenants not yet succeeded)"),
    TENANTS_FAILED(20, "fleet run: a tenant of this shard failed (left as its own run leaves it); the shard's other tenants were done"),
    HALTED(21, "fleet run: the release is halted (a failed canary or wave, the same error on --halt-after tenants); no tenant was started after it"),
    TEMPORARY(75, "temporary: database unreachable, run lock held by another run (or lost), an earlier run's sessions still busy, lock "
            + "retries exhausted, connection lost, stopped by SIGTERM"),
    /** Not pgshift's own: the JVM's exit on a SIGTERM that came before pgshift's handler existed (EarlyStop). */
    STOPPED_STARTING(143, "stopped by SIGTERM in the first fraction of a second, while the JVM was starting, before pgshift's code ran "
            + "(the JVM's exit, not pgshift's; no report): nothing was done");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /** Kubernetes should retry the Job only on temporary failures (and a stop that came before anything was done). */
    public boolean retryable() {
        return this == TEMPORARY || this == STOPPED_STARTING;
    }

    /** What Kubernetes does with a pod that exits so: the chart's podFailurePolicy (fleet run's Indexed Job for 20 and 21). */
    public String kubernetes() {
        return this == OK ? "—" : retryable() ? "retry" : this == TENANTS_FAILED ? "fail the index" : this == HALTED ? "fail the Job" : "fail";
    }

    public static List<ExitCode> all() {
        return Arrays.asList(values());
    }
}
