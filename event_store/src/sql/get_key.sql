SELECT key, request_hash, response, position FROM idempotency_keys WHERE key = $1
