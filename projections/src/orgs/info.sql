SELECT org_id, admin, code, name, registered_at FROM org_info WHERE org_id = $1
