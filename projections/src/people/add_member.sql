INSERT INTO {family} (guardian, member, relation, added_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (guardian, member) DO UPDATE SET relation = excluded.relation, added_at = excluded.added_at
