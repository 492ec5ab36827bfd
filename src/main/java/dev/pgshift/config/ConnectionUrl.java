package dev.pgshift.config;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Splits a JDBC URL or a libpq {@code postgresql://} URI into the connection settings it carries. */
final class ConnectionUrl {

    private ConnectionUrl() {
    }

    /**
     * Parses {@code url}; {@code origin} names where it came from, for error messages (which never repeat the URL:
     * it may hold a password).
     */
    static Map<Setting, String> parse(String url, String origin) {
        Map<Setting, String> out = parts(url, origin);
        String port = out.get(Setting.PORT);
        if (port != null && !(port.matches("\\d{1,5}") && Integer.parseInt(port) >= 1 && Integer.parseInt(port) <= 65535)) {
            throw new PgshiftException(ExitCode.CONFIG, origin + ": bad port '" + port + "' in the URL: expected 1-65535");
        }
        return out;
    }

    private static Map<Setting, String> parts(String url, String origin) {
        String trimmed = url.trim();
        if (trimmed.startsWith("jdbc:postgresql:")) {
            return fromJdbc(trimmed, origin);
        }
        if (trimmed.startsWith("postgresql://") || trimmed.startsWith("postgres://")) {
            return fromUri(trimmed, origin);
        }
        throw new PgshiftException(ExitCode.CONFIG, origin + ": not a JDBC URL (jdbc:postgresql://host:port/db) "
                + "nor a postgresql:// URI");
    }

    private static Map<Setting, String> fromJdbc(String url, String origin) {
        String rest = url.substring("jdbc:postgresql:".length());
        String authority = rest.startsWith("//") ? rest.substring(2).split("[/?]", 2)[0] : "";
        if (authority.contains("@")) {
            // pgjdbc takes "user:password@host" for a host name, and every message naming the host would show the password.
            throw new PgshiftException(ExitCode.CONFIG, origin + ": a JDBC URL takes no user@ or user:password@ before the host (pgjdbc "
                    + "would read it as the host name): give the user as ?user=NAME and the password in PGPASSWORD or --password-file");
        }
        Properties props = org.postgresql.Driver.parseURL(url, new Properties());
        if (props == null) {
            throw new PgshiftException(ExitCode.CONFIG, origin + ": malformed JDBC URL (expected jdbc:postgresql://host:port/database?param=value)");
        }
        Map<Setting, String> out = new EnumMap<>(Setting.class);
        put(out, Setting.HOST, props.getProperty("PGHOST"));
        put(out, Setting.PORT, props.getProperty("PGPORT"));
        put(out, Setting.DATABASE, props.getProperty("PGDBNAME"));
        put(out, Setting.USER, props.getProperty("user"));
        put(out, Setting.PASSWORD, props.getProperty("password"));
        for (String key : List.of("sslcert", "sslkey", "sslpassword", "sslpasswordcallback", "sslfactory", "sslfactoryarg",
                "sslhostnameverifier", "sslnegotiation")) {
            if (props.getProperty(key) != null) {
                throw unsupportedTls(origin, key);
            }
        }
        put(out, Setting.SSL_MODE, props.getProperty("sslmode"));
        // pgjdbc reads ssl=true without an sslmode as verify-full: the certificate and the host name are checked.
        if (props.getProperty("sslmode") == null && "true".equalsIgnoreCase(props.getProperty("ssl"))) {
            out.put(Setting.SSL_MODE, "verify-full");
        }
        put(out, Setting.SSL_ROOT_CERT, props.getProperty("sslrootcert"));
        put(out, Setting.SCHEMA, props.getProperty("currentSchema"));
        put(out, Setting.SCHEMA, props.getProperty("schema"));
        if (url.startsWith("jdbc:postgresql:///") || !url.startsWith("jdbc:postgresql://")) {
            out.remove(Setting.HOST);
            out.remove(Setting.PORT);
        }
        return out;
    }

    private static Map<Setting, String> fromUri(String url, String origin) {
        String rest = url.substring(url.indexOf("://") + 3);
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String authority = rest;
        String path = null;
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            authority = rest.substring(0, slash);
            path = rest.substring(slash + 1);
        }
        Map<Setting, String> out = new EnumMap<>(Setting.class);
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = authority.substring(0, at);
            authority = authority.substring(at + 1);
            int colon = userInfo.indexOf(':');
            if (colon >= 0) {
                put(out, Setting.USER, decode(userInfo.substring(0, colon)));
                put(out, Setting.PASSWORD, decode(userInfo.substring(colon + 1)));
            } else {
                put(out, Setting.USER, decode(userInfo));
            }
        }
        if (!authority.isEmpty()) {
            String host = authority;
            String port = null;
            if (authority.startsWith("[")) {
                int close = authority.indexOf(']');
                if (close < 0) {
                    throw new PgshiftException(ExitCode.CONFIG, origin + ": malformed IPv6 host in postgresql:// URI");
                }
                host = authority.substring(1, close);
                if (authority.length() > close + 1 && authority.charAt(close + 1) == ':') {
                    port = authority.substring(close + 2);
                }
            } else if (authority.contains(":")) {
                host = authority.substring(0, authority.indexOf(':'));
                port = authority.substring(authority.indexOf(':') + 1);
            }
            put(out, Setting.HOST, decode(host));
            put(out, Setting.PORT, port);
        }
        if (path != null && !path.isEmpty()) {
            put(out, Setting.DATABASE, decode(path));
        }
        String sslAccept = null;
        boolean ssl = false;
        boolean requireSsl = false;
        if (query != null) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                switch (key) {
                    case "host" -> put(out, Setting.HOST, value);
                    case "port" -> put(out, Setting.PORT, value);
                    case "dbname" -> put(out, Setting.DATABASE, value);
                    case "user" -> put(out, Setting.USER, value);
                    case "password" -> put(out, Setting.PASSWORD, value);
                    case "sslmode" -> put(out, Setting.SSL_MODE, value);
                    case "sslrootcert" -> put(out, Setting.SSL_ROOT_CERT, value);
                    case "ssl" -> ssl = value.equalsIgnoreCase("true") || value.equals("1"); // as pgjdbc and node-postgres read it: verify
                    case "requiressl" -> requireSsl = value.equals("1"); // libpq's old spelling of sslmode=require
                    case "sslaccept" -> {
                        if (!value.equals("strict") && !value.equals("accept_invalid_certs")) {
                            throw new PgshiftException(ExitCode.CONFIG, origin + ": sslaccept='" + value + "' in the URL: Prisma knows strict "
                                    + "and accept_invalid_certs");
                        }
                        sslAccept = value;
                    }
                    case "sslcert" -> throw new PgshiftException(ExitCode.CONFIG, origin + ": the URL's sslcert is the CA certificate to "
                            + "Prisma but a client certificate to libpq, and pgshift guesses neither: give the CA certificate as sslrootcert= "
                            + "(with sslmode=verify-full or verify-ca) and remove sslcert; pgshift does not present client certificates");
                    case "sslkey", "sslpassword", "sslidentity", "sslcrl", "sslcrldir", "sslcertmode", "sslsni", "sslcompression",
                            "ssl_min_protocol_version", "ssl_max_protocol_version", "sslnegotiation" -> throw unsupportedTls(origin, key);
                    case "schema", "currentSchema" -> put(out, Setting.SCHEMA, value); // Prisma's and JDBC's names
                    default -> {
                        // libpq accepts many more parameters (connect_timeout, options, ...): ignored here.
                    }
                }
            }
        }
        // Prisma's sslaccept=strict checks the certificate chain and the host name; ssl=true asks the same. The strictest
        // of what the URL says wins.
        if (ssl || "strict".equals(sslAccept)) {
            out.put(Setting.SSL_MODE, "verify-full");
        } else if (requireSsl && (out.get(Setting.SSL_MODE) == null || WEAKER_THAN_REQUIRE.contains(out.get(Setting.SSL_MODE)))) {
            out.put(Setting.SSL_MODE, "require");
        }
        return out;
    }

    private static final List<String> WEAKER_THAN_REQUIRE = List.of("disable", "allow", "prefer");

    /** A TLS parameter pgshift cannot honour: refused, never dropped (dropping one can weaken what the URL asks for). */
    private static PgshiftException unsupportedTls(String origin, String key) {
        return new PgshiftException(ExitCode.CONFIG, origin + ": the URL's " + key + " parameter is not supported by pgshift"
                + (key.equals("sslpassword") ? " (and a URL is no place for a key's password)" : "")
                + ": pgshift connects with TLS as sslmode (disable ... verify-full) and sslrootcert say, and presents no client certificate. "
                + "Remove " + key + " from the URL");
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            // Never echo the text: it may be the password.
            throw new PgshiftException(ExitCode.CONFIG, "the connection URL has a malformed %-escape (a % must be followed by two hex "
                    + "digits; write a literal % as %25)");
        }
    }

    private static void put(Map<Setting, String> out, Setting key, String value) {
        if (value != null && !value.isEmpty()) {
            out.put(key, value);
        }
    }
}
