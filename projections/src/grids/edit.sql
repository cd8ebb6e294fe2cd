UPDATE {grid_info}
SET name = COALESCE($2, name),
    region = COALESCE($3, region),
    status = CASE WHEN $3 IS NOT NULL AND $3 <> region THEN 'pending' ELSE status END
WHERE grid_id = $1
