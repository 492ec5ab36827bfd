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
    PENDING(10, "plan --exit-code only: migrations are pending, nothing is wrong"),
    TEMPORARY(75, "temporary: database unreachable, run lock held by another run (or lost), an earlier run's sessions still busy, lock "
            + "retries exhausted, connection lost, stopped by SIGTERM");

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

    /** Kubernetes should retry the Job only on temporary failures. */
    public boolean retryable() {
        return this == TEMPORARY;
    }

    public static List<ExitCode> all() {
        return Arrays.asList(values());
    }
}
