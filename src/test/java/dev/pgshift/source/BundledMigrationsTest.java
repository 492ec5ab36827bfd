package dev.pgshift.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import static dev.pgshift.source.ExecutionMode.OUTSIDE;
import static dev.pgshift.source.ExecutionMode.TRANSACTION;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Bundled migrations come from the build-time index, as they must in a native binary where folders cannot be listed. */
class BundledMigrationsTest {

    /** A class loader like a native image's: single resources are there, folders cannot be listed or found. */
    static final class NoListingClassLoader extends ClassLoader {
        NoListingClassLoader() {
            super(null);
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            if (name.endsWith("/") || !name.contains(".")) {
                return null;
            }
            return BundledMigrationsTest.class.getClassLoader().getResourceAsStream(name);
        }

        @Override
        public URL getResource(String name) {
            return null;
        }

        @Override
        public Enumeration<URL> getResources(String name) {
            return Collections.emptyEnumeration();
        }
    }

    @Test
    void indexListsExactlyTheFilesOfTheSourceFolder() throws IOException {
        Path root = Path.of("src/main/resources/db/migration");
        List<String> onDisk;
        try (Stream<Path> s = Files.walk(root)) {
            onDisk = s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString().replace('\\', '/')).sorted().toList();
        }
        NoListingClassLoader loader = new NoListingClassLoader();
        assertNull(loader.getResource("db/migration"), "the loader cannot see folders");
        List<String> found = MigrationLocations.bundled(loader).stream().map(MigrationFile::relativePath).sorted().toList();
        assertEquals(onDisk, found);
    }

    @Test
    void bundledPlatformMigrationsFormTheExpectedStream() {
        List<MigrationScript> s = MigrationCatalog.order(MigrationLocations.bundled(new NoListingClassLoader()));
        assertEquals(List.of("20240110120000.1", "20240112090000.1", "20240115143000", "20240116100000", "20240117090000"),
                s.stream().map(MigrationScript::version).toList());
        assertEquals(List.of(TRANSACTION, TRANSACTION, OUTSIDE, TRANSACTION, TRANSACTION), s.stream().map(MigrationScript::mode).toList());
    }
}
