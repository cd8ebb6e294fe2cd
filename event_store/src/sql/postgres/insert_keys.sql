INSERT INTO idempotency_keys (key, request_hash, response, position)
SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[])
