UPDATE {venue_info} SET admin = $2 WHERE venue_id = $1
