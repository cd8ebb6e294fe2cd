INSERT INTO projections (name, generation, position, updated_at) VALUES ($1, 1, 0, $2)
