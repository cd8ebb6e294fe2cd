SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1
