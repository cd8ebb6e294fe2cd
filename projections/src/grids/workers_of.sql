SELECT person_id, authorised FROM grid_workers WHERE grid_id = $1 AND unbound_at IS NULL ORDER BY bound_at, person_id
