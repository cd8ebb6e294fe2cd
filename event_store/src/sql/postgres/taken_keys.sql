SELECT key FROM idempotency_keys WHERE key = ANY($1)
