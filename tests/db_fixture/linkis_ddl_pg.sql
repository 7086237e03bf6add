-- A small PostgreSQL schema of linkis-gen's own for tests/backup_e2e.rs (not Linkis' file): the
-- three tables the database bootstrap seeds, with the column names Linkis uses. Like Linkis' DDL
-- it drops each table first, which is why the bootstrap must never run on a database that has them.
DROP TABLE IF EXISTS linkis_mg_gateway_auth_token;
CREATE TABLE linkis_mg_gateway_auth_token (
  id serial PRIMARY KEY,
  token_name varchar(128) NOT NULL UNIQUE,
  legal_users text,
  business_owner varchar(32)
);

DROP TABLE IF EXISTS linkis_cg_rm_external_resource_provider;
CREATE TABLE linkis_cg_rm_external_resource_provider (
  id serial PRIMARY KEY,
  resource_type varchar(32) NOT NULL,
  name varchar(32) NOT NULL,
  labels varchar(32) DEFAULT NULL,
  config text NOT NULL
);

DROP TABLE IF EXISTS linkis_cg_manager_label;
CREATE TABLE linkis_cg_manager_label (
  id serial PRIMARY KEY,
  label_key varchar(32) NOT NULL,
  label_value varchar(255) NOT NULL
);
