#include "metadata/migrations.hpp"

#include <array>
#include <string>

namespace cairn::metadata {

namespace {

// Keep docs/formats/metadata-schema.md in step with these scripts. Never edit a released
// migration: add a new one.
constexpr std::string_view kAccountsAndTokens = R"sql(
CREATE TABLE accounts (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  created_at  BIGINT  NOT NULL,
  disabled_at BIGINT
);
CREATE TABLE tokens (
  id           TEXT    PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES accounts(id),
  secret_hash  BLOB    NOT NULL UNIQUE,
  scopes       TEXT    NOT NULL,
  created_at   BIGINT  NOT NULL,
  expires_at   BIGINT,
  last_used_at BIGINT,
  revoked_at   BIGINT
);
CREATE INDEX tokens_account ON tokens(account_id, created_at);
)sql";

constexpr std::string_view kPins = R"sql(
CREATE TABLE pins (
  requestid  TEXT    PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  cid_text   TEXT    NOT NULL,
  cid        BLOB    NOT NULL,
  name       TEXT,
  name_fold  TEXT,
  origins    TEXT    NOT NULL,
  meta       TEXT    NOT NULL,
  status     TEXT    NOT NULL CHECK (status IN ('queued', 'pinning', 'pinned', 'failed')),
  created    BIGINT  NOT NULL,
  updated_at BIGINT  NOT NULL,
  info       TEXT    NOT NULL,
  dag_size   BIGINT
);
CREATE UNIQUE INDEX pins_created ON pins(created);
CREATE INDEX pins_account_created ON pins(account_id, created);
CREATE INDEX pins_account_status_created ON pins(account_id, status, created);
CREATE INDEX pins_account_cid_created ON pins(account_id, cid, created);
CREATE INDEX pins_status_created ON pins(status, created);
CREATE INDEX pins_cid_status ON pins(cid, status);
)sql";

// Per-account, per-status pin counts, kept by triggers in the same transaction as the change, so
// that the unfiltered (or status-only) count of `GET /pins` is a lookup, not a scan.
constexpr std::string_view kPinCounts = R"sql(
CREATE TABLE pin_counts (
  account_id INTEGER NOT NULL,
  status     TEXT    NOT NULL,
  n          BIGINT  NOT NULL,
  PRIMARY KEY (account_id, status)
);
INSERT INTO pin_counts (account_id, status, n)
  SELECT account_id, status, COUNT(*) FROM pins GROUP BY account_id, status;
CREATE TRIGGER pins_count_insert AFTER INSERT ON pins BEGIN
  INSERT INTO pin_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
    ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER pins_count_delete AFTER DELETE ON pins BEGIN
  UPDATE pin_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
END;
CREATE TRIGGER pins_count_update AFTER UPDATE OF status, account_id ON pins
  WHEN OLD.status <> NEW.status OR OLD.account_id <> NEW.account_id BEGIN
  UPDATE pin_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
  INSERT INTO pin_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
    ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;
)sql";

// Per-account pin counts by ranges of `created` ("buckets"), kept by triggers, so that a count
// with `before`/`after` sums at most one row per 1024 pins and scans at most two buckets' pins
// instead of every pin in the range. A bucket starts at a `created` value and ends where the
// account's next bucket starts; a new bucket opens when the account's newest bucket has taken
// 1024 pins (`created` only grows, so pins arrive in the newest bucket). `inserted` counts pins
// ever added (the capacity), the status columns the pins there now.
constexpr std::string_view kPinBuckets = R"sql(
CREATE TABLE pin_buckets (
  account_id INTEGER NOT NULL,
  start      BIGINT  NOT NULL,
  inserted   BIGINT  NOT NULL,
  queued     BIGINT  NOT NULL,
  pinning    BIGINT  NOT NULL,
  pinned     BIGINT  NOT NULL,
  failed     BIGINT  NOT NULL,
  PRIMARY KEY (account_id, start)
);
INSERT INTO pin_buckets (account_id, start, inserted, queued, pinning, pinned, failed)
  SELECT account_id, MIN(created), COUNT(*),
         SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END),
         SUM(CASE WHEN status = 'pinning' THEN 1 ELSE 0 END),
         SUM(CASE WHEN status = 'pinned' THEN 1 ELSE 0 END),
         SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END)
  FROM (SELECT account_id, created, status,
               (ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY created) - 1) / 1024 AS bucket
        FROM pins) AS numbered
  GROUP BY account_id, bucket;
CREATE TRIGGER pins_bucket_insert AFTER INSERT ON pins BEGIN
  INSERT INTO pin_buckets (account_id, start, inserted, queued, pinning, pinned, failed)
    SELECT NEW.account_id, NEW.created, 0, 0, 0, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM pin_buckets
                      WHERE account_id = NEW.account_id AND start > NEW.created)
      AND COALESCE((SELECT inserted FROM pin_buckets
                    WHERE account_id = NEW.account_id AND start <= NEW.created
                    ORDER BY start DESC LIMIT 1), 1024) >= 1024
    ON CONFLICT (account_id, start) DO NOTHING;
  UPDATE pin_buckets SET inserted = inserted + 1,
      queued = queued + CASE WHEN NEW.status = 'queued' THEN 1 ELSE 0 END,
      pinning = pinning + CASE WHEN NEW.status = 'pinning' THEN 1 ELSE 0 END,
      pinned = pinned + CASE WHEN NEW.status = 'pinned' THEN 1 ELSE 0 END,
      failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
    WHERE account_id = NEW.account_id
      AND start = (SELECT MAX(start) FROM pin_buckets
                   WHERE account_id = NEW.account_id AND start <= NEW.created);
