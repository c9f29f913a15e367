"""X12 5010 codec: the tolerant reader, typed readers and writers per transaction set (filled by its own issue)."""
