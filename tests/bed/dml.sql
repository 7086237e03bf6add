-- The test bed's stand-in for Linkis' DML (the fake release's db/linkis_dml.sql): rows in the shape
-- Linkis 1.3.2 ships, with the placeholders linkis-gen's bootstrap fills (its seed) on a copy.
INSERT INTO linkis_mg_gateway_auth_token (token_name, legal_users, legal_hosts) VALUES
  ('QML-AUTH', '*', '*'), ('BML-AUTH', '*', '*'), ('WS-AUTH', '*', '*'), ('dss-AUTH', '*', '*'),
  ('QUALITIS-AUTH', '*', '*'), ('VALIDATOR-AUTH', '*', '*'), ('LINKISCLI-AUTH', '*', '*'),
  ('DSM-AUTH', '*', '*'), ('LINKIS_CLI_TEST', '*', '*');
INSERT INTO linkis_cg_rm_external_resource_provider (id, resource_type, name, config) VALUES
  (1, 'Yarn', 'default', '{\r\n"rmWebAddress": "@YARN_RESTFUL_URL",\r\n"hadoopVersion": "@HADOOP_VERSION",\r\n"authorEnable":@YARN_AUTH_ENABLE,\r\n"user":"@YARN_AUTH_USER",\r\n"pwd":"@YARN_AUTH_PWD",\r\n"kerberosEnable":@YARN_KERBEROS_ENABLE,\r\n"principalName":"@YARN_PRINCIPAL_NAME",\r\n"keytabPath":"@YARN_KEYTAB_PATH",\r\n"krb5Path":"@YARN_KRB5_PATH"\r\n}');
