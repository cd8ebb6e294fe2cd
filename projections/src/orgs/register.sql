INSERT INTO {org_info} (org_id, admin, code, name, address, level, phone, registered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (org_id) DO NOTHING
