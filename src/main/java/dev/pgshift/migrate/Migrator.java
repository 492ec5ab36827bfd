package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.Database;
import dev.pgshift.db.RunLock;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.SqlStatement;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.jboss.logging.Logger;

/**
 * The migrate stage: plans and applies pgshift's migration stream with Flyway, which stays behind this package. Its
 * parts: {@link FlywayView} (Flyway's configuration and view of the history), {@link HistoryGuard} (the history table
 * kept before Flyway reads it), {@link ApplyLoop} (one session applying in order), and here the retry of a migration
 * that hit a lock conflict and the translation of Flyway's failures into pgshift's words.
 */
public final class Migrator {
    private static final Logger LOG = Logger.getLogger(Migrator.class);

    private final Database dataSource;
    private final StopSignal stop;
    private final String schema;
    private final Duration builderWait;
    private final FlywayView view;
    private final HistoryGuard history;
    private final ApplyLoop loop;
    /** The versions whose execution this process began, in order: what was applied when the history cannot be read. */
    private final List<String> started = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** How each backfill this process completed went, by version. */
    private final Map<String, BackfillStats> backfills = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param builderWait how long a step waits for an index build that a dead run's backend is still doing
     */
    public Migrator(Database dataSource, List<MigrationScript> scripts, String schema, StopSignal stop, Duration builderWait,
            boolean outOfOrder) {
        this.dataSource = dataSource;
        this.stop = stop;
        this.schema = schema;
        this.builderWait = builderWait;
        Map<String, MigrationScript> byVersion = scripts.stream().collect(Collectors.toMap(MigrationScript::version, Function.identity()));
        this.view = new FlywayView(dataSource, scripts, byVersion, schema, stop, builderWait, outOfOrder);
        this.history = new HistoryGuard(dataSource, schema, byVersion);
        this.loop = new ApplyLoop(dataSource, schema, stop, builderWait, started::add, history::resumesAfter, backfills::put);
    }

    /** Applied and pending migrations in order, and the version the database is at (null: empty), from one look. */
    public record Status(List<PlannedMigration> migrations, String currentVersion) {
    }

