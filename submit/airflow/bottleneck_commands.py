"""Command lines of the Bottleneck Airflow DAG (bottleneck_dag.py), free of Airflow imports so
that they can be built and checked where Airflow is not installed (AirflowDagTest renders them
for a date and passes each to the job's CLI with --dry-run).

Every stage of one logical date reads and writes fixed paths under <root>/runs/<ds>/ and
overwrites them, the feature cache is shared by all dates (a re-run featurizes nothing twice),
and predictions are written per run id (derived from the date) with --run-date, which the
job replaces on a re-run: a retried task or a cleared DAG run leaves the same outputs and no
duplicate rows.

  python3 bottleneck_commands.py 2026-11-23   prints the DAG's command lines rendered for
                                              that date, as JSON
"""

import json
import re
import sys

JOB_CLASS = "io.bottleneck.job.Main"

# The stages in order, each one task of the DAG.
STAGES = ("ingest", "split", "featurize", "train", "evaluate", "predict")

# Executor and driver sizing, the same defaults as submit/cluster-submit (see its header for
# the reasons): 2 cores and 4g heap per executor, 2g overhead for ND4J's and TensorFlow's
# off-heap memory, one native inference thread per task.
EXECUTOR_CORES = 2
EXECUTOR_MEMORY = "4g"
EXECUTOR_OVERHEAD = "2g"
OFFHEAP_MAX = "1g"
PHYSICAL_MAX = "6144m"  # heap + overhead
DRIVER_MEMORY = "4g"
NUM_EXECUTORS = 2

JAVA_OPENS = " ".join(
    ["-XX:+IgnoreUnrecognizedVMOptions"]
    + [
        "--add-opens=java.base/" + package + "=ALL-UNNAMED"
        for package in (
            "java.lang", "java.lang.invoke", "java.lang.reflect", "java.io", "java.net", "java.nio",
            "java.util", "java.util.concurrent", "java.util.concurrent.atomic", "sun.nio.ch",
            "sun.nio.cs", "sun.security.action", "sun.util.calendar",
        )
    ]
    + ["-Djdk.reflect.useDirectMethodHandle=false"]
)


def spark_conf():
    """spark-submit --conf settings of every task."""
    # JavaCPP logs through SLF4J, so Spark's log4j2 configuration decides what shows (the
    # project's drops JavaCPP's expected version-mismatch warnings; see conf/log4j2.properties)
    driver_opts = JAVA_OPENS + " -Dorg.bytedeco.javacpp.maxbytes=" + OFFHEAP_MAX + " -Dorg.bytedeco.javacpp.logger=slf4j"
    return {
        "spark.executor.memoryOverhead": EXECUTOR_OVERHEAD,
        "spark.task.cpus": "1",
        "spark.task.maxFailures": "4",
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
        "spark.kryo.registrator": "io.bottleneck.io.NdArrayKryoRegistrator",
        "spark.kryoserializer.buffer.max": "512m",
        "spark.driver.extraJavaOptions": driver_opts,
        "spark.executor.extraJavaOptions": driver_opts + " -Dorg.bytedeco.javacpp.maxphysicalbytes=" + PHYSICAL_MAX,
        "spark.executorEnv.OMP_NUM_THREADS": "1",
        "spark.executorEnv.TF_OVERRIDE_GLOBAL_THREADPOOL": "1",
        "spark.executorEnv.TF_ENABLE_ONEDNN_OPTS": "1",
        "spark.executorEnv.TF_CPP_MIN_LOG_LEVEL": "1",
    }


def run_id(ds_nodash):
    """The run id of a logical date: the same on every re-run of that date."""
    return "daily-" + ds_nodash


def stage_commands(ds, ds_nodash, root, labeled_input, predict_input, table, label_from="filename", epochs=None,
                   evaluation_input=None):
    """The job arguments (after the jar) of each stage for one logical date, in STAGES order.

    ds and ds_nodash are the date as YYYY-MM-DD and YYYYMMDD: the DAG passes Airflow's
    templates "{{ ds }}" and "{{ ds_nodash }}", which Airflow renders when the task runs;
    tests pass a date. root holds the per-date run directories, the shared feature cache and
    the catalog; labeled_input, predict_input and evaluation_input may contain {ds}, replaced by
    ds. The model is evaluated on evaluation_input, labeled images it was not trained on
    (default: <root>/evaluation), never on its own training input.
    """
    if evaluation_input is None:
        evaluation_input = root + "/evaluation"
    run = root + "/runs/" + ds
    cache = root + "/feature-cache"
    catalog = [
        "--set", "catalog.warehouse-dir=" + root + "/warehouse",
        "--set", "catalog.metastore-dir=" + root + "/metastore",
    ]
    train = ["train", "--input", run + "/features", "--output", run + "/model", "--cache", cache]
    if epochs is not None:
        train += ["--epochs", str(epochs)]
    return {
        "ingest": ["ingest", "--input", labeled_input.format(ds=ds), "--label-from", label_from,
                   "--output", run + "/ingest"],
        "split": ["split", "--input", run + "/ingest/images", "--output", run + "/split"],
        "featurize": ["featurize", "--input", run + "/split", "--output", run + "/features", "--cache", cache],
        "train": train,
        "evaluate": ["evaluate", "--model", run + "/model", "--input", evaluation_input.format(ds=ds),
                     "--label-from", label_from, "--output", run + "/evaluation", "--cache", cache],
        "predict": ["predict", "--model", run + "/model", "--input", predict_input.format(ds=ds),
                    "--table", table, "--run-id", run_id(ds_nodash), "--run-date", ds, "--cache", cache]
                   + catalog,
    }


