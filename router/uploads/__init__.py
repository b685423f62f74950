"""Files channel users upload to us: kept in their own table, with quotas and an expiry."""
