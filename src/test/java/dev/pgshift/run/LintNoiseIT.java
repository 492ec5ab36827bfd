package dev.pgshift.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pgshift.source.Finding;
import dev.pgshift.source.Lint;
import dev.pgshift.source.LintSettings;
import dev.pgshift.source.MigrationCatalog;
import dev.pgshift.source.MigrationFile;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.testing.OneMajor;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The lint's noise on real-world Prisma histories (src/test/resources/prisma-histories): each folder is a release,
 * linted with the default thresholds against the database the earlier releases made, then applied; after each release
 * every table is given 2,000,000 rows in its statistics ({@code pg_class.reltuples}, what the planner and the lint read)
 * so that every existing table counts as big. The findings are the ones a reviewer would agree with, listed here.
 */
@Tag(OneMajor.TAG) // what is weighed is the catalog's statistics, the same on every major; the classification is proved per major by LintProofIT
class LintNoiseIT {

    /** rule @ folder:line for each finding that counts, release by release. */
    static List<String> lint(String history) throws Exception {
        TestDb db = PgServer.get().newDatabase("noise_" + history.replace('-', '_'));
        Path dir = Path.of("src/test/resources/prisma-histories", history);
        List<Path> folders;
        try (Stream<Path> s = Files.list(dir)) {
            folders = s.filter(Files::isDirectory).sorted().toList();
        }
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement(); Connection admin = PgServer.get().admin(db.name());
                Statement stats = admin.createStatement()) {
            for (Path folder : folders) {
                String sql = Files.readString(folder.resolve("migration.sql"));
                List<MigrationScript> release = MigrationCatalog.order(List.of(new MigrationFile(folder.getFileName() + "/migration.sql",
                        dir.toString(), sql)));
                for (Finding f : Lint.check(release, new LiveTableCatalog(c), LintSettings.DEFAULT)) {
                    if (!f.decision().equals(Finding.UNDER_THRESHOLD)) {
                        out.add(f.rule() + " @ " + folder.getFileName() + ":" + f.line());
                    }
                }
                st.execute(sql);
                stats.execute("update pg_class set reltuples = 2000000 where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')");
            }
        }
        return out;
    }

    @Test
    void realPrismaHistoriesGiveOnlyFindingsAReviewerWouldAgreeWith() throws Exception {
        assertEquals(List.of("create-index @ 20230110120000_tags_unique:2"), lint("app-schema"),
                "the unique index on an existing Tag; the FK on the Tag its release creates and VARCHAR(40) to TEXT (no rewrite) are not findings");
        assertEquals(List.of("create-index @ 20231015000000_link_name_index:2"), lint("mixed-prefixes"), "nullable ADD COLUMNs are not findings");
        assertEquals(List.of("create-index @ 12_handle_idx:2", "create-index @ 12_handle_idx:5"), lint("numbered"));
        assertEquals(List.of("create-index @ 20240301100000_post_title_idx:5", "change-type @ 20240315120000_drop_guest:5"), lint("zero-init"),
                "VARCHAR(32) to VARCHAR(191) does not rewrite; an enum swapped USING a cast does");
    }
}
