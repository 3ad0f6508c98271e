"""deploy/helm/values.yaml for the official Dagster chart: only keys the chart knows, in the shapes it takes; no
password; the code location served from this project's image with the product's settings; the shared volume and
the Secrets the same as the Kubernetes instance config's (deploy/dagster.k8s.yaml).

The chart's full values.schema.json is not at hand where these tests run (Helm and the chart are not installed), so
the keys used here are checked against the schema below: those keys and their types as the chart's schema models
(helm/dagster/schema in the Dagster repository: DagsterHelmValues, PostgreSQL, Global, UserDeployment,
K8sRunLauncherConfig) define them for Dagster 1.13. A key misspelt or put at the wrong level fails it."""

from __future__ import annotations

import re

import pytest

from assurance_pipeline_tests.deploy.files import DEPLOY, ROOT, load_yaml, pyproject

VALUES = DEPLOY / "helm" / "values.yaml"

_STRINGS = {"type": "array", "items": {"type": "string"}}
_OBJECTS = {"type": "array", "items": {"type": "object"}}


def _shape(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


USED_CHART_KEYS = _shape({
    "global": _shape({"postgresqlSecretName": {"type": "string"}}),
    "generatePostgresqlPasswordSecret": {"type": "boolean"},
    "postgresql": _shape({
        "enabled": {"type": "boolean"}, "postgresqlHost": {"type": "string"}, "postgresqlUsername": {"type": "string"},
        "postgresqlDatabase": {"type": "string"}, "postgresqlScheme": {"type": "string"},
        "service": _shape({"port": {"type": "integer"}}),
    }),
    "dagster-user-deployments": _shape({
        "enabled": {"type": "boolean"},
        "deployments": {"type": "array", "items": _shape({
            "name": {"type": "string"},
            "image": _shape({"repository": {"type": "string"}, "tag": {"type": "string"},
                             "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}}, ("repository", "tag")),
            "codeServerArgs": _STRINGS, "port": {"type": "integer"},
            "includeConfigInLaunchedRuns": _shape({"enabled": {"type": "boolean"}}),
            "env": {"type": "array", "items": _shape({"name": {"type": "string"}, "value": {"type": "string"}}, ("name",))},
            "envSecrets": {"type": "array", "items": _shape({"name": {"type": "string"}}, ("name",))},
            "volumes": _OBJECTS, "volumeMounts": _OBJECTS, "podSecurityContext": {"type": "object"},
            "replicaCount": {"type": "integer"},
        }, ("name", "image", "port"))},
    }),
    "runLauncher": _shape({
        "type": {"enum": ["CeleryK8sRunLauncher", "K8sRunLauncher", "CustomRunLauncher"]},
        "config": _shape({"k8sRunLauncher": _shape({
            "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}, "loadInclusterConfig": {"type": "boolean"},
            "runK8sConfig": _shape({"podSpecConfig": {"type": "object"}}),
        })}),
    }, ("type", "config")),
    "telemetry": _shape({"enabled": {"type": "boolean"}}),
})


@pytest.fixture(scope="module")
def values() -> dict:
    return load_yaml(VALUES)


def test_the_values_use_only_keys_the_chart_knows(values):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(values, USED_CHART_KEYS)


def test_the_schema_catches_a_misspelt_key(values):
    jsonschema = pytest.importorskip("jsonschema")
    misspelt = {**values, "runLauncher": {**values["runLauncher"], "type": "K8sRunLauncher", "confg": {}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(misspelt, USED_CHART_KEYS)


def _keys(data) -> list[str]:
    if isinstance(data, dict):
        return [key for key, value in data.items() for key in (key, *_keys(value))]
    return [key for item in data for key in _keys(item)] if isinstance(data, list) else []


def test_no_password_is_in_the_file(values):
    assert [key for key in _keys(values) if "password" in key.lower() and "secret" not in key.lower()] == []
    assert values["generatePostgresqlPasswordSecret"] is False and values["global"]["postgresqlSecretName"]
    assert values["postgresql"]["enabled"] is False  # an external server, reached with the Secret's password


def _deployment(values) -> dict:
    [deployment] = values["dagster-user-deployments"]["deployments"]
    return deployment


def test_the_code_location_is_served_from_the_image_as_pyproject_names_it(values):
    deployment = _deployment(values)
    assert deployment["codeServerArgs"] == ["-m", pyproject()["tool"]["dagster"]["module_name"]]
    assert deployment["port"] == 3030 and re.search(r"^EXPOSE 3030$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True  # the runs get its env, Secrets and volumes
    assert values["runLauncher"]["type"] == "K8sRunLauncher"


def test_every_setting_is_one_the_product_reads(values):
    source = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "assurance_pipeline").rglob("*.py"))
    names = [variable["name"] for variable in _deployment(values)["env"]]
    assert {"ASSURANCE_STANDARD", "ASSURANCE_EVIDENCE", "ASSURANCE_STORE_KEY_FILE", "ASSURANCE_FINGERPRINT_KEY_FILE"} <= set(names)
    for name in names:
        assert f'"{name}"' in source, name


def test_the_standard_and_the_evidence_store_are_on_the_shared_volume_and_the_keys_are_private_copies(values):
    deployment = _deployment(values)
    env = {variable["name"]: variable["value"] for variable in deployment["env"]}
    volumes = {volume["name"]: volume for volume in deployment["volumes"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in deployment["volumeMounts"]}
    claim = load_yaml(DEPLOY / "kubernetes" / "assurance-data.yaml")
    assert claim["kind"] == "PersistentVolumeClaim" and "ReadWriteMany" in claim["spec"]["accessModes"]
    assert volumes["assurance-data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    for setting in ("ASSURANCE_STANDARD", "ASSURANCE_EVIDENCE"):
        assert env[setting].startswith(mounts["assurance-data"] + "/")
    entrypoint = (DEPLOY / "entrypoint.sh").read_text()
    assert f'secrets="${{ASSURANCE_SECRETS:-{mounts["assurance-keys"]}}}"' in entrypoint  # where the Secret is mounted
    home = "/home/" + re.search(r"useradd(?: --?[\w-]+(?: \d+)?)* (\w+)", (ROOT / "Dockerfile").read_text())[1]
    for setting in ("ASSURANCE_STORE_KEY_FILE", "ASSURANCE_FINGERPRINT_KEY_FILE"):
        assert env[setting].startswith(f"{home}/.assurance/")  # where the entrypoint puts the private copies


def test_the_chart_and_the_instance_config_agree(values):
    launcher = load_yaml(DEPLOY / "dagster.k8s.yaml")["run_launcher"]["config"]
    deployment = _deployment(values)
    assert deployment["volumes"] == launcher["volumes"] and deployment["volumeMounts"] == launcher["volume_mounts"]
    assert launcher["postgres_password_secret"] == values["global"]["postgresqlSecretName"]
    assert [secret["name"] for secret in deployment["envSecrets"]] == launcher["env_secrets"]
    pod = values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["podSpecConfig"]["securityContext"]
    assert pod == deployment["podSecurityContext"]
    snake = {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in pod.items()}
    assert snake == launcher["run_k8s_config"]["pod_spec_config"]["security_context"]
