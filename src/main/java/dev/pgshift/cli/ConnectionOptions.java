package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import dev.pgshift.config.Settings;
import dev.pgshift.config.SettingsResolver;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The connection settings every database command takes, with --config and --verbose; resolves all settings: flags win over environment and the settings file. */
final class ConnectionOptions implements SettingFlags {

    @Option(names = "--url", paramLabel = "URL", description = "JDBC URL (jdbc:postgresql://host:5432/db) or postgresql:// URI, "
            + "without a password (env PGSHIFT_URL)")
    String url;

    @Option(names = "--host", paramLabel = "HOST", description = "server host (env PGHOST; default localhost)")
    String host;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "server port (env PGPORT; default 5432)")
    String port;

    @Option(names = {"-d", "--database"}, paramLabel = "NAME", description = "database (env PGDATABASE; default: the user name)")
    String database;

    @Option(names = {"-U", "--user"}, paramLabel = "USER", description = "user (env PGUSER)")
    String user;

    @Option(names = "--password-file", paramLabel = "FILE", description = "file holding the password, e.g. a mounted Secret "
            + "(env PGSHIFT_PASSWORD_FILE). Or set PGPASSWORD. There is no password flag: flags are visible in the process list.")
    String passwordFile;

    @Option(names = "--sslmode", paramLabel = "MODE", description = "disable, allow, prefer, require, verify-ca, verify-full (env PGSSLMODE)")
    String sslMode;

    @Option(names = "--sslrootcert", paramLabel = "FILE", description = "CA certificate for verify-ca/verify-full (env PGSSLROOTCERT)")
    String sslRootCert;

    @Option(names = "--schema", paramLabel = "NAME", description = "schema of the migration history table (default public; env PGSHIFT_SCHEMA)")
    String schema;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", description = "wait this long for the database to accept "
            + "connections, then exit 75 (default 60s; env PGSHIFT_CONNECT_TIMEOUT)")
    String connectTimeout;

    @Option(names = "--network-timeout", paramLabel = "DURATION", description = "end the run (exit 75) when the server has answered "
            + "nothing for this long: a half-open connection or a partitioned network; a long, healthy statement is never cut "
            + "(default 60s; env PGSHIFT_NETWORK_TIMEOUT)")
    String networkTimeout;

    @Option(names = "--config", paramLabel = "FILE", description = "settings file (key=value, keys as the long flags without dashes; "
            + "env PGSHIFT_CONFIG)")
    Path config;

    @Option(names = "--verbose", description = "print stack traces with errors")
    boolean verbose;

    /** All settings: these flags, those of the command's other option groups, the environment and the settings file. */
    Settings resolve(SettingFlags... groups) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        addTo(flags);
        for (SettingFlags g : groups) {
            g.addTo(flags);
        }
        java.util.Set<Setting> used = java.util.EnumSet.copyOf(flags.keySet());
        flags.values().removeIf(java.util.Objects::isNull);
        return new SettingsResolver(System.getenv()).resolve(flags, config, used);
    }

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.URL, url);
        SettingFlags.put(flags, Setting.HOST, host);
        SettingFlags.put(flags, Setting.PORT, port);
        SettingFlags.put(flags, Setting.DATABASE, database);
        SettingFlags.put(flags, Setting.USER, user);
        SettingFlags.put(flags, Setting.PASSWORD_FILE, passwordFile);
        SettingFlags.put(flags, Setting.SSL_MODE, sslMode);
        SettingFlags.put(flags, Setting.SSL_ROOT_CERT, sslRootCert);
        SettingFlags.put(flags, Setting.SCHEMA, schema);
        SettingFlags.put(flags, Setting.CONNECT_TIMEOUT, connectTimeout);
        SettingFlags.put(flags, Setting.NETWORK_TIMEOUT, networkTimeout);
    }
}
