UPDATE {appeals} SET status = $2, detail = $3, decided_at = $4 WHERE appeal_id = $1
