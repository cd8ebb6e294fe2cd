SELECT s.value, (SELECT MAX(version) FROM events WHERE stream = s.value), NULL
FROM json_each(?1) AS s
WHERE EXISTS (SELECT 1 FROM events WHERE stream = s.value)
UNION ALL
SELECT NULL, position, hash FROM (SELECT position, hash FROM events ORDER BY position DESC LIMIT 1)
