package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.List;
import java.util.Map;

/**
 * A group of settings flags a command mixes in: each command declares only the groups it uses, so its --help lists
 * only options it acts on, and a flag it would ignore is refused as unknown.
 */
interface SettingFlags {

    /** Puts each flag given on the command line into {@code flags}. */
    void addTo(Map<Setting, String> flags);

    static void put(Map<Setting, String> m, Setting s, String v) {
        if (v != null) {
            m.put(s, v);
        }
    }

    static String joined(List<String> values) {
        return values == null ? null : String.join(",", values);
    }
}