END;
CREATE TRIGGER pins_bucket_delete AFTER DELETE ON pins BEGIN
  UPDATE pin_buckets SET
      queued = queued - CASE WHEN OLD.status = 'queued' THEN 1 ELSE 0 END,
      pinning = pinning - CASE WHEN OLD.status = 'pinning' THEN 1 ELSE 0 END,
      pinned = pinned - CASE WHEN OLD.status = 'pinned' THEN 1 ELSE 0 END,
      failed = failed - CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END
    WHERE account_id = OLD.account_id
      AND start = (SELECT MAX(start) FROM pin_buckets
                   WHERE account_id = OLD.account_id AND start <= OLD.created);
END;
CREATE TRIGGER pins_bucket_update AFTER UPDATE OF status, account_id, created ON pins
  WHEN OLD.status <> NEW.status OR OLD.account_id <> NEW.account_id
    OR OLD.created <> NEW.created BEGIN
  UPDATE pin_buckets SET
      queued = queued - CASE WHEN OLD.status = 'queued' THEN 1 ELSE 0 END,
      pinning = pinning - CASE WHEN OLD.status = 'pinning' THEN 1 ELSE 0 END,
      pinned = pinned - CASE WHEN OLD.status = 'pinned' THEN 1 ELSE 0 END,
      failed = failed - CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END
    WHERE account_id = OLD.account_id
      AND start = (SELECT MAX(start) FROM pin_buckets
                   WHERE account_id = OLD.account_id AND start <= OLD.created);
  INSERT INTO pin_buckets (account_id, start, inserted, queued, pinning, pinned, failed)
    SELECT NEW.account_id, NEW.created, 0, 0, 0, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM pin_buckets
                      WHERE account_id = NEW.account_id AND start <= NEW.created)
    ON CONFLICT (account_id, start) DO NOTHING;
  UPDATE pin_buckets SET
      queued = queued + CASE WHEN NEW.status = 'queued' THEN 1 ELSE 0 END,
      pinning = pinning + CASE WHEN NEW.status = 'pinning' THEN 1 ELSE 0 END,
      pinned = pinned + CASE WHEN NEW.status = 'pinned' THEN 1 ELSE 0 END,
      failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
    WHERE account_id = NEW.account_id
      AND start = (SELECT MAX(start) FROM pin_buckets
                   WHERE account_id = NEW.account_id AND start <= NEW.created);
END;
)sql";

// The `name` filter (exact match, Kubo's `ipfs pin remote ls --name`): List walks the account's
// pins of that name newest first and Count counts them, instead of visiting every pin of the
// account and reading its name.
constexpr std::string_view kPinNameIndex = R"sql(
CREATE INDEX pins_account_name_created ON pins(account_id, name, created);
)sql";

// The `meta` filter: one row per string-valued key of a pin's `meta`, kept by triggers on pins,
// keyed for keyset paging per (account, key, value, status) newest first, and per-1024-row
// bucket counters per (account, key, value), built like pin_buckets, so that List reads only the
// page's rows and Count sums buckets instead of evaluating every pin's JSON. A row is found from
// its pin by (account_id, key, value, status, created) — `created` is unique across pins — so the
// pins triggers reach the rows of a pin by primary-key lookups, one per meta key.
constexpr std::string_view kPinMeta = R"sql(
CREATE TABLE pin_meta (
  account_id INTEGER NOT NULL,
  key        TEXT    NOT NULL,
  value      TEXT    NOT NULL,
  status     TEXT    NOT NULL,
  created    BIGINT  NOT NULL,
  PRIMARY KEY (account_id, key, value, status, created)
) WITHOUT ROWID;
CREATE TABLE pin_meta_buckets (
  account_id INTEGER NOT NULL,
  key        TEXT    NOT NULL,
  value      TEXT    NOT NULL,
  start      BIGINT  NOT NULL,
  inserted   BIGINT  NOT NULL,
  queued     BIGINT  NOT NULL,
  pinning    BIGINT  NOT NULL,
  pinned     BIGINT  NOT NULL,
  failed     BIGINT  NOT NULL,
  PRIMARY KEY (account_id, key, value, start)
) WITHOUT ROWID;
INSERT INTO pin_meta (account_id, key, value, status, created)
  SELECT p.account_id, je.key, je.value, p.status, p.created
  FROM pins AS p, json_each(p.meta) AS je
  WHERE p.meta <> '{}' AND je.type = 'text'
  ON CONFLICT DO NOTHING;
