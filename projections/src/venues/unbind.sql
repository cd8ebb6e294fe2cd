UPDATE {venue_inspectors} SET unbound_at = $3 WHERE venue_id = $1 AND person_id = $2 AND unbound_at IS NULL
