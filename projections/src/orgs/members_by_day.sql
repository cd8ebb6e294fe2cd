SELECT COUNT(*) AS n FROM org_members WHERE org_id = $1 AND bound_at < $2