INSERT INTO pin_meta_buckets (account_id, key, value, start, inserted, queued, pinning, pinned,
                              failed)
  SELECT account_id, key, value, MIN(created), COUNT(*),
         SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END),
         SUM(CASE WHEN status = 'pinning' THEN 1 ELSE 0 END),
         SUM(CASE WHEN status = 'pinned' THEN 1 ELSE 0 END),
         SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END)
  FROM (SELECT account_id, key, value, created, status,
               (ROW_NUMBER() OVER (PARTITION BY account_id, key, value ORDER BY created) - 1)
                 / 1024 AS bucket
        FROM pin_meta) AS numbered
  GROUP BY account_id, key, value, bucket;
CREATE TRIGGER pin_meta_bucket_insert AFTER INSERT ON pin_meta BEGIN
  INSERT INTO pin_meta_buckets (account_id, key, value, start, inserted, queued, pinning, pinned,
                                failed)
    SELECT NEW.account_id, NEW.key, NEW.value, NEW.created, 0, 0, 0, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM pin_meta_buckets
                      WHERE account_id = NEW.account_id AND key = NEW.key AND value = NEW.value
                        AND start <= NEW.created)
       OR (NOT EXISTS (SELECT 1 FROM pin_meta_buckets
                       WHERE account_id = NEW.account_id AND key = NEW.key
                         AND value = NEW.value AND start > NEW.created)
           AND (SELECT inserted FROM pin_meta_buckets
                WHERE account_id = NEW.account_id AND key = NEW.key AND value = NEW.value
                ORDER BY start DESC LIMIT 1) >= 1024)
    ON CONFLICT (account_id, key, value, start) DO NOTHING;
  UPDATE pin_meta_buckets SET inserted = inserted + 1,
      queued = queued + CASE WHEN NEW.status = 'queued' THEN 1 ELSE 0 END,
      pinning = pinning + CASE WHEN NEW.status = 'pinning' THEN 1 ELSE 0 END,
      pinned = pinned + CASE WHEN NEW.status = 'pinned' THEN 1 ELSE 0 END,
      failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
    WHERE account_id = NEW.account_id AND key = NEW.key AND value = NEW.value
      AND start = (SELECT MAX(start) FROM pin_meta_buckets
                   WHERE account_id = NEW.account_id AND key = NEW.key AND value = NEW.value
                     AND start <= NEW.created);
END;
CREATE TRIGGER pin_meta_bucket_delete AFTER DELETE ON pin_meta BEGIN
  UPDATE pin_meta_buckets SET
      queued = queued - CASE WHEN OLD.status = 'queued' THEN 1 ELSE 0 END,
      pinning = pinning - CASE WHEN OLD.status = 'pinning' THEN 1 ELSE 0 END,
      pinned = pinned - CASE WHEN OLD.status = 'pinned' THEN 1 ELSE 0 END,
      failed = failed - CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END
    WHERE account_id = OLD.account_id AND key = OLD.key AND value = OLD.value
      AND start = (SELECT MAX(start) FROM pin_meta_buckets
                   WHERE account_id = OLD.account_id AND key = OLD.key AND value = OLD.value
                     AND start <= OLD.created);
END;
CREATE TRIGGER pin_meta_bucket_update AFTER UPDATE ON pin_meta BEGIN
  UPDATE pin_meta_buckets SET
      queued = queued - CASE WHEN OLD.status = 'queued' THEN 1 ELSE 0 END,
      pinning = pinning - CASE WHEN OLD.status = 'pinning' THEN 1 ELSE 0 END,
      pinned = pinned - CASE WHEN OLD.status = 'pinned' THEN 1 ELSE 0 END,
      failed = failed - CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END
    WHERE account_id = OLD.account_id AND key = OLD.key AND value = OLD.value
      AND start = (SELECT MAX(start) FROM pin_meta_buckets
                   WHERE account_id = OLD.account_id AND key = OLD.key AND value = OLD.value
                     AND start <= OLD.created);
  INSERT INTO pin_meta_buckets (account_id, key, value, start, inserted, queued, pinning, pinned,
                                failed)
    SELECT NEW.account_id, NEW.key, NEW.value, NEW.created, 0, 0, 0, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM pin_meta_buckets
                      WHERE account_id = NEW.account_id AND key = NEW.key AND value = NEW.value
                        AND start <= NEW.created)
    ON CONFLICT (account_id, key, value, start) DO NOTHING;
  UPDATE pin_meta_buckets SET
      queued = queued + CASE WHEN NEW.status = 'queued' THEN 1 ELSE 0 END,
      pinning = pinning + CASE WHEN NEW.status = 'pinning' THEN 1 ELSE 0 END,
      pinned = pinned + CASE WHEN NEW.status = 'pinned' THEN 1 ELSE 0 END,
      failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
    WHERE account_id = NEW.account_id AND key = NEW.key AND value = NEW.value
      AND start = (SELECT MAX(start) FROM pin_meta_buckets
                   WHERE account_id = NEW.account_id AND key = NEW.key AND value = NEW.value
                     AND start <= NEW.created);
