DELETE FROM {org_members} WHERE org_id = $1 AND person_id = $2
