package dev.pgshift.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsResolverTest {
    @TempDir
    Path tmp;

    private final Map<String, String> env = new HashMap<>();
    private final Map<Setting, String> flags = new EnumMap<>(Setting.class);

    private Settings resolve() {
        return new SettingsResolver(env).resolve(flags, null);
    }

    private PgshiftException fails() {
        PgshiftException e = assertThrows(PgshiftException.class, this::resolve);
        assertEquals(ExitCode.CONFIG, e.exitCode());
        return e;
    }

    @Test
    void libpqVariablesAreRead() {
        env.putAll(Map.of("PGHOST", "db.internal", "PGPORT", "6432", "PGDATABASE", "app", "PGUSER", "migrator", "PGPASSWORD", "s3cret",
                "PGSSLMODE", "require"));
        ConnectionSettings c = resolve().connection();
        assertEquals("db.internal", c.host());
        assertEquals(6432, c.port());
        assertEquals("app", c.database());
        assertEquals("migrator", c.user());
        assertEquals("s3cret", c.password());
        assertEquals("require", c.sslMode());
    }

    /** libpq reads a PGHOST that starts with / as a socket directory; pgshift (JDBC, TCP) waited 60 s on it, then exited 75. */
    @Test
    void aUnixSocketDirectoryAsHostIsRefusedAtOnceNamingWhatToGive() {
        env.putAll(Map.of("PGHOST", "/var/run/postgresql"));
        PgshiftException e = fails();
        assertTrue(e.getMessage().contains("'/var/run/postgresql'") && e.getMessage().contains("Unix-socket directory")
                && e.getMessage().contains("PGHOST") && e.getMessage().contains("localhost"), e.getMessage());
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverTheFile() throws Exception {
        Path file = tmp.resolve("pgshift.properties");
        Files.writeString(file, "host=from-file\nport=1111\ndatabase=filedb\nuser=fileuser\nlock-wait=7s\n");
        env.put(SettingsResolver.CONFIG_ENV, file.toString());
        env.put("PGHOST", "from-env");
        env.put("PGPORT", "2222");
        flags.put(Setting.HOST, "from-flag");
        Settings s = resolve();
        assertEquals("from-flag", s.connection().host());
        assertEquals(2222, s.connection().port());
        assertEquals("filedb", s.connection().database());
        assertEquals(Duration.ofSeconds(7), s.lockWait());
        assertEquals(Duration.ofSeconds(60), s.connectTimeout(), "default");
    }

    @Test
    void postgresqlUriIsSplitIntoSettings() {
        env.put("PGSHIFT_URL", "postgresql://app%40corp:p%40ss%3Aword@db.example.com:5433/characters?sslmode=verify-full&application_name=x");
        ConnectionSettings c = resolve().connection();
        assertEquals("db.example.com", c.host());
        assertEquals(5433, c.port());
        assertEquals("characters", c.database());
        assertEquals("app@corp", c.user());
        assertEquals("p@ss:word", c.password());
        assertEquals("verify-full", c.sslMode());
    }

    @Test
    void jdbcUrlIsSplitIntoSettings() {
        flags.put(Setting.URL, "jdbc:postgresql://pg.example:5434/app?sslmode=require&user=u1");
        ConnectionSettings c = resolve().connection();
        assertEquals("pg.example", c.host());
        assertEquals(5434, c.port());
        assertEquals("app", c.database());
        assertEquals("u1", c.user());
        assertEquals("require", c.sslMode());
    }

    /** The wrong-database case: every separate setting that could disagree with a URL, from every source. */
    @Test
    void aUrlAndSeparateSettingsThatDisagreeAreRefusedNamingBoth() {
        String url = "postgresql://app:pw@db.example:5499/shop1?sslmode=require";
        Map<Setting, String> disagreeing = Map.of(Setting.HOST, "localhost", Setting.PORT, "5432", Setting.DATABASE, "postgres",
                Setting.USER, "postgres", Setting.SSL_MODE, "disable", Setting.PASSWORD, "other");
        for (Map.Entry<Setting, String> e : disagreeing.entrySet()) {
            for (String urlVar : java.util.List.of("PGSHIFT_URL", "DATABASE_URL")) {
                env.clear();
                flags.clear();
                env.put(urlVar, url);
                env.put(e.getKey().env(), e.getValue());
                PgshiftException x = fails();
                assertTrue(x.getMessage().contains(e.getKey().env()) && x.getMessage().contains(urlVar), x.getMessage());
                assertFalse(x.getMessage().contains("pw") && e.getKey() == Setting.PASSWORD && x.getMessage().contains("other"), x.getMessage());
                if (e.getKey() != Setting.PASSWORD) {
                    env.remove(e.getKey().env());
                    flags.put(e.getKey(), e.getValue());
                    assertTrue(fails().getMessage().contains(e.getKey().flag()), e.getKey().toString());
                }
            }
        }
        env.clear();
        flags.clear();
        env.put("PGSHIFT_URL", url);
        env.put("PGPORT", "5499");
        env.put("PGDATABASE", "shop1");
        assertEquals("shop1", resolve().connection().database(), "agreeing settings are fine");
        env.put("DATABASE_URL", "postgresql://x@elsewhere/other");
        assertEquals("db.example", resolve().connection().host(), "PGSHIFT_URL is read before DATABASE_URL");
    }

    /** PostgreSQL's names are case-sensitive: database App is not app (was accepted); host names and sslmode are not. */
    @Test
    void conflictsAreCaseSensitiveWherePostgresIs() {
        env.put("PGSHIFT_URL", "postgresql://app@DB.example:5432/app?sslmode=require");
        env.put("PGDATABASE", "App");
        assertTrue(fails().getMessage().contains("PGDATABASE says 'App' but PGSHIFT_URL names"), "database");
        env.remove("PGDATABASE");
        env.put("PGUSER", "APP");
        assertTrue(fails().getMessage().contains("PGUSER says 'APP'"), "user");
        env.remove("PGUSER");
        env.put("PGHOST", "db.example");
        env.put("PGSSLMODE", "REQUIRE");
        assertEquals("app", resolve().connection().database(), "host names and sslmode agree whatever their case");
    }

    /** Every TLS parameter a URL carries is honoured or refused, never dropped (ssl=true was read as prefer). */
    @Test
    void tlsParametersOfAUrlAreHonouredOrRefused() {
        String[][] honoured = {
            {"jdbc:postgresql://db:5432/app?user=app&ssl=true", "verify-full"},
            {"jdbc:postgresql://db:5432/app?ssl=true&sslmode=require", "require"},
            {"jdbc:postgresql://db:5432/app?sslmode=verify-ca", "verify-ca"},
            {"postgresql://app@db/app?sslmode=require&sslaccept=strict", "verify-full"},
            {"postgresql://app@db/app?sslmode=require&sslaccept=accept_invalid_certs", "require"},
            {"postgresql://app@db/app?requiressl=1", "require"},
            {"postgresql://app@db/app?requiressl=1&sslmode=verify-ca", "verify-ca"},
            {"postgresql://app@db/app?ssl=true", "verify-full"},
        };
        for (String[] h : honoured) {
            env.clear();
            env.put("PGSHIFT_URL", h[0]);
            assertEquals(h[1], resolve().connection().sslMode(), h[0]);
        }
        for (String key : List.of("sslcert=/ca.pem", "sslkey=/k.pem", "sslpassword=s3cret", "sslidentity=/id.p12", "sslcrl=/c.crl",
                "sslsni=0", "ssl_min_protocol_version=TLSv1.3", "sslnegotiation=direct", "sslaccept=maybe")) {
            for (String url : List.of("postgresql://app@db/app?sslmode=require&" + key, "jdbc:postgresql://db/app?sslmode=require&" + key)) {
                env.clear();
                env.put("PGSHIFT_URL", url);
                if (url.startsWith("jdbc:") && List.of("sslidentity", "sslcrl", "sslsni", "ssl_min_protocol_version", "sslaccept")
                        .contains(key.substring(0, key.indexOf('=')))) {
                    continue; // no pgjdbc parameter of that name
                }
                PgshiftException e = fails();
                assertEquals(dev.pgshift.ExitCode.CONFIG, e.exitCode(), url);
                assertTrue(e.getMessage().contains(key.substring(0, key.indexOf('='))), e.getMessage());
                assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
            }
        }
        env.clear();
        env.put("PGSHIFT_URL", "jdbc:postgresql://db:5432/app?ssl=true");
        env.put("PGSSLMODE", "prefer");
        assertTrue(fails().getMessage().contains("PGSSLMODE says 'prefer'"), "a weaker separate setting is refused, not combined");
    }

    @Test
    void aBadPortInsideAUrlNamesTheUrl() {
        env.put("PGSHIFT_URL", "postgresql://db.example:notaport/shop");
        PgshiftException e = fails();
        assertTrue(e.getMessage().startsWith("PGSHIFT_URL: bad port 'notaport' in the URL"), e.getMessage());
    }

    @Test
    void passwordInAUrlFlagIsRefusedWithoutRepeatingIt() {
        flags.put(Setting.URL, "postgresql://u:topsecret@h/db");
        PgshiftException e = fails();
        assertTrue(e.getMessage().contains("--url carries a password"), e.getMessage());
        assertFalse(e.getMessage().contains("topsecret"));
    }

    @Test
    void passwordFileIsReadWithoutItsTrailingNewline() throws Exception {
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, "from-file\n");
        env.put("PGPASSWORD", "from-env");
        flags.put(Setting.PASSWORD_FILE, pw.toString());
        assertEquals("from-file", resolve().connection().password());
    }

    @Test
    void missingPasswordFileNamesTheSetting() {
        flags.put(Setting.PASSWORD_FILE, tmp.resolve("nope").toString());
        assertTrue(fails().getMessage().contains("--password-file"));
    }

    @Test
    void backupMethodAndItsSettingsAreReadAsWrittenOrRefusedNamingThem() {
        BackupSettings b = resolve().backup();
        assertEquals(BackupSettings.Method.DUMP, b.method(), "a dump unless asked otherwise");
        assertEquals(10L << 30, b.restorePointAbove());
        assertEquals(java.time.Duration.ofMinutes(2), b.archiveWait());
        env.put("PGSHIFT_BACKUP_METHOD", "restore-point");
        env.put("PGSHIFT_RESTORE_POINT_ABOVE", "500MB");
        env.put("PGSHIFT_ARCHIVE_WAIT", "30s");
        b = resolve().backup();
        assertEquals(BackupSettings.Method.RESTORE_POINT, b.method());
        assertEquals(500L << 20, b.restorePointAbove());
        assertEquals(java.time.Duration.ofSeconds(30), b.archiveWait());
        flags.put(Setting.BACKUP_METHOD, "snapshot");
        assertEquals("bad value 'snapshot' for --backup-method / PGSHIFT_BACKUP_METHOD / 'backup-method' in the settings file: expected one of "
                + "[dump, restore-point, auto]", fails().getMessage());
        flags.remove(Setting.BACKUP_METHOD);
        for (String bad : List.of("0GB", "10", "ten GB", "-1MB")) {
            env.put("PGSHIFT_RESTORE_POINT_ABOVE", bad);
            assertTrue(fails().getMessage().startsWith("bad value '" + bad + "' for --restore-point-above / PGSHIFT_RESTORE_POINT_ABOVE"),
                    fails().getMessage());
        }
        env.remove("PGSHIFT_RESTORE_POINT_ABOVE");
        for (String bad : List.of("0s", "500ms", "25h", "abc")) {
            env.put("PGSHIFT_ARCHIVE_WAIT", bad);
            assertTrue(fails().getMessage().contains("for --archive-wait / PGSHIFT_ARCHIVE_WAIT / 'archive-wait' in the settings file: "
                    + "a duration between 1s and 24h, e.g. 2m"), fails().getMessage());
        }
    }

    @Test
    void malformedSettingsNameTheSetting() {
        env.put("PGPORT", "54x2");
        assertTrue(fails().getMessage().contains("PGPORT"));
        env.remove("PGPORT");
        env.put("PGSSLMODE", "verify-everything");
        assertTrue(fails().getMessage().contains("PGSSLMODE"));
        env.remove("PGSSLMODE");
        flags.put(Setting.CONNECT_TIMEOUT, "soon");
        assertTrue(fails().getMessage().contains("--connect-timeout"));
        flags.remove(Setting.CONNECT_TIMEOUT);
        for (String bad : List.of("0s", "500ms", "99999999h")) { // a run must never wait on a silent server for good
            env.put("PGSHIFT_NETWORK_TIMEOUT", bad);
            assertTrue(fails().getMessage().contains("bad value '" + bad + "' for --network-timeout"), fails().getMessage());
            assertTrue(fails().getMessage().contains("between 1s and 24h"), fails().getMessage());
        }
        env.remove("PGSHIFT_NETWORK_TIMEOUT");
        flags.put(Setting.MIGRATIONS, tmp.resolve("missing").toString());
        assertTrue(fails().getMessage().contains("--migrations"));
        flags.remove(Setting.MIGRATIONS);
        flags.put(Setting.URL, "mysql://h/db");
        assertTrue(fails().getMessage().contains("--url"));
        flags.remove(Setting.URL);
        flags.put(Setting.SSL_ROOT_CERT, tmp.resolve("ca.crt").toString());
        assertTrue(fails().getMessage().contains("PGSSLROOTCERT"));
    }

    @Test
    void unknownKeyInTheSettingsFileIsAnError() throws Exception {
        Path file = tmp.resolve("s.properties");
        Files.writeString(file, "hots=typo\n");
        PgshiftException e = assertThrows(PgshiftException.class, () -> new SettingsResolver(env).resolve(flags, file));
        assertTrue(e.getMessage().contains("'hots'"), e.getMessage());
    }

    @Test
    void durationsInSeveralForms() {
        assertEquals(Duration.ofMillis(500), SettingValues.parseDuration(Setting.LOCK_WAIT, "500ms"));
        assertEquals(Duration.ofMinutes(5), SettingValues.parseDuration(Setting.LOCK_WAIT, "5m"));
        assertEquals(Duration.ofSeconds(90), SettingValues.parseDuration(Setting.LOCK_WAIT, "90"));
        assertEquals(Duration.ofMinutes(2), SettingValues.parseDuration(Setting.LOCK_WAIT, "PT2M"));
    }

    @Test
    void toStringNeverShowsThePassword() {
        env.put("PGPASSWORD", "hunter2-secret");
        Settings s = resolve();
        assertFalse(s.toString().contains("hunter2-secret"));
        assertNull(new SettingsResolver(Map.of()).resolve(flags, null).connection().password());
    }

    @Test
    void theBundledMigrationsRunOnlyWhereNoDirectoryIsGivenUnlessAskedFor() throws Exception {
        assertTrue(resolve().bundled(), "the image's own migrations, the demo");
        Path dir = Files.createDirectories(tmp.resolve("mine"));
        flags.put(Setting.MIGRATIONS, dir.toString());
        assertFalse(resolve().bundled(), "-m replaces them");
        flags.put(Setting.BUNDLED, "true");
        assertTrue(resolve().bundled(), "--bundled=true asks for both");
    }

    @Test
    void aUrlsSchemaNamesTheHistorySchemaAndTheSearchPathASchemaAloneOnlyTheHistory() {
        env.put("PGSHIFT_URL", "postgresql://app@db:5432/shop?schema=app");
        Settings s = resolve();
        assertEquals("app", s.schema());
        assertEquals("app", s.connection().searchPath());
        // A URL and a --schema that disagree are refused like the URL's other parts (was: --schema silently won)
        flags.put(Setting.SCHEMA, "history");
        assertTrue(fails().getMessage().contains("--schema says 'history' but PGSHIFT_URL names schema 'app'"), fails().getMessage());
        flags.put(Setting.SCHEMA, "app");
        Settings agreeing = resolve();
        assertEquals("app", agreeing.schema());
        assertEquals("app", agreeing.connection().searchPath());
        env.remove("PGSHIFT_URL");
        flags.put(Setting.SCHEMA, "history");
        assertNull(resolve().connection().searchPath(), "--schema alone names the history only");
        env.put("PGSHIFT_URL", "jdbc:postgresql://db:5432/shop?currentSchema=app");
        flags.clear();
        assertEquals("app", resolve().connection().searchPath());
        // pgjdbc takes a list there (a hostile-user finding: "bad schema name 'app,public' for --schema", which was not given)
        env.put("PGSHIFT_URL", "jdbc:postgresql://db:5432/shop?currentSchema=app,public");
        Settings list = resolve();
        assertEquals("app", list.schema(), "the history in the first schema of the list");
        assertEquals("app,public", list.connection().searchPath());
    }

    /** The settings file's values are taken as written: a backslash in a password is kept (Java properties turned \\s into s). */
    @Test
    void aSettingsFileKeepsBackslashesAndNamesABadLine() throws Exception {
        Path file = Files.writeString(tmp.resolve("pgshift.conf"), "# comment\nuser = app\npassword=p:a\\ss w0rd\nschema=app\n");
        Settings s = new SettingsResolver(env).resolve(flags, file);
        assertEquals("p:a\\ss w0rd", s.connection().password());
        assertEquals("app", s.connection().user());
        Files.writeString(file, "user=app\nnonsense line\n");
        PgshiftException e = assertThrows(PgshiftException.class, () -> new SettingsResolver(env).resolve(flags, file));
        assertTrue(e.getMessage().contains(file + ":2: expected key=value"), e.getMessage());
        Files.writeString(file, "user=app\nshema=x\n");
        e = assertThrows(PgshiftException.class, () -> new SettingsResolver(env).resolve(flags, file));
        assertTrue(e.getMessage().contains("unknown setting 'shema' in the settings file " + file + ":2"), e.getMessage());
    }

    /** A missing password file is named in words, not as a Java exception's class ("(NoSuchFileException)"). */
    @Test
    void aMissingPasswordFileIsNamedInWords() {
        flags.put(Setting.PASSWORD_FILE, tmp.resolve("nope").toString());
        String m = fails().getMessage();
        assertTrue(m.contains("cannot read the password file " + tmp.resolve("nope") + " given by --password-file") && m.contains("no such file"), m);
        assertFalse(m.contains("Exception"), m);
    }

    /** require with a CA file is verify-ca, as libpq (pg_dump) reads it: pgshift's own sessions checked nothing (hostile-user finding). */
    @Test
    void requireWithACaFileChecksTheChainAsLibpqDoes() throws Exception {
        Path ca = Files.writeString(tmp.resolve("ca.crt"), "not checked here");
        env.put("PGSHIFT_URL", "postgresql://app@db:5432/shop?sslmode=require&sslrootcert=" + ca);
        assertEquals("verify-ca", resolve().connection().sslMode());
        env.put("PGSHIFT_URL", "postgresql://app@db:5432/shop?sslmode=require");
        assertEquals("require", resolve().connection().sslMode());
    }

    /** Settings from the environment or the settings file that a command does not act on are ignored, as the README says. */
    @Test
    void environmentSettingsACommandDoesNotUseAreIgnored() {
        env.putAll(Map.of("PGSHIFT_BACKUP_KEEP", "lots", "PGSHIFT_LOCK_WAIT", "abc", "PGUSER", "app"));
        java.util.Set<Setting> history = java.util.EnumSet.of(Setting.URL, Setting.HOST, Setting.PORT, Setting.DATABASE, Setting.USER,
                Setting.PASSWORD_FILE, Setting.SSL_MODE, Setting.SSL_ROOT_CERT, Setting.SCHEMA, Setting.CONNECT_TIMEOUT);
        Settings s = new SettingsResolver(env).resolve(flags, null, history);
        assertEquals(5, s.backup().keep(), "the default, not the environment's value for another command");
        assertEquals("app", s.connection().user(), "the connection's settings are read");
        java.util.Set<Setting> backup = java.util.EnumSet.copyOf(history);
        backup.add(Setting.BACKUP_KEEP);
        PgshiftException e = assertThrows(PgshiftException.class, () -> new SettingsResolver(env).resolve(flags, null, backup));
        assertTrue(e.getMessage().contains("PGSHIFT_BACKUP_KEEP"), e.getMessage());
    }

    @Test
    void versionsDurationsAndSchemaNamesAreCheckedUpFront() {
        flags.put(Setting.ADOPT_THROUGH, "abc");
        assertTrue(fails().getMessage().contains("bad version 'abc' for --adopt-through"));
        flags.clear();
        flags.put(Setting.LOCK_WAIT, "-5s");
        assertTrue(fails().getMessage().contains("cannot be negative"));
        flags.clear();
        flags.put(Setting.SCHEMA, "s".repeat(64));
        assertTrue(fails().getMessage().contains("at most 63"));
        for (String reserved : new String[] {"pgshift", "PGSHIFT", "pg_catalog", "information_schema"}) {
            flags.put(Setting.SCHEMA, reserved);
            assertTrue(fails().getMessage().contains("is reserved"), reserved); // reset --schema pgshift dropped the run history
        }
    }

    @Test
    void theTerminationMessageIsWrittenByDefaultOnlyInAKubernetesPod() {
        assertNull(resolve().terminationLog(), "outside Kubernetes: no /dev/termination-log on the host");
        env.put(SettingsResolver.KUBERNETES_ENV, "10.96.0.1");
        assertEquals(Path.of("/dev/termination-log"), resolve().terminationLog());
        env.remove(SettingsResolver.KUBERNETES_ENV);
        flags.put(Setting.TERMINATION_LOG, tmp.resolve("term").toString());
        assertEquals(tmp.resolve("term"), resolve().terminationLog(), "given explicitly: written anywhere");
    }

    @Test
    void aMigrationDirectoryGivenTwiceIsReadOnce() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("m"));
        flags.put(Setting.MIGRATIONS, d + "," + d + "," + tmp.resolve("./m"));
        assertEquals(java.util.List.of(d), resolve().migrationDirs());
    }

    /** pgjdbc reads "app:pw@localhost" as a host name, which every connection message then printed, password and all. */
    @Test
    void aJdbcUrlWithUserInfoIsRefusedWithoutShowingIt() {
        for (String layer : java.util.List.of("flag", "env")) {
            flags.clear();
            env.clear();
            String url = "jdbc:postgresql://app:pw-in-url-5@localhost:5432/shop";
            if (layer.equals("flag")) {
                flags.put(Setting.URL, url);
            } else {
                env.put("PGSHIFT_URL", url);
            }
            String m = fails().getMessage();
            assertTrue(m.contains("a JDBC URL takes no user@ or user:password@ before the host"), m);
            assertFalse(m.contains("pw-in-url-5"), m);
        }
        // The flag is in the process list: a password parameter in any case is refused there.
        flags.clear();
        env.clear();
        flags.put(Setting.URL, "jdbc:postgresql://localhost:5432/shop?PassWord=Zq9pw");
        String m = fails().getMessage();
        assertTrue(m.contains("--url carries a password"), m);
        assertFalse(m.contains("Zq9pw"), m);
    }
}
