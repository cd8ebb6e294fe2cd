INSERT INTO idempotency_keys (key, request_hash, response, position)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3
FROM json_each(?1)
