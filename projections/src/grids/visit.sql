INSERT INTO {grid_visits} (visit_id, grid_id, worker, person_id, fever, symptoms, at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (visit_id) DO NOTHING
