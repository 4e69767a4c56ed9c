-- The tables of Kamailio 5.6 that sipwarden's comparisons and tests fill:
-- version, subscriber (auth_db) and htable, as in
-- /usr/share/kamailio/db_sqlite/{standard,auth_db,htable}-create.sql.
-- Read by bench/compare-kamailio.sh and tests/tools/kamailio_lib.sh.
CREATE TABLE version (id INTEGER PRIMARY KEY NOT NULL, table_name VARCHAR(32) NOT NULL,
  table_version INTEGER DEFAULT 0 NOT NULL, CONSTRAINT version_table_name_idx UNIQUE (table_name));
INSERT INTO version (table_name, table_version) VALUES ('version', 1);
CREATE TABLE subscriber (id INTEGER PRIMARY KEY NOT NULL, username VARCHAR(64) DEFAULT '' NOT NULL,
  domain VARCHAR(64) DEFAULT '' NOT NULL, password VARCHAR(64) DEFAULT '' NOT NULL,
  ha1 VARCHAR(128) DEFAULT '' NOT NULL, ha1b VARCHAR(128) DEFAULT '' NOT NULL,
  CONSTRAINT subscriber_account_idx UNIQUE (username, domain));
CREATE INDEX subscriber_username_idx ON subscriber (username);
INSERT INTO version (table_name, table_version) VALUES ('subscriber', 7);
CREATE TABLE htable (id INTEGER PRIMARY KEY NOT NULL, key_name VARCHAR(64) DEFAULT '' NOT NULL,
  key_type INTEGER DEFAULT 0 NOT NULL, value_type INTEGER DEFAULT 0 NOT NULL,
  key_value VARCHAR(128) DEFAULT '' NOT NULL, expires INTEGER DEFAULT 0 NOT NULL);
INSERT INTO version (table_name, table_version) VALUES ('htable', 2);
