package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where the migrations come from: the commands that read migration files. */
final class MigrationOptions implements SettingFlags {

    @Option(names = {"-m", "--migrations"}, paramLabel = "DIR", description = "a directory of migrations (e.g. a mounted ConfigMap); "
            + "replaces the bundled ones unless --bundled=true; repeatable, a directory given twice is read once (env PGSHIFT_MIGRATIONS, comma-separated)")
    List<String> migrations;

    @Option(names = "--bundled", paramLabel = "true|false", description = "include the migrations bundled in pgshift: by default only when no --migrations directory is given; "
            + "true with --migrations runs both (env PGSHIFT_BUNDLED)")
    String bundled;

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.MIGRATIONS, SettingFlags.joined(migrations));
        SettingFlags.put(flags, Setting.BUNDLED, bundled);
    }
}
