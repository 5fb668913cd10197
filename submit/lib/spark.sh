# Sourced by the submit/ scripts (not run): the project root, the job jar, the Java 17 module
# flags, and spark-submit, with a stand-in built from target/spark-jars where no Spark
# distribution is installed.
# shellcheck shell=bash

bottleneck_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Spark 3.5 on Java 17 needs these opened (the list Spark's launcher uses); harmless where a
# JVM adds them already.
bottleneck_java_opens=(-XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false)

bottleneck_java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# The shaded job jar, built (mvn package) when the checkout has none.
bottleneck_job_jar() {
  local jars=("$bottleneck_root"/target/bottleneck-*-job.jar)
  if [ ! -e "${jars[0]}" ] || [ ! -d "$bottleneck_root/target/spark-jars" ]; then
    echo "bottleneck: no job jar in $bottleneck_root/target; building it (mvn package, a few minutes the first time)" >&2
    # Maven 3.8's console library writes colour resets even in batch mode: noise on stderr
    (cd "$bottleneck_root" && set -o pipefail \
      && mvn -B -q -Dstyle.color=never -DskipTests package 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2)
    jars=("$bottleneck_root"/target/bottleneck-*-job.jar)
  fi
  echo "${jars[0]}"
}

# A SPARK_HOME without a Spark distribution: jars/ links the jars of target/spark-jars (the
# Spark and Hadoop jars that mvn package copies there) and the job jar, which bundles the
# libraries Spark shares with the job (Scala among them, so spark-jars lacks them); conf/ holds
# the project's log4j2 configuration, which the standalone Worker puts on its executors'
# classpath. Prints its path.
bottleneck_spark_home() {
  local home="$bottleneck_root/target/spark-home" job_jar
  job_jar="$(bottleneck_job_jar)"
  mkdir -p "$home/conf" "$home/jars"
  ln -sfn "$bottleneck_root"/target/spark-jars/*.jar "$job_jar" "$home/jars/"
  find "$home/jars" -xtype l -delete  # links to jars a rebuild removed
  cp -f "$bottleneck_root/conf/log4j2.properties" "$home/conf/log4j2.properties"
  echo "$home"
}

# Like a distribution's bin/spark-class: Spark's launcher library builds the java command line
# (driver memory, SPARK_SUBMIT_OPTS, module flags) and it is exec'd.
bottleneck_spark_class() {
  SPARK_HOME="$(bottleneck_spark_home)"
  export SPARK_HOME
  export SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
  local cmd=() arg delim=$'\n' started=false
  # The protocol of spark-class: lines of messages, a line holding one NUL, then the command's
  # arguments separated by NULs (so they keep any character), then the launcher's exit status.
  while IFS= read -d "$delim" -r arg; do
    if [ "$started" = true ]; then
      cmd+=("$arg")
    elif [ -z "$arg" ]; then  # the NUL line (bash reads it as empty)
      delim=''
      started=true
    else
      echo "$arg" >&2
    fi
  done < <("$bottleneck_java" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main "$@"; printf '%d\0' $?)
  local status="${cmd[${#cmd[@]}-1]}"
  unset 'cmd[${#cmd[@]}-1]'
  if [ "$status" != 0 ] || [ ${#cmd[@]} -eq 0 ]; then
    echo "bottleneck: Spark's launcher could not build the command for $1 (exit $status)" >&2
    exit 2
  fi
  exec "${cmd[@]}"
}

# spark-submit: $SPARK_HOME/bin/spark-submit, spark-submit on PATH, or the stand-in.
bottleneck_spark_submit() {
  local submit="${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit"
  if command -v "$submit" >/dev/null 2>&1; then
    exec "$submit" "$@"
  fi
  echo "bottleneck: no spark-submit (SPARK_HOME unset or without bin/); running Spark's SparkSubmit from target/spark-jars" >&2
  bottleneck_spark_class org.apache.spark.deploy.SparkSubmit "$@"
}
