package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.Map;
import picocli.CommandLine.Option;

/** Which pg_dump (and pg_restore beside it) to use: the commands that back up or restore. */
final class PgDumpOption implements SettingFlags {

    @Option(names = "--pg-dump", paramLabel = "PATH", description = "pg_dump to use, of the server's major version or newer; "
            + "pg_restore is taken from beside it (default: pg_dump on PATH; env PGSHIFT_PG_DUMP)")
    String pgDump;

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.PG_DUMP, pgDump);
    }
}
