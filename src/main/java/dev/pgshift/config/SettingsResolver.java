package dev.pgshift.config;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.source.Versions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

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

    /**
     * @param flags      settings given on the command line (absent ones are not in the map)
     * @param configFile the --config flag, or null
     */
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
        Map<Setting, String> fileGiven = readFile(file);
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
        if (flags.containsKey(Setting.URL) && fromUrl.containsKey(Setting.PASSWORD)) {
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
        String user = v.getOrDefault(Setting.USER, System.getProperty("user.name"));
        String database = v.getOrDefault(Setting.DATABASE, user);
        int port = parsePort(v.get(Setting.PORT));
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
            password = readPasswordFile(Path.of(v.get(Setting.PASSWORD_FILE)));
        }
        ConnectionSettings connection = new ConnectionSettings(v.get(Setting.HOST), port, database, user, password, sslMode, rootCert,
                searchPath);

        List<Path> dirs = directories(Setting.MIGRATIONS, v.get(Setting.MIGRATIONS));
        // The application's own migrations belong to the application's image and the demo: a directory given at run
        // time replaces them unless --bundled=true asks for both.
        boolean bundled = v.containsKey(Setting.BUNDLED) ? parseBoolean(Setting.BUNDLED, v.get(Setting.BUNDLED)) : dirs.isEmpty();
        String schema = v.get(Setting.SCHEMA);
        if (!schema.matches("[A-Za-z_][A-Za-z0-9_$]{0,62}")) {
            throw new PgshiftException(ExitCode.CONFIG, "bad schema name '" + schema + "' for " + Setting.SCHEMA.displayName()
                    + ": expected a letter or _, then letters, digits, _ or $, at most 63 in all (PostgreSQL's limit)");
        }
        if (schema.equalsIgnoreCase(OwnTables.SCHEMA) || schema.toLowerCase(java.util.Locale.ROOT).startsWith("pg_")
                || schema.equalsIgnoreCase("information_schema")) {
            throw new PgshiftException(ExitCode.CONFIG, "schema '" + schema + "' (" + Setting.SCHEMA.displayName() + ") is reserved: "
                    + (schema.equalsIgnoreCase(OwnTables.SCHEMA) ? "it holds pgshift's run history, which reset must never "
                            + "drop and migrations must not mix with" : "it belongs to PostgreSQL") + "; manage the application's tables in another "
                    + "schema (default public)");
        }
        if (v.containsKey(Setting.ADOPT_THROUGH) && !Versions.valid(v.get(Setting.ADOPT_THROUGH))) {
            throw new PgshiftException(ExitCode.CONFIG, "bad version '" + v.get(Setting.ADOPT_THROUGH) + "' for "
                    + Setting.ADOPT_THROUGH.displayName() + ": " + Versions.EXPECTED);
        }
        return new Settings(connection, dirs, bundled,
                parseDuration(Setting.CONNECT_TIMEOUT, v.get(Setting.CONNECT_TIMEOUT)),
                networkTimeout(v.get(Setting.NETWORK_TIMEOUT)),
                parseDuration(Setting.LOCK_WAIT, v.get(Setting.LOCK_WAIT)), schema,
                parseDuration(Setting.LOCK_TIMEOUT, v.get(Setting.LOCK_TIMEOUT)), parseCount(Setting.LOCK_RETRIES, v.get(Setting.LOCK_RETRIES)),
                parseDuration(Setting.PROGRESS_INTERVAL, v.get(Setting.PROGRESS_INTERVAL)), backup(v),
                new VerifySettings(directories(Setting.VERIFY_SCRIPTS, v.get(Setting.VERIFY_SCRIPTS)), bundled,
                        names(v.get(Setting.ALLOW_INVALID_INDEX)), names(v.get(Setting.ALLOW_NOT_VALID))),
                v.containsKey(Setting.REPORT_FILE) ? Path.of(v.get(Setting.REPORT_FILE)) : null,
                v.getOrDefault(Setting.TERMINATION_LOG, "").isBlank() ? null : Path.of(v.get(Setting.TERMINATION_LOG)),
                v.get(Setting.ADOPT_THROUGH), parseBoolean(Setting.ADOPT_IGNORE_CHECKSUMS, v.get(Setting.ADOPT_IGNORE_CHECKSUMS)),
                parseBoolean(Setting.OUT_OF_ORDER, v.get(Setting.OUT_OF_ORDER)));
    }

    /**
     * The network timeout: 1s to 24h. It cannot be switched off (a run must never hang for good on a server that stopped
     * answering); a long, healthy statement is never cut by it, so more than a day buys nothing.
     */
    private static Duration networkTimeout(String value) {
        Duration d = parseDuration(Setting.NETWORK_TIMEOUT, value);
        if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofHours(24)) > 0) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + value + "' for " + Setting.NETWORK_TIMEOUT.displayName() + ": "
                    + "between 1s and 24h (a run must notice a server that stopped answering; a long, healthy statement is never cut by it)");
        }
        return d;
    }

    private static java.util.Set<String> names(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(java.util.stream.Collectors.toSet());
    }

    private static List<Path> directories(Setting s, String value) {
        List<Path> dirs = new ArrayList<>();
        if (value == null) {
            return dirs;
        }
        for (String d : value.split(",")) {
            if (d.isBlank()) {
                continue;
            }
            Path p = Path.of(d.trim());
            if (!Files.isDirectory(p)) {
                throw new PgshiftException(ExitCode.CONFIG, "directory " + p + " given by " + s.displayName() + " does not exist or is not a directory");
            }
            // -m d -m d, or -m d -m ./d: one directory read twice would clash with itself
            if (dirs.stream().noneMatch(seen -> sameDirectory(seen, p))) {
                dirs.add(p);
            }
        }
        return List.copyOf(dirs);
    }

    private static boolean sameDirectory(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (java.io.IOException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }

    private static BackupSettings backup(Map<Setting, String> v) {
        BackupSettings.Mode mode = parseEnum(Setting.BACKUP, v.get(Setting.BACKUP), BackupSettings.Mode.class);
        BackupSettings.Scope scope = parseEnum(Setting.BACKUP_SCOPE, v.get(Setting.BACKUP_SCOPE), BackupSettings.Scope.class);
        String keepValue = v.get(Setting.BACKUP_KEEP);
        if (!keepValue.trim().matches("[0-9]{1,9}") || Integer.parseInt(keepValue.trim()) < 1) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value '" + keepValue + "' for " + Setting.BACKUP_KEEP.displayName()
                    + ": expected a whole number >= 1 (the backup just made is always kept; --backup=never makes none)");
        }
        int keep = Integer.parseInt(keepValue.trim());
        Duration maxAge = v.containsKey(Setting.BACKUP_MAX_AGE) ? parseDuration(Setting.BACKUP_MAX_AGE, v.get(Setting.BACKUP_MAX_AGE)) : null;
        return new BackupSettings(mode, Path.of(v.get(Setting.BACKUP_DIR)), keep, maxAge, scope, v.get(Setting.PG_DUMP),
                parseBoolean(Setting.VERIFY_RESTORE, v.get(Setting.VERIFY_RESTORE)));
    }

    private static <E extends Enum<E>> E parseEnum(Setting s, String value, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value.trim())) {
                return e;
            }
        }
        throw new PgshiftException(ExitCode.CONFIG, "bad value '" + value + "' for " + s.displayName() + ": expected one of "
                + java.util.Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList());
    }


    /**
     * The settings file: {@code key=value} lines, {@code #} comments, keys the long flags' names. Values are taken as
     * written (no escapes: a backslash is a backslash), white space around them trimmed; a password with leading or
     * trailing spaces goes in --password-file or PGPASSWORD.
     */
    private static Map<Setting, String> readFile(Path file) {
        Map<Setting, String> out = new EnumMap<>(Setting.class);
        if (file == null) {
            return out;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.CONFIG, "cannot read the settings file " + file + " (--config / " + CONFIG_ENV + "): " + e.getMessage());
        }
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new PgshiftException(ExitCode.CONFIG, "the settings file " + file + ":" + (n + 1) + ": expected key=value, not '"
                        + (line.startsWith("password") ? "password..." : dev.pgshift.Printable.escape(line)) + "'");
            }
            String key = line.substring(0, eq).strip();
            int lineNo = n + 1;
            Setting s = Arrays.stream(Setting.values()).filter(x -> x.fileKey().equals(key)).findFirst()
                    .orElseThrow(() -> new PgshiftException(ExitCode.CONFIG, "unknown setting '" + dev.pgshift.Printable.escape(key)
                            + "' in the settings file " + file + ":" + lineNo));
            out.put(s, line.substring(eq + 1).strip());
        }
        if (out.containsKey(Setting.PASSWORD)) {
            warnIfOthersMayRead(file, "the settings file", "--config / " + CONFIG_ENV);
        }
        return out;
    }

    /**
     * Warns when a file holding the password may be read by other users: libpq ignores such a {@code .pgpass}; pgshift
     * reads it (refusing would stop every run whose Secret volume has Kubernetes' default mode, 0644) and says how to
     * narrow it. The chart and {@code k8s/} mount the password with mode 0400.
     */
    private static void warnIfOthersMayRead(Path file, String what, String givenBy) {
        try {
            Set<java.nio.file.attribute.PosixFilePermission> p = Files.getPosixFilePermissions(file);
            // Others, not the group: in Kubernetes a Secret volume's files belong to the pod's fsGroup and are group-readable
            // (0440) whatever defaultMode says, and that group is the pod's own.
            if (p.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)) {
                Logger.getLogger(SettingsResolver.class).warnf("%s %s (%s) holds the password and other users may read it (mode %s): "
                        + "chmod 600 it (a Kubernetes Secret volume: defaultMode 0400)", what, file, givenBy,
                        java.nio.file.attribute.PosixFilePermissions.toString(p));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system, or unreadable: reading it says so
        }
    }

    private static String readPasswordFile(Path file) {
        warnIfOthersMayRead(file, "the password file", Setting.PASSWORD_FILE.flag() + " / " + Setting.PASSWORD_FILE.env());
        try {
            String content = Files.readString(file, StandardCharsets.UTF_8);
            int end = content.length();
            while (end > 0 && (content.charAt(end - 1) == '\n' || content.charAt(end - 1) == '\r')) {
                end--;
            }
            return content.substring(0, end);
        } catch (IOException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file"
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : "cannot be read";
            throw new PgshiftException(ExitCode.CONFIG, "cannot read the password file " + file + " given by "
                    + Setting.PASSWORD_FILE.displayName() + ": " + why + " (a mounted Secret: check the volume's path and key)");
        }
    }

    private static int parsePort(String value) {
        try {
            int port = Integer.parseInt(value.trim());
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PgshiftException(ExitCode.CONFIG, "bad port '" + value + "' for " + Setting.PORT.displayName() + ": expected 1-65535");
    }

    private static int parseCount(Setting s, String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PgshiftException(ExitCode.CONFIG, "bad value '" + value + "' for " + s.displayName() + ": expected a whole number >= 0");
    }

    private static boolean parseBoolean(Setting s, String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new PgshiftException(ExitCode.CONFIG, "bad value '" + value + "' for " + s.displayName() + ": expected true or false");
        };
    }

    /** Accepts 500ms, 30s, 5m, 1h, a plain number of seconds, or ISO-8601 (PT1M). */
    static Duration parseDuration(Setting s, String value) {
        String t = value.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("-")) {
            throw new PgshiftException(ExitCode.CONFIG, "bad duration '" + value + "' for " + s.displayName() + ": it cannot be negative");
        }
        try {
            if (t.startsWith("pt") || t.startsWith("p")) {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new PgshiftException(ExitCode.CONFIG, "bad duration '" + value + "' for " + s.displayName() + ": expected e.g. 500ms, 30s, 5m, 1h");
        }
    }
}
