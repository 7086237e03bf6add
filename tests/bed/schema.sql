-- The test bed's own tiny stand-in for Linkis' DDL (tests/bed/README.md), shipped as the fake
-- release's db/linkis_ddl.sql: the database starts empty and the linkis_db role bootstraps it from
-- this and dml.sql. Only the tables the clear-server role empties, the fake services read and the
-- bootstrap's seed fills, not Linkis' DDL.
CREATE TABLE IF NOT EXISTS linkis_cg_manager_service_instance (
  id INT AUTO_INCREMENT PRIMARY KEY,
  instance VARCHAR(128) NOT NULL,
  name VARCHAR(32) NOT NULL
);
CREATE TABLE IF NOT EXISTS linkis_cg_manager_label_service_instance (
  id INT AUTO_INCREMENT PRIMARY KEY,
  label_id INT NOT NULL,
  service_instance VARCHAR(128) NOT NULL
);
CREATE TABLE IF NOT EXISTS linkis_cg_manager_service_instance_metrics (
  instance VARCHAR(128) PRIMARY KEY,
  instance_status INT
);
-- The other manager tables the clear-server role empties (catalog: clear_server_deletes), with the
-- columns its DELETEs filter on: without them its first DELETE fails on an unknown table.
CREATE TABLE IF NOT EXISTS linkis_cg_manager_label (
  id INT AUTO_INCREMENT PRIMARY KEY,
  label_key VARCHAR(32) NOT NULL,
  label_value VARCHAR(255) NOT NULL
);
CREATE TABLE IF NOT EXISTS linkis_cg_manager_label_value_relation (
  id INT AUTO_INCREMENT PRIMARY KEY,
  label_value_key VARCHAR(255) NOT NULL,
  label_value_content VARCHAR(255)
);
CREATE TABLE IF NOT EXISTS linkis_cg_manager_linkis_resources (id INT AUTO_INCREMENT PRIMARY KEY, resource_type VARCHAR(32));
CREATE TABLE IF NOT EXISTS linkis_cg_manager_lock (id INT AUTO_INCREMENT PRIMARY KEY, lock_object VARCHAR(255));
CREATE TABLE IF NOT EXISTS linkis_cg_manager_label_resource (id INT AUTO_INCREMENT PRIMARY KEY, label_id INT);
CREATE TABLE IF NOT EXISTS linkis_cg_manager_engine_em (id INT AUTO_INCREMENT PRIMARY KEY, engine_instance VARCHAR(128));
-- What the bootstrap seeds after loading the DML: the gateway's token rows (renamed to the vault
-- values) and the YARN resource provider (its @YARN_... placeholders replaced by the spec's values).
CREATE TABLE IF NOT EXISTS linkis_mg_gateway_auth_token (
  id INT AUTO_INCREMENT PRIMARY KEY,
  token_name VARCHAR(128) NOT NULL UNIQUE,
  legal_users TEXT,
  legal_hosts TEXT
);
CREATE TABLE IF NOT EXISTS linkis_cg_rm_external_resource_provider (
  id INT PRIMARY KEY,
  resource_type VARCHAR(32) NOT NULL,
  name VARCHAR(32) NOT NULL,
  config TEXT NOT NULL
);
