DELETE FROM idempotency_keys WHERE position IN (
    SELECT k.position FROM idempotency_keys k JOIN events e ON e.position = k.position
    WHERE e.recorded_at < $1
)
