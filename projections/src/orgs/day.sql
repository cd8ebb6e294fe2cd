SELECT COUNT(*) AS declared,
       CAST(COALESCE(SUM(d.declarations), 0) AS BIGINT) AS declarations,
       CAST(COALESCE(SUM(d.fever), 0) AS BIGINT) AS fever,
       CAST(COALESCE(SUM(d.symptoms), 0) AS BIGINT) AS symptoms,
       CAST(COALESCE(SUM(CASE WHEN EXISTS (
           SELECT 1 FROM org_members m
           WHERE m.org_id = d.org_id AND m.person_id = d.person_id
             AND m.bound_at < $3 AND (m.unbound_at IS NULL OR m.unbound_at >= $3)
       ) THEN 1 ELSE 0 END), 0) AS BIGINT) AS declared_members
FROM org_daily d
WHERE d.org_id = $1 AND d.day = $2
