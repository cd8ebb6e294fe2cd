SELECT f.member AS person_id, f.relation, p.digest, p.profile
FROM family f JOIN people p ON p.person_id = f.member
WHERE f.guardian = $1
ORDER BY f.added_at, f.member
