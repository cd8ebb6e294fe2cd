SELECT position, body FROM history
WHERE person_id = $1 AND kind = $2 AND position < $3
ORDER BY position DESC
LIMIT $4
