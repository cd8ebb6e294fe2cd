SELECT venue_id, admin, code, name, region, venue_type, address, created_at FROM venue_info WHERE admin = $1
