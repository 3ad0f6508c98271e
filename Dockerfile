# The user-code image of a Dagster deployment on Kubernetes (deploy/README.md): the code location
# assurance_pipeline.definitions served over gRPC on port 3030; the runs that K8sRunLauncher starts use it too.
#   docker build -t REGISTRY/assurance-pipeline:TAG .
# PYTHON_IMAGE may name a mirror of python:3.11-slim where Docker Hub is out of reach.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/assurance
COPY pyproject.toml README.md ./
COPY assurance_pipeline ./assurance_pipeline
COPY dbt_like_sql ./dbt_like_sql
# As the Makefile installs it (editable, as the Makefile does; a wheel carries the SQL models too), with the k8s extra in place
# of dev: the run launcher and the PostgreSQL storage, no test tools.
RUN python -m pip install --upgrade pip && python -m pip install -e '.[k8s]'

COPY deploy/entrypoint.sh /usr/local/bin/assurance-entrypoint
# DAGSTER_HOME where the Helm chart mounts the instance (dagster.yaml); the user's own, so that the image also runs
# alone on a local instance.
ENV DAGSTER_HOME=/opt/dagster/dagster_home
RUN chmod 0755 /usr/local/bin/assurance-entrypoint \
    && useradd --create-home --uid 10001 --user-group assurance \
    && mkdir -p "$DAGSTER_HOME" && chown 10001:10001 "$DAGSTER_HOME"
USER 10001:10001

EXPOSE 3030
ENTRYPOINT ["/usr/local/bin/assurance-entrypoint"]
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "3030", "-m", "assurance_pipeline.definitions"]
