package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.OwnTables;
import dev.pgshift.db.Database;
import dev.pgshift.db.Identifiers;
import dev.pgshift.db.LeftoverSessions;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.ExecutionMode;
import dev.pgshift.source.MigrationScript;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.ResourceProvider;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.core.api.resource.LoadableResource;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;
import org.jboss.logging.Logger;

/** The migrate stage: plans and applies pgshift's migration stream with Flyway, which stays behind this class. */
public final class Migrator {
    private static final Logger LOG = Logger.getLogger(Migrator.class);

    private final Database dataSource;
    private final FluentConfiguration config;
    private final Flyway flyway;
    private final Map<String, MigrationScript> byVersion;
    private final StopSignal stop;
    private final String schema;
    /**
     * Files with their own transactions that an earlier run left part-way, with how many of their statements it
     * committed (their failed row says so, {@link FlywayBridge#recordProgress}): they resume there.
     */
    private final Map<String, Long> resumable = new java.util.concurrent.ConcurrentHashMap<>();
    private final ApplyLoop loop;
    /** The versions whose execution this process began, in order: what was applied when the history cannot be read. */
    private final List<String> started = new java.util.concurrent.CopyOnWriteArrayList<>();
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
        return Identifiers.quote(schema) + "." + Identifiers.quote(OwnTables.MIGRATION_HISTORY);
    }

    /**
     * @param builderWait how long a step waits for an index build that a dead run's backend is still doing
     */
    public Migrator(Database dataSource, List<MigrationScript> scripts, String schema, StopSignal stop, Duration builderWait,
            boolean outOfOrder) {
        this.dataSource = dataSource;
        this.stop = stop;
        this.schema = schema;
        this.byVersion = scripts.stream().collect(Collectors.toMap(MigrationScript::version, Function.identity()));
        this.config = configure(dataSource, scripts, schema, builderWait, outOfOrder);
        this.flyway = config.load();
        this.loop = new ApplyLoop(dataSource, schema, stop, builderWait, started::add, resumable::get);
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
                String state = m.getState() == MigrationState.FAILED && resumable.containsKey(m.getVersion().getVersion()) ? "resume"
                        : state(m.getState());
                out.add(new PlannedMigration(m.getVersion().getVersion(), m.getDescription(),
                        script != null ? script.file().displayPath() : m.getScript(), state,
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
    public void validate(Connection session) {
        clearFailedSteps(session, true);
        checkFiles(session);
    }

    /** What {@link #validate} checks, changing nothing: plan stops on the same problems with the same exit code. */
    public void check(Connection session) {
        clearFailedSteps(session, false);
        checkFiles(session);
    }

    /** Flyway reads the history on {@code session}, the run's, idle between its own statements, not on one of its own. */
    private void checkFiles(Connection session) {
        if (info == null) {
            try {
                info = dataSource.lend(session, flyway::info);
            } catch (FlywayException e) {
                throw translate(e);
            }
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
            List<String> out = new ArrayList<>();
            boolean missing = false;
            // An applied migration whose file is gone and a pending one with its description: one file, renamed.
            Map<String, String> gone = new java.util.HashMap<>();
            for (MigrationInfo m : info().all()) {
                if (m.getVersion() != null && (m.getState() == MigrationState.MISSING_SUCCESS || m.getState() == MigrationState.FUTURE_SUCCESS)
                        && !m.getDescription().isEmpty()) {
                    gone.putIfAbsent(m.getDescription(), m.getVersion().getVersion() + " (" + m.getScript() + ")");
                }
            }
            boolean renamed = false;
            List<String> missingVersions = new ArrayList<>();
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
                    missingVersions.add(v);
                } else if (state == MigrationState.FUTURE_SUCCESS && renamedTo(gone, m) != null) {
                    out.add(v + " (" + m.getScript() + "): applied, and no migration file has this version any more");
                    missing = true;
                } else if (state == MigrationState.FUTURE_SUCCESS) {
                    // Flyway passes these ("future"); then nothing runs and verify fails on the version: say it before anything.
                    out.add(v + " (" + m.getScript() + "): applied, but newer than every migration file given: give the migrations that "
                            + "include it (--migrations, --bundled), or, where an older release runs against a database a newer one "
                            + "migrated, that newer release's migrations");
                    missing = true;
                } else if (state == MigrationState.IGNORED && script != null && gone.containsKey(FlywayBridge.recordedDescription(script))) {
                    renamed = true;
                    out.add(script.file().displayPath() + ": has the name of " + gone.get(FlywayBridge.recordedDescription(script))
                            + ", which was applied and whose file is gone: if it was renamed after it was applied, give it back the name it "
                            + "was applied under (a renamed migration is a new one, and --out-of-order would run it again)");
                } else if (state == MigrationState.IGNORED && script != null && bundled(script)) {
                    out.add(script.file().displayPath() + ": bundled in this pgshift build (the example set, unless the image was built with "
                            + "its own), and older than the newest applied migration: the database has a history of other migrations; give "
                            + "yours with -m DIR (--migrations). Only if the bundled set is this database's: apply it with --out-of-order");
                } else if (state == MigrationState.IGNORED && script != null) {
                    out.add(script.file().displayPath() + ": version " + v + " is older than the newest applied migration and was never "
                            + "applied (merged out of order): apply it with --out-of-order, as Prisma would, or give it a version after the "
                            + "newest applied one");
                } else if (state == MigrationState.SUCCESS && script != null && m.getChecksum() != null
                        && m.getChecksum() != FlywayBridge.checksum(script.file().content())
                        && m.getChecksum() != FlywayBridge.legacyChecksum(script.file().content())) {
                    out.add(script.file().displayPath() + ": changed after it was applied (checksum recorded " + m.getChecksum() + ", the file's now "
                            + FlywayBridge.checksum(script.file().content()) + "): restore the file and put the change in a new migration, or, if the edit "
                            + "was deliberate and the database already matches it, accept it with: " + repairCommand("--accept-checksum", v));
                } else if (state == MigrationState.SUCCESS && script != null && !FlywayBridge.recordedDescription(script).equals(m.getDescription())
                        && !FlywayBridge.isLegacyDescription(script, m.getDescription())) {
                    out.add(script.file().displayPath() + ": applied under the description '" + m.getDescription() + "', the file's name now "
                            + "gives '" + FlywayBridge.recordedDescription(script) + "'; rename it back");
                }
            }
            if (missing && !byVersion.isEmpty() && byVersion.values().stream().allMatch(Migrator::bundled)) {
                out.add("the migrations given are only those bundled in this pgshift build (the example set, unless the image was built with "
                        + "its own), as no --migrations was given: give this database's with -m DIR");
            } else if (!renamed && !missingVersions.isEmpty() && !java.util.Collections.disjoint(bundledVersions(), missingVersions)) {
                out.add("where the missing ones were bundled in pgshift: a --migrations directory replaces the bundled migrations, "
                        + "--bundled=true runs both");
            }
            return out;
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /** The versions of the migrations bundled in this build (empty where they cannot be read). */
    private static Set<String> bundledVersions() {
        try {
            return dev.pgshift.source.MigrationCatalog.order(dev.pgshift.source.MigrationLocations.bundled(Migrator.class.getClassLoader()))
                    .stream().map(MigrationScript::version).collect(Collectors.toSet());
        } catch (RuntimeException e) {
            return Set.of();
        }
    }

    /** The pending file {@code applied} (an applied migration whose file is gone) looks renamed to: the same description; or null. */
    private String renamedTo(Map<String, String> gone, MigrationInfo applied) {
        for (MigrationInfo m : info().all()) {
            MigrationScript script = m.getVersion() == null ? null : byVersion.get(m.getVersion().getVersion());
            if (m.getState() == MigrationState.IGNORED && script != null && FlywayBridge.recordedDescription(script).equals(applied.getDescription())
                    && gone.containsKey(applied.getDescription())) {
                return script.file().displayPath();
            }
        }
        return null;
    }

    /** Whether a migration is one of those bundled in pgshift (the Character Creation Platform's example set). */
    private static boolean bundled(MigrationScript m) {
        return m.file().location().startsWith("classpath:");
    }

    /** The line of the last of {@code script}'s first {@code done} statements (0 for none). */
    private static int lineAfter(MigrationScript script, long done) {
        long k = 0;
        int line = 0;
        for (dev.pgshift.source.SqlStatement s : script.statements()) {
            if (++k > done) {
                break;
            }
            line = s.line();
        }
        return line;
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
        try (Connection c = dataSource.getConnection()) {
            clearFailedSteps(c, clear);
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the migration history: " + e.getMessage(), e);
        }
    }

    /** The role may not read or write the history table another role created: exit 3 with the GRANT that fixes it. */
    private PgshiftException historyNotWritable() {
        String role = Identifiers.quote(dataSource.settings().user());
        return new PgshiftException(ExitCode.CONFIG, "role " + role + " may not read and write the migration history "
                + historyTable(schema) + ", which another role owns; nothing was applied. Run as its owner: GRANT SELECT, INSERT, UPDATE, "
                + "DELETE ON " + historyTable(schema) + " TO " + role + "; or migrate as the owner");
    }

    /** {@link #clearFailedSteps(boolean)} on the run's session {@code c} (in autocommit). */
    private void clearFailedSteps(Connection c, boolean clear) {
        try (Statement st = c.createStatement()) {
            var rs = st.executeQuery("select to_regclass('" + historyTable(schema).replace("'", "''") + "') is not null");
            rs.next();
            if (!rs.getBoolean(1)) {
                return;
            }
            if (clear) {
                int upgraded = FlywayBridge.upgradeLegacyRows(c, schema, List.copyOf(byVersion.values()));
                if (upgraded > 0) {
                    info = null;
                    LOG.infof("gave %d history row(s) that an earlier pgshift recorded its own way the description, script name or "
                            + "checksum Flyway records for their files: Flyway and pgshift now read them alike", upgraded);
                }
            }
            var failed = st.executeQuery("select version, script, execution_time, checksum from " + historyTable(schema) + " where not success");
            List<String> versions = new ArrayList<>();
            resumable.clear();
            while (failed.next()) {
                String v = failed.getString(1);
                MigrationScript script = byVersion.get(v);
                if (script != null && script.mode() == ExecutionMode.OWN) {
                    Long done = FlywayBridge.progress(failed.getInt(3));
                    boolean unchanged = failed.getInt(4) == FlywayBridge.checksum(script.file().content());
                    if (done != null && unchanged) {
                        resumable.put(v, done);
                        LOG.infof("%s committed %d of its statements in an earlier run (up to line %d): it %s after them", script.file().displayPath(),
                                done, lineAfter(script, done), clear ? "resumes" : "would resume");
                        continue;
                    }
                    throw new PgshiftException(ExitCode.CONFIG, script.file().displayPath() + " failed in an earlier run after its own "
                            + "transactions had committed part of it, " + (done != null ? "and it was edited since (pgshift resumes a file "
                                    + "only as it was: restore it to have the run go on after what committed)" : "and that run recorded no "
                                    + "point to resume from (an older pgshift)") + ". Otherwise bring the database to where it was "
                            + "before the file, then run: " + repairCommand("--rolled-back", v) + " (the file runs again on the next run); or "
                            + "finish what the file does by hand, then run: " + repairCommand("--applied", v));
                }
                versions.add(v);
                LOG.warnf("migration %s (%s) failed in an earlier run: it will run again, resuming after what that run completed", v,
                        failed.getString(2));
            }
            if (!versions.isEmpty() && clear) {
                try (java.sql.PreparedStatement ps = c.prepareStatement("delete from " + historyTable(schema) + " where not success "
                        + "and version = any (?)")) {
                    ps.setArray(1, c.createArrayOf("text", versions.toArray()));
                    ps.executeUpdate();
                }
                info = null;
            }
        } catch (SQLException e) {
            if ("42501".equals(e.getSQLState())) {
                throw historyNotWritable();
            }
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the migration history: " + e.getMessage(), e);
        }
    }

    /**
     * Creates the empty history table, as Flyway makes it, where there is none. Flyway would refuse a schema that holds
     * anything ("non-empty schema"), in its own words; pgshift's plan has already refused a schema that holds objects the
     * migrations could collide with, in pgshift's words, and allowed what is no collision (an empty _prisma_migrations).
     * Flyway creates the table with a baseline marker, which is removed at once: the history holds only migrations.
     */
    private void createHistory() {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            var rs = st.executeQuery("select to_regclass('" + historyTable(schema).replace("'", "''") + "') is not null");
            rs.next();
            if (rs.getBoolean(1)) {
                // one privilege a call: has_table_privilege(t, 'INSERT, UPDATE') is true when either is held
                String table = historyTable(schema).replace("'", "''");
                rs = st.executeQuery("select has_table_privilege('" + table + "', 'INSERT') and has_table_privilege('" + table
                        + "', 'UPDATE') and has_table_privilege('" + table + "', 'DELETE')");
                rs.next();
                if (!rs.getBoolean(1)) {
                    // before anything runs: a concurrent build or a file with its own transactions would stay applied unrecorded
                    throw historyNotWritable();
                }
                // A run killed between Flyway's creating the table and the removal of its marker (below) left the marker
                // alone in the history: removed now, as it would have been (ChaosSoakIT, a kill 377 ms into the backup).
                if (st.executeUpdate("delete from " + historyTable(schema) + " where type = 'BASELINE' and version = '0' and not exists "
                        + "(select 1 from " + historyTable(schema) + " where type <> 'BASELINE')") > 0) {
                    info = null;
                }
                return;
            }
            String refused = historyNotCreatable(c);
            if (refused != null) {
                throw new PgshiftException(ExitCode.CONFIG, refused);
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("select not exists (select 1 from pg_namespace where nspname = ?)")) {
                ps.setString(1, schema);
                try (var absent = ps.executeQuery()) {
                    if (absent.next() && absent.getBoolean(1)) {
                        LOG.infof("creating schema %s for the migration history (--schema)", Identifiers.quote(schema));
                    }
                }
            }
            try {
                new FluentConfiguration(Migrator.class.getClassLoader()).configuration(config).baselineVersion("0").load().baseline();
            } catch (FlywayException e) {
                rs = st.executeQuery("select to_regclass('" + historyTable(schema).replace("'", "''") + "') is not null");
                rs.next();
                if (rs.getBoolean(1)) {
                    return; // another tool (a Flyway CLI) created it meanwhile: its lock decides who migrates
                }
                throw e;
            }
            st.executeUpdate("delete from " + historyTable(schema) + " where type = 'BASELINE'");
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot create the migration history: " + e.getMessage(), e);
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /**
     * Why this session's role cannot create the history table, saying what to grant; null when it can. Asked before Flyway
     * tries: Flyway retries a failed creation ten times a second apart, then answers in its own words ("Run Flyway with
     * -X option").
     */
    private String historyNotCreatable(Connection c) throws SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement("select current_user, n.oid is not null, coalesce(has_schema_privilege(n.oid, "
                + "'CREATE'), has_database_privilege(current_database(), 'CREATE')), current_database() from (select 1) one "
                + "left join pg_namespace n on n.nspname = ?")) {
            ps.setString(1, schema);
            try (var rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(3)) {
                    return null;
                }
                String role = Identifiers.quote(rs.getString(1));
                String name = Identifiers.quote(schema);
                return rs.getBoolean(2)
                        ? "role " + role + " may not create tables in schema " + name + ", so it cannot create the migration history "
                                + historyTable(schema) + " (PostgreSQL 15 and later let only the database owner create in public). Run as the "
                                + "owner: GRANT CREATE ON SCHEMA " + name + " TO " + role + "; or keep the history in a schema the role owns "
                                + "(--schema)"
                        : "schema " + name + " does not exist and role " + role + " may not create it in database "
                                + Identifiers.quote(rs.getString(4)) + ". Run as the owner: CREATE SCHEMA " + name + " AUTHORIZATION " + role
                                + "; or name an existing schema with --schema";
            }
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
                    if (!pending(target).isEmpty()) {
                        loop.apply(() -> {
                            // Looked at again under the history's lock: what another tool (a Flyway CLI) applied while
                            // this run waited for the lock is not pending any more.
                            info = null;
                            validate(); // all of Flyway's checks of the history against the files, as its migrate makes them
                            before.set(0, appliedVersions());
                            return pending(target);
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
                    info = null;
                    clearFailedSteps(true);
                }
            }
        } finally {
            info = null;
            applied.addAll(appliedSince(before.get(0)));
        }
    }

    /**
     * Flyway's validation, but for the failed row of a file with its own transactions left part-way ({@link #resumable}),
     * which is no failure to pgshift: the file resumes. (Flyway's ignore patterns know no "failed".)
     */
    private void validate() {
        org.flywaydb.core.api.output.ValidateResult result = flyway.validateWithResult();
        if (result.validationSuccessful) {
            return;
        }
        boolean others = result.invalidMigrations == null || result.invalidMigrations.isEmpty() || result.invalidMigrations.stream()
                .anyMatch(o -> !(o.errorDetails != null && o.errorDetails.errorCode == org.flywaydb.core.api.CoreErrorCode.FAILED_VERSIONED_MIGRATION
                        && o.version != null && resumable.keySet().stream().anyMatch(v -> MigrationVersion.fromVersion(v)
                                .equals(MigrationVersion.fromVersion(o.version)))));
        if (others) {
            flyway.validate(); // throws, in Flyway's words, which translate() turns into pgshift's
        }
    }

    /** The pending migrations up to {@code target} (null: all), in the order Flyway applies them. */
    private List<MigrationScript> pending(String target) {
        MigrationVersion last = target == null ? null : MigrationVersion.fromVersion(target);
        List<MigrationScript> out = new ArrayList<>();
        // a file left part-way first: it was the last one an earlier run applied
        resumable.keySet().stream().map(MigrationVersion::fromVersion).sorted()
                .filter(v -> last == null || v.compareTo(last) <= 0).forEach(v -> out.add(byVersion.get(v.getVersion())));
        for (MigrationInfo m : info().pending()) {
            if (m.getVersion() != null && (last == null || m.getVersion().compareTo(last) <= 0)) {
                out.add(byVersion.get(m.getVersion().getVersion()));
            }
        }
        return out;
    }

    /**
     * The migrations applied since {@code before}, from the history. After a lost connection the server may be restarting:
     * the history is read again for a few seconds; if it still cannot be read, the migrations this process finished
     * executing (each one whose successor began was committed) are listed as such.
     */
    private List<AppliedMigration> appliedSince(Set<String> before) {
        long deadline = System.nanoTime() + APPLIED_READ_WAIT.toNanos();
        while (true) {
            try {
                // A stopped run opens no session for work; this one only reads what it did.
                MigrationInfo[] now = stop.stopped() ? new FluentConfiguration(Migrator.class.getClassLoader()).configuration(config)
                        .dataSource(dataSource.afterStop()).load().info().applied() : info().applied();
                return appliedSince(before, now);
            } catch (FlywayException e) {
                if (System.nanoTime() > deadline || stop.stopped()) {
                    List<String> done = started.isEmpty() ? List.of() : started.subList(0, started.size() - 1);
                    LOG.warnf("cannot read the migration history to list what this run applied (%s); listing the %d migration(s) whose "
                            + "successor had started, so they were committed: %s", Failures.oneLine(e.getMessage()), done.size(), done);
                    return done.stream().filter(v -> !before.contains(v)).map(byVersion::get).map(m -> new AppliedMigration(m.version(),
                            FlywayBridge.description(m), m.file().displayPath(), m.mode().label(), Duration.ZERO)).toList();
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    deadline = 0;
                }
            }
        }
    }

    /** How long the history is read again after a failure before the run lists what it knows it applied. */
    private static final Duration APPLIED_READ_WAIT = Duration.ofSeconds(15);

    private List<AppliedMigration> appliedSince(Set<String> before, MigrationInfo[] applied) {
        List<AppliedMigration> out = new ArrayList<>();
        {
            for (MigrationInfo i : applied) {
                if (i.getVersion() == null || !succeeded(i.getState()) || before.contains(i.getVersion().getVersion())) {
                    continue;
                }
                MigrationScript script = byVersion.get(i.getVersion().getVersion());
                out.add(new AppliedMigration(i.getVersion().getVersion(), i.getDescription(),
                        script != null ? script.file().displayPath() : i.getScript(), script != null ? script.mode().label() : "transaction",
                        Duration.ofMillis(i.getExecutionTime() == null ? 0 : i.getExecutionTime())));
            }
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
            return stop.stoppedException("while migrating: the running statement was cancelled");
        }
        if (e instanceof FlywayValidateException) {
            info = null; // Flyway's own look, which failed, may be newer than this migrator's
            List<String> problems = checksumProblems();
            return new PgshiftException(ExitCode.CONFIG, "the migration history and the files disagree: "
                    + (problems.isEmpty() ? Failures.oneLine(e.getMessage()) : String.join("; ", problems)), e);
        }
        if (Failures.exitCode(e) == ExitCode.TEMPORARY) {
            return Failures.of("lost the database connection", e, stop);
        }
        if (Failures.sqlState(e) == null && LeftoverSessions.holdsAdvisoryLock(dataSource, ApplyLoop.flywayLockKey(schema))) {
            // Flyway gave up on its lock (its retries spent): another session holds it now, as the catalog says
            return historyLockHeld(dataSource, config.getLockRetryCount());
        }
        return Failures.of("migrating failed", e, stop);
    }

    /** Another session kept Flyway's lock on the history for the whole --lock-wait: exit 75, naming it. */
    static PgshiftException historyLockHeld(Database db, long seconds) {
        return new PgshiftException(ExitCode.TEMPORARY, "another session holds the migration history's lock ("
                + LeftoverSessions.advisoryHolders(db) + ") and kept it for " + seconds + "s (--lock-wait): "
                + "another migration tool (or an earlier run's session) is migrating this schema. Nothing more was applied; run "
                + "again once it is done.");
    }

    /**
     * The indexes the CREATE INDEX statements of {@code scripts} name, as they stand now on {@code c}: resolved as each
     * statement resolves its own (the index in its table's schema, the name truncated as PostgreSQL truncates it).
     */
    public static Set<Long> indexesMadeBy(Connection c, List<MigrationScript> scripts) throws SQLException {
        List<dev.pgshift.source.SqlStatement> creates = new ArrayList<>();
        for (MigrationScript m : scripts) {
            m.statements().stream().filter(s -> s.createdIndex() != null && s.indexedTable() != null).forEach(creates::add);
        }
        return IndexCatalog.createdIndexes(c, creates);
    }

    /** The placeholder for the reason in the repair commands pgshift prints; repair refuses it as a reason. */
    public static final String REASON_PLACEHOLDER = "<why>";

    /**
     * The repair command for {@code action} on {@code version}, as a message prints it: with the migration settings of the
     * run that printed it, which repair needs to read the same files.
     */
    public static String repairCommand(String action, String version) {
        return "pgshift repair " + action + " " + version + " --reason '" + REASON_PLACEHOLDER + "' (with this run's --migrations and "
                + "--bundled settings, so that repair reads the same files)";
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
