package dev.pgshift.config;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The files settings come from: the settings file ({@code --config} / {@value SettingsResolver#CONFIG_ENV}) and the
 * password file, each warned about when other users may read the password in it.
 */
final class SettingFiles {
    private SettingFiles() {
    }

    /**
     * The settings file: {@code key=value} lines, {@code #} comments, keys the long flags' names. Values are taken as
     * written (no escapes: a backslash is a backslash), white space around them trimmed; a password with leading or
     * trailing spaces goes in --password-file or PGPASSWORD.
     */
    static Map<Setting, String> readFile(Path file) {
        Map<Setting, String> out = new EnumMap<>(Setting.class);
        if (file == null) {
            return out;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.CONFIG, "cannot read the settings file " + file + " (--config / " + SettingsResolver.CONFIG_ENV + "): " + e.getMessage());
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
            warnIfOthersMayRead(file, "the settings file", "--config / " + SettingsResolver.CONFIG_ENV);
        }
        return out;
    }

    /**
     * Warns when a file holding the password may be read by other users: libpq ignores such a {@code .pgpass}; pgshift
     * reads it (refusing would stop every run whose Secret volume has Kubernetes' default mode, 0644) and says how to
     * narrow it. The chart and {@code k8s/} mount the password with mode 0400.
     */
    static void warnIfOthersMayRead(Path file, String what, String givenBy) {
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

    static String readPasswordFile(Path file) {
        return readPasswordFile(file, Setting.PASSWORD_FILE);
    }

    /** @param given the setting that named the file (or its directory), for the warning and the error */
    static String readPasswordFile(Path file, Setting given) {
        warnIfOthersMayRead(file, "the password file", given.flag() + " / " + given.env());
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
                    + given.displayName() + ": " + why + " (a mounted Secret: check the volume's path and key)");
        }
    }
}
