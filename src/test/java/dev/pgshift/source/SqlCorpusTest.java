package dev.pgshift.source;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every case of the conformance corpus: statements, lines, kinds, the file's mode and its plan warnings. */
class SqlCorpusTest {

    @Test
    void theCorpusHasAtLeast150Cases() {
        assertTrue(SqlCorpus.cases().size() >= 150, "cases: " + SqlCorpus.cases().size());
    }

    @Test
    void everyCaseReadsAsExpected() {
        List<String> failures = new ArrayList<>();
        for (SqlCorpus c : SqlCorpus.cases()) {
            List<String> actual = c.actual();
            if (!c.matches(actual)) {
                failures.add(SqlCorpus.diff(c, actual));
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " case(s) differ:\n" + String.join("\n", failures));
    }
}
