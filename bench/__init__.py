"""Performance benchmark of the rollups on PostgreSQL; see bench/README.md."""
