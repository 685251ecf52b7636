-- Business transactions: what events are about, end to end, across systems.
CREATE TABLE transactions (
    id                INTEGER PRIMARY KEY,
    -- `po:PO-10045`, or the correlation id a sender gave.
    name              TEXT    NOT NULL UNIQUE,
    -- procure_to_receive | order_to_cash; NULL while nothing says.
    flow              TEXT,
    -- The furthest stage of the flow reached, 1-based; 0 for none yet.
    stage             INTEGER NOT NULL DEFAULT 0,
    site              TEXT,
    supplier          TEXT,
    customer          TEXT,
    -- The earliest event's time, and the latest milestone's (for "stuck").
    first_at          INTEGER NOT NULL,
    last_milestone_at INTEGER,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX transactions_stuck ON transactions (flow, last_milestone_at);

-- Which transaction a transaction key (PO, ASN, receipt, order, shipment,
-- tracking number, invoice) belongs to: the first one that carried it.
CREATE TABLE transaction_keys (
    kind           TEXT    NOT NULL,
    value          TEXT    NOT NULL,
    transaction_id INTEGER NOT NULL REFERENCES transactions (id),
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX transaction_keys_of ON transaction_keys (transaction_id);

-- Transactions that share a key (a PO's receipt and the orders fed from it,
-- an order and its shipments, a shipment and its invoice); a < b.
CREATE TABLE transaction_links (
    a INTEGER NOT NULL REFERENCES transactions (id),
    b INTEGER NOT NULL REFERENCES transactions (id),
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX transaction_links_b ON transaction_links (b);

ALTER TABLE events ADD COLUMN transaction_id INTEGER REFERENCES transactions (id);
CREATE INDEX events_transaction ON events (transaction_id, time);
ALTER TABLE exceptions ADD COLUMN transaction_id INTEGER REFERENCES transactions (id);
CREATE INDEX exceptions_transaction ON exceptions (transaction_id);

-- Events logged before lineage existed are placed once, at the next start.
CREATE TABLE lineage_backfill (up_to_event INTEGER NOT NULL);
INSERT INTO lineage_backfill (up_to_event) SELECT COALESCE(MAX(id), 0) FROM events;
