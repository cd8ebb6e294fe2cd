UPDATE {org_info} SET name = $2 WHERE org_id = $1
