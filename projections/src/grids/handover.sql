UPDATE {grid_info} SET admin = $2 WHERE grid_id = $1
