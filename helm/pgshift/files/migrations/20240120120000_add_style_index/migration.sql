-- An example of a migration shipped with the chart rather than the image (migrations.fromChartFiles=true).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_characters_created_at ON characters (created_at);
