SELECT org_id, admin, code, name, address, level, phone, registered_at, last_edit_at FROM org_info WHERE org_id = $1
