package dev.pgshift.migrate;

import dev.pgshift.config.OwnTables;
import dev.pgshift.db.Database;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.Versions;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.CoreErrorCode;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.ResourceProvider;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.ValidateResult;
import org.flywaydb.core.api.resource.LoadableResource;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;
import org.jboss.logging.Logger;

/**
 * Flyway, configured for pgshift's stream in one schema, and its view of the history against the files: read once and
 * kept until pgshift writes the history ({@link #forget}), since each read opens a session, reads the whole table and
 * resolves every file again, and a run asks for it in plan, migrate and verify. Flyway's exceptions pass through:
 * {@link Migrator} says them in pgshift's words.
 */
final class FlywayView {
    private static final Logger LOG = Logger.getLogger(Migrator.class); // the migrate stage speaks for it
    /** How long the history is read again after a failure before the run lists what it knows it applied. */
    private static final Duration APPLIED_READ_WAIT = Duration.ofSeconds(15);

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

    private final Database db;
    private final StopSignal stop;
    private final Map<String, MigrationScript> byVersion;
    private final FluentConfiguration config;
    private final Flyway flyway;
    private MigrationInfoService info;

    /**
     * @param builderWait how long Flyway's lock may be held by another session (its retries are a second apart)
     */
    FlywayView(Database db, List<MigrationScript> scripts, Map<String, MigrationScript> byVersion, String schema, StopSignal stop,
            Duration builderWait, boolean outOfOrder) {
        this.db = db;
        this.stop = stop;
        this.byVersion = byVersion;
        this.config = configure(db, scripts, schema, builderWait, outOfOrder);
        this.flyway = config.load();
    }

    /** Flyway's configuration for pgshift's stream in {@code schema}. */
    private static FluentConfiguration configure(javax.sql.DataSource dataSource, List<MigrationScript> scripts, String schema,
            Duration builderWait, boolean outOfOrder) {
        FluentConfiguration config = Flyway.configure(Migrator.class.getClassLoader())
                .dataSource(dataSource)
                .resourceProvider(NO_FILES)
                .resolvers(new FlywayBridge(scripts))
                .javaMigrationClassProvider(List::of)
                .skipDefaultCallbacks(true)
                .defaultSchema(schema)
                .schemas(schema)
                .table(OwnTables.MIGRATION_HISTORY)
                .placeholderReplacement(false)
                .cleanDisabled(true)
                .outOfOrder(outOfOrder)
                .validateMigrationNaming(true)
                // pending: validate runs before migrate; future: a newer release already migrated this database
                .ignoreMigrationPatterns("*:pending", "*:future")
                .connectRetries(0)
                // Flyway's own lock (its retries are a second apart) waits as long as the run lock may: pgshift's run lock
                // is the one that decides; a session of a dead run still holding Flyway's is waited for, then exit 75.
                .lockRetryCount((int) Math.max(1, builderWait.toSeconds()));
        // Flyway's default transaction-level advisory lock makes CREATE INDEX CONCURRENTLY wait forever for Flyway's
        // own open transaction (flyway/flyway#3497). Without it Flyway polls pg_try_advisory_lock on a session lock.
        config.getPluginRegister().getPlugin(PostgreSQLConfigurationExtension.class).setTransactionalLock(false);
        return config;
    }

    FluentConfiguration config() {
        return config;
    }

    MigrationInfoService info() {
        if (info == null) {
            info = flyway.info();
        }
        return info;
    }

    /** Reads Flyway's view on {@code session}, the run's, idle between its own statements, unless it is already read. */
    void readOn(Connection session) {
        if (info == null) {
            info = db.lend(session, flyway::info);
        }
    }

    /** The history changed: the next look reads it again. */
    void forget() {
        info = null;
    }

    Migrator.Status status(Map<String, Long> resumable) {
        List<PlannedMigration> out = new ArrayList<>();
        for (MigrationInfo m : info().all()) {
            if (m.getVersion() == null) {
                continue;
            }
            MigrationScript script = byVersion.get(m.getVersion().getVersion());
            String state = m.getState() == MigrationState.FAILED && resumable.containsKey(m.getVersion().getVersion()) ? "resume"
                    : state(m.getState());
            out.add(new PlannedMigration(m.getVersion().getVersion(), m.getDescription(),
                    script != null ? script.file().displayPath() : m.getScript(), state,
                    script != null ? script.mode().label() : null, null));
        }
        return new Migrator.Status(List.copyOf(out), current());
    }

    Migrator.Applied applied() {
        Set<String> versions = Arrays.stream(info().applied()).filter(i -> i.getVersion() != null && succeeded(i.getState()))
                .map(i -> i.getVersion().getVersion()).collect(Collectors.toSet());
        return new Migrator.Applied(current(), versions);
    }

    List<String> drift() {
        return Drift.problems(info().all(), byVersion);
    }

