"""deploy/dagster.k8s.yaml is a Dagster instance that loads: its run launcher is dagster-k8s' K8sRunLauncher, its
storage the PostgreSQL of deploy/dagster.postgres.yaml, and the Job it would start for a cycle runs the image's user
with the shared volume, the keys and the database password from Secrets. No cluster is needed: the launcher reads a
kubeconfig naming an address nothing listens on, and the Job is taken at the point it would be sent."""

from __future__ import annotations

import uuid

import dagster as dg
import pytest
import yaml

from assurance_pipeline_tests.deploy.files import DEPLOY, load_yaml
from assurance_pipeline_tests.postgres import ADMIN, HOST, PORT, scratch_database

K8S_INSTANCE = DEPLOY / "dagster.k8s.yaml"
NAMESPACE = "assurance-" + uuid.uuid4().hex[:8]
IMAGE = "registry.example.internal/assurance-pipeline:0.1.0"


def _kubeconfig(folder) -> str:
    """A kubeconfig for a cluster at an address where no server is: loading it must not reach one."""
    path = folder / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "nowhere",
        "clusters": [{"name": "nowhere", "cluster": {"server": "https://127.0.0.1:9"}}],
        "contexts": [{"name": "nowhere", "context": {"cluster": "nowhere", "user": "nobody"}}],
        "users": [{"name": "nobody", "user": {"token": "not-a-token"}}],
    }))
    return str(path)


def _outside_the_cluster(config: dict, kubeconfig: str) -> dict:
    """The file's instance with the one change a test outside a cluster needs: the kubeconfig instead of the pod's."""
    launcher = config["run_launcher"]["config"]
    assert launcher["load_incluster_config"] is True  # as deployed
    return {**config, "run_launcher": {**config["run_launcher"], "config": {**launcher, "load_incluster_config": False,
                                                                              "kubeconfig_file": kubeconfig}}}


@pytest.fixture
def k8s_instance(tmp_path, monkeypatch):
    pytest.importorskip("dagster_k8s")
    with scratch_database() as database:
        for name, value in {"DAGSTER_PG_HOST": HOST, "DAGSTER_PG_PORT": str(PORT), "DAGSTER_PG_DB": database,
                            "DAGSTER_PG_USERNAME": ADMIN, "DAGSTER_PG_PASSWORD": "any: the server trusts this address",
                            "DAGSTER_K8S_JOB_NAMESPACE": NAMESPACE}.items():
            monkeypatch.setenv(name, value)
        overrides = _outside_the_cluster(load_yaml(K8S_INSTANCE), _kubeconfig(tmp_path))
        with dg.instance_for_test(overrides=overrides) as instance:
            yield instance


def test_the_instance_runs_each_run_as_a_kubernetes_job_and_keeps_everything_in_postgresql(k8s_instance):
    from dagster_k8s import K8sRunLauncher

    assert isinstance(k8s_instance.run_launcher, K8sRunLauncher)
    assert type(k8s_instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(k8s_instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(k8s_instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    run = k8s_instance.add_run(dg.DagsterRun(job_name="governed_cycle", run_id=str(uuid.uuid4())))
    assert k8s_instance.get_run_by_id(run.run_id).job_name == "governed_cycle"  # written to and read from the database


def test_its_storage_is_the_postgresql_instance_s():
    assert load_yaml(K8S_INSTANCE)["storage"] == load_yaml(DEPLOY / "dagster.postgres.yaml")["storage"]


def _launched_job(instance):
    """The Kubernetes Job the launcher builds for a cycle served from the image, as it would send it to the cluster."""
    from dagster._core.code_pointer import ModuleCodePointer
    from dagster._core.launcher import LaunchRunContext
    from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin

    pointer = ModuleCodePointer("assurance_pipeline.definitions", "defs", working_directory=None)
    origin = JobPythonOrigin("governed_cycle", RepositoryPythonOrigin("python", pointer, container_image=IMAGE))
    run = instance.add_run(dg.DagsterRun(job_name="governed_cycle", run_id=str(uuid.uuid4()), job_code_origin=origin))
    sent = []
    instance.run_launcher._api_client.create_namespaced_job_with_retries = lambda body, namespace: sent.append((body, namespace))
    instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    [(job, namespace)] = sent
    return job, namespace


def test_a_cycle_s_job_runs_the_image_s_user_with_the_shared_volume_the_keys_and_the_password_from_secrets(k8s_instance):
    job, namespace = _launched_job(k8s_instance)
    pod = job.spec.template.spec
    [container] = pod.containers
    assert namespace == NAMESPACE and container.image == IMAGE and pod.service_account_name == "dagster"
    assert container.command is None  # only args: the image's entrypoint (which makes the key files private) runs first
    assert (pod.security_context.run_as_user, pod.security_context.fs_group, pod.security_context.run_as_non_root) == (10001, 10001, True)
    volumes = {volume.name: volume for volume in pod.volumes}
    assert volumes["assurance-data"].persistent_volume_claim.claim_name == "assurance-data"
    assert volumes["assurance-keys"].secret.secret_name == "assurance-keys"
    assert {m.name: (m.mount_path, bool(m.read_only)) for m in container.volume_mounts} == {
        "assurance-data": ("/data", False), "assurance-keys": ("/var/run/secrets/assurance", True)}
    env = {e.name: e for e in container.env}
    assert env["DAGSTER_PG_PASSWORD"].value is None
    assert (env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref.name, env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref.key) == (
        "dagster-postgresql-secret", "postgresql-password")
    assert env["DAGSTER_PG_HOST"].value == HOST and env["DAGSTER_PG_USERNAME"].value == ADMIN  # passed from the launcher's own
    sources = [(s.config_map_ref and s.config_map_ref.name, s.secret_ref and s.secret_ref.name) for s in container.env_from]
    assert sources == [("assurance-env", None), (None, "assurance-source")]