END;
CREATE TRIGGER pins_meta_insert AFTER INSERT ON pins WHEN NEW.meta <> '{}' BEGIN
  INSERT INTO pin_meta (account_id, key, value, status, created)
    SELECT NEW.account_id, je.key, je.value, NEW.status, NEW.created
    FROM json_each(NEW.meta) AS je WHERE je.type = 'text'
    ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER pins_meta_delete AFTER DELETE ON pins WHEN OLD.meta <> '{}' BEGIN
  DELETE FROM pin_meta
    WHERE account_id = OLD.account_id AND status = OLD.status AND created = OLD.created
      AND (key, value) IN (SELECT je.key, je.value FROM json_each(OLD.meta) AS je
                           WHERE je.type = 'text');
END;
CREATE TRIGGER pins_meta_update AFTER UPDATE OF account_id, status, created, meta ON pins
  WHEN (OLD.meta <> '{}' OR NEW.meta <> '{}')
    AND (OLD.account_id <> NEW.account_id OR OLD.status <> NEW.status
         OR OLD.created <> NEW.created OR OLD.meta <> NEW.meta) BEGIN
  UPDATE pin_meta SET account_id = NEW.account_id, status = NEW.status, created = NEW.created
    WHERE OLD.meta = NEW.meta
      AND account_id = OLD.account_id AND status = OLD.status AND created = OLD.created
      AND (key, value) IN (SELECT je.key, je.value FROM json_each(OLD.meta) AS je
                           WHERE je.type = 'text');
  DELETE FROM pin_meta
    WHERE OLD.meta <> NEW.meta
      AND account_id = OLD.account_id AND status = OLD.status AND created = OLD.created
      AND (key, value) IN (SELECT je.key, je.value FROM json_each(OLD.meta) AS je
                           WHERE je.type = 'text');
  INSERT INTO pin_meta (account_id, key, value, status, created)
    SELECT NEW.account_id, je.key, je.value, NEW.status, NEW.created
    FROM json_each(NEW.meta) AS je WHERE OLD.meta <> NEW.meta AND je.type = 'text'
    ON CONFLICT DO NOTHING;
END;
)sql";

// Cold tier (docs/formats/metadata-schema.md "fil_segments", "fil_aggregates", "fil_deals"): one
// data segment per pinned DAG (its CARv1 export), aggregates (FRC-0058) of segments, and the
// storage deals made for each aggregate. A deal row is written (state 'proposing') before its
// proposal leaves the process.
constexpr std::string_view kFilecoinDeals = R"sql(
CREATE TABLE fil_aggregates (
  id           INTEGER PRIMARY KEY,
  piece_cid    TEXT    NOT NULL UNIQUE,
  padded_size  BIGINT  NOT NULL,
  payload_size BIGINT  NOT NULL,
  created_at   BIGINT  NOT NULL
);
CREATE TABLE fil_segments (
  id            INTEGER PRIMARY KEY,
  pin_requestid TEXT    NOT NULL UNIQUE,
  root_cid      BLOB    NOT NULL,
  car_size      BIGINT  NOT NULL,
  comm_p        BLOB    NOT NULL,
  padded_size   BIGINT  NOT NULL,
  aggregate_id  INTEGER REFERENCES fil_aggregates(id),
  piece_offset  BIGINT,
  created_at    BIGINT  NOT NULL
);
CREATE INDEX fil_segments_aggregate ON fil_segments(aggregate_id, created_at);
CREATE TABLE fil_deals (
  uuid                TEXT    PRIMARY KEY,
  aggregate_id        INTEGER NOT NULL REFERENCES fil_aggregates(id),
  provider            TEXT    NOT NULL,
  state               TEXT    NOT NULL CHECK (state IN ('proposing', 'accepted', 'published',
                        'active', 'rejected', 'failed', 'slashed', 'expired')),
  signed_proposal     BLOB    NOT NULL,
  proposal_cid        TEXT    NOT NULL,
  price_per_epoch     TEXT    NOT NULL,
  provider_collateral TEXT    NOT NULL,
  client_collateral   TEXT    NOT NULL,
  start_epoch         BIGINT  NOT NULL,
  end_epoch           BIGINT  NOT NULL,
  deal_id             BIGINT,
  publish_cid         TEXT    NOT NULL DEFAULT '',
  token_hash          BLOB    NOT NULL,
  provider_message    TEXT    NOT NULL DEFAULT '',
  last_error          TEXT    NOT NULL DEFAULT '',
  created_at          BIGINT  NOT NULL,
  updated_at          BIGINT  NOT NULL
);
CREATE INDEX fil_deals_aggregate ON fil_deals(aggregate_id);
CREATE INDEX fil_deals_state ON fil_deals(state);
)sql";

