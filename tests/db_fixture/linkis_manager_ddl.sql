-- linkis-gen's own stand-ins (not Linkis' DDL) for the manager tables that sbin/clear-server.sh
-- empties, with the columns its DELETEs filter on.
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_label` (
  `id` int(20) NOT NULL AUTO_INCREMENT,
  `label_key` varchar(32) NOT NULL,
  `label_value` varchar(255) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_label_value_relation` (
  `id` int(20) NOT NULL AUTO_INCREMENT,
  `label_value_key` varchar(255) NOT NULL,
  `label_value_content` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_label_service_instance` (`id` int(20) NOT NULL AUTO_INCREMENT, `service_instance` varchar(128), PRIMARY KEY (`id`)) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_linkis_resources` (`id` int(20) NOT NULL AUTO_INCREMENT, `resource_type` varchar(32), PRIMARY KEY (`id`)) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_service_instance_metrics` (`instance` varchar(128) NOT NULL, PRIMARY KEY (`instance`)) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_lock` (`id` int(20) NOT NULL AUTO_INCREMENT, `lock_object` varchar(255), PRIMARY KEY (`id`)) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_label_resource` (`id` int(20) NOT NULL AUTO_INCREMENT, `label_id` int(20), PRIMARY KEY (`id`)) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_service_instance` (`id` int(20) NOT NULL AUTO_INCREMENT, `instance` varchar(128), PRIMARY KEY (`id`)) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS `linkis_cg_manager_engine_em` (`id` int(20) NOT NULL AUTO_INCREMENT, `engine_instance` varchar(128), PRIMARY KEY (`id`)) ENGINE=InnoDB;
