UPDATE {grid_info} SET name = COALESCE($2, name), region = COALESCE($3, region) WHERE grid_id = $1