// Per-provider deal statistics (docs/formats/metadata-schema.md "fil_provider_stats"): one counter
// per event of a deal's life, kept in the same transaction as the deal's row, from which the deal
// engine derives each provider's score (docs/filecoin.md "Provider scores"). Deals made before
// this version are counted from their current state; their failures, whose cause is not
// recorded, count as other_failures, and their time to active is approximated by updated_at −
// created_at.
constexpr std::string_view kProviderStats = R"sql(
CREATE TABLE fil_provider_stats (
  provider          TEXT    PRIMARY KEY,
  proposals         BIGINT  NOT NULL DEFAULT 0,
  accepted          BIGINT  NOT NULL DEFAULT 0,
  rejected          BIGINT  NOT NULL DEFAULT 0,
  timeouts          BIGINT  NOT NULL DEFAULT 0,
  transfer_failures BIGINT  NOT NULL DEFAULT 0,
  never_published   BIGINT  NOT NULL DEFAULT 0,
  not_activated     BIGINT  NOT NULL DEFAULT 0,
  mismatches        BIGINT  NOT NULL DEFAULT 0,
  slashed           BIGINT  NOT NULL DEFAULT 0,
  other_failures    BIGINT  NOT NULL DEFAULT 0,
  active            BIGINT  NOT NULL DEFAULT 0,
  active_us_total   BIGINT  NOT NULL DEFAULT 0,
  updated_at        BIGINT  NOT NULL
);
INSERT INTO fil_provider_stats (provider, proposals, accepted, rejected, slashed, other_failures,
                                active, active_us_total, updated_at)
  SELECT provider,
         COUNT(*),
         SUM(CASE WHEN state IN ('accepted', 'published', 'active', 'slashed', 'expired')
                  THEN 1 ELSE 0 END),
         SUM(CASE WHEN state = 'rejected' THEN 1 ELSE 0 END),
         SUM(CASE WHEN state = 'slashed' THEN 1 ELSE 0 END),
         SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END),
         SUM(CASE WHEN state IN ('active', 'expired') THEN 1 ELSE 0 END),
         SUM(CASE WHEN state IN ('active', 'expired') THEN updated_at - created_at ELSE 0 END),
         MAX(updated_at)
  FROM fil_deals GROUP BY provider;
)sql";

constexpr std::string_view kBlockIndexAndEvents = R"sql(
CREATE TABLE fil_segment_blocks (
  multihash   BLOB    NOT NULL,
  segment_id  INTEGER NOT NULL REFERENCES fil_segments(id),
  data_offset BIGINT  NOT NULL,
  length      BIGINT  NOT NULL,
  PRIMARY KEY (multihash, segment_id)
) WITHOUT ROWID;
CREATE TABLE events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  pin_requestid TEXT,
  aggregate_id  INTEGER,
  kind          TEXT    NOT NULL,
  detail        TEXT    NOT NULL DEFAULT '{}',
  created_at    BIGINT  NOT NULL,
  CHECK ((pin_requestid IS NULL) <> (aggregate_id IS NULL))
);
CREATE INDEX events_pin ON events(pin_requestid, id) WHERE pin_requestid IS NOT NULL;
CREATE INDEX events_aggregate ON events(aggregate_id, id) WHERE aggregate_id IS NOT NULL;
CREATE INDEX events_created ON events(created_at);
)sql";

// Retrieval probe failures per provider (docs/formats/metadata-schema.md "fil_provider_stats"):
// an active deal the probe failed (corrupted bytes, or unreachable three times in a row) counts
// against its provider's score like a slashed one.
constexpr std::string_view kRetrievalFailures = R"sql(
ALTER TABLE fil_provider_stats ADD COLUMN retrieval_failures BIGINT NOT NULL DEFAULT 0;
)sql";

// The hot tier as a cache (docs/formats/metadata-schema.md "fil_segments"): a pin whose hot blocks
// were evicted has its segment's evicted_at set (NULL = cached); pins with a segment show
// info.hot. The block index gets an index by segment: listing a segment's blocks (eviction, the
// retrieval probe's pick) must not scan every block of every segment.
constexpr std::string_view kHotCache = R"sql(
ALTER TABLE fil_segments ADD COLUMN evicted_at BIGINT;
CREATE INDEX fil_segments_evicted ON fil_segments(evicted_at) WHERE evicted_at IS NOT NULL;
CREATE INDEX fil_segment_blocks_segment ON fil_segment_blocks(segment_id, data_offset);
UPDATE pins SET info = json_set(info, '$.hot', 'cached')
  WHERE requestid IN (SELECT pin_requestid FROM fil_segments);
)sql";

// Re-aggregation (docs/formats/metadata-schema.md "fil_segment_history"): a mostly-deleted
// aggregate is not renewed; its live segments leave it (back to unaggregated, to be packed into a
// new piece) and their old placement is kept here as history; the aggregate is marked
// superseded.
constexpr std::string_view kReaggregation = R"sql(
CREATE TABLE fil_segment_history (
  segment_id    INTEGER NOT NULL REFERENCES fil_segments(id),
  aggregate_id  INTEGER NOT NULL REFERENCES fil_aggregates(id),
  piece_offset  BIGINT  NOT NULL,
  superseded_at BIGINT  NOT NULL,
  PRIMARY KEY (segment_id, aggregate_id)
) WITHOUT ROWID;
CREATE INDEX fil_segment_history_aggregate ON fil_segment_history(aggregate_id);
ALTER TABLE fil_aggregates ADD COLUMN superseded_at BIGINT;
)sql";

