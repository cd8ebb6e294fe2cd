SELECT i.org_id, i.name, i.code, m.bound_at
FROM org_members m JOIN org_info i ON i.org_id = m.org_id
WHERE m.person_id = $1 AND m.unbound_at IS NULL
ORDER BY m.bound_at, i.org_id
