UPDATE {grid_info} SET status = 'dissolved' WHERE grid_id = $1
