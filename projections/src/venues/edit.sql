UPDATE {venue_info}
SET name = COALESCE($2, name), region = COALESCE($3, region), venue_type = COALESCE($4, venue_type),
    address = COALESCE($5, address)
WHERE venue_id = $1
