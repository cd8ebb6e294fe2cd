INSERT INTO {red_reasons} (digest, reason, record_id, since) VALUES ($1, $2, $3, $4)
ON CONFLICT (digest, reason) DO NOTHING
