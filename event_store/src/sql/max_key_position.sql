SELECT COALESCE(MAX(position), 0) FROM idempotency_keys
