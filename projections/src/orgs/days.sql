SELECT d.day,
       COUNT(*) AS declared,
       CAST(SUM(d.declarations) AS BIGINT) AS declarations,
       CAST(SUM(d.fever) AS BIGINT) AS fever,
       CAST(SUM(d.symptoms) AS BIGINT) AS symptoms,
       CAST(SUM(CASE WHEN m.person_id IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS declared_members
FROM org_daily d
LEFT JOIN org_members m ON m.org_id = d.org_id AND m.person_id = d.person_id
WHERE d.org_id = $1 AND d.day >= $2 AND d.day <= $3
GROUP BY d.day
ORDER BY d.day
