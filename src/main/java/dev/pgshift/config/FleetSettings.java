package dev.pgshift.config;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The settings of a fleet command (pgshift fleet plan, run, status): the release, where its tenants come from, how they
 * are dealt into shards and waves, when the release halts.
 *
 * @param shard this process's shard (JOB_COMPLETION_INDEX in an Indexed Job); null when not given
 */
public record FleetSettings(String release, String tenantsSql, Path tenantsFile, int shards, Integer shard, String waves, int haltAfter,
        Path tenantPasswords, Duration waveWait, int tenantsAtOnce) {

    /** A release id, a tenant name: what a Kubernetes Secret key and a file name can be. */
    public static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,62}";

    /** Null when the command takes no fleet settings (every command but fleet's). */
    static FleetSettings of(Map<Setting, String> v) {
        if (!v.containsKey(Setting.RELEASE)) {
            return null;
        }
        String release = v.get(Setting.RELEASE).trim();
        if (!release.matches(NAME)) {
            throw new PgshiftException(ExitCode.CONFIG, "bad release id '" + release + "' for " + Setting.RELEASE.displayName()
                    + ": expected a letter or digit, then letters, digits, '.', '_' or '-', at most 63 in all (e.g. 2024-06-01.1 or the "
                    + "chart's release revision)");
        }
        int shards = SettingValues.parseCount(Setting.SHARDS, v.get(Setting.SHARDS));
        if (shards < 1 || shards > 10_000) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + v.get(Setting.SHARDS) + "' for " + Setting.SHARDS.displayName()
                    + ": expected 1 to 10000 (the Indexed Job's completions)");
        }
        Integer shard = null;
        if (v.containsKey(Setting.SHARD)) {
            String s = v.get(Setting.SHARD).trim();
            if (!s.matches("[0-9]{1,5}") || Integer.parseInt(s) >= shards) {
                throw new PgshiftException(ExitCode.CONFIG, "bad shard '" + s + "' for " + Setting.SHARD.displayName() + ": expected 0 to "
                        + (shards - 1) + " with " + shards + " shard(s) (" + Setting.SHARDS.displayName() + "; in Kubernetes, completions and "
                        + "PGSHIFT_FLEET_SHARDS must be equal)");
            }
            shard = Integer.parseInt(s);
        }
        int haltAfter = SettingValues.parseCount(Setting.HALT_AFTER, v.get(Setting.HALT_AFTER));
        if (haltAfter < 1) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + v.get(Setting.HALT_AFTER) + "' for " + Setting.HALT_AFTER.displayName()
                    + ": expected 1 or more tenants");
        }
        waveParts(v.get(Setting.WAVES));
        int atOnce = SettingValues.parseCount(Setting.TENANTS_AT_ONCE, v.get(Setting.TENANTS_AT_ONCE));
        if (atOnce < 1 || atOnce > 32) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + v.get(Setting.TENANTS_AT_ONCE) + "' for "
                    + Setting.TENANTS_AT_ONCE.displayName() + ": expected 1 to 32 (each tenant run takes two sessions and, backing up, a pg_dump)");
        }
        Path passwords = v.containsKey(Setting.TENANT_PASSWORDS) ? Path.of(v.get(Setting.TENANT_PASSWORDS)) : null;
        if (passwords != null && !Files.isDirectory(passwords)) {
            throw new PgshiftException(ExitCode.CONFIG, "no directory " + passwords + " (" + Setting.TENANT_PASSWORDS.displayName()
                    + "): give the directory a Secret is mounted at, a file per tenant named as the tenant (or _default) holding its password");
        }
        if (v.containsKey(Setting.TENANTS_SQL) && v.containsKey(Setting.TENANTS_FILE)) {
            throw new PgshiftException(ExitCode.CONFIG, "both " + Setting.TENANTS_SQL.displayName() + " and " + Setting.TENANTS_FILE.displayName()
                    + " are given: the tenants come from one of them");
        }
        return new FleetSettings(release, v.get(Setting.TENANTS_SQL), v.containsKey(Setting.TENANTS_FILE) ? Path.of(v.get(Setting.TENANTS_FILE)) : null,
                shards, shard, v.get(Setting.WAVES).trim(), haltAfter, passwords,
                SettingValues.secondToDay(Setting.WAVE_WAIT, v.get(Setting.WAVE_WAIT), ", e.g. 1h"), atOnce);
    }

    /** The wave sizes for {@code total} tenants in order; the last wave takes what the spec leaves; no wave is empty. */
    public List<Integer> waveSizes(int total) {
        List<Integer> sizes = new ArrayList<>();
        int left = total;
        for (String part : waveParts(waves)) {
            if (left == 0) {
                break;
            }
            int n;
            if (part.equals("rest")) {
                n = left;
            } else if (part.endsWith("%")) {
                n = (int) Math.max(1, Math.ceil(total * Double.parseDouble(part.substring(0, part.length() - 1)) / 100.0));
            } else {
                n = Integer.parseInt(part);
            }
            n = Math.min(n, left);
            sizes.add(n);
            left -= n;
        }
        if (left > 0) {
            sizes.add(left);
        }
        return sizes;
    }

    private static List<String> waveParts(String spec) {
        List<String> parts = new ArrayList<>();
        String[] split = spec.trim().split("\\s*,\\s*");
        for (int i = 0; i < split.length; i++) {
            String p = split[i].toLowerCase(java.util.Locale.ROOT);
            boolean ok = p.equals("rest") ? i == split.length - 1
                    : p.matches("[1-9][0-9]{0,5}") || p.matches("([1-9][0-9]?|100)%");
            if (!ok) {
                throw new PgshiftException(ExitCode.CONFIG, "bad waves '" + spec + "' for " + Setting.WAVES.displayName() + ": expected sizes "
                        + "in tenant order, each a count (1) or a percentage of all tenants (10%), the last one may be rest, e.g. "
                        + "1,10%,rest (a canary, then 10%, then the rest)");
            }
            parts.add(p);
        }
        return parts;
    }
}