// Health checks at millions of pins (docs/formats/metadata-schema.md "fil_unsegmented" and
// "fil_aggregates"): the deal engine's standing work no longer reads every pin or segment.
//   - fil_unsegmented: the pinned pins waiting for a segment, kept by triggers (a pin that becomes
//     pinned joins, its segment or its deletion removes it), so finding work is one indexed read
//     instead of a scan of every pinned pin.
//   - fil_aggregates.all_bytes and live_bytes: the CAR bytes of its segments (now and moved
//     out), and of those whose pin exists, kept by triggers (a segment placed in it, a pin
//     deleted): whether it is mostly deleted is read, not summed over its segments.
//   - fil_aggregates.pins_changed: bumped by trigger whenever a pin of one of its segments (now or
//     in its history) is deleted or its meta changes; the engine re-reads an aggregate's
//     policy and liveness only when this moved.
//   - fil_aggregates.shown: what the engine last wrote into the info of every live pin of the
//     aggregate ("filecoin", "piece_cid", "deals"); it writes the pins again only when that
//     changes, also across restarts.
//   - Segments by piece offset, for the retrieval probe's random range of a piece.
constexpr std::string_view kHealthAtScale = R"sql(
CREATE TABLE fil_unsegmented (
  requestid TEXT   PRIMARY KEY,
  created   BIGINT NOT NULL
);
CREATE INDEX fil_unsegmented_created ON fil_unsegmented(created);
INSERT INTO fil_unsegmented (requestid, created)
  SELECT p.requestid, p.created FROM pins p WHERE p.status = 'pinned'
    AND NOT EXISTS (SELECT 1 FROM fil_segments s WHERE s.pin_requestid = p.requestid);
CREATE TRIGGER fil_unsegmented_pin_insert AFTER INSERT ON pins WHEN NEW.status = 'pinned' BEGIN
  INSERT OR IGNORE INTO fil_unsegmented (requestid, created)
    SELECT NEW.requestid, NEW.created
    WHERE NOT EXISTS (SELECT 1 FROM fil_segments WHERE pin_requestid = NEW.requestid);
END;
CREATE TRIGGER fil_unsegmented_pin_pinned AFTER UPDATE OF status ON pins
  WHEN NEW.status = 'pinned' AND OLD.status <> 'pinned' BEGIN
  INSERT OR IGNORE INTO fil_unsegmented (requestid, created)
    SELECT NEW.requestid, NEW.created
    WHERE NOT EXISTS (SELECT 1 FROM fil_segments WHERE pin_requestid = NEW.requestid);
END;
CREATE TRIGGER fil_unsegmented_pin_delete AFTER DELETE ON pins BEGIN
  DELETE FROM fil_unsegmented WHERE requestid = OLD.requestid;
END;
CREATE TRIGGER fil_unsegmented_segment AFTER INSERT ON fil_segments BEGIN
  DELETE FROM fil_unsegmented WHERE requestid = NEW.pin_requestid;
END;
ALTER TABLE fil_aggregates ADD COLUMN pins_changed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fil_aggregates ADD COLUMN shown TEXT NOT NULL DEFAULT '';
ALTER TABLE fil_aggregates ADD COLUMN all_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fil_aggregates ADD COLUMN live_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE fil_aggregates SET
  all_bytes = (SELECT COALESCE(SUM(car_size), 0) FROM (
      SELECT s.car_size FROM fil_segments s WHERE s.aggregate_id = fil_aggregates.id
      UNION ALL SELECT s.car_size FROM fil_segment_history h JOIN fil_segments s
        ON s.id = h.segment_id WHERE h.aggregate_id = fil_aggregates.id)),
  live_bytes = (SELECT COALESCE(SUM(car_size), 0) FROM (
      SELECT s.car_size, s.pin_requestid FROM fil_segments s
        WHERE s.aggregate_id = fil_aggregates.id
      UNION ALL SELECT s.car_size, s.pin_requestid FROM fil_segment_history h
        JOIN fil_segments s ON s.id = h.segment_id WHERE h.aggregate_id = fil_aggregates.id) x
    WHERE EXISTS (SELECT 1 FROM pins p WHERE p.requestid = x.pin_requestid));
CREATE TRIGGER fil_aggregates_segment_insert AFTER INSERT ON fil_segments
  WHEN NEW.aggregate_id IS NOT NULL BEGIN
  UPDATE fil_aggregates SET all_bytes = all_bytes + NEW.car_size,
    live_bytes = live_bytes + CASE WHEN EXISTS (SELECT 1 FROM pins WHERE requestid =
                                                NEW.pin_requestid) THEN NEW.car_size ELSE 0 END
    WHERE id = NEW.aggregate_id;
END;
CREATE TRIGGER fil_aggregates_segment_placed AFTER UPDATE OF aggregate_id ON fil_segments
  WHEN NEW.aggregate_id IS NOT NULL AND NEW.aggregate_id IS NOT OLD.aggregate_id BEGIN
  UPDATE fil_aggregates SET all_bytes = all_bytes + NEW.car_size,
    live_bytes = live_bytes + CASE WHEN EXISTS (SELECT 1 FROM pins WHERE requestid =
                                                NEW.pin_requestid) THEN NEW.car_size ELSE 0 END
    WHERE id = NEW.aggregate_id;
