-- Seed rows of linkis-gen's own for tests/backup_e2e.rs (not Linkis' file), shaped like a 1.8.0
-- release's PostgreSQL DML: engine labels, the shipped gateway token and the YARN row with
-- install.sh's placeholders.
INSERT INTO linkis_cg_manager_label (label_key, label_value) VALUES
  ('combined_userCreator_engineType', '*-*,spark-3.2.1'),
  ('combined_userCreator_engineType', '*-IDE,spark-3.2.1'),
  ('combined_userCreator_engineType', '*-*,hive-3.1.3'),
  ('combined_userCreator_engineType', '*-*,python-python2');

INSERT INTO linkis_mg_gateway_auth_token (token_name, legal_users, business_owner) VALUES
  ('LINKIS-UNAVAILABLE-TOKEN', '*', 'BDP');

INSERT INTO linkis_cg_rm_external_resource_provider (resource_type, name, labels, config) VALUES
  ('Yarn', 'default', NULL, '{"rmWebAddress":"@YARN_RESTFUL_URL","hadoopVersion":"@HADOOP_VERSION","authorEnable":@YARN_AUTH_ENABLE,"user":"@YARN_AUTH_USER","pwd":"@YARN_AUTH_PWD","kerberosEnable":@YARN_KERBEROS_ENABLE,"principalName":"@YARN_PRINCIPAL_NAME","keytabPath":"@YARN_KEYTAB_PATH","krb5Path":"@YARN_KRB5_PATH"}');
