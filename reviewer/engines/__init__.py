"""Analysis engines: files in, Findings and failures out. They know nothing of diffs."""
