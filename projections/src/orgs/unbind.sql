UPDATE {org_members} SET unbound_at = $3 WHERE org_id = $1 AND person_id = $2 AND unbound_at IS NULL
