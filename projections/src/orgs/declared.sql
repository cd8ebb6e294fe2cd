INSERT INTO {org_daily} (org_id, day, person_id, declarations, fever, symptoms) VALUES ($1, $2, $3, 1, $4, $5)
ON CONFLICT (org_id, day, person_id) DO UPDATE
SET declarations = {org_daily}.declarations + 1, fever = excluded.fever, symptoms = excluded.symptoms
