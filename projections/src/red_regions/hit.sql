INSERT INTO {red_regions} (digest, reason, region, since) VALUES ($1, $2, $3, $4)
ON CONFLICT (digest, reason) DO NOTHING
