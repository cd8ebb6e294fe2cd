SELECT grid_id, code, region, name, status FROM grid_info
WHERE admin = $1 AND status <> 'dissolved' ORDER BY created_at DESC, grid_id LIMIT 1
