-- gobearmon schema (MySQL/MariaDB). The five original tables are unchanged; the rest is additive.
-- A database made by the original install.sql is upgraded with: gobearmon migrate --config FILE

-- front-end tables
CREATE TABLE checks (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  name VARCHAR(64) NOT NULL,
  type VARCHAR(16) NOT NULL,
  data VARCHAR(1024) NOT NULL,
  check_interval INT NOT NULL DEFAULT 60,
  delay INT NOT NULL DEFAULT 1,
  status ENUM ('online', 'offline') DEFAULT 'online',
  enabled TINYINT(1) NOT NULL DEFAULT 1
);

CREATE TABLE contacts (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  type VARCHAR(32) NOT NULL,
  data VARCHAR(512) NOT NULL
);

CREATE TABLE alerts (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  check_id INT NOT NULL,
  contact_id INT NOT NULL,
  type ENUM ('online', 'offline', 'both') DEFAULT 'both',
  enabled TINYINT(1) NOT NULL DEFAULT 1
);


-- data tables
CREATE TABLE check_events (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  check_id INT NOT NULL,
  type ENUM ('online', 'offline'),
  time TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE charges (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  check_id INT NOT NULL,
  type VARCHAR(32) NOT NULL,
  data VARCHAR(512) NOT NULL
);

-- added by gobearmon (TypeScript); our tables and text columns are utf8mb4 whatever the database default
CREATE TABLE schema_migrations (
  version INT NOT NULL PRIMARY KEY,
  description VARCHAR(255) NOT NULL,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE controller_lease (
  id INT NOT NULL PRIMARY KEY,
  epoch BIGINT NOT NULL DEFAULT 0,
  holder VARCHAR(255) NOT NULL DEFAULT '',
  taken_at BIGINT NOT NULL DEFAULT 0
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE alert_outbox (
  id BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  idempotency_key VARCHAR(191) NOT NULL UNIQUE,
  event_id INT NOT NULL,
  check_id INT NOT NULL,
  contact_id INT NOT NULL,
  contact_type VARCHAR(32) NOT NULL,
  contact_data VARCHAR(512) NOT NULL,
  status VARCHAR(16) NOT NULL,
  message VARCHAR(1024) NOT NULL DEFAULT '',
  check_name VARCHAR(64) NOT NULL,
  check_type VARCHAR(16) NOT NULL,
  check_data VARCHAR(1024) NOT NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'pending',
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  claim_epoch BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  sent_at BIGINT NULL,
  provider_id VARCHAR(255) NULL,
  last_error VARCHAR(1024) NULL
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE alert_attempts (
  id BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  outbox_id BIGINT NOT NULL,
  epoch BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  ok TINYINT(1) NOT NULL,
  error VARCHAR(1024) NULL,
  provider_id VARCHAR(255) NULL
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE check_events ADD COLUMN message VARCHAR(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL;
CREATE INDEX alerts_check ON alerts (check_id);
CREATE INDEX check_events_check ON check_events (check_id, time);
CREATE INDEX alert_outbox_due ON alert_outbox (state, next_attempt_at);
CREATE INDEX alert_outbox_event ON alert_outbox (event_id);
CREATE INDEX alert_attempts_outbox ON alert_attempts (outbox_id);
ALTER TABLE alert_outbox ADD COLUMN permanent TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE check_events ADD COLUMN flip_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL;
CREATE UNIQUE INDEX check_events_flip_key ON check_events (flip_key);
ALTER TABLE controller_lease ADD COLUMN elected_view BIGINT NOT NULL DEFAULT 0;
ALTER TABLE controller_lease ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE controller_lease ADD COLUMN prev_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE controller_lease ADD COLUMN fence_seq BIGINT NOT NULL DEFAULT 0;

-- push checks (migration 5)
CREATE TABLE pings (
  id BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  check_id INT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  exit_status INT NULL,
  rid VARCHAR(64) NULL,
  body TEXT NULL,
  received_at BIGINT NOT NULL,
  node VARCHAR(255) NOT NULL DEFAULT '',
  remote VARCHAR(64) NOT NULL DEFAULT '',
  route VARCHAR(16) NOT NULL DEFAULT ''
) DEFAULT CHARSET=utf8mb4;

CREATE TABLE push_state (
  check_id INT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  last_ping_at BIGINT NULL,
  last_kind VARCHAR(16) NULL,
  last_success_at BIGINT NULL,
  last_outcome VARCHAR(16) NULL,
  last_outcome_at BIGINT NULL,
  last_message VARCHAR(1024) NULL,
  fails BIGINT NOT NULL DEFAULT 0,
  run_started_at BIGINT NULL,
  run_rid VARCHAR(64) NULL,
  deregistered_at BIGINT NULL,
  pings INT NOT NULL DEFAULT 0
) DEFAULT CHARSET=utf8mb4;

CREATE TABLE push_clock (
  id INT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL DEFAULT 0,
  last_ping_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE push_listening (
  id BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  node VARCHAR(255) NOT NULL,
  from_at BIGINT NOT NULL,
  to_at BIGINT NOT NULL
) DEFAULT CHARSET=utf8mb4;

ALTER TABLE check_events ADD COLUMN kind VARCHAR(16) CHARACTER SET utf8mb4 NULL;
CREATE INDEX pings_check ON pings (check_id, id);
CREATE INDEX push_state_seq ON push_state (seq);
CREATE INDEX push_listening_to ON push_listening (to_at);
INSERT INTO push_clock (id, seq, last_ping_at) VALUES (1, 0, 0);

-- web (migration 6)
ALTER TABLE checks ADD COLUMN tags VARCHAR(1024) CHARACTER SET utf8mb4 NOT NULL DEFAULT '';
CREATE TABLE check_rollups (
  check_id INT NOT NULL,
  minute BIGINT NOT NULL,
  epoch BIGINT NOT NULL,
  runs INT NOT NULL,
  failures INT NOT NULL,
  sum_ms BIGINT NOT NULL,
  max_ms INT NOT NULL,
  last_at BIGINT NOT NULL,
  last_ms INT NOT NULL,
  last_ok TINYINT(1) NOT NULL,
  PRIMARY KEY (check_id, minute, epoch)
) DEFAULT CHARSET=utf8mb4;
CREATE INDEX check_rollups_minute ON check_rollups (minute);

-- ops (migration 7)
ALTER TABLE alerts ADD COLUMN remind INT NULL DEFAULT NULL;

INSERT INTO controller_lease (id, epoch) VALUES (1, 0);
INSERT INTO schema_migrations (version, description) VALUES
  (1, 'original gobearmon tables (checks, contacts, alerts, check_events, charges)'),
  (2, 'fencing lease, alert outbox and attempt history, check_events.message, indexes'),
  (3, 'alert path: utf8mb4 text, check_events.flip_key (a flip is recorded once), alert_outbox.permanent'),
  (4, 'office lease: electing view, expiry on the store clock, predecessor expiry, fence counter'),
  (5, 'push checks: pings, push_state, push_clock, push_listening, check_events.kind'),
  (6, 'web: checks.tags and per-check per-minute rollups'),
  (7, 'ops: alerts.remind (seconds between reminders while a check stays offline)');
