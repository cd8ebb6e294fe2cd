INSERT INTO {role_grants} (person_id, role, granted_at) VALUES ($1, $2, $3)
ON CONFLICT (person_id, role) DO NOTHING
