SELECT v.venue_id, v.name, v.code, v.region, v.venue_type, i.bound_at
FROM venue_inspectors i JOIN venue_info v ON v.venue_id = i.venue_id
WHERE i.person_id = $1 AND i.unbound_at IS NULL
ORDER BY i.bound_at, v.venue_id
