-- Business KPIs, kept up to date as milestones arrive. Each thing measured
-- keeps its state (JSON, see the core's kpi module), the time zone its days
-- are counted in, and the instant it counts at (first receipt, dispatch,
-- confirmation) with its site and transaction, so that a report's point can
-- list the transactions behind it.
CREATE TABLE kpi_po_lines (
    po              TEXT    NOT NULL,
    line            INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    tz              TEXT    NOT NULL,
    site            TEXT,
    counted_at      INTEGER,
    transaction_id  INTEGER,
    PRIMARY KEY (po, line)
) WITHOUT ROWID;
CREATE INDEX kpi_po_lines_counted ON kpi_po_lines (site, counted_at) WHERE counted_at IS NOT NULL;

CREATE TABLE kpi_orders (
    order_key       TEXT    NOT NULL PRIMARY KEY,
    state           TEXT    NOT NULL,
    tz              TEXT    NOT NULL,
    site            TEXT,
    counted_at      INTEGER,
    transaction_id  INTEGER
) WITHOUT ROWID;
CREATE INDEX kpi_orders_counted ON kpi_orders (site, counted_at) WHERE counted_at IS NOT NULL;

CREATE TABLE kpi_shipments (
    shipment        TEXT    NOT NULL PRIMARY KEY,
    state           TEXT    NOT NULL,
    tz              TEXT    NOT NULL,
    site            TEXT,
    counted_at      INTEGER,
    transaction_id  INTEGER
) WITHOUT ROWID;
CREATE INDEX kpi_shipments_counted ON kpi_shipments (site, counted_at) WHERE counted_at IS NOT NULL;

-- Daily totals per KPI, site and supplier ('' for every supplier), the day
-- in the site's time zone; b0..b6 are the distribution's buckets.
CREATE TABLE kpi_daily (
    supplier  TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    kpi       TEXT    NOT NULL,
    site      TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    num       REAL    NOT NULL,
    den       REAL    NOT NULL,
    hits      INTEGER NOT NULL,
    b0 INTEGER NOT NULL DEFAULT 0, b1 INTEGER NOT NULL DEFAULT 0, b2 INTEGER NOT NULL DEFAULT 0,
    b3 INTEGER NOT NULL DEFAULT 0, b4 INTEGER NOT NULL DEFAULT 0, b5 INTEGER NOT NULL DEFAULT 0,
    b6 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (supplier, day, kpi, site)
) WITHOUT ROWID;

-- The suppliers measured, for the page's choice (kept with the totals, so
-- that the choice never scans them).
CREATE TABLE kpi_suppliers (supplier TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID;

-- Events logged before the KPIs existed are counted once, at the next start,
-- a slice at a time; `counted_through` is saved with each slice, so a start
-- interrupted part way goes on where it stopped.
CREATE TABLE kpi_backfill (up_to_event INTEGER NOT NULL, counted_through INTEGER NOT NULL DEFAULT 0);
INSERT INTO kpi_backfill (up_to_event) SELECT COALESCE(MAX(id), 0) FROM events;
