package dev.pgshift;

/** A failure the user can act on: it carries the exit code it ends the process with and a message without secrets. */
public class PgshiftException extends RuntimeException {
    private final ExitCode exitCode;

    public PgshiftException(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public PgshiftException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }
}