# The incremental DAG: one task per schedule, no retraining.
INCREMENTAL_STAGES = ("stream",)

# The stream's run id: constant, as the checkpoint keeps it (batch ids count on across runs).
STREAM_RUN_ID = "incremental"


def incremental_commands(root, stream_input, stream_table, model):
    """The job arguments of the incremental DAG's task: the stream command with the
    available-now trigger predicts the images that arrived in stream_input since the last run
    (the checkpoint under <root>/stream records which) with the bundle model, exactly once into
    the catalog table stream_table, then exits. The same command line on every run: a retried
    or overlapping run continues from the checkpoint, never duplicates."""
    return {
        "stream": ["stream", "--model", model, "--input", stream_input, "--checkpoint", root + "/stream/checkpoint",
                   "--table", stream_table, "--trigger", "available-now", "--run-id", STREAM_RUN_ID,
                   "--cache", root + "/feature-cache",
                   "--set", "catalog.warehouse-dir=" + root + "/warehouse",
                   "--set", "catalog.metastore-dir=" + root + "/metastore"],
    }


# Airflow's date macros as the DAG uses them, rendered for one date (what Jinja does for them).
_MACRO = re.compile(r"\{\{\s*(ds|ds_nodash)\s*\}\}")


def render(value, ds):
    """value (a string or a list of strings) with {{ ds }} and {{ ds_nodash }} rendered for ds."""
    if isinstance(value, list):
        return [render(v, ds) for v in value]
    macros = {"ds": ds, "ds_nodash": ds.replace("-", "")}
    return _MACRO.sub(lambda m: macros[m.group(1)], value)


def dag_settings(environ):
    """Where the DAG's data lives, from the environment of the Airflow scheduler and workers:
    BOTTLENECK_ROOT (run directories, feature cache, catalog), BOTTLENECK_LABELED_INPUT and
    BOTTLENECK_PREDICT_INPUT (may contain {ds}), BOTTLENECK_TABLE, BOTTLENECK_JOB_JAR (as
    spark-submit sees it: a path on the Airflow worker, or hdfs://, s3a://, local://);
    BOTTLENECK_EVALUATION_INPUT (labeled images held out from training, may contain {ds}); for
    the incremental DAG BOTTLENECK_STREAM_INPUT (the folder new images arrive in),
    BOTTLENECK_STREAM_TABLE and BOTTLENECK_MODEL (the bundle it predicts with, e.g. an approved
    run's <root>/runs/<ds>/model)."""
    root = environ.get("BOTTLENECK_ROOT", "/data/bottleneck").rstrip("/")
    return {
        "root": root,
        "labeled_input": environ.get("BOTTLENECK_LABELED_INPUT", root + "/labeled"),
        "predict_input": environ.get("BOTTLENECK_PREDICT_INPUT", root + "/incoming/{ds}"),
        "table": environ.get("BOTTLENECK_TABLE", "bottleneck_predictions"),
        "job_jar": environ.get("BOTTLENECK_JOB_JAR", "/opt/bottleneck/bottleneck-job.jar"),
        "evaluation_input": environ.get("BOTTLENECK_EVALUATION_INPUT", root + "/evaluation"),
        "stream_input": environ.get("BOTTLENECK_STREAM_INPUT", root + "/incoming-stream"),
        "stream_table": environ.get("BOTTLENECK_STREAM_TABLE", "bottleneck_stream_predictions"),
        "model": environ.get("BOTTLENECK_MODEL", root + "/model"),
    }


def dag_templates(settings):
    """The application_args templates of the DAG's tasks: stage_commands for Airflow's macros."""
    return stage_commands("{{ ds }}", "{{ ds_nodash }}", settings["root"], settings["labeled_input"],
                          settings["predict_input"], settings["table"],
                          evaluation_input=settings["evaluation_input"])


def incremental_templates(settings):
    """The application_args of the incremental DAG's task (no date macros: one stream)."""
    return incremental_commands(settings["root"], settings["stream_input"], settings["stream_table"],
                                settings["model"])


if __name__ == "__main__":
    import os

    if len(sys.argv) != 2 or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", sys.argv[1]):
        sys.exit("usage: bottleneck_commands.py YYYY-MM-DD  (prints the DAG's commands rendered for that date)")
    date = sys.argv[1]
    settings = dag_settings(os.environ)
    templates = dag_templates(settings)
    print(json.dumps({"ds": date, "commands": {stage: render(args, date) for stage, args in templates.items()},
                      "incremental": {stage: render(args, date)
                                      for stage, args in incremental_templates(settings).items()}}))
