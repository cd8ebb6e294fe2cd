SELECT region FROM region_admins WHERE digest = $1 ORDER BY region
