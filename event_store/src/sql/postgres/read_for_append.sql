SELECT s.stream, v.version, NULL::bytea
FROM UNNEST($1::text[]) AS s(stream)
CROSS JOIN LATERAL (
    SELECT version FROM events WHERE events.stream = s.stream ORDER BY version DESC LIMIT 1
) AS v
UNION ALL
(SELECT NULL::text, position, hash FROM events ORDER BY position DESC LIMIT 1)
