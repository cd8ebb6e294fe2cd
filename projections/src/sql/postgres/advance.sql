UPDATE projections SET position = $4, updated_at = $5
WHERE name = $1 AND generation = $2 AND position = $3
