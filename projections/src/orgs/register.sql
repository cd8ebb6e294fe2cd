INSERT INTO {org_info} (org_id, admin, code, name, registered_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (org_id) DO NOTHING
