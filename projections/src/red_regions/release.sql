DELETE FROM {red_regions} WHERE digest = $1 AND reason = $2
