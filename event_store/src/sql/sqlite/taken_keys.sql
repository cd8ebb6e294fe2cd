SELECT key FROM idempotency_keys WHERE key IN (SELECT value FROM json_each(?1))
