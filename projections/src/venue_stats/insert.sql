INSERT INTO {venue_checks} (venue_id, position, day, hour, person_id, inspector, band, sex, age_band)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (venue_id, position) DO NOTHING
