package dev.pgshift.fleet;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.FleetSettings;
import dev.pgshift.config.Setting;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Freezing a release: the tenant list read once, dealt into shards (position mod shards) and waves, and written with the
 * release's settings to the control database. Every later pod of the release takes the frozen list, whatever the query
 * would give now, and refuses to run with other settings.
 */
final class Release {

    /** A release as frozen (or as freezing it now would make it: {@code frozen} false). */
    record Frozen(ControlTable.Release release, List<ControlTable.Tenant> tenants, boolean frozen) {
    }

    private Release() {
    }

    /**
     * The release {@code fleet} names, frozen now when it is not yet and {@code write} is set; with {@code write} unset
     * nothing is written (fleet plan).
     */
    static Frozen open(FleetSettings fleet, Connection c, Pods.Target target, boolean write) throws SQLException {
        ControlTable.Release found = ControlTable.release(c, fleet.release());
        if (found != null) {
            return checked(fleet, target, found, ControlTable.tenants(c, found.id(), null));
        }
        List<Tenants.Listed> listed = Tenants.read(fleet, c);
        ControlTable.Release release = new ControlTable.Release(fleet.release(), fleet.shards(), fleet.waves(), fleet.haltAfter(),
                target.version(), target.digest(), listed.size(), null, null, null);
        List<ControlTable.Tenant> dealt = deal(fleet, listed);
        if (!write) {
            return new Frozen(release, dealt, false);
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (Statement st = c.createStatement()) {
                st.execute("select pg_advisory_xact_lock(hashtext('pgshift.fleet'))"); // pods that start together freeze once
            }
            ControlTable.create(c);
            found = ControlTable.release(c, fleet.release());
            if (found == null) {
                ControlTable.insert(c, release, dealt);
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
        if (found != null) {
            return checked(fleet, target, found, ControlTable.tenants(c, found.id(), null));
        }
        return new Frozen(ControlTable.release(c, fleet.release()), ControlTable.tenants(c, fleet.release(), null), true);
    }

    private static List<ControlTable.Tenant> deal(FleetSettings fleet, List<Tenants.Listed> listed) {
        List<Integer> sizes = fleet.waveSizes(listed.size());
        List<ControlTable.Tenant> out = new ArrayList<>();
        int wave = 0;
        int inWave = 0;
        for (int i = 0; i < listed.size(); i++) {
            if (inWave == sizes.get(wave)) {
                wave++;
                inWave = 0;
            }
            inWave++;
            Tenants.Listed t = listed.get(i);
            out.add(new ControlTable.Tenant(t.name(), i, wave, i % fleet.shards(), t.url(), ControlTable.PENDING, null, null, null, null, null,
                    0, null, null, null));
        }
        return out;
    }

    /** A process of a release runs with its settings and migrations, or not at all. */
    private static Frozen checked(FleetSettings fleet, Pods.Target target, ControlTable.Release found, List<ControlTable.Tenant> tenants) {
        List<String> differ = new ArrayList<>();
        if (found.shards() != fleet.shards()) {
            differ.add(found.shards() + " shards, this process " + fleet.shards() + " (" + Setting.SHARDS.displayName() + ")");
        }
        if (!found.waves().equals(fleet.waves())) {
            differ.add("waves " + found.waves() + ", this process " + fleet.waves() + " (" + Setting.WAVES.displayName() + ")");
        }
        if (found.haltAfter() != fleet.haltAfter()) {
            differ.add("halt after " + found.haltAfter() + ", this process " + fleet.haltAfter() + " (" + Setting.HALT_AFTER.displayName() + ")");
        }
        if (!found.target().equals(target.version())) {
            differ.add("migrations up to version " + found.target() + ", this process's up to " + target.version() + " (another image or --migrations)");
        } else if (!found.digest().equals(target.digest())) {
            differ.add("migrations of another content (sha256 " + found.digest().substring(0, 12) + ", this process's " + target.digest().substring(0, 12)
                    + "): a file was edited, added or removed (another image or ConfigMap)");
        }
        if (!differ.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "release '" + found.id() + "' was frozen with " + String.join("; ", differ)
                    + ": every process of a release runs with the settings and migrations it was frozen with. Run it so, or start a new "
                    + "release (another --release): tenants already at the target version are passed over");
        }
        return new Frozen(found, tenants, true);
    }
}
