SELECT generation, position, rebuilding_generation, rebuild_position FROM projections WHERE name = $1
