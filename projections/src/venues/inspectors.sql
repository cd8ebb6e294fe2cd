SELECT person_id, bound_at FROM venue_inspectors
WHERE venue_id = $1 AND unbound_at IS NULL
ORDER BY bound_at, person_id
