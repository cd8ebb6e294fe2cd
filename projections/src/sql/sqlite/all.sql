SELECT name, generation, position, rebuilding_generation, rebuild_position FROM projections ORDER BY name
