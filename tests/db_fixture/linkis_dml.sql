-- Seed rows of linkis-gen's own for tests/apply_e2e.rs (not Linkis' file), shaped like a 1.3.2
-- release's: labels built from session variables, the shipped gateway tokens, and the YARN row
-- with install.sh's placeholders.
SET @SPARK_LABEL="spark-2.4.3";
SET @HIVE_LABEL="hive-2.3.3";
SET @PYTHON_LABEL="python-python2";

INSERT INTO `linkis_cg_manager_label` (`label_key`, `label_value`) VALUES
  ('combined_userCreator_engineType', CONCAT('*-*,', @SPARK_LABEL)),
  ('combined_userCreator_engineType', CONCAT('*-IDE,', @SPARK_LABEL)),
  ('combined_userCreator_engineType', CONCAT('*-*,', @HIVE_LABEL)),
  ('combined_userCreator_engineType', CONCAT('*-*,', @PYTHON_LABEL));

INSERT INTO `linkis_mg_gateway_auth_token` (`token_name`, `legal_users`, `business_owner`) VALUES
  ('QML-AUTH', '*', 'BDP'),
  ('BML-AUTH', '*', 'BDP'),
  ('WS-AUTH', '*', 'BDP'),
  ('DSM-AUTH', '*', 'BDP'),
  ('LINKIS_CLI_TEST', '*', 'BDP');

INSERT INTO `linkis_cg_rm_external_resource_provider` (`resource_type`, `name`, `labels`, `config`) VALUES
  ('Yarn', 'default', NULL, '{"rmWebAddress":"@YARN_RESTFUL_URL","hadoopVersion":"@HADOOP_VERSION","authorEnable":@YARN_AUTH_ENABLE,"user":"@YARN_AUTH_USER","pwd":"@YARN_AUTH_PWD","kerberosEnable":@YARN_KERBEROS_ENABLE,"principalName":"@YARN_PRINCIPAL_NAME","keytabPath":"@YARN_KEYTAB_PATH","krb5Path":"@YARN_KRB5_PATH"}');