END;
CREATE TRIGGER fil_aggregates_pin_delete AFTER DELETE ON pins BEGIN
  UPDATE fil_aggregates SET pins_changed = pins_changed + 1,
    live_bytes = live_bytes - (SELECT car_size FROM fil_segments
                               WHERE pin_requestid = OLD.requestid)
    WHERE id IN (SELECT aggregate_id FROM fil_segments WHERE pin_requestid = OLD.requestid
                 UNION
                 SELECT h.aggregate_id FROM fil_segments s
                   JOIN fil_segment_history h ON h.segment_id = s.id
                   WHERE s.pin_requestid = OLD.requestid);
END;
CREATE TRIGGER fil_aggregates_pin_meta AFTER UPDATE OF meta ON pins WHEN OLD.meta <> NEW.meta BEGIN
  UPDATE fil_aggregates SET pins_changed = pins_changed + 1
    WHERE id IN (SELECT aggregate_id FROM fil_segments WHERE pin_requestid = NEW.requestid);
END;
CREATE INDEX fil_segments_aggregate_offset ON fil_segments(aggregate_id, piece_offset);
CREATE INDEX fil_segment_history_aggregate_offset
  ON fil_segment_history(aggregate_id, piece_offset);
)sql";

// Per-account storage policy (docs/formats/metadata-schema.md "accounts"): an operator-set JSON
// object of string values (filecoin/deals/pin_policy.hpp gives the keys meaning). A change moves
// pins_changed of every aggregate holding one of the account's pins, so the deal engine reads
// their policy again (more replicas, another provider denied).
constexpr std::string_view kAccountPolicy = R"sql(
ALTER TABLE accounts ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
CREATE TRIGGER fil_aggregates_account_policy AFTER UPDATE OF policy ON accounts
  WHEN OLD.policy <> NEW.policy BEGIN
  UPDATE fil_aggregates SET pins_changed = pins_changed + 1
    WHERE id IN (SELECT s.aggregate_id FROM pins p JOIN fil_segments s
                   ON s.pin_requestid = p.requestid
                 WHERE p.account_id = NEW.id AND s.aggregate_id IS NOT NULL
                 UNION
                 SELECT h.aggregate_id FROM pins p JOIN fil_segments s
                   ON s.pin_requestid = p.requestid
                   JOIN fil_segment_history h ON h.segment_id = s.id
                 WHERE p.account_id = NEW.id);
END;
)sql";

// CAR shards (docs/formats/car-shards.md; docs/formats/metadata-schema.md "fil_segments"): a DAG
// whose export does not fit one piece has several segments, one per shard, so a pin's segment is
// no longer unique: (pin_requestid, shard) is. SQLite cannot drop a UNIQUE column constraint, so
// the table is rebuilt with the same ids (the block index, the history and the deals' aggregates
// keep pointing at the same rows; foreign keys are checked at commit, once the rows are back).
// Dropping the table drops its indexes and its triggers, which are made again. The pin-deletion
// trigger subtracts from each aggregate the bytes of the pin's segments in it (one row per pin
// before).
constexpr std::string_view kCarShards = R"sql(
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE fil_segments_before_shards AS SELECT id, pin_requestid, root_cid, car_size,
  comm_p, padded_size, aggregate_id, piece_offset, created_at, evicted_at FROM fil_segments;
DROP TABLE fil_segments;
CREATE TABLE fil_segments (
  id            INTEGER PRIMARY KEY,
  pin_requestid TEXT    NOT NULL,
  shard         INTEGER NOT NULL DEFAULT 0,
  shards        INTEGER NOT NULL DEFAULT 1,
  first_section BIGINT  NOT NULL DEFAULT 0,
  sections      BIGINT,
  root_cid      BLOB    NOT NULL,
  car_size      BIGINT  NOT NULL,
  comm_p        BLOB    NOT NULL,
  padded_size   BIGINT  NOT NULL,
  aggregate_id  INTEGER REFERENCES fil_aggregates(id),
  piece_offset  BIGINT,
  created_at    BIGINT  NOT NULL,
  evicted_at    BIGINT,
  UNIQUE (pin_requestid, shard)
);
INSERT INTO fil_segments (id, pin_requestid, root_cid, car_size, comm_p, padded_size,
  aggregate_id, piece_offset, created_at, evicted_at)
  SELECT id, pin_requestid, root_cid, car_size, comm_p, padded_size, aggregate_id, piece_offset,
    created_at, evicted_at FROM temp.fil_segments_before_shards ORDER BY id;
DROP TABLE temp.fil_segments_before_shards;
CREATE INDEX fil_segments_aggregate ON fil_segments(aggregate_id, created_at);
CREATE INDEX fil_segments_evicted ON fil_segments(evicted_at) WHERE evicted_at IS NOT NULL;
CREATE INDEX fil_segments_aggregate_offset ON fil_segments(aggregate_id, piece_offset);
CREATE TRIGGER fil_unsegmented_segment AFTER INSERT ON fil_segments BEGIN
  DELETE FROM fil_unsegmented WHERE requestid = NEW.pin_requestid;
