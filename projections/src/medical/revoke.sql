UPDATE {medical_staff} SET revoked_at = $2 WHERE person_id = $1
