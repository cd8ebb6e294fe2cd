SELECT reason, record_id, since FROM red_reasons WHERE digest = $1 ORDER BY since, reason
