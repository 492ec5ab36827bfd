package dev.pgshift.migrate;

import dev.pgshift.source.MigrationScript;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.api.ResourceProvider;
import org.flywaydb.core.api.resource.LoadableResource;

/**
 * Presents pgshift's migration stream to Flyway, which cannot parse Prisma folders or the platform's timestamp names:
 * each migration appears under a Flyway-style name ({@code V20240115143000__add_user_indexes.sql}) with its content
 * unchanged, so Flyway's checksum stays the checksum of the file. Only transactional migrations come this way (a
 * {@code .sql.conf} beside each pins executeInTransaction=true, whatever Flyway's own parser thinks); the others go
 * through {@link ConcurrentResolver}. No classpath or directory scanning happens inside Flyway.
 */
final class ScriptResources implements ResourceProvider {
    private final Map<String, LoadableResource> byName = new LinkedHashMap<>();

    ScriptResources(List<MigrationScript> scripts) {
        for (MigrationScript s : scripts) {
            if (!s.transactional()) {
                continue; // ConcurrentResolver hands these to Flyway with pgshift's own executor
            }
            String name = s.flywayName();
            byName.put(name, new Text(name, s.file().displayPath(), s.file().content()));
            byName.put(name + ".conf", new Text(name + ".conf", s.file().displayPath() + ".conf",
                    "executeInTransaction=" + s.transactional() + "\n"));
        }
    }

    @Override
    public LoadableResource getResource(String name) {
        return byName.get(name);
    }

    @Override
    public Collection<LoadableResource> getResources(String prefix, String[] suffixes) {
        List<LoadableResource> out = new ArrayList<>();
        for (Map.Entry<String, LoadableResource> e : byName.entrySet()) {
            String name = e.getKey();
            if (name.startsWith(prefix) && Arrays.stream(suffixes).anyMatch(name::endsWith)) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    /** A migration's text under the name Flyway sees; its path on disk is the real file, for Flyway's messages. */
    static final class Text extends LoadableResource {
        private final String name;
        private final String location;
        private final String content;

        Text(String name, String location, String content) {
            this.name = name;
            this.location = location;
            this.content = content;
        }

        @Override
        public Reader read() {
            return new StringReader(content);
        }

        @Override
        public String getAbsolutePath() {
            return location;
        }

        @Override
        public String getAbsolutePathOnDisk() {
            return location;
        }

        @Override
        public String getFilename() {
            return name;
        }

        @Override
        public String getRelativePath() {
            return name;
        }
    }
}
