package dev.pgshift.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The one way the suite writes migrations and points pgshift at them: scenario folders under
 * {@code src/test/resources/<scenario>/} copied whole, small inline files written by name, and the command line that gives
 * a directory of migrations without the bundled ones.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** {@code command --bundled=false --migrations dir}, then {@code more}. */
    public static List<String> args(String command, Path dir, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--bundled=false", "--migrations", dir.toString()));
        a.addAll(List.of(more));
        return a;
    }

    /** Writes each {@code name, sql} pair into {@code dir} (created, with any sub-folder a name has); returns {@code dir}. */
    public static Path write(Path dir, String... nameThenSql) throws Exception {
        Files.createDirectories(dir);
        for (int i = 0; i < nameThenSql.length; i += 2) {
            Path f = dir.resolve(nameThenSql[i]);
            Files.createDirectories(f.getParent());
            Files.writeString(f, nameThenSql[i + 1]);
        }
        return dir;
    }

    /** Copies the scenario folder {@code src/test/resources/<scenario>} (or any path relative to src/test/resources) to {@code target}. */
    public static Path copy(String scenario, Path target) throws Exception {
        Path src = Path.of("src/test/resources", scenario);
        Files.createDirectories(target);
        try (var files = Files.walk(src)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path dest = target.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return target;
    }
}
