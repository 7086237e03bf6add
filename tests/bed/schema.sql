-- The test bed's own tiny stand-in for the Linkis manager tables (tests/bed/README.md): only the
-- tables the fake clear-server.sh empties and the fake services read, not Linkis' DDL.
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
