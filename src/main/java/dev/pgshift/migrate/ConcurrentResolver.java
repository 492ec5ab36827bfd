package dev.pgshift.migrate;

import dev.pgshift.db.StopSignal;
import dev.pgshift.source.MigrationScript;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.flywaydb.core.api.CoreMigrationType;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.resolver.MigrationResolver;
import org.flywaydb.core.api.resolver.ResolvedMigration;
import org.flywaydb.core.internal.resolver.ChecksumCalculator;
import org.flywaydb.core.internal.resolver.ResolvedMigrationImpl;

/**
 * Hands pgshift's non-transactional migrations to Flyway with pgshift's {@link ConcurrentStep} as their executor:
 * Flyway keeps the order and the history; pgshift runs the statements. They are recorded as type SQL with Flyway's
 * own checksum of the file, exactly as if Flyway had run them, so histories stay interchangeable.
 */
final class ConcurrentResolver implements MigrationResolver {
    private final List<MigrationScript> scripts;
    private final StopSignal stop;
    private final Duration builderWait;

    ConcurrentResolver(List<MigrationScript> scripts, StopSignal stop, Duration builderWait) {
        this.scripts = scripts.stream().filter(s -> !s.transactional()).toList();
        this.stop = stop;
        this.builderWait = builderWait;
    }

    @Override
    public Collection<ResolvedMigration> resolveMigrations(Context context) {
        return scripts.stream().map(s -> (ResolvedMigration) new ResolvedMigrationImpl(MigrationVersion.fromVersion(s.version()),
                s.description().isEmpty() ? "migration" : s.description().replace('_', ' '), s.flywayName(), checksum(s), null,
                CoreMigrationType.SQL, s.file().displayPath(), new ConcurrentStep(s.file(), s.statements(), stop, builderWait))).toList();
    }

    /** Flyway's checksum of the file's text (CRC32 over its lines), the one it would record for a SQL migration. */
    static int checksum(MigrationScript s) {
        return ChecksumCalculator.calculate(new ScriptResources.Text(s.flywayName(), s.file().displayPath(), s.file().content()));
    }
}
