package dev.pgshift.fleet;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.FleetSettings;
import dev.pgshift.config.Setting;
import dev.pgshift.config.Settings;
import dev.pgshift.source.MigrationCatalog;
import dev.pgshift.source.MigrationLocations;
import dev.pgshift.source.MigrationScript;
import java.util.List;

/** What a fleet process knows of itself: its release settings, its shard, its name, the version its migrations reach. */
final class Pods {
    private Pods() {
    }

    static FleetSettings fleet(Settings settings) {
        if (settings.fleet() == null) {
            throw new PgshiftException(ExitCode.CONFIG, "no release: give " + Setting.RELEASE.displayName()
                    + " (an id of your choosing, e.g. the application's version: the tenant list is frozen under it)");
        }
        return settings.fleet();
    }

    /** This process's shard: --shard, JOB_COMPLETION_INDEX, or 0 when there is one shard. */
    static int shard(FleetSettings fleet) {
        if (fleet.shard() != null) {
            return fleet.shard();
        }
        if (fleet.shards() == 1) {
            return 0;
        }
        throw new PgshiftException(ExitCode.CONFIG, "no shard for this process among " + fleet.shards() + ": give "
                + Setting.SHARD.displayName() + " (an Indexed Job's pods have JOB_COMPLETION_INDEX)");
    }

    /** The pod's name (HOSTNAME in Kubernetes) and the process id: what the control table says ran a tenant. */
    static String name() {
        String host = dev.pgshift.Host.name();
        return (host == null ? "" : host + " ") + "pid " + ProcessHandle.current().pid();
    }

    /** The migrations a process runs: the version they end at (every tenant is brought to it) and their digest. */
    record Target(String version, String digest) {
    }

    static Target target(Settings settings) {
        List<MigrationScript> scripts = MigrationCatalog.order(MigrationLocations.read(settings.bundled(), settings.migrationDirs()));
        if (scripts.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "no migrations found (--migrations, --bundled): a release brings its tenants to "
                    + "the last one");
        }
        return new Target(scripts.get(scripts.size() - 1).version(), MigrationCatalog.digest(scripts));
    }
}
