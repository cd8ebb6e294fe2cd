DELETE FROM {region_admins} WHERE region = $1 AND digest = $2
