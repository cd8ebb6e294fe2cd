UPDATE projections SET rebuilding_generation = ?2, rebuild_position = 0, updated_at = ?3 WHERE name = ?1
