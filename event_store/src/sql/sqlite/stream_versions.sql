SELECT stream, MAX(version) FROM events
WHERE stream IN (SELECT value FROM json_each(?1))
GROUP BY stream
