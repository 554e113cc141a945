"""PostgreSQL adapter: connection pool, server discovery and repositories (all SQL lives here)."""
