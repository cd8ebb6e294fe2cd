UPDATE {grid_info} SET status = 'active' WHERE grid_id = $1
