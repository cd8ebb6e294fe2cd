DELETE FROM {role_grants} WHERE person_id = $1 AND role = $2
