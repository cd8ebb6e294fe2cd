SELECT role FROM role_grants WHERE person_id = $1 ORDER BY role
