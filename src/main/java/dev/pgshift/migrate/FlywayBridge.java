package dev.pgshift.migrate;

import dev.pgshift.source.ExecutionMode;
import dev.pgshift.source.MigrationScript;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32;
import org.flywaydb.core.api.CoreMigrationType;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.executor.MigrationExecutor;
import org.flywaydb.core.api.resolver.MigrationResolver;
import org.flywaydb.core.api.resolver.ResolvedMigration;
import org.flywaydb.core.extensibility.MigrationType;
import org.flywaydb.core.internal.jdbc.Results;
import org.flywaydb.core.internal.util.AbbreviationUtils;

/**
 * Everything pgshift hands to Flyway and takes from it, in one class: each migration of pgshift's stream as a resolved
 * migration, and each history row pgshift's apply loop ({@link ApplyLoop}) writes. Flyway keeps the order, the history
 * table (created by Flyway) and the validation of history against files; pgshift runs every statement
 * ({@link StatementRunner}). The migrations are recorded as type SQL, under the script name, description and checksum
 * Flyway itself would have recorded for the file, so histories written before stay valid and stay Flyway's. The only
 * Flyway types used beyond its public API are named here ({@code Results} in the executor's signature,
 * {@code AbbreviationUtils} for the row's description and script); the checksum rule is Flyway's and FlywayBridgeTest
 * fails if a Flyway upgrade changes it; MigrateIT fails if the rows differ from the ones Flyway writes.
 */
final class FlywayBridge implements MigrationResolver {
    private final List<MigrationScript> scripts;

    FlywayBridge(List<MigrationScript> scripts) {
        this.scripts = scripts;
    }

    @Override
    public Collection<ResolvedMigration> resolveMigrations(MigrationResolver.Context context) {
        return scripts.stream().map(s -> (ResolvedMigration) new Resolved(s, new Executor(s))).toList();
    }

    /**
     * Flyway's checksum of a SQL migration: CRC32 over the file's lines (UTF-8, without line terminators, a byte order
     * mark at the start of the file dropped), as a signed int.
     */
    static int checksum(String content) {
        return crc(content, false);
    }

    /** The checksum pgshift 0.1 recorded: a byte order mark dropped at the start of every line (Flyway: of the first only). */
    static int legacyChecksum(String content) {
        return crc(content, true);
    }

    private static int crc(String content, boolean bomOnEveryLine) {
        CRC32 crc = new CRC32();
        try (BufferedReader r = new BufferedReader(new StringReader(content))) {
            boolean first = true;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if ((first || bomOnEveryLine) && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                    line = line.substring(1);
                }
                first = false;
                crc.update(line.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return (int) crc.getValue();
    }

    /**
     * The description Flyway records. A Flyway file ({@code V1__add-b.v2.sql}) gets Flyway's own: the part of its name
     * after "__" with underscores as spaces, everything else as it is ("add-b.v2"), so a project Flyway migrated is taken
     * over as it is and Flyway reads what pgshift records. The other schemes have no Flyway name of their own: theirs
     * is made from a Flyway-style name with every character but letters, digits and "_" made "_" ({@link
     * MigrationScript#flywayName()}); files that ran outside a transaction keep their description as it is.
     */
    static String description(MigrationScript s) {
        if (s.scheme() == MigrationScript.Scheme.FLYWAY) {
            return s.description().replace('_', ' ');
        }
        return legacyDescription(s);
    }

    /** The description as pgshift 0.1 recorded it for every scheme: {@link #description} for the schemes but Flyway's. */
    static String legacyDescription(MigrationScript s) {
        if (s.mode() == ExecutionMode.OUTSIDE) {
            return s.description().isEmpty() ? "migration" : s.description().replace('_', ' ');
        }
        String name = s.flywayName();
        return name.substring(name.indexOf("__") + 2, name.length() - ".sql".length()).replace('_', ' ');
    }

    /** The description as the history records it: Flyway cuts it to 200 characters ("..." at the end). */
    static String recordedDescription(MigrationScript s) {
        return AbbreviationUtils.abbreviateDescription(description(s));
    }

    /** The script name Flyway records: a Flyway file's path inside its location, as Flyway names it; the others' Flyway-style name. */
    static String script(MigrationScript s) {
        return s.scheme() == MigrationScript.Scheme.FLYWAY ? s.file().relativePath() : s.flywayName();
    }

    /** Whether pgshift 0.1 recorded {@code s} under other names than Flyway's. */
    static boolean isLegacyNamed(MigrationScript s) {
        return !legacyDescription(s).equals(description(s)) || !s.flywayName().equals(script(s));
    }

    /** Whether {@code recorded} is the description pgshift 0.1 recorded for {@code s} (a row {@link HistoryRows#upgradeLegacyRows} renames). */
    static boolean isLegacyDescription(MigrationScript s, String recorded) {
        return s.scheme() == MigrationScript.Scheme.FLYWAY && AbbreviationUtils.abbreviateDescription(legacyDescription(s)).equals(recorded);
    }

    /** One migration as Flyway sees it. */
    private static final class Resolved implements ResolvedMigration {
        private final MigrationScript script;
        private final Executor executor;
        private final MigrationVersion version;
        private final int checksum;

        Resolved(MigrationScript script, Executor executor) {
            this.script = script;
            this.executor = executor;
            this.version = MigrationVersion.fromVersion(script.version());
            this.checksum = checksum(script.file().content());
        }

        @Override
        public MigrationVersion getVersion() {
            return version;
        }

        @Override
        public String getDescription() {
            return description(script);
        }

        @Override
        public String getScript() {
            return script(script);
        }

        @Override
        public Integer getChecksum() {
            return checksum;
        }

        @Override
        public MigrationType getType() {
            return CoreMigrationType.SQL;
        }

        @Override
        public String getPhysicalLocation() {
            return script.file().displayPath();
        }

        @Override
        public MigrationExecutor getExecutor() {
            return executor;
        }

        @Override
        public boolean checksumMatches(Integer other) {
            return Objects.equals(other, checksum);
        }

        @Override
        public boolean checksumMatchesWithoutBeingIdentical(Integer other) {
            return false;
        }
    }

    /**
     * Flyway's executor slot. pgshift applies migrations in its own loop ({@link ApplyLoop}); Flyway runs only to adopt
     * migrations without executing them, so this is never asked to execute.
     */
    private static final class Executor implements MigrationExecutor {
        private final MigrationScript script;

        Executor(MigrationScript script) {
            this.script = script;
        }

        @Override
        public List<Results> execute(org.flywaydb.core.api.executor.Context context) {
            throw new IllegalStateException("pgshift applies " + script.version() + " in its own loop, not through Flyway's");
        }

        @Override
        public boolean canExecuteInTransaction() {
            return script.mode() == ExecutionMode.TRANSACTION;
        }

        @Override
        public boolean shouldExecute() {
            return true;
        }
    }
}
