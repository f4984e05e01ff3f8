"""Strategic bitcoin reserve: watch-only holdings, ledger, policies."""
