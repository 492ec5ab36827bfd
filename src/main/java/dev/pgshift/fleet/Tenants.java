package dev.pgshift.fleet;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.FleetSettings;
import dev.pgshift.config.Setting;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The tenant list of a release, in order: from a query on the control database or from a file. */
final class Tenants {

    /** One tenant as listed: its name (a Secret key and file name), its URL (which holds no password), its server and database. */
    record Listed(String name, String url, String database) {
    }

    private Tenants() {
    }

    /** Reads the list the settings name; the query runs in a read-only transaction. */
    static List<Listed> read(FleetSettings fleet, Connection control) {
        if (fleet.tenantsSql() != null) {
            return fromSql(fleet.tenantsSql(), control);
        }
        if (fleet.tenantsFile() != null) {
            return fromFile(fleet);
        }
        throw new PgshiftException(ExitCode.CONFIG, "release '" + fleet.release() + "' is not frozen yet and no tenants are given: "
                + "give " + Setting.TENANTS_SQL.displayName() + " or " + Setting.TENANTS_FILE.displayName());
    }

    private static List<Listed> fromSql(String sql, Connection c) {
        List<Listed> out = new ArrayList<>();
        try {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("set transaction read only");
                try (ResultSet rs = st.executeQuery(sql)) {
                    if (rs.getMetaData().getColumnCount() != 2) {
                        throw new PgshiftException(ExitCode.CONFIG, Setting.TENANTS_SQL.displayName() + " gives "
                                + rs.getMetaData().getColumnCount() + " column(s): expected two, each tenant's name and its URL without a password "
                                + "(select name, url from tenants order by name)");
                    }
                    int row = 0;
                    while (rs.next()) {
                        row++;
                        out.add(checked(rs.getString(1), rs.getString(2), Setting.TENANTS_SQL.displayName() + ", row " + row));
                    }
                }
            } finally {
                c.rollback();
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.CONFIG, "the tenant query (" + Setting.TENANTS_SQL.displayName() + ") failed: " + e.getMessage()
                    + (e.getSQLState() == null ? "" : " [SQLSTATE " + e.getSQLState() + "]"), e);
        }
        return unique(out, Setting.TENANTS_SQL.displayName());
    }

    private static List<Listed> fromFile(FleetSettings fleet) {
        List<String> lines;
        try {
            lines = Files.readAllLines(fleet.tenantsFile(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.CONFIG, "cannot read the tenants file " + fleet.tenantsFile() + " ("
                    + Setting.TENANTS_FILE.displayName() + "): " + e.getMessage(), e);
        }
        List<Listed> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            String where = fleet.tenantsFile() + ":" + (i + 1);
            if (parts.length != 2) {
                throw new PgshiftException(ExitCode.CONFIG, where + ": expected 'NAME URL' (a tenant's name, white space, its URL without a "
                        + "password), found " + parts.length + " field(s)");
            }
            out.add(checked(parts[0], parts[1], where));
        }
        return unique(out, fleet.tenantsFile().toString());
    }

    private static Listed checked(String name, String url, String where) {
        if (name == null) {
            throw new PgshiftException(ExitCode.CONFIG, where + ": a tenant without a name (NULL)");
        }
        if (!name.matches(FleetSettings.NAME)) {
            throw new PgshiftException(ExitCode.CONFIG, where + ": bad tenant name '" + dev.pgshift.Printable.escape(String.valueOf(name))
                    + "': a tenant name is a Kubernetes Secret key and a file name: a letter or digit, then letters, digits, '.', '_' or '-', "
                    + "at most 63 in all");
        }
        if (url == null || url.isBlank()) {
            throw new PgshiftException(ExitCode.CONFIG, where + ": tenant '" + name + "' has no URL");
        }
        // refused before anything is stored: a password, no database
        Map<Setting, String> parts = dev.pgshift.config.SettingsResolver.tenantUrl(name, url.strip());
        String database = parts.getOrDefault(Setting.HOST, "localhost").toLowerCase(java.util.Locale.ROOT) + ":"
                + parts.getOrDefault(Setting.PORT, "5432") + "/" + parts.get(Setting.DATABASE);
        return new Listed(name, url.strip(), database);
    }

    private static List<Listed> unique(List<Listed> tenants, String source) {
        Set<String> seen = new HashSet<>();
        Map<String, String> databases = new java.util.HashMap<>();
        for (Listed t : tenants) {
            if (!seen.add(t.name())) {
                throw new PgshiftException(ExitCode.CONFIG, source + " lists tenant '" + t.name() + "' twice: each tenant once");
            }
            String other = databases.putIfAbsent(t.database(), t.name());
            if (other != null) {
                throw new PgshiftException(ExitCode.CONFIG, source + ": tenants '" + other + "' and '" + t.name() + "' are the same database "
                        + t.database() + ": each database once (it would be migrated by two runs, under two names)");
            }
        }
        if (tenants.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, source + " lists no tenants");
        }
        return tenants;
    }
}
