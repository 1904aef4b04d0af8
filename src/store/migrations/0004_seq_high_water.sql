-- A delivery's seq is never given twice: SQLite reuses the top rowids after their rows are
-- deleted (pruning every delivered row of a quiet week), and a running lane that had already
-- loaded past them would never see the new deliveries. The store now counts seqs itself.
INSERT INTO counters (name, value) SELECT 'last_seq', COALESCE(MAX(seq), 0) FROM deliveries;