END;
CREATE TRIGGER fil_aggregates_segment_insert AFTER INSERT ON fil_segments
  WHEN NEW.aggregate_id IS NOT NULL BEGIN
  UPDATE fil_aggregates SET all_bytes = all_bytes + NEW.car_size,
    live_bytes = live_bytes + CASE WHEN EXISTS (SELECT 1 FROM pins WHERE requestid =
                                                NEW.pin_requestid) THEN NEW.car_size ELSE 0 END
    WHERE id = NEW.aggregate_id;
END;
CREATE TRIGGER fil_aggregates_segment_placed AFTER UPDATE OF aggregate_id ON fil_segments
  WHEN NEW.aggregate_id IS NOT NULL AND NEW.aggregate_id IS NOT OLD.aggregate_id BEGIN
  UPDATE fil_aggregates SET all_bytes = all_bytes + NEW.car_size,
    live_bytes = live_bytes + CASE WHEN EXISTS (SELECT 1 FROM pins WHERE requestid =
                                                NEW.pin_requestid) THEN NEW.car_size ELSE 0 END
    WHERE id = NEW.aggregate_id;
END;
DROP TRIGGER fil_aggregates_pin_delete;
CREATE TRIGGER fil_aggregates_pin_delete AFTER DELETE ON pins BEGIN
  UPDATE fil_aggregates SET pins_changed = pins_changed + 1,
    live_bytes = live_bytes - (
      SELECT COALESCE(SUM(s.car_size), 0) FROM fil_segments s
      WHERE s.pin_requestid = OLD.requestid
        AND (s.aggregate_id = fil_aggregates.id
             OR EXISTS (SELECT 1 FROM fil_segment_history h
                        WHERE h.segment_id = s.id AND h.aggregate_id = fil_aggregates.id)))
    WHERE id IN (SELECT aggregate_id FROM fil_segments WHERE pin_requestid = OLD.requestid
                 UNION
                 SELECT h.aggregate_id FROM fil_segments s
                   JOIN fil_segment_history h ON h.segment_id = s.id
                   WHERE s.pin_requestid = OLD.requestid);
END;
)sql";

constexpr std::array<Migration, 15> kMigrations = {{
    {1, "accounts and tokens", kAccountsAndTokens},
    {2, "pins", kPins},
    {3, "pin counts", kPinCounts},
    {4, "pin buckets", kPinBuckets},
    {5, "pin name index", kPinNameIndex},
    {6, "pin meta", kPinMeta},
    {7, "filecoin deals", kFilecoinDeals},
    {8, "filecoin provider stats", kProviderStats},
    {9, "segment block index and events", kBlockIndexAndEvents},
    {10, "provider retrieval failures", kRetrievalFailures},
    {11, "hot cache", kHotCache},
    {12, "re-aggregation", kReaggregation},
    {13, "health checks at scale", kHealthAtScale},
    {14, "account policy", kAccountPolicy},
    {15, "car shards", kCarShards},
}};

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

Result<int64_t> CurrentVersion(SqlSession& s) {
  auto rows = CAIRN_TRY(s.Query("SELECT MAX(version) FROM schema_migrations"));
  return rows.empty() ? 0 : rows[0].Int(0);
}

}  // namespace

std::span<const Migration> BuiltinMigrations() { return kMigrations; }

Result<int64_t> Migrate(Database& db, std::span<const Migration> migrations, const Clock& clock) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int64_t>(i) + 1) {
      return Err(ErrorCode::kInternal, "metadata: migration list out of order at version " +
                                           std::to_string(migrations[i].version));
    }
  }
  const int64_t latest = static_cast<int64_t>(migrations.size());
  int64_t version = 0;
  CAIRN_TRY(db.Write([&](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Exec(kCreateMigrationsTable));
    version = CAIRN_TRY(CurrentVersion(s));
    if (version > latest) {
      return Err(ErrorCode::kNotSupported, "metadata: database schema version " +
                                               std::to_string(version) +
                                               " is newer than this binary supports (" +
                                               std::to_string(latest) + "); upgrade cairn");
    }
    for (int64_t v = version + 1; v <= latest; ++v) {
      const Migration& m = migrations[static_cast<size_t>(v - 1)];
      auto r = s.ExecScript(m.sqlite);
      if (!r) {
        return Err(r.error().WithContext("migration " + std::to_string(v) + " (" +
                                         std::string(m.name) + "): "));
      }
      std::array<SqlValue, 3> params = {v, std::string(m.name), clock.WallMicros()};
      CAIRN_TRY(s.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                       params));
    }
    version = latest;
    return Ok();
  }));
  return version;
}

Result<int64_t> SchemaVersion(Database& db) {
  int64_t version = 0;
  CAIRN_TRY(db.Write([&](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Exec(kCreateMigrationsTable));
    version = CAIRN_TRY(CurrentVersion(s));
    return Ok();
  }));
  return version;
}

}  // namespace cairn::metadata
