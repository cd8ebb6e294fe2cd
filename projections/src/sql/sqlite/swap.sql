UPDATE projections
SET generation = ?2, position = ?3, rebuilding_generation = NULL, rebuild_position = NULL, updated_at = ?4
WHERE name = ?1 AND rebuilding_generation = ?2
