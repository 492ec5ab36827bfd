package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** What the post-migration checks accept and run: the commands that verify. */
final class VerifyOptions implements SettingFlags {

    @Option(names = "--verify-scripts", paramLabel = "DIR", description = "a directory of verify scripts: SQL queries that must return "
            + "no rows; '-- pgshift:after VERSION' in one ties it to a migration; repeatable (env PGSHIFT_VERIFY_SCRIPTS)")
    List<String> verifyScripts;

    @Option(names = "--allow-invalid-index", paramLabel = "NAME", split = ",", description = "INVALID indexes not made by the "
            + "migrations that verify accepts without a warning (env PGSHIFT_ALLOW_INVALID_INDEXES)")
    List<String> allowInvalidIndexes;

    @Option(names = "--allow-not-valid", paramLabel = "NAME", split = ",", description = "constraints deliberately left NOT VALID "
            + "(env PGSHIFT_ALLOW_NOT_VALID)")
    List<String> allowNotValid;

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.VERIFY_SCRIPTS, SettingFlags.joined(verifyScripts));
        SettingFlags.put(flags, Setting.ALLOW_INVALID_INDEX, SettingFlags.joined(allowInvalidIndexes));
        SettingFlags.put(flags, Setting.ALLOW_NOT_VALID, SettingFlags.joined(allowNotValid));
    }
}
