INSERT INTO {region_admins} (region, digest, appointed_at) VALUES ($1, $2, $3)
ON CONFLICT (region) DO UPDATE SET digest = excluded.digest, appointed_at = excluded.appointed_at
