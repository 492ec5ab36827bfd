package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.Map;
import picocli.CommandLine.Option;

/** The fleet commands' settings, in three groups: the release (every fleet command), its list and dealing (plan, run), a shard's run. */
final class FleetOptions {
    private FleetOptions() {
    }

    static final class Release implements SettingFlags {
        @Option(names = "--release", paramLabel = "ID", description = "the release: an id of your choosing (e.g. the application's version); "
                + "the first process of fleet run freezes the tenant list, its waves and shards under it in the control database "
                + "(the database the connection settings name; table pgshift.fleet_tenant) (env PGSHIFT_FLEET_RELEASE)")
        String release;

        @Override
        public void addTo(Map<Setting, String> flags) {
            SettingFlags.put(flags, Setting.RELEASE, release);
        }
    }

    static final class Tenants implements SettingFlags {
        @Option(names = "--tenants-sql", paramLabel = "SQL", description = "a query on the control database giving each tenant's name and "
                + "URL without a password, in order, e.g. \"select name, url from tenants order by name\"; run read-only, once per release "
                + "(env PGSHIFT_FLEET_TENANTS_SQL)")
        String tenantsSql;

        @Option(names = "--tenants-file", paramLabel = "FILE", description = "or a file: one 'NAME URL' per line, # comments "
                + "(env PGSHIFT_FLEET_TENANTS_FILE)")
        String tenantsFile;

        @Option(names = "--shards", paramLabel = "N", description = "shards the tenants are dealt into, position mod N: the Indexed Job's "
                + "completions (default 1; env PGSHIFT_FLEET_SHARDS)")
        String shards;

        @Option(names = "--waves", paramLabel = "SIZES", description = "wave sizes in tenant order: counts, percentages of all tenants, and "
                + "rest; a wave starts only when the one before succeeded on every shard; a failed first wave (the canary) halts the release "
                + "(default 1,10%%,rest; env PGSHIFT_FLEET_WAVES)")
        String waves;

        @Option(names = "--halt-after", paramLabel = "N", description = "the same error (SQLSTATE, else exit code) on N tenants halts the "
                + "release: no process starts another tenant (default 3; env PGSHIFT_FLEET_HALT_AFTER)")
        String haltAfter;

        @Override
        public void addTo(Map<Setting, String> flags) {
            SettingFlags.put(flags, Setting.TENANTS_SQL, tenantsSql);
            SettingFlags.put(flags, Setting.TENANTS_FILE, tenantsFile);
            SettingFlags.put(flags, Setting.SHARDS, shards);
            SettingFlags.put(flags, Setting.WAVES, waves);
            SettingFlags.put(flags, Setting.HALT_AFTER, haltAfter);
        }
    }

    static final class Shard implements SettingFlags {
        @Option(names = "--shard", paramLabel = "N", description = "this process's shard, 0 to shards-1 (env JOB_COMPLETION_INDEX, which "
                + "Kubernetes sets in an Indexed Job's pods)")
        String shard;

        @Option(names = "--tenant-passwords", paramLabel = "DIR", description = "directory of tenant passwords, e.g. a mounted Secret: a "
                + "file named as the tenant, else the file _default; else the control connection's password where the tenant's user and "
                + "server are its own, else a password file (PGPASSFILE, ~/.pgpass) (env PGSHIFT_FLEET_TENANT_PASSWORDS)")
        String tenantPasswords;

        @Option(names = "--tenants-at-once", paramLabel = "N", description = "how many of its tenants this shard runs at once, each "
                + "with its own sessions and pg_dump (default 1: one after another; env PGSHIFT_FLEET_TENANTS_AT_ONCE)")
        String tenantsAtOnce;

        @Option(names = "--wave-wait", paramLabel = "DURATION", description = "how long to wait for the wave before to end on the other "
                + "shards, then exit 75 (default 1h; env PGSHIFT_FLEET_WAVE_WAIT)")
        String waveWait;

        @Override
        public void addTo(Map<Setting, String> flags) {
            SettingFlags.put(flags, Setting.SHARD, shard);
            SettingFlags.put(flags, Setting.TENANT_PASSWORDS, tenantPasswords);
            SettingFlags.put(flags, Setting.WAVE_WAIT, waveWait);
            SettingFlags.put(flags, Setting.TENANTS_AT_ONCE, tenantsAtOnce);
        }
    }
}
