-- Rows of a cluster that ran (linkis-gen's own test data): an engine and an ECM instance, their
-- labels and locks, and rows that a cold start must keep (a label of another key, a relation of
-- another value key). Tests of linkis_clear_server check what is left.
INSERT INTO `linkis_cg_manager_label` (`label_key`, `label_value`) VALUES
  ('engineInstance', 'engine-1'), ('emInstance', 'ecm-1'), ('combined_userCreator_engineType', 'kept');
INSERT INTO `linkis_cg_manager_label_value_relation` (`label_value_key`, `label_value_content`) VALUES
  ('alias', 'a'), ('serviceName', 's'), ('instance', 'i'), ('kept', 'k');
INSERT INTO `linkis_cg_manager_label_service_instance` (`service_instance`) VALUES ('ecm-1');
INSERT INTO `linkis_cg_manager_linkis_resources` (`resource_type`) VALUES ('LoadInstance');
INSERT INTO `linkis_cg_manager_service_instance_metrics` (`instance`) VALUES ('ecm-1');
INSERT INTO `linkis_cg_manager_lock` (`lock_object`) VALUES ('lock');
INSERT INTO `linkis_cg_manager_label_resource` (`label_id`) VALUES (1);
INSERT INTO `linkis_cg_manager_service_instance` (`instance`) VALUES ('ecm-1'), ('engine-1');
INSERT INTO `linkis_cg_manager_engine_em` (`engine_instance`) VALUES ('engine-1');
