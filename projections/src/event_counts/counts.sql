SELECT event_type, events FROM event_counts ORDER BY event_type
