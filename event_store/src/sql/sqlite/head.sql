SELECT position, hash FROM events ORDER BY position DESC LIMIT 1
