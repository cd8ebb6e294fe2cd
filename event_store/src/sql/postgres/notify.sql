SELECT pg_notify('yuekang_events', $1)
