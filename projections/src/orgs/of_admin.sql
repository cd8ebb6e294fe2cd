SELECT org_id, admin, code, name, registered_at FROM org_info WHERE admin = $1
