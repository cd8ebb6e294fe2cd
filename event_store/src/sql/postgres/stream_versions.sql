SELECT stream, MAX(version) FROM events WHERE stream = ANY($1) GROUP BY stream
