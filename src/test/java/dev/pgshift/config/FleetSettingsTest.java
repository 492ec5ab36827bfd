package dev.pgshift.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fleet's settings: waves dealt as the README says, bad values named with where to fix them, tenants' connections. */
class FleetSettingsTest {
    private final Map<String, String> env = new HashMap<>(Map.of("PGUSER", "ctl", "PGPASSWORD", "ctl-secret", "PGHOST", "db.internal",
            "PGDATABASE", "control"));
    private final Map<Setting, String> flags = new EnumMap<>(Setting.class);

    private Settings resolve() {
        return new SettingsResolver(env).resolve(flags, null);
    }

    private String refused() {
        PgshiftException e = assertThrows(PgshiftException.class, this::resolve);
        assertEquals(ExitCode.CONFIG, e.exitCode());
        return e.getMessage();
    }

    private List<Integer> waves(String spec, int tenants) {
        flags.put(Setting.RELEASE, "r1");
        flags.put(Setting.WAVES, spec);
        return resolve().fleet().waveSizes(tenants);
    }

    @Test
    void wavesAreDealtInTenantOrder() {
        assertEquals(List.of(1, 6, 53), waves("1,10%,rest", 60));
        assertEquals(List.of(1, 1, 1), waves("1,10%,rest", 3), "10% of 3 is still one tenant");
        assertEquals(List.of(1), waves("1,10%,rest", 1), "no empty wave");
        assertEquals(List.of(5, 10, 5), waves("5,50%", 20), "what the spec leaves is a last wave");
        assertEquals(List.of(20), waves("rest", 20));
        assertEquals(List.of(2, 3), waves("2 , 3, 10", 5));
    }

    @Test
    void badValuesNameTheSettingAndWhatItTakes() {
        for (String bad : List.of("rest,1", "0", "10%%", "150%", "1,,2", "a")) {
            flags.put(Setting.RELEASE, "r1");
            flags.put(Setting.WAVES, bad);
            String m = refused();
            assertTrue(m.contains("--waves / PGSHIFT_FLEET_WAVES") && m.contains("1,10%,rest"), bad + ": " + m);
        }
        flags.remove(Setting.WAVES);
        flags.put(Setting.RELEASE, "../etc");
        assertTrue(refused().contains("bad release id '../etc'"));
        flags.put(Setting.RELEASE, "r1");
        flags.put(Setting.SHARDS, "4");
        env.put("JOB_COMPLETION_INDEX", "4");
        assertTrue(refused().contains("bad shard '4' for --shard / JOB_COMPLETION_INDEX"));
        env.put("JOB_COMPLETION_INDEX", "3");
        assertEquals(3, resolve().fleet().shard());
        flags.put(Setting.TENANTS_SQL, "select 1");
        flags.put(Setting.TENANTS_FILE, "/tmp/t");
        assertTrue(refused().contains("the tenants come from one of them"));
    }

    @Test
    void otherCommandsIgnoreTheFleetsEnvironment() {
        env.put("JOB_COMPLETION_INDEX", "not-a-number");
        env.put("PGSHIFT_FLEET_RELEASE", "r9");
        Map<Setting, String> none = new EnumMap<>(Setting.class);
        assertNull(new SettingsResolver(env).resolve(none, null, EnumSet.of(Setting.URL)).fleet(), "run, plan ... take no fleet settings");
    }

    @Test
    void aTenantsConnectionIsItsUrlWithTheControlConnectionsDefaults() {
        flags.put(Setting.RELEASE, "r1");
        flags.put(Setting.SSL_MODE, "require");
        Settings fleet = resolve();
        Settings same = SettingsResolver.forTenant(fleet, "Acme-1", "postgresql://ctl@DB.internal/Acme_Shop?currentSchema=Billing");
        assertEquals("Acme_Shop", same.connection().database(), "the database exactly as written");
        assertEquals("require", same.connection().sslMode(), "the fleet's sslmode where the URL gives none");
        assertEquals("ctl-secret", same.connection().password(), "the same role on the same server: its password");
        assertEquals("Billing", same.schema());
        assertEquals("Acme-1", same.connection().tenant());
        Settings other = SettingsResolver.forTenant(fleet, "Acme-2", "postgresql://app@db.internal:5433/acme2?sslmode=verify-full");
        assertNull(other.connection().password(), "another role: not the control connection's password");
        assertEquals("verify-full", other.connection().sslMode());
        assertEquals("public", other.schema());
        PgshiftException e = assertThrows(PgshiftException.class, () -> SettingsResolver.forTenant(fleet, "Acme-3",
                "postgresql://app:hunter2@db/acme3"));
        assertTrue(e.getMessage().contains("holds a password") && !e.getMessage().contains("hunter2"), e.getMessage());
        for (String leaky : List.of("postgresql://app@db/acme3?PASSWORD=hunter2", "jdbc:postgresql://db/acme3?user=app&Password=hunter2",
                "jdbc:postgresql://app:hunter2@db/acme3")) {
            String m = assertThrows(PgshiftException.class, () -> SettingsResolver.tenantUrl("Acme-3", leaky)).getMessage();
            assertFalse(m.contains("hunter2"), m);
        }
        assertFalse(assertThrows(PgshiftException.class, () -> SettingsResolver.forTenant(fleet, "Acme-4", "postgresql://db:5432"))
                .getMessage().isEmpty());
    }
}
