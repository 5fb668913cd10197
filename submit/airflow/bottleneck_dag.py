"""Airflow DAGs: Bottleneck's stages for each logical date, submitted with SparkSubmitOperator.

bottleneck_daily: ingest -> split -> featurize -> train -> evaluate -> predict, one Spark
application each (evaluate on held-out labeled images, BOTTLENECK_EVALUATION_INPUT), with
the command lines of bottleneck_commands.py (put both files in the DAGs folder). Re-running a
date (a retry, or a cleared run) is idempotent: stages overwrite their per-date outputs, the
feature cache makes a re-featurization free, and predictions of the date's run id
(daily-<ds_nodash>, with --run-date <ds>) are replaced, not appended.

bottleneck_incremental: no retraining; every 15 minutes one stream --trigger available-now run
predicts the images that arrived in BOTTLENECK_STREAM_INPUT since the last run with the bundle
BOTTLENECK_MODEL, exactly once into BOTTLENECK_STREAM_TABLE (the checkpoint under
<root>/stream remembers which files were done), and exits.

Set up: the Spark connection BOTTLENECK_SPARK_CONN (default spark_default) names the master
(spark://host:7077, yarn, k8s://...) and deploy mode in its extras; the environment variables
of bottleneck_commands.dag_settings say where the data and the job jar are.
"""

import os
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

import bottleneck_commands as commands

settings = commands.dag_settings(os.environ)
templates = commands.dag_templates(settings)

with DAG(
    dag_id="bottleneck_daily",
    description="Transfer-learning image classification: train, evaluate and predict per date",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    # A new model per date needs only that date's inputs: no backfill of past dates on deploy.
    catchup=False,
    # Runs share the feature cache and the predictions table; one at a time keeps writes simple.
    max_active_runs=1,
    default_args={
        "owner": "bottleneck",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=4),
    },
    tags=["bottleneck", "spark"],
) as dag:
    previous = None
    for stage in commands.STAGES:
        task = SparkSubmitOperator(
            task_id=stage,
            conn_id=os.environ.get("BOTTLENECK_SPARK_CONN", "spark_default"),
            application=settings["job_jar"],
            java_class=commands.JOB_CLASS,
            name="bottleneck-" + stage + "-{{ ds_nodash }}",
            application_args=templates[stage],  # templated: Airflow renders {{ ds }} per run
            conf=commands.spark_conf(),
            executor_cores=commands.EXECUTOR_CORES,
            executor_memory=commands.EXECUTOR_MEMORY,
            driver_memory=commands.DRIVER_MEMORY,
            num_executors=commands.NUM_EXECUTORS,
            env_vars={"TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "1"},
        )
        if previous is not None:
            previous >> task
        previous = task

incremental = commands.incremental_templates(settings)

with DAG(
    dag_id="bottleneck_incremental",
    description="Predictions of newly arrived images, exactly once, with the current model (no retraining)",
    schedule=timedelta(minutes=15),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    # One stream, one checkpoint: runs must not overlap (a second query on the checkpoint fails).
    max_active_runs=1,
    default_args={
        "owner": "bottleneck",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(hours=2),
    },
    tags=["bottleneck", "spark", "incremental"],
) as incremental_dag:
    for stage in commands.INCREMENTAL_STAGES:
        SparkSubmitOperator(
            task_id=stage,
            conn_id=os.environ.get("BOTTLENECK_SPARK_CONN", "spark_default"),
            application=settings["job_jar"],
            java_class=commands.JOB_CLASS,
            name="bottleneck-" + stage,
            application_args=incremental[stage],
            conf=commands.spark_conf(),
            executor_cores=commands.EXECUTOR_CORES,
            executor_memory=commands.EXECUTOR_MEMORY,
            driver_memory=commands.DRIVER_MEMORY,
            num_executors=commands.NUM_EXECUTORS,
            env_vars={"TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "1"},
        )
