DELETE FROM {grid_current} WHERE person_id = $1 AND grid_id = $2
