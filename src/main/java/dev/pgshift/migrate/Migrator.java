package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.StopSignal;
import dev.pgshift.run.AppliedMigration;
import dev.pgshift.source.MigrationScript;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import dev.pgshift.db.Identifiers;
import dev.pgshift.source.ExecutionMode;
import java.util.Collection;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.ResourceProvider;
import org.flywaydb.core.api.resource.LoadableResource;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;
import org.jboss.logging.Logger;

/** The migrate stage: plans and applies pgshift's migration stream with Flyway, which stays behind this class. */
public final class Migrator {
    private static final Logger LOG = Logger.getLogger(Migrator.class);
    public static final String HISTORY_TABLE = "flyway_schema_history";
    private static final Set<String> LOCK_STATES = Set.of("55P03", "40P01");

    private final DataSource dataSource;
    private final FluentConfiguration config;
    private final Flyway flyway;
    private final Map<String, MigrationScript> byVersion;
    private final StopSignal stop;
    private final String schema;
    /**
     * Flyway's view of the history and the files, read once and kept until this migrator writes the history: each read
     * opens a session, reads the whole table and resolves every file again, and a run asks for it in plan, migrate and
     * verify.
     */
    private MigrationInfoService info;

    /** Flyway finds no files of its own: every migration comes from {@link FlywayBridge}. */
    private static final ResourceProvider NO_FILES = new ResourceProvider() {
        @Override
        public LoadableResource getResource(String name) {
            return null;
        }

        @Override
        public Collection<LoadableResource> getResources(String prefix, String[] suffixes) {
            return List.of();
        }
    };

    /** The quoted, schema-qualified name of Flyway's history table in {@code schema}: the one way it is written. */
    public static String historyTable(String schema) {
        return Identifiers.quote(schema) + "." + Identifiers.quote(HISTORY_TABLE);
    }

    /**
     * @param builderWait how long a step waits for an index build that a dead run's backend is still doing
     */
    public Migrator(DataSource dataSource, List<MigrationScript> scripts, String schema, StopSignal stop, Duration builderWait,
            boolean outOfOrder) {
        this.dataSource = dataSource;
        this.stop = stop;
        this.schema = schema;
        this.byVersion = scripts.stream().collect(Collectors.toMap(MigrationScript::version, Function.identity()));
        this.config = Flyway.configure(Migrator.class.getClassLoader())
                .dataSource(dataSource)
                .resourceProvider(NO_FILES)
                .resolvers(new FlywayBridge(scripts, stop, builderWait, schema))
                .javaMigrationClassProvider(List::of)
                .skipDefaultCallbacks(true)
                .defaultSchema(schema)
                .schemas(schema)
                .table(HISTORY_TABLE)
                .placeholderReplacement(false)
                .cleanDisabled(true)
                .outOfOrder(outOfOrder)
                .validateMigrationNaming(true)
                // pending: validate runs before migrate; future: a newer release already migrated this database
                .ignoreMigrationPatterns("*:pending", "*:future")
                .connectRetries(0);
        // Flyway's default transaction-level advisory lock makes CREATE INDEX CONCURRENTLY wait forever for Flyway's
        // own open transaction (flyway/flyway#3497). Without it Flyway polls pg_try_advisory_lock on a session lock.
        config.getPluginRegister().getPlugin(PostgreSQLConfigurationExtension.class).setTransactionalLock(false);
        this.flyway = config.load();
    }

    /** Applied and pending migrations in order, and the version the database is at (null: empty), from one look. */
    public record Status(List<PlannedMigration> migrations, String currentVersion) {
    }

