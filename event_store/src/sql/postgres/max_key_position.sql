SELECT COALESCE(MAX(position), 0)::bigint FROM idempotency_keys
