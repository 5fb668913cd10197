package io.bottleneck.warehouse;

import java.util.Properties;

/** A table in a JDBC database, with the credentials to write it. toString leaves out the password. */
public record JdbcTarget(String url, String table, String user, String password) {
  Properties connectionProperties() {
    Properties p = new Properties();
    if (!user.isEmpty()) {
      p.setProperty("user", user);
    }
    if (!password.isEmpty()) {
      p.setProperty("password", password);
    }
    return p;
  }

  @Override
  public String toString() {
    return "JdbcTarget[url=" + url + ", table=" + table + ", user=" + user + "]";
  }
}