    public Status status() {
        try {
            MigrationInfoService info = info();
            List<PlannedMigration> out = new ArrayList<>();
            for (MigrationInfo m : info.all()) {
                if (m.getVersion() == null) {
                    continue;
                }
                MigrationScript script = byVersion.get(m.getVersion().getVersion());
                out.add(new PlannedMigration(m.getVersion().getVersion(), m.getDescription(),
                        script != null ? script.file().displayPath() : m.getScript(), state(m.getState()),
                        script != null ? script.mode().label() : null, null));
            }
            return new Status(List.copyOf(out), version(info.current()));
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    private MigrationInfoService info() {
        if (info == null) {
            info = flyway.info();
        }
        return info;
    }

    private static String version(MigrationInfo m) {
        return m == null || m.getVersion() == null ? null : m.getVersion().getVersion();
    }

    /**
     * Clears what a failed run left in the history, then checks that applied migrations still match their files
     * (checksum drift is exit 3, before anything runs).
     */
    public void validate() {
        clearFailedSteps(true);
        checkFiles();
    }

    /** What {@link #validate()} checks, changing nothing: plan stops on the same problems with the same exit code. */
    public void check() {
        clearFailedSteps(false);
        checkFiles();
    }

    private void checkFiles() {
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
            List<String> out = new ArrayList<>();
            boolean missing = false;
            for (MigrationInfo m : info().all()) {
                if (m.getVersion() == null) {
                    continue;
                }
                String v = m.getVersion().getVersion();
                MigrationScript script = byVersion.get(v);
                MigrationState state = m.getState();
                if (state == MigrationState.MISSING_SUCCESS) {
                    out.add(v + " (" + m.getScript() + "): applied, but no migration file has this version any more");
                    missing = true;
                } else if (state == MigrationState.IGNORED && script != null) {
                    out.add(script.file().displayPath() + ": version " + v + " is older than the newest applied migration and was never "
                            + "applied (merged out of order): apply it with --out-of-order, as Prisma would, or give it a version after the "
                            + "newest applied one");
                } else if (state == MigrationState.SUCCESS && script != null && m.getChecksum() != null
                        && m.getChecksum() != FlywayBridge.checksum(script.file().content())) {
                    out.add(script.file().displayPath() + ": changed after it was applied (checksum recorded " + m.getChecksum() + ", the file's now "
                            + FlywayBridge.checksum(script.file().content()) + "); never edit an applied migration: restore it and add a new one");
                } else if (state == MigrationState.SUCCESS && script != null && !FlywayBridge.description(script).equals(m.getDescription())) {
                    out.add(script.file().displayPath() + ": applied under the description '" + m.getDescription() + "', the file's name now "
                            + "gives '" + FlywayBridge.description(script) + "'; rename it back");
                }
            }
            if (missing) {
                out.add("where the missing ones were bundled in pgshift: a --migrations directory replaces the bundled migrations, "
                        + "--bundled=true runs both");
            }
            return out;
        } catch (FlywayException e) {
            throw translate(e);
        }
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
            MigrationInfoService info = info();
            Set<String> versions = java.util.Arrays.stream(info.applied()).filter(i -> i.getVersion() != null && succeeded(i.getState()))
                    .map(i -> i.getVersion().getVersion()).collect(Collectors.toSet());
            return new Applied(version(info.current()), versions);
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /**
     * A failed non-transactional migration leaves a failed row in Flyway's history, which Flyway would refuse until a
     * manual repair. pgshift's concurrent steps are idempotent against what the failed run left, so the row is
     * removed and the migration runs again from its first statement. (A transactional migration that fails is rolled
     * back whole and leaves no row.) A file with its own transactions that committed part of itself before failing
     * cannot simply run again: that stops the run (exit 3) with what to do.
     */
    private void clearFailedSteps(boolean clear) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            var rs = st.executeQuery("select to_regclass('" + historyTable(schema).replace("'", "''") + "') is not null");
            rs.next();
            if (!rs.getBoolean(1)) {
                return;
            }
            var failed = st.executeQuery("select version, script from " + historyTable(schema) + " where not success");
            List<String> versions = new ArrayList<>();
            while (failed.next()) {
                String v = failed.getString(1);
                MigrationScript script = byVersion.get(v);
                if (script != null && script.mode() == ExecutionMode.OWN) {
                    throw new PgshiftException(ExitCode.CONFIG, script.file().displayPath() + " failed in an earlier run after its own "
                            + "transactions had committed part of it, so it cannot simply run again. Bring the database to where it was "
                            + "before the file or to where the file leaves it, then remove the failed record: delete from "
                            + historyTable(schema) + " where version = '" + v + "' and not success");
                }
                versions.add(v);
                LOG.warnf("migration %s (%s) failed in an earlier run: it will run again, resuming after what that run completed", v,
                        failed.getString(2));
            }
            if (!versions.isEmpty() && clear) {
                st.executeUpdate("delete from " + historyTable(schema) + " where not success");
                info = null;
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the migration history: " + e.getMessage(), e);
        }
    }

    /** After a failure that committed nothing of a file with its own transactions, its failed record is dropped: it can run again. */
    private void forgetCleanFailures(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StatementRunner.PartlyCommitted) {
                return;
            }
        }
        List<String> own = byVersion.values().stream().filter(m -> m.mode() == ExecutionMode.OWN).map(MigrationScript::version).toList();
        if (own.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection(); java.sql.PreparedStatement ps = c.prepareStatement("delete from "
                + historyTable(schema) + " where not success and version = any (?)")) {
            c.setAutoCommit(true);
            ps.setArray(1, c.createArrayOf("text", own.toArray()));
            ps.executeUpdate();
            info = null;
        } catch (SQLException ignored) {
            // the connection is gone; the next run reports the failed record
        }
    }

    /**
     * Applies pending migrations up to {@code target} (null: all). A migration that hits lock_timeout or a deadlock is
     * rolled back and retried with backoff, up to {@code retries} times; then exit 75 with that migration not applied.
     *
     * @param applied receives each migration this call applied, also when it then fails
     */
    public void migrate(String target, int retries, List<AppliedMigration> applied) {
        Set<String> before = appliedVersions();
        Flyway runner = target == null ? flyway : new FluentConfiguration(Migrator.class.getClassLoader()).configuration(config)
                .target(target).load();
        int attempt = 0;
        try {
            while (true) {
                long attemptStart = System.nanoTime();
                try {
                    runner.migrate();
                    return;
                } catch (FlywayException | PgshiftException e) {
                    forgetCleanFailures(e);
                    String state = sqlState(e);
                    if (state == null || !LOCK_STATES.contains(state) || stop.stopped()) {
                        throw translate(e);
                    }
                    String what = state.equals("40P01") ? "deadlock" : "lock timeout";
                    if (attempt >= retries) {
                        throw new PgshiftException(ExitCode.TEMPORARY, what + ": retries exhausted after " + (attempt + 1) + " attempts; "
                                + oneLine(e.getMessage()) + " That migration was rolled back and is not applied; the blocking sessions are "
                                + "logged above. Run again once they are gone, or raise --lock-timeout / --lock-retries.", e);
                    }
                    attempt++;
                    long backoff = Math.min(1000L << (attempt - 1), 30_000L);
                    LOG.warnf("%s after %.1f s (attempt %d of %d): %s; rolled back, retrying in %d ms", what,
                            (System.nanoTime() - attemptStart) / 1e9, attempt, retries + 1, oneLine(e.getMessage()), backoff);
                    DatabaseWaiter.sleepQuietly(backoff);
                    clearFailedSteps(true);
                }
            }
        } finally {
            info = null;
            applied.addAll(appliedSince(before));
        }
    }

    private List<AppliedMigration> appliedSince(Set<String> before) {
        List<AppliedMigration> out = new ArrayList<>();
        try {
            for (MigrationInfo i : info().applied()) {
                if (i.getVersion() == null || !succeeded(i.getState()) || before.contains(i.getVersion().getVersion())) {
                    continue;
                }
                MigrationScript script = byVersion.get(i.getVersion().getVersion());
                out.add(new AppliedMigration(i.getVersion().getVersion(), i.getDescription(),
                        script != null ? script.file().displayPath() : i.getScript(), script != null ? script.mode().label() : "transaction",
                        Duration.ofMillis(i.getExecutionTime() == null ? 0 : i.getExecutionTime())));
            }
        } catch (FlywayException e) {
            LOG.warnf("cannot list the migrations applied: %s", e.getMessage());
        }
        return out;
    }

    /** Records the pending migrations up to {@code target} as applied, with their checksums, without running them. */
    public void adopt(String target, List<AppliedMigration> applied) {
        Set<String> before = appliedVersions();
        try {
            new FluentConfiguration(Migrator.class.getClassLoader()).configuration(config).skipExecutingMigrations(true).target(target).load()
                    .migrate();
        } catch (FlywayException e) {
            throw translate(e);
        } finally {
            info = null;
            applied.addAll(appliedSince(before).stream()
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
            return new PgshiftException(ExitCode.TEMPORARY, "stopped by " + stop.stoppedBy() + ": the running statement was cancelled", e);
        }
        if (e instanceof FlywayValidateException) {
            info = null; // Flyway's own look, which failed, may be newer than this migrator's
            return new PgshiftException(ExitCode.CONFIG, "the migration history and the files disagree: " + String.join("; ", checksumProblems()), e);
        }
        String state = sqlState(e);
        if (state != null && state.startsWith("08")) {
            return new PgshiftException(ExitCode.TEMPORARY, "lost the database connection: " + oneLine(e.getMessage()), e);
        }
        return new PgshiftException(ExitCode.MIGRATION, oneLine(e.getMessage()), e);
    }

    private static String sqlState(Throwable t) {
        for (; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                return s.getSQLState();
            }
        }
        return null;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").replaceAll("-{5,}", "").trim();
    }


    /** Applied and not failed: in order, or out of order (--out-of-order). */
    private static boolean succeeded(MigrationState s) {
        return s == MigrationState.SUCCESS || s == MigrationState.OUT_OF_ORDER;
    }

    private static String state(MigrationState s) {
        return switch (s) {
            case PENDING -> "pending";
            case SUCCESS -> "applied";
            case FAILED -> "failed";
            default -> s.name().toLowerCase(Locale.ROOT).replace('_', ' ');
        };
    }
}
