INSERT INTO {venue_info} (venue_id, admin, code, name, region, venue_type, address, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (venue_id) DO NOTHING
