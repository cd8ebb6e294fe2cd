UPDATE {appeals} SET status = 'moot' WHERE digest = $1 AND reason = $2 AND status = 'open'
