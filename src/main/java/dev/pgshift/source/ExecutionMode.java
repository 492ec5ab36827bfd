package dev.pgshift.source;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;

/** How a migration or rollback script runs, decided from its statements before anything runs. */
public enum ExecutionMode {
    /** All statements in one transaction: a failure rolls the whole file back. */
    TRANSACTION("transaction"),
    /** Statement by statement in autocommit (CREATE INDEX CONCURRENTLY and the like), each idempotent on a retry. */
    OUTSIDE("outside transaction"),
    /**
     * The file's own BEGIN/COMMIT decide: statements run in autocommit as psql runs them, so what a failed file
     * committed before its failing statement stays committed.
     */
    OWN("own transactions"),
    /** A backfill file ({@link Backfill}): its one statement in batches along the table's key, each batch a transaction of its own. */
    BACKFILL("backfill");

    private final String label;

    ExecutionMode(String label) {
        this.label = label;
    }

    /** As plan and the report show it. */
    public String label() {
        return label;
    }

    /**
     * The mode of a file's statements. A file that mixes statements PostgreSQL refuses in a transaction block with
     * ordinary ones would be left half-migrated by a failure halfway, so it is refused, naming the line to move into a
     * file of its own; a psql meta-command is refused, naming its line.
     *
     * @param path the file, for messages
     * @throws PgshiftException exit 3
     */
    static ExecutionMode of(String path, Iterable<SqlStatement> statements) {
        SqlStatement firstTx = null;
        SqlStatement firstNonTx = null;
        SqlStatement control = null;
        for (SqlStatement s : statements) {
            switch (s.kind()) {
                case PSQL_META -> throw new PgshiftException(ExitCode.CONFIG, path + ":" + s.line()
                        + ": psql meta-command '" + s.excerpt(40) + "' is not SQL. pgshift runs SQL only (and always stops at "
                        + "the first error, as ON_ERROR_STOP would): remove the line, or write what it does in SQL.");
                case TRANSACTIONAL -> firstTx = firstTx == null ? s : firstTx;
                case NON_TRANSACTIONAL -> firstNonTx = firstNonTx == null ? s : firstNonTx;
                case TRANSACTION_CONTROL -> control = control == null ? s : control;
                default -> {
                }
            }
        }
        if (firstNonTx != null && (firstTx != null || control != null)) {
            SqlStatement other = firstTx != null ? firstTx : control;
            SqlStatement offending = firstNonTx.line() > other.line() ? firstNonTx : other;
            SqlStatement first = offending == firstNonTx ? other : firstNonTx;
            throw new PgshiftException(ExitCode.CONFIG, path + ":" + offending.line() + ": '"
                    + offending.excerpt(60) + "' cannot share a migration with '" + first.excerpt(60) + "' (line " + first.line()
                    + "): statements PostgreSQL refuses inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...) go in "
                    + "migration files without other statements (several of them may share one, with SET/RESET beside them)");
        }
        if (control != null) {
            return OWN;
        }
        return firstNonTx != null ? OUTSIDE : TRANSACTION;
    }
}
