UPDATE projections SET rebuilding_generation = NULL, rebuild_position = NULL, updated_at = $3
WHERE name = $1 AND rebuilding_generation = $2
