-- The test bed's stand-in for Linkis' DML (the fake release's db/linkis_dml.sql): rows in the shape
-- Linkis 1.3.2 ships, with the placeholders linkis-gen's bootstrap fills (its seed) on a copy.
INSERT INTO linkis_mg_gateway_auth_token (token_name, legal_users, legal_hosts) VALUES
  ('QML-AUTH', '*', '*'), ('BML-AUTH', '*', '*'), ('WS-AUTH', '*', '*'), ('dss-AUTH', '*', '*'),
  ('QUALITIS-AUTH', '*', '*'), ('VALIDATOR-AUTH', '*', '*'), ('LINKISCLI-AUTH', '*', '*'),
  ('DSM-AUTH', '*', '*'), ('LINKIS_CLI_TEST', '*', '*');
-- The YARN row as 1.3.1+ writes it (one line, no blank after a colon: catalog, db_seed).
INSERT INTO linkis_cg_rm_external_resource_provider (id, resource_type, name, config) VALUES
  (1, 'Yarn', 'default', '{"rmWebAddress":"@YARN_RESTFUL_URL","hadoopVersion":"@HADOOP_VERSION","authorEnable":@YARN_AUTH_ENABLE,"user":"@YARN_AUTH_USER","pwd":"@YARN_AUTH_PWD","kerberosEnable":@YARN_KERBEROS_ENABLE,"principalName":"@YARN_PRINCIPAL_NAME","keytabPath":"@YARN_KEYTAB_PATH","krb5Path":"@YARN_KRB5_PATH"}');
-- The engine labels of the release's Spark (1.3.2: spark-2.4.3), one per creator the DML seeds:
-- a changed sizing.engines.spark.version updates them (changes.yml, linkis_db_rows).
INSERT INTO linkis_cg_manager_label (label_key, label_value) VALUES
  ('combined_userCreator_engineType', '*-*,spark-2.4.3'), ('combined_userCreator_engineType', '*-IDE,spark-2.4.3'),
  ('combined_userCreator_engineType', '*-Visualis,spark-2.4.3'), ('combined_userCreator_engineType', '*-nodeexecution,spark-2.4.3');
