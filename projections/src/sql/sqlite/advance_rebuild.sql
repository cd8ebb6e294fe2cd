UPDATE projections SET rebuild_position = ?4, updated_at = ?5
WHERE name = ?1 AND rebuilding_generation = ?2 AND rebuild_position = ?3
