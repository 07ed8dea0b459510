-- Byte Points back office (docs/backoffice.md). Applied by the follower at
-- start; every statement is idempotent. Amounts are integer paise, points
-- are integer points, times are the block's UTC time.

-- The last height whose rows are all written (one row). It moves in the
-- same transaction as that block's rows: a crash or an outage never leaves
-- a gap or a duplicate.
CREATE TABLE IF NOT EXISTS bo_cursor (
  one    boolean PRIMARY KEY DEFAULT true CHECK (one),
  height bigint  NOT NULL
);
INSERT INTO bo_cursor (height) VALUES (0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS bo_blocks (
  height bigint      PRIMARY KEY,
  time   timestamptz NOT NULL,
  hash   text        NOT NULL,
  txs    integer     NOT NULL
);

-- One row per transaction in a block, failed ones included (code <> 0).
-- Keyed by (height, tx_index): CometBFT can include the same bytes twice
-- (the second is answered "duplicate", code 6), so the hash alone is not a key.
CREATE TABLE IF NOT EXISTS bo_txs (
  height          bigint      NOT NULL,
  tx_index        integer     NOT NULL,
  tx_hash         text        NOT NULL,
  time            timestamptz NOT NULL,
  code            integer     NOT NULL,
  log             text        NOT NULL,
  msg             text        NOT NULL, -- purchase, redeem, refund, void_redemption, confirm_settlement, ...
  actor           text,                 -- seller or seller/terminal that signed (successful txs)
  seller          text,
  terminal        text,
  customer        text,
  amount_paise    bigint,  -- purchase: bill; redeem: bill; refund: refunded
  points          bigint,  -- purchase: issued; redeem: redeemed; refund: clawed back; void: restored
  ref_id          text,    -- refund: purchase id; void: redemption id; confirm: epoch
  idempotency_key text     NOT NULL,
  result          jsonb,   -- the decoded TxResultData
  PRIMARY KEY (height, tx_index)
);
CREATE INDEX IF NOT EXISTS bo_txs_hash ON bo_txs (tx_hash);
CREATE INDEX IF NOT EXISTS bo_txs_day ON bo_txs (time);

-- Every app event: tx_index -1 for block-level work (expiry, epoch close).
CREATE TABLE IF NOT EXISTS bo_events (
  height      bigint      NOT NULL,
  tx_index    integer     NOT NULL,
  event_index integer     NOT NULL,
  tx_hash     text,
  time        timestamptz NOT NULL,
  type        text        NOT NULL,
  customer    text,
  seller      text,
  issuer      text,
  points      bigint,
  epoch       bigint,
  reason      text,
  actor       text,
  ref_id      text,   -- purchase_id / redemption_id
  attrs       jsonb   NOT NULL,
  PRIMARY KEY (height, tx_index, event_index)
);
CREATE INDEX IF NOT EXISTS bo_events_type ON bo_events (type);

-- Statement lines as closed (read from the chain when its epoch_closed
-- event is written); confirmation comes from settlement_confirmed events.
CREATE TABLE IF NOT EXISTS bo_statement_lines (
  epoch         bigint      NOT NULL,
  seller        text        NOT NULL,
  net_paise     bigint      NOT NULL, -- > 0: the seller receives; < 0: pays
  closed_height bigint      NOT NULL,
  end_time      timestamptz NOT NULL,
  PRIMARY KEY (epoch, seller)
);

-- Sales and points by UTC day, seller and terminal.
CREATE OR REPLACE VIEW sales_by_day_terminal AS
SELECT (time AT TIME ZONE 'UTC')::date AS day, seller, coalesce(terminal, '') AS terminal,
       count(*) FILTER (WHERE msg = 'purchase')                        AS purchases,
       coalesce(sum(amount_paise) FILTER (WHERE msg = 'purchase'), 0)  AS sales_paise,
       coalesce(sum(points) FILTER (WHERE msg = 'purchase'), 0)        AS points_issued,
       count(*) FILTER (WHERE msg = 'redeem')                          AS redemptions,
       coalesce(sum(points) FILTER (WHERE msg = 'redeem'), 0)          AS points_redeemed,
       count(*) FILTER (WHERE msg = 'refund')                          AS refunds,
       coalesce(sum(amount_paise) FILTER (WHERE msg = 'refund'), 0)    AS refunded_paise,
       coalesce(sum(points) FILTER (WHERE msg = 'refund'), 0)          AS points_clawed_back,
       count(*) FILTER (WHERE msg = 'void_redemption')                 AS voids,
       coalesce(sum(points) FILTER (WHERE msg = 'void_redemption'), 0) AS points_restored
FROM bo_txs
WHERE code = 0 AND msg IN ('purchase', 'redeem', 'refund', 'void_redemption')
GROUP BY 1, 2, 3;

-- Points each customer holds, by issuer (what an issuer's escrow covers).
-- A void whose lot expired since the redemption hands nothing back: its
-- points_expired (inside the void's transaction, tx_index >= 0) only turns
-- points that already left the balance into breakage, so it is not
-- subtracted again; block-level expiry (tx_index -1) is.
CREATE OR REPLACE VIEW outstanding_points AS
SELECT customer, issuer,
       sum(CASE WHEN type IN ('points_issued', 'points_restored') THEN points ELSE -points END)::bigint AS points
FROM bo_events
WHERE type IN ('points_issued', 'points_restored', 'points_redeemed', 'points_clawed_back')
   OR (type = 'points_expired' AND tx_index < 0)
GROUP BY customer, issuer
HAVING sum(CASE WHEN type IN ('points_issued', 'points_restored') THEN points ELSE -points END) <> 0;

-- Points one seller redeemed that another issued, net of voids, by UTC
-- day: the redeeming seller receives their value (100 paise a point) from
-- the issuer, through the epoch's statement. A void nets out the whole
-- redemption (the chain takes back its full value from the redeeming
-- seller): the points it restores (points_restored) and those whose lot
-- expired since, which lapse as breakage in the void's transaction
-- (points_expired there carries no seller: the void's seller is its tx's).
CREATE OR REPLACE VIEW cross_seller_redemptions AS
SELECT (e.time AT TIME ZONE 'UTC')::date AS day, coalesce(e.seller, t.seller) AS redeemed_by, e.issuer,
       sum(CASE WHEN e.type = 'points_redeemed' THEN e.points ELSE -e.points END)::bigint       AS points,
       (100 * sum(CASE WHEN e.type = 'points_redeemed' THEN e.points ELSE -e.points END))::bigint AS value_paise
FROM bo_events e
LEFT JOIN bo_txs t ON t.height = e.height AND t.tx_index = e.tx_index
WHERE (e.type IN ('points_redeemed', 'points_restored')
       OR (e.type = 'points_expired' AND t.msg = 'void_redemption'))
  AND coalesce(e.seller, t.seller) <> e.issuer
GROUP BY 1, 2, 3;

-- Breakage: points that expired unredeemed, by issuer and UTC day.
CREATE OR REPLACE VIEW breakage AS
SELECT (time AT TIME ZONE 'UTC')::date AS day, issuer, sum(points)::bigint AS points,
       (100 * sum(points))::bigint AS value_paise
FROM bo_events WHERE type = 'points_expired'
GROUP BY 1, 2;

-- Statement lines with their confirmation.
CREATE OR REPLACE VIEW statement_lines AS
SELECT l.epoch, l.seller, l.net_paise,
       CASE WHEN l.net_paise > 0 THEN 'receives' WHEN l.net_paise < 0 THEN 'pays' ELSE 'none' END AS direction,
       l.closed_height, l.end_time,
       c.height IS NOT NULL AS confirmed, c.attrs->>'bank_reference' AS bank_reference,
       c.height AS confirmed_height, c.tx_hash AS confirmed_by_tx,
       -- the chain's line status (types.LineStatuses): nothing-due, outstanding, confirmed
       CASE WHEN c.height IS NOT NULL THEN 'confirmed' WHEN l.net_paise = 0 THEN 'nothing-due' ELSE 'outstanding' END AS status
FROM bo_statement_lines l
LEFT JOIN bo_events c ON c.type = 'settlement_confirmed' AND c.epoch = l.epoch AND c.seller = l.seller;

-- Imported balances (docs/protocol.md, "Import of an existing program"):
-- one row per imported customer row, with the seller's own reference.
-- (Dropped first: an earlier schema had an imports view of other columns.)
DROP VIEW IF EXISTS imports;
CREATE VIEW imports AS
SELECT height, tx_hash, time, issuer AS seller, customer, points,
       (attrs->>'expires_at')::bigint AS expires_at_unix, attrs->>'external_ref' AS external_ref
FROM bo_events WHERE type = 'points_issued' AND reason = 'import';

-- Import batches: which rows of which file (SHA-256) each booked, and what
-- the seller paid into the escrow for them (100 paise a point).
CREATE OR REPLACE VIEW import_batches AS
SELECT e.height, e.tx_hash, e.time, e.seller, e.attrs->>'file_digest' AS file_digest,
       split_part(e.attrs->>'rows', '-', 1)::bigint AS first_row, split_part(e.attrs->>'rows', '-', 2)::bigint AS last_row,
       e.points, (100 * e.points)::bigint AS paid_paise, (e.attrs->>'remaining_points')::bigint AS remaining_points
FROM bo_events e WHERE e.type = 'import' AND e.attrs->>'action' = 'booked';
