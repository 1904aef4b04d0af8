-- Each delivery's request (shown headers and exact body) in a table of its own: written once,
-- read to send, never updated. Marking a delivery delivered then rewrites a small row rather
-- than a page full of bodies, which halves what the store writes per delivery.
CREATE TABLE payloads (
    seq      INTEGER PRIMARY KEY,
    headers  TEXT NOT NULL,
    body     BLOB NOT NULL
);
INSERT INTO payloads (seq, headers, body) SELECT seq, headers, body FROM deliveries;
ALTER TABLE deliveries DROP COLUMN headers;
ALTER TABLE deliveries DROP COLUMN body;
