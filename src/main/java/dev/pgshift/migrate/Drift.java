package dev.pgshift.migrate;

import dev.pgshift.source.MigrationCatalog;
import dev.pgshift.source.MigrationLocations;
import dev.pgshift.source.MigrationScript;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;

/**
 * Where the history and the files disagree, in pgshift's words, from Flyway's view of both (nothing is cleared or
 * thrown): an applied file that changed (its checksum differs from the one recorded), was renamed or vanished, and a
 * pending file older than the newest applied one (merged out of order).
 */
final class Drift {
    private Drift() {
    }

    static List<String> problems(MigrationInfo[] all, Map<String, MigrationScript> byVersion) {
        List<String> out = new ArrayList<>();
        boolean missing = false;
        // An applied migration whose file is gone and a pending one with its description: one file, renamed.
        Map<String, String> gone = new HashMap<>();
        for (MigrationInfo m : all) {
            if (m.getVersion() != null && (m.getState() == MigrationState.MISSING_SUCCESS || m.getState() == MigrationState.FUTURE_SUCCESS)
                    && !m.getDescription().isEmpty()) {
                gone.putIfAbsent(m.getDescription(), m.getVersion().getVersion() + " (" + m.getScript() + ")");
            }
        }
        boolean renamed = false;
        List<String> missingVersions = new ArrayList<>();
        for (MigrationInfo m : all) {
            if (m.getVersion() == null) {
                continue;
            }
            String v = m.getVersion().getVersion();
            MigrationScript script = byVersion.get(v);
            MigrationState state = m.getState();
            if (state == MigrationState.MISSING_SUCCESS) {
                out.add(v + " (" + m.getScript() + "): applied, but no migration file has this version any more");
                missing = true;
                missingVersions.add(v);
            } else if (state == MigrationState.FUTURE_SUCCESS && renamedTo(all, byVersion, gone, m) != null) {
                out.add(v + " (" + m.getScript() + "): applied, and no migration file has this version any more");
                missing = true;
            } else if (state == MigrationState.FUTURE_SUCCESS) {
                // Flyway passes these ("future"); then nothing runs and verify fails on the version: say it before anything.
                out.add(v + " (" + m.getScript() + "): applied, but newer than every migration file given: give the migrations that "
                        + "include it (--migrations, --bundled), or, where an older release runs against a database a newer one "
                        + "migrated, that newer release's migrations");
                missing = true;
            } else if (state == MigrationState.IGNORED && script != null && gone.containsKey(FlywayBridge.recordedDescription(script))) {
                renamed = true;
                out.add(script.file().displayPath() + ": has the name of " + gone.get(FlywayBridge.recordedDescription(script))
                        + ", which was applied and whose file is gone: if it was renamed after it was applied, give it back the name it "
                        + "was applied under (a renamed migration is a new one, and --out-of-order would run it again)");
            } else if (state == MigrationState.IGNORED && script != null && bundled(script)) {
                out.add(script.file().displayPath() + ": bundled in this pgshift build (the example set, unless the image was built with "
                        + "its own), and older than the newest applied migration: the database has a history of other migrations; give "
                        + "yours with -m DIR (--migrations). Only if the bundled set is this database's: apply it with --out-of-order");
            } else if (state == MigrationState.IGNORED && script != null) {
                out.add(script.file().displayPath() + ": version " + v + " is older than the newest applied migration and was never "
                        + "applied (merged out of order): apply it with --out-of-order, as Prisma would, or give it a version after the "
                        + "newest applied one");
            } else if (state == MigrationState.SUCCESS && script != null && m.getChecksum() != null
                    && m.getChecksum() != FlywayBridge.checksum(script.file().content())
                    && m.getChecksum() != FlywayBridge.legacyChecksum(script.file().content())) {
                out.add(script.file().displayPath() + ": changed after it was applied (checksum recorded " + m.getChecksum() + ", the file's now "
                        + FlywayBridge.checksum(script.file().content()) + "): restore the file and put the change in a new migration, or, if the edit "
                        + "was deliberate and the database already matches it, accept it with: " + Repair.command("--accept-checksum", v));
            } else if (state == MigrationState.SUCCESS && script != null && !FlywayBridge.recordedDescription(script).equals(m.getDescription())
                    && !FlywayBridge.isLegacyDescription(script, m.getDescription())) {
                out.add(script.file().displayPath() + ": applied under the description '" + m.getDescription() + "', the file's name now "
                        + "gives '" + FlywayBridge.recordedDescription(script) + "'; rename it back");
            }
        }
        if (missing && !byVersion.isEmpty() && byVersion.values().stream().allMatch(Drift::bundled)) {
            out.add("the migrations given are only those bundled in this pgshift build (the example set, unless the image was built with "
                    + "its own), as no --migrations was given: give this database's with -m DIR");
        } else if (!renamed && !missingVersions.isEmpty() && !Collections.disjoint(bundledVersions(), missingVersions)) {
            out.add("where the missing ones were bundled in pgshift: a --migrations directory replaces the bundled migrations, "
                    + "--bundled=true runs both");
        }
        return out;
    }

    /** The versions of the migrations bundled in this build (empty where they cannot be read). */
    private static Set<String> bundledVersions() {
        try {
            return MigrationCatalog.order(MigrationLocations.bundled(Drift.class.getClassLoader())).stream().map(MigrationScript::version)
                    .collect(Collectors.toSet());
        } catch (RuntimeException e) {
            return Set.of();
        }
    }

    /** The pending file {@code applied} (an applied migration whose file is gone) looks renamed to: the same description; or null. */
    private static String renamedTo(MigrationInfo[] all, Map<String, MigrationScript> byVersion, Map<String, String> gone, MigrationInfo applied) {
        for (MigrationInfo m : all) {
            MigrationScript script = m.getVersion() == null ? null : byVersion.get(m.getVersion().getVersion());
            if (m.getState() == MigrationState.IGNORED && script != null && FlywayBridge.recordedDescription(script).equals(applied.getDescription())
                    && gone.containsKey(applied.getDescription())) {
                return script.file().displayPath();
            }
        }
        return null;
    }

    /** Whether a migration is one of those bundled in pgshift (the Character Creation Platform's example set). */
    private static boolean bundled(MigrationScript m) {
        return m.file().location().startsWith("classpath:");
    }
}
