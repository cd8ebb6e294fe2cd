UPDATE {notices} SET withdrawn_at = $2, withdrawn_as = $3, withdrawal = $4 WHERE notice_id = $1