    public Status status() {
        try {
            return view.status(history.resumable());
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /**
     * Clears what a failed run left in the history, then checks that applied migrations still match their files
     * (checksum drift is exit 3, before anything runs).
     */
    public void validate(Connection session) {
        if (history.clearFailedSteps(session, true)) {
            view.forget();
        }
        checkFiles(session);
    }

    /** What {@link #validate} checks, changing nothing: plan stops on the same problems with the same exit code. */
    public void check(Connection session) {
        history.clearFailedSteps(session, false);
        checkFiles(session);
    }

    /** Flyway reads the history on {@code session}, the run's, idle between its own statements, not on one of its own. */
    private void checkFiles(Connection session) {
        try {
            view.readOn(session);
        } catch (FlywayException e) {
            throw translate(e);
        }
        List<String> problems = checksumProblems();
        if (!problems.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "the migration history and the files disagree: " + String.join("; ", problems));
        }
    }

    /**
     * Where the history and the files disagree, in pgshift's words (nothing is cleared or thrown): an applied file that
     * changed (its checksum differs from the one recorded) or vanished, and a pending file older than the newest
     * applied one (merged out of order).
     */
    public List<String> checksumProblems() {
        try {
            return view.drift();
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /** The failed rows of the history, "version (script)", in the order they were installed. */
    public List<String> failedRows(Connection c) throws SQLException {
        return history.failedRows(c);
    }

    /** Versions applied successfully. */
    public Set<String> appliedVersions() {
        return applied().versions();
    }

    /** The version the database is at (null: empty) and the versions applied successfully, from one look. */
    public record Applied(String currentVersion, Set<String> versions) {
    }

    public Applied applied() {
        try {
            return view.applied();
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /**
     * Applies pending migrations up to {@code target} (null: all). A migration that hits lock_timeout or a deadlock is
     * rolled back and retried with backoff, up to {@code retries} times; then exit 75 with that migration not applied.
     *
     * @param applied receives each migration this call applied, also when it then fails
     */
    public void migrate(String target, int retries, List<AppliedMigration> applied) {
        createHistory();
        List<Set<String>> before = new ArrayList<>(List.of(appliedVersions()));
        int attempt = 0;
        try {
            while (true) {
                long attemptStart = System.nanoTime();
                try {
                    if (!view.pending(target, history.resumable().keySet()).isEmpty()) {
                        loop.apply(() -> {
                            // Looked at again under the history's lock: what another tool (a Flyway CLI) applied while
                            // this run waited for the lock is not pending any more.
                            view.forget();
                            view.validate(history.resumable().keySet()); // all of Flyway's checks, as its migrate makes them
                            before.set(0, appliedVersions());
                            return view.pending(target, history.resumable().keySet());
                        });
                    }
                    return;
                } catch (FlywayException | PgshiftException e) {
                    String state = Failures.sqlState(e);
                    if (!Failures.lockConflict(state) || stop.stopped()) {
                        throw translate(e);
                    }
                    String what = state.equals("40P01") ? "deadlock" : "lock timeout";
                    if (attempt >= retries) {
                        String blocker = stop.lastBlocker();
                        throw new PgshiftException(ExitCode.TEMPORARY, what + ": retries exhausted after " + (attempt + 1) + " attempts; "
                                + Failures.oneLine(e.getMessage()) + " That migration was rolled back and is not applied. "
                                + (blocker == null ? "No blocking session was seen (it held its lock only briefly). "
                                        : "It was blocked by " + blocker + ". ")
                                + "Run again once that is over, or raise --lock-timeout / --lock-retries.", e);
                    }
                    attempt++;
                    long backoff = Math.min(1000L << (attempt - 1), 30_000L);
                    LOG.warnf("%s after %.1f s (attempt %d of %d): %s; rolled back, retrying in %d ms", what,
                            (stop.statementFailedAfter() > 0 ? stop.statementFailedAfter() : System.nanoTime() - attemptStart) / 1e9,
                            attempt, retries + 1, Failures.oneLine(e.getMessage()), backoff);
                    stop.sleep(backoff);
                    stop.checkStop("while waiting to retry after a " + what + "; the migration that hit it was rolled back");
                    view.forget();
                    history.clearFailedSteps();
                }
            }
        } finally {
            view.forget();
            applied.addAll(view.appliedSince(before.get(0), started).stream()
                    .map(a -> backfills.containsKey(a.version()) ? a.with(backfills.get(a.version())) : a).toList());
        }
    }

    private void createHistory() {
        try {
            if (history.create(view.config())) {
                view.forget();
            }
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /**
     * Runs the rollback scripts of {@code scripts} (newest first), each in its own transaction with its history row
     * removed there; {@code done} receives each one rolled back, also when a later one fails.
     */
    public void rollBack(List<MigrationScript> scripts, List<AppliedMigration> done) {
        new RollbackRunner(dataSource, schema, stop, builderWait).rollBack(scripts, done);
    }

    /** Records the pending migrations up to {@code target} as applied, with their checksums, without running them. */
    public void adopt(String target, List<AppliedMigration> applied) {
        Set<String> before = appliedVersions();
        try {
            view.adopt(target);
        } catch (FlywayException e) {
            throw translate(e);
        } finally {
            view.forget();
            applied.addAll(view.appliedSince(before, started).stream()
                    .map(a -> new AppliedMigration(a.version(), a.description(), a.script(), "adopted (not run)", Duration.ZERO)).toList());
        }
    }

    private PgshiftException translate(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PgshiftException p) {
                return p;
            }
        }
        if (stop.stopped()) {
            return stop.stoppedException("while migrating: the running statement was cancelled");
        }
        if (e instanceof FlywayValidateException) {
            view.forget(); // Flyway's own look, which failed, may be newer than this migrator's
            List<String> problems = checksumProblems();
            return new PgshiftException(ExitCode.CONFIG, "the migration history and the files disagree: "
                    + (problems.isEmpty() ? Failures.oneLine(e.getMessage()) : String.join("; ", problems)), e);
        }
        if (Failures.exitCode(e) == ExitCode.TEMPORARY) {
            return Failures.of("lost the database connection", e, stop);
        }
        if (Failures.sqlState(e) == null && RunLock.heldElsewhere(dataSource, ApplyLoop.flywayLockKey(schema))) {
            // Flyway gave up on its lock (its retries spent): another session holds it now, as the catalog says
            return ApplyLoop.historyLockHeld(dataSource, schema, view.config().getLockRetryCount());
        }
        return Failures.of("migrating failed", e, stop);
    }

    /**
     * The indexes the CREATE INDEX statements of {@code scripts} name, as they stand now on {@code c}: resolved as each
     * statement resolves its own (the index in its table's schema, the name truncated as PostgreSQL truncates it).
     */
    /**
     * How pending backfill {@code m} would run, read on {@code c} (reads only): its table, key, estimated rows and batches,
     * what an earlier run did. A table that does not exist yet ({@code createdEarlier}: an earlier pending migration
     * creates it) is shown by the name the file gives it.
     *
     * @throws PgshiftException exit 3 when the table has no usable key (or is no table); exit 5 when it does not exist and
     *                          no earlier pending migration creates it
     */
    public PlannedMigration.BackfillPlan backfillPlan(Connection c, MigrationScript m, boolean createdEarlier) throws SQLException {
        String options = m.backfill().options().toString();
        if (createdEarlier) {
            return new PlannedMigration.BackfillPlan(m.backfill().table().toString(), List.of(), 0, 0, 0, options);
        }
        BackfillTarget t = BackfillTarget.resolve(c, m.backfill(), m.file().displayPath());
        BackfillProgress.Row row = BackfillRunner.unfinished(c, t, m.file(), m.backfill(), schema, m.version(), "migrate");
        long done = row == null ? 0 : row.rows();
        long rows = t.estimatedRows(c);
        int batch = m.backfill().options().batch();
        long left = Math.max(0, rows - done);
        return new PlannedMigration.BackfillPlan(t.name(), t.columns(), rows, (left + batch - 1) / batch, done, options);
    }

    public static Set<Long> indexesMadeBy(Connection c, List<MigrationScript> scripts) throws SQLException {
        List<SqlStatement> creates = new ArrayList<>();
        for (MigrationScript m : scripts) {
            m.statements().stream().filter(s -> s.createdIndex() != null && s.indexedTable() != null).forEach(creates::add);
        }
        return IndexCatalog.createdIndexes(c, creates);
    }
}
