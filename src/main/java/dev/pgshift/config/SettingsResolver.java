package dev.pgshift.config;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.source.Versions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Resolves settings from flags, environment and a settings file, in that order of precedence, and validates them up
 * front with messages that name the setting. A URL counts at the level it was given at; a single setting given at the
 * same level overrides the URL's part.
 */
public final class SettingsResolver {

    /** Environment variable naming the settings file, when no --config flag is given. */
    public static final String CONFIG_ENV = "PGSHIFT_CONFIG";

    private static final Set<String> SSL_MODES = Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

    private final Map<String, String> env;

    public SettingsResolver(Map<String, String> env) {
        this.env = env;
    }

    /** Prisma's convention for the connection URL: read when PGSHIFT_URL is not set. */
    public static final String DATABASE_URL_ENV = "DATABASE_URL";

    /** The settings a connection URL states: where it and a separate setting disagree, pgshift refuses. */
    private static final List<Setting> URL_PARTS = List.of(Setting.HOST, Setting.PORT, Setting.DATABASE, Setting.USER, Setting.PASSWORD,
            Setting.SSL_MODE, Setting.SSL_ROOT_CERT);

    /**
     * Whether a URL's part and a separate setting say the same: host names and sslmode whatever their case (DNS and
     * libpq read them so); database and user names, passwords and file paths exactly (PostgreSQL's names are
     * case-sensitive: database App is not app).
     */
    private static boolean sameValue(Setting s, String viaUrl, String direct) {
        return s == Setting.HOST || s == Setting.SSL_MODE ? viaUrl.equalsIgnoreCase(direct) : viaUrl.equals(direct);
    }

    /**
     * @param flags      settings given on the command line (absent ones are not in the map)
     * @param configFile the --config flag, or null
     */
    public Settings resolve(Map<Setting, String> flags, Path configFile) {
        return resolve(flags, configFile, java.util.EnumSet.allOf(Setting.class));
    }

    /**
     * @param used the settings the command acts on: the environment's and the settings file's others are ignored (a
     *             PGSHIFT_BACKUP_KEEP meant for run does not stop history); the connection's are always used
     */
    public Settings resolve(Map<Setting, String> flags, Path configFile, Set<Setting> used) {
        Map<Setting, String> envGiven = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String v = s.env() == null ? null : env.get(s.env());
            if (v != null && !v.isEmpty()) {
                envGiven.put(s, v);
            }
        }
        String envUrlName = Setting.URL.env();
        if (!envGiven.containsKey(Setting.URL) && env.get(DATABASE_URL_ENV) != null && !env.get(DATABASE_URL_ENV).isEmpty()) {
            envGiven.put(Setting.URL, env.get(DATABASE_URL_ENV));
            envUrlName = DATABASE_URL_ENV;
        }
        Path file = configFile != null ? configFile : (env.get(CONFIG_ENV) != null ? Path.of(env.get(CONFIG_ENV)) : null);
        Map<Setting, String> fileGiven = SettingFiles.readFile(file);
        List<Map<Setting, String>> given = List.of(flags, envGiven, fileGiven);
        List<String> urlNames = List.of("--url", envUrlName, "'url' in " + file);

