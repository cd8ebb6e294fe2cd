SELECT COUNT(DISTINCT person_id) AS n FROM org_members
WHERE org_id = $1 AND bound_at < $2 AND (unbound_at IS NULL OR unbound_at >= $2)
