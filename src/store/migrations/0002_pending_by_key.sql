-- A lane that holds back many deliveries behind one busy ordering key forgets them and,
-- when the key frees, reads that key's next ones back: this index makes that one seek.
CREATE INDEX deliveries_pending_key ON deliveries (route, ordering_key, seq) WHERE status = 'pending';
