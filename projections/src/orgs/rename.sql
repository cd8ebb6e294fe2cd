UPDATE {org_info}
SET name = COALESCE($2, name), address = COALESCE($3, address), level = COALESCE($4, level),
    phone = COALESCE($5, phone), last_edit_at = $6
WHERE org_id = $1
