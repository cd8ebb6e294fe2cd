SELECT COALESCE(MAX(version), 0)::bigint FROM events WHERE stream = $1