        // The URL of the highest layer that has one; a URL is one unit, never mixed with separate host/port/... settings.
        Map<Setting, String> fromUrl = Map.of();
        String urlName = null;
        for (int k = 0; k < given.size(); k++) {
            if (given.get(k).containsKey(Setting.URL)) {
                urlName = urlNames.get(k);
                fromUrl = ConnectionUrl.parse(given.get(k).get(Setting.URL), urlName);
                break;
            }
        }
        if (flags.containsKey(Setting.URL) && (fromUrl.containsKey(Setting.PASSWORD) || namesAPassword(flags.get(Setting.URL)))) {
            throw new PgshiftException(ExitCode.CONFIG, "--url carries a password, which every user of this machine can read "
                    + "in the process list: drop it from the URL and give it in PGPASSWORD or --password-file");
        }
        Map<Setting, String> v = new EnumMap<>(Setting.class);
        String searchPath = null;
        for (Setting s : Setting.values()) {
            if (s == Setting.URL) {
                continue;
            }
            String direct = null;
            int layer = -1;
            boolean ignored = !used.contains(s) && !URL_PARTS.contains(s) && s != Setting.PASSWORD_FILE;
            for (int k = ignored ? given.size() : 0; k < given.size() && direct == null; k++) {
                if (given.get(k).containsKey(s)) {
                    direct = given.get(k).get(s);
                    layer = k;
                }
            }
            String viaUrl = fromUrl.get(s);
            if (viaUrl != null && direct != null && URL_PARTS.contains(s) && !sameValue(s, viaUrl, direct.trim())) {
                String named = source(s, layer, file);
                throw new PgshiftException(ExitCode.CONFIG, s == Setting.PASSWORD
                        ? named + " and the password in " + urlName + " differ: give the password in one place only"
                        : named + " says '" + direct + "' but " + urlName + " names " + s.fileKey() + " '" + viaUrl + "': a connection URL "
                                + "is one unit and pgshift does not combine it with separate settings that disagree. Remove one of them.");
            }
            String value;
            if (s == Setting.SCHEMA) {
                // A URL's schema (Prisma's ?schema=, JDBC's currentSchema=) is where the application's objects live: it names
                // the history schema and, as Prisma makes it, the session's search_path; a list (currentSchema=app,public, as
                // pgjdbc takes it) puts the history in its first. A schema given on its own names the history only; one that
                // names another schema than the URL is refused, like the URL's other parts.
                String urlSchema = viaUrl == null ? null : viaUrl.contains(",") ? viaUrl.substring(0, viaUrl.indexOf(',')).trim() : viaUrl;
                if (urlSchema != null && direct != null && !urlSchema.equals(direct.trim())) {
                    throw new PgshiftException(ExitCode.CONFIG, source(s, layer, file) + " says '" + direct + "' but " + urlName
                            + " names schema '" + urlSchema + "': a connection URL is one unit and pgshift does not combine it with "
                            + "separate settings that disagree. Remove one of them.");
                }
                value = urlSchema != null ? urlSchema : direct;
                searchPath = viaUrl;
            } else {
                value = viaUrl != null ? viaUrl : direct;
            }
            if (value == null) {
                value = s == Setting.TERMINATION_LOG ? defaultTerminationLog() : s.defaultValue();
            }
            if (value != null) {
                v.put(s, value);
            }
        }
        return build(v, searchPath);
    }

    /** Set by Kubernetes in every container; the kubelet reads the termination message of a pod's containers only. */
    public static final String KUBERNETES_ENV = "KUBERNETES_SERVICE_HOST";

    /**
     * The Kubernetes termination message path when running in a pod, else none: outside Kubernetes, a run as root would
     * write /dev/termination-log on the host and a run as anyone else would fail to. Given explicitly, it is written anywhere.
     */
    private String defaultTerminationLog() {
        String k8s = env.get(KUBERNETES_ENV);
        return k8s != null && !k8s.isEmpty() ? Setting.TERMINATION_LOG.defaultValue() : null;
    }

    /** How a message names where a setting came from. */
    private static String source(Setting s, int layer, Path file) {
        return switch (layer) {
            case 0 -> s.flag();
            case 1 -> s.env();
            default -> "'" + s.fileKey() + "' in " + file;
        };
    }

    private Settings build(Map<Setting, String> v, String searchPath) {
        ConnectionSettings connection = connection(v, searchPath, null);
        List<Path> dirs = SettingValues.directories(Setting.MIGRATIONS, v.get(Setting.MIGRATIONS));
        // The application's own migrations belong to the application's image and the demo: a directory given at run
        // time replaces them unless --bundled=true asks for both.
        boolean bundled = v.containsKey(Setting.BUNDLED) ? SettingValues.parseBoolean(Setting.BUNDLED, v.get(Setting.BUNDLED)) : dirs.isEmpty();
        String schema = schema(v.get(Setting.SCHEMA), Setting.SCHEMA.displayName());
        if (v.containsKey(Setting.ADOPT_THROUGH) && !Versions.valid(v.get(Setting.ADOPT_THROUGH))) {
            throw new PgshiftException(ExitCode.CONFIG, "bad version '" + v.get(Setting.ADOPT_THROUGH) + "' for "
                    + Setting.ADOPT_THROUGH.displayName() + ": " + Versions.EXPECTED);
        }
        return new Settings(connection, dirs, bundled,
                SettingValues.parseDuration(Setting.CONNECT_TIMEOUT, v.get(Setting.CONNECT_TIMEOUT)),
                SettingValues.networkTimeout(v.get(Setting.NETWORK_TIMEOUT)),
                SettingValues.parseDuration(Setting.LOCK_WAIT, v.get(Setting.LOCK_WAIT)), schema,
                SettingValues.parseDuration(Setting.LOCK_TIMEOUT, v.get(Setting.LOCK_TIMEOUT)), SettingValues.parseCount(Setting.LOCK_RETRIES, v.get(Setting.LOCK_RETRIES)),
                SettingValues.parseDuration(Setting.PROGRESS_INTERVAL, v.get(Setting.PROGRESS_INTERVAL)), backup(v),
                new VerifySettings(SettingValues.directories(Setting.VERIFY_SCRIPTS, v.get(Setting.VERIFY_SCRIPTS)), bundled,
                        SettingValues.names(v.get(Setting.ALLOW_INVALID_INDEX)), SettingValues.names(v.get(Setting.ALLOW_NOT_VALID))),
                v.containsKey(Setting.REPORT_FILE) ? Path.of(v.get(Setting.REPORT_FILE)) : null,
                v.getOrDefault(Setting.TERMINATION_LOG, "").isBlank() ? null : Path.of(v.get(Setting.TERMINATION_LOG)),
                v.get(Setting.ADOPT_THROUGH), SettingValues.parseBoolean(Setting.ADOPT_IGNORE_CHECKSUMS, v.get(Setting.ADOPT_IGNORE_CHECKSUMS)),
                SettingValues.parseBoolean(Setting.OUT_OF_ORDER, v.get(Setting.OUT_OF_ORDER)),
                dev.pgshift.source.LintSettings.parse(v.get(Setting.LINT), Setting.LINT.displayName(), v.get(Setting.LINT_THRESHOLDS),
                        Setting.LINT_THRESHOLDS.displayName()),
                FleetSettings.of(v));
    }

    /** A schema for the migration history: a plain PostgreSQL name, not one of PostgreSQL's or pgshift's own. */
    private static String schema(String schema, String named) {
        if (!schema.matches("[A-Za-z_][A-Za-z0-9_$]{0,62}")) {
            throw new PgshiftException(ExitCode.CONFIG, "bad schema name '" + schema + "' for " + named
                    + ": expected a letter or _, then letters, digits, _ or $, at most 63 in all (PostgreSQL's limit)");
        }
        if (schema.equalsIgnoreCase(OwnTables.SCHEMA) || schema.toLowerCase(java.util.Locale.ROOT).startsWith("pg_")
                || schema.equalsIgnoreCase("information_schema")) {
            throw new PgshiftException(ExitCode.CONFIG, "schema '" + schema + "' (" + named + ") is reserved: "
                    + (schema.equalsIgnoreCase(OwnTables.SCHEMA) ? "it holds pgshift's run history, which reset must never "
                            + "drop and migrations must not mix with" : "it belongs to PostgreSQL") + "; manage the application's tables in another "
                    + "schema (default public)");
        }
        return schema;
    }

    /** The connection settings of {@code v}: host, port, database, user, password (or its file), sslmode and CA. */
    private static ConnectionSettings connection(Map<Setting, String> v, String searchPath, String tenant) {
        String user = v.getOrDefault(Setting.USER, System.getProperty("user.name"));
        String database = v.getOrDefault(Setting.DATABASE, user);
        int port = SettingValues.parsePort(v.get(Setting.PORT));
        String sslMode = v.get(Setting.SSL_MODE).toLowerCase(Locale.ROOT);
        if (!SSL_MODES.contains(sslMode)) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + sslMode + "' for " + Setting.SSL_MODE.displayName()
                    + ": expected one of disable, allow, prefer, require, verify-ca, verify-full");
        }
        Path rootCert = null;
        if (v.containsKey(Setting.SSL_ROOT_CERT)) {
            rootCert = Path.of(v.get(Setting.SSL_ROOT_CERT));
            if (!Files.isReadable(rootCert)) {
                throw new PgshiftException(ExitCode.CONFIG, "cannot read the CA file " + rootCert + " given by "
                        + Setting.SSL_ROOT_CERT.displayName());
            }
        }
        if (sslMode.equals("require") && rootCert != null) {
            // libpq (pg_dump, pg_restore) checks the chain against a given CA file under require, as verify-ca does; pgjdbc
            // would not: pgshift's own sessions must not be weaker than its children's.
            sslMode = "verify-ca";
        }
        String password = v.get(Setting.PASSWORD);
        if (v.containsKey(Setting.PASSWORD_FILE)) {
            password = SettingFiles.readPasswordFile(Path.of(v.get(Setting.PASSWORD_FILE)));
        }
        String host = v.get(Setting.HOST);
        if (host.startsWith("/") || host.startsWith("@")) {
            throw new PgshiftException(ExitCode.CONFIG, "host '" + host + "' (" + Setting.HOST.displayName() + ") is a Unix-socket directory, "
                    + "which libpq (psql) accepts: pgshift connects over TCP, so give the server's host name or address (e.g. localhost for a "
                    + "server on this machine, which must listen on TCP)");
        }
        return new ConnectionSettings(host, port, database, user, password, sslMode, rootCert, searchPath, tenant);
    }

    /** Whether a URL's query has a password parameter in any case (pgjdbc ignores PASSWORD=, but the text is still a secret). */
    private static boolean namesAPassword(String url) {
        String query = url.contains("?") ? url.substring(url.indexOf('?') + 1).toLowerCase(Locale.ROOT) : "";
        return java.util.Arrays.stream(query.split("&")).anyMatch(p -> p.startsWith("password="));
    }

    /**
     * The parts of a tenant's URL; refused (exit 3) when it is no URL, names no database, or holds a password: the tenant
     * list is stored in the control database, which must hold none.
     */
    public static Map<Setting, String> tenantUrl(String tenant, String url) {
        String origin = "the URL of tenant '" + tenant + "'";
        Map<Setting, String> fromUrl = ConnectionUrl.parse(url, origin);
        if (fromUrl.containsKey(Setting.PASSWORD) || namesAPassword(url)) {
            throw new PgshiftException(ExitCode.CONFIG, origin + " holds a password: the tenant list is stored in the control database, "
                    + "which must hold none; remove it from the URL and give it as the file " + tenant + " (or _default) in "
                    + Setting.TENANT_PASSWORDS.displayName());
        }
        if (!fromUrl.containsKey(Setting.DATABASE)) {
            throw new PgshiftException(ExitCode.CONFIG, origin + " names no database: give it as postgresql://host:5432/DATABASE");
        }
        return fromUrl;
    }

    /**
     * The settings of one tenant of a fleet: {@code url} (a JDBC URL or postgresql:// URI, which must hold no password)
     * names its server, database, user and, optionally, sslmode, CA and schema; what it leaves out is the fleet's own
     * (the control connection's user, sslmode and CA, the --schema); the password is the file named as the tenant in the
     * fleet's password directory (--tenant-passwords), else its file _default, else the control connection's where the
     * tenant's role and server are the control connection's, else none (a .pgpass, trust).
     */
    public static Settings forTenant(Settings fleet, String tenant, String url) {
        Map<Setting, String> fromUrl = tenantUrl(tenant, url);
        String origin = "the URL of tenant '" + tenant + "'";
        ConnectionSettings base = fleet.connection();
        Map<Setting, String> v = new java.util.EnumMap<>(Setting.class);
        v.put(Setting.HOST, "localhost");
        v.put(Setting.PORT, "5432");
        v.put(Setting.USER, base.user());
        v.put(Setting.SSL_MODE, base.sslMode());
        if (base.sslRootCert() != null) {
            v.put(Setting.SSL_ROOT_CERT, base.sslRootCert().toString());
        }
        v.putAll(fromUrl);
        v.remove(Setting.SCHEMA);
        Path dir = fleet.fleet() == null ? null : fleet.fleet().tenantPasswords();
        for (String key : dir == null ? List.<String>of() : List.of(tenant, "_default")) {
            if (Files.isRegularFile(dir.resolve(key))) {
                v.put(Setting.PASSWORD, SettingFiles.readPasswordFile(dir.resolve(key), Setting.TENANT_PASSWORDS));
                break;
            }
        }
        // A role's password is the server's, not the database's: the control connection's role on the same server has it.
        if (!v.containsKey(Setting.PASSWORD) && base.password() != null && v.get(Setting.USER).equals(base.user())
                && v.get(Setting.HOST).equalsIgnoreCase(base.host()) && SettingValues.parsePort(v.get(Setting.PORT)) == base.port()) {
            v.put(Setting.PASSWORD, base.password());
        }
        String urlSchema = fromUrl.get(Setting.SCHEMA);
        String first = urlSchema == null ? null : urlSchema.contains(",") ? urlSchema.substring(0, urlSchema.indexOf(',')).trim() : urlSchema;
        return fleet.forTenant(connection(v, urlSchema, tenant), first == null ? fleet.schema() : schema(first, origin + "'s schema"));
    }

    private static BackupSettings backup(Map<Setting, String> v) {
        BackupSettings.Mode mode = SettingValues.parseEnum(Setting.BACKUP, v.get(Setting.BACKUP), BackupSettings.Mode.class);
        BackupSettings.Scope scope = SettingValues.parseEnum(Setting.BACKUP_SCOPE, v.get(Setting.BACKUP_SCOPE), BackupSettings.Scope.class);
        String keepValue = v.get(Setting.BACKUP_KEEP);
        if (!keepValue.trim().matches("[0-9]{1,9}") || Integer.parseInt(keepValue.trim()) < 1) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + keepValue + "' for " + Setting.BACKUP_KEEP.displayName()
                    + ": expected a whole number >= 1 (the backup just made is always kept; --backup=never makes none)");
        }
        int keep = Integer.parseInt(keepValue.trim());
        Duration maxAge = v.containsKey(Setting.BACKUP_MAX_AGE) ? SettingValues.parseDuration(Setting.BACKUP_MAX_AGE, v.get(Setting.BACKUP_MAX_AGE)) : null;
        String methodValue = v.get(Setting.BACKUP_METHOD);
        BackupSettings.Method method = SettingValues.parseEnum(Setting.BACKUP_METHOD, methodValue, BackupSettings.Method.class);
        String aboveValue = v.get(Setting.RESTORE_POINT_ABOVE);
        long above = dev.pgshift.Sizes.parse(aboveValue);
        if (above <= 0) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + aboveValue + "' for " + Setting.RESTORE_POINT_ABOVE.displayName()
                    + ": expected a size above 0 with its unit, e.g. 10GB or 500MB (B, kB, MB, GB, TB)");
        }
        Duration archiveWait = SettingValues.secondToDay(Setting.ARCHIVE_WAIT, v.get(Setting.ARCHIVE_WAIT), ", e.g. 2m");
        return new BackupSettings(mode, Path.of(v.get(Setting.BACKUP_DIR)), keep, maxAge, scope, v.get(Setting.PG_DUMP),
                SettingValues.parseBoolean(Setting.VERIFY_RESTORE, v.get(Setting.VERIFY_RESTORE)), method, above, archiveWait);
    }

    /** Accepts 500ms, 30s, 5m, 1h, a plain number of seconds, or ISO-8601 (PT1M). */
}