    /**
     * Flyway's validation, but for the failed rows of files with their own transactions left part-way ({@code resumable}),
     * which are no failure to pgshift: they resume. (Flyway's ignore patterns know no "failed".)
     */
    void validate(Set<String> resumable) {
        ValidateResult result = flyway.validateWithResult();
        if (result.validationSuccessful) {
            return;
        }
        boolean others = result.invalidMigrations == null || result.invalidMigrations.isEmpty() || result.invalidMigrations.stream()
                .anyMatch(o -> !(o.errorDetails != null && o.errorDetails.errorCode == CoreErrorCode.FAILED_VERSIONED_MIGRATION
                        && o.version != null && resumable.stream().anyMatch(v -> Versions.compare(v, o.version) == 0)));
        if (others) {
            flyway.validate(); // throws, in Flyway's words, which Migrator turns into pgshift's
        }
    }

    /** The pending migrations up to {@code target} (null: all), in the order Flyway applies them; the ones left part-way first. */
    List<MigrationScript> pending(String target, Set<String> resumable) {
        List<MigrationScript> out = new ArrayList<>();
        // a file left part-way first: it was the last one an earlier run applied
        resumable.stream().sorted(Versions::compare).filter(v -> target == null || Versions.compare(v, target) <= 0)
                .forEach(v -> out.add(byVersion.get(v)));
        for (MigrationInfo m : info().pending()) {
            if (m.getVersion() != null && (target == null || Versions.compare(m.getVersion().getVersion(), target) <= 0)) {
                out.add(byVersion.get(m.getVersion().getVersion()));
            }
        }
        return out;
    }

    /** Records the pending migrations up to {@code target} as applied, with their checksums, without running them. */
    void adopt(String target) {
        new FluentConfiguration(Migrator.class.getClassLoader()).configuration(config).skipExecutingMigrations(true).target(target).load()
                .migrate();
    }

    /**
     * The migrations applied since {@code before}, from the history. After a lost connection the server may be restarting:
     * the history is read again for a few seconds; if it still cannot be read, the migrations this process finished
     * executing (each one of {@code started} whose successor began was committed) are listed as such.
     */
    List<AppliedMigration> appliedSince(Set<String> before, List<String> started) {
        long deadline = System.nanoTime() + APPLIED_READ_WAIT.toNanos();
        while (true) {
            if (Thread.currentThread().isInterrupted()) {
                deadline = 0;
            }
            try {
                // A stopped run opens no session for work; this one only reads what it did.
                MigrationInfo[] now = stop.stopped() ? new FluentConfiguration(Migrator.class.getClassLoader()).configuration(config)
                        .dataSource(db.afterStop()).load().info().applied() : info().applied();
                return appliedSince(before, now);
            } catch (FlywayException e) {
                if (System.nanoTime() > deadline || stop.stopped()) {
                    List<String> done = started.isEmpty() ? List.of() : started.subList(0, started.size() - 1);
                    LOG.warnf("cannot read the migration history to list what this run applied (%s); listing the %d migration(s) whose "
                            + "successor had started, so they were committed: %s", Failures.oneLine(e.getMessage()), done.size(), done);
                    return done.stream().filter(v -> !before.contains(v)).map(byVersion::get).map(m -> new AppliedMigration(m.version(),
                            FlywayBridge.description(m), m.file().displayPath(), m.mode().label(), Duration.ZERO)).toList();
                }
                stop.sleep(500);
            }
        }
    }

    private List<AppliedMigration> appliedSince(Set<String> before, MigrationInfo[] applied) {
        List<AppliedMigration> out = new ArrayList<>();
        for (MigrationInfo i : applied) {
            if (i.getVersion() == null || !succeeded(i.getState()) || before.contains(i.getVersion().getVersion())) {
                continue;
            }
            MigrationScript script = byVersion.get(i.getVersion().getVersion());
            out.add(new AppliedMigration(i.getVersion().getVersion(), i.getDescription(),
                    script != null ? script.file().displayPath() : i.getScript(), script != null ? script.mode().label() : "transaction",
                    Duration.ofMillis(i.getExecutionTime() == null ? 0 : i.getExecutionTime())));
        }
        return out;
    }

    /**
     * The version the database is at: the newest one applied successfully (null: none). Not Flyway's "current", which
     * is a failed row's version too: a file left part-way, which resumes, has not brought the database to its version
     * (a hostile-user finding: plan said "at version 2" with 2 still to resume).
     */
    private String current() {
        String newest = null;
        for (MigrationInfo i : info().applied()) {
            if (i.getVersion() != null && i.getState().isApplied() && !i.getState().isFailed() && (newest == null || Versions.compare(i.getVersion().getVersion(), newest) > 0)) {
                newest = i.getVersion().getVersion();
            }
        }
        return newest;
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
