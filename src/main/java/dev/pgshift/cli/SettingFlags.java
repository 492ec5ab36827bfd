package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.List;
import java.util.Map;

/**
 * A group of settings flags a command mixes in: each command declares only the groups it uses, so its --help lists
 * only options it acts on, and a flag it would ignore is refused as unknown.
 */
interface SettingFlags {

    /**
     * Puts each setting of the group into {@code flags}: with its value when the flag was given, with null when not (so
     * the keys say which settings the command acts on, and the environment's others are ignored).
     */
    void addTo(Map<Setting, String> flags);

    static void put(Map<Setting, String> m, Setting s, String v) {
        m.put(s, v);
    }

    static String joined(List<String> values) {
        return values == null ? null : String.join(",", values);
    }
}
