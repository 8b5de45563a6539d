"""Staff accounts: roles and the counties each may see (guards), passwords, login and the
accounts page, and the append-only audit trail of what signed-in users did."""
