package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.Map;
import picocli.CommandLine.Option;

/** What counts as pending and what is adopted: the commands that plan or apply migrations. */
final class PendingOptions implements SettingFlags {

    @Option(names = "--out-of-order", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "also apply pending migrations older than the newest applied one (a branch merged late), as Prisma does; "
                    + "without it they stop the run, named (env PGSHIFT_OUT_OF_ORDER)")
    String outOfOrder;

    @Option(names = "--adopt-through", paramLabel = "VERSION", description = "moving from prisma migrate deploy: also record pending "
            + "migrations up to VERSION as applied without running them (manual files the team applied by hand; env PGSHIFT_ADOPT_THROUGH)")
    String adoptThrough;

    @Option(names = "--adopt-ignore-checksums", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "adopt Prisma-applied migrations even when their files changed since Prisma applied them "
                    + "(env PGSHIFT_ADOPT_IGNORE_CHECKSUMS)")
    String adoptIgnoreChecksums;

    @Option(names = "--lint", paramLabel = "warn|enforce|off", description = "the lint (\"plan for downtime\"), weighed with the live tables' "
            + "rows and size: warn (default: findings in plan, the log and the report), enforce (a finding not allowed on its statement with "
            + "'-- pgshift:allow RULE reason=\"...\"' refuses the run before the backup, exit 3), off (env PGSHIFT_LINT)")
    String lint;

    @Option(names = "--lint-threshold", paramLabel = "RULE=LIMIT", split = ",", description = "from which size a rule's finding counts: "
            + "rows, a size on disk, or both (add-check=1000000/1GB, create-index=50000, change-type=500MB); lock-queue takes a transaction "
            + "age (lock-queue=30s). Default 100000 rows or 100MB, lock-queue 1m. Repeatable (env PGSHIFT_LINT_THRESHOLD, comma-separated)")
    java.util.List<String> lintThresholds;

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.OUT_OF_ORDER, outOfOrder);
        SettingFlags.put(flags, Setting.ADOPT_THROUGH, adoptThrough);
        SettingFlags.put(flags, Setting.ADOPT_IGNORE_CHECKSUMS, adoptIgnoreChecksums);
        SettingFlags.put(flags, Setting.LINT, lint);
        SettingFlags.put(flags, Setting.LINT_THRESHOLDS, lintThresholds == null ? null : String.join(",", lintThresholds));
    }
}
