INSERT INTO {venue_inspectors} (venue_id, person_id, bound_at) VALUES ($1, $2, $3)
ON CONFLICT (venue_id, person_id, bound_at) DO UPDATE SET unbound_at = NULL
