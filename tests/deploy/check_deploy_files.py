#!/usr/bin/env python3
"""Checks the deployment files against the programs and the repository.

Every flag the Dockerfile, deploy/docker-compose.yml and the Kubernetes
manifests pass is in the --help of the program it is passed to; every port
they name is one the program listens on; every file they mount or copy is in
the repository; the YAML files parse; the configurations they ship load
(--config.check); the compose stack's Prometheus configuration passes
`promtool check config` with the files mounted where the compose file puts
them; and the Kubernetes objects refer to each other consistently.

  check_deploy_files.py SOURCE_DIR EXPORTER SIMULATOR
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

source, exporter, simulator = sys.argv[1:4]
problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def rel(path):
    return os.path.relpath(path, source)


def load_yaml_documents(path):
    with open(path) as f:
        try:
            return [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            problem(rel(path), f"does not parse as YAML: {e}")
            return []


def help_flags(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r"(--[a-z][a-z0-9.-]*)", out))


FLAGS = {"exporter": help_flags(exporter), "simulator": help_flags(simulator)}
# Where a program listens unless --web.listen-address says otherwise.
DEFAULT_PORT = {"exporter": 10075, "simulator": 10076}


def flag_names(args):
    """The --flag names of an argument list (values after = dropped)."""
    names = []
    for arg in args:
        for match in re.finditer(r"(?:^|\s)(--[a-z][a-z0-9.-]*)", arg):
            names.append(match.group(1))
    return names


def check_flags(where, program, args):
    for name in flag_names(args):
        if name not in FLAGS[program]:
            problem(where, f"{name} is not a flag of aliyun_sas_{program} "
                    "(--help)")


def listen_port(program, args):
    for arg in args:
        match = re.search(r"--web\.listen-address[= ](\S*):(\d+)", arg)
        if match:
            return int(match.group(2))
    return DEFAULT_PORT[program]


def config_check(where, toml_text, env=None):
    """--config.check on a configuration text."""
    with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
        f.write(toml_text)
        f.flush()
        run = subprocess.run(
            [exporter, "--config.check", "--config.file", f.name],
            capture_output=True, text=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                 **(env or {})})
        if run.returncode != 0:
            problem(where, "--config.check refuses the configuration:\n" +
                    run.stderr + run.stdout)


# ---- Dockerfile -----------------------------------------------------------
dockerfile_path = os.path.join(source, "Dockerfile")
with open(dockerfile_path) as f:
    dockerfile = f.read()
instructions = re.sub(r"\\\n", " ", dockerfile)
stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", instructions, re.M)
exec_form = {}
for keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
    for line in re.findall(rf"^{keyword}\s+(.*)$", instructions, re.M):
        array = re.search(r"(\[.*\])", line)
        if array:
            exec_form.setdefault(keyword, []).append(json.loads(array.group(1)))
# The last stage is the exporter image: its command and health check.
exporter_cmd = exec_form["CMD"][-1]
check_flags("Dockerfile CMD", "exporter", exporter_cmd)
healthcheck = exec_form.get("HEALTHCHECK", [[]])[-1]
if "--healthcheck" not in healthcheck:
    problem("Dockerfile", "HEALTHCHECK does not run --healthcheck")
check_flags("Dockerfile HEALTHCHECK", "exporter", healthcheck)
exposed = [int(p) for p in re.findall(r"^EXPOSE\s+(\d+)", instructions, re.M)]
if listen_port("exporter", exporter_cmd) not in exposed:
    problem("Dockerfile", "EXPOSE does not name the exporter's port")
if DEFAULT_PORT["simulator"] not in exposed:
    problem("Dockerfile", "EXPOSE does not name the simulator's port")
for sources in re.findall(r"^COPY\s+(?!--from)(.*)$", instructions, re.M):
    for path in sources.split()[:-1]:
        if path != "." and not os.path.exists(os.path.join(source, path)):
            problem("Dockerfile", f"COPY {path}: not in the repository")
for path in re.findall(r"^COPY\s+--from=\S+\s+(\S+)", instructions, re.M):
    if "aliyun_sas_" not in path:
        problem("Dockerfile", f"COPY --from {path}: not one of the programs")
image_config = re.search(r"--config\.file=(\S+)", " ".join(exporter_cmd))
if not image_config or not re.search(
        r"^COPY\s+deploy/aliyun_sas_exporter\.toml\s+" +
        re.escape(os.path.dirname(image_config.group(1))) + "/?$",
        instructions, re.M):
    problem("Dockerfile", "--config.file is not the copied "
            "deploy/aliyun_sas_exporter.toml")
with open(os.path.join(source, "deploy/aliyun_sas_exporter.toml")) as f:
    # The image's and the .deb's configuration starts with no variable set.
    config_check("deploy/aliyun_sas_exporter.toml", f.read())

# ---- docker-compose.yml -------------------------------------------------------
compose_path = os.path.join(source, "deploy/docker-compose.yml")
compose_dir = os.path.dirname(compose_path)
compose = (load_yaml_documents(compose_path) or [{}])[0]
services = compose.get("services", {})
for name in ("simulator", "exporter", "prometheus", "alertmanager", "grafana"):
    if name not in services:
        problem("deploy/docker-compose.yml", f"no service {name}")
mounts = {}  # service -> {container path: host path}
for name, service in services.items():
    where = f"deploy/docker-compose.yml service {name}"
    build = service.get("build")
    if build:
        context = os.path.normpath(os.path.join(compose_dir, build["context"]))
        if not os.path.isfile(os.path.join(context, "Dockerfile")):
            problem(where, f"build context {build['context']} has no "
                    "Dockerfile")
        if build.get("target") not in stages:
            problem(where, f"target {build.get('target')} is not a stage of "
                    "the Dockerfile")
    for volume in service.get("volumes", []):
        host, container = volume.split(":")[:2]
        if host.startswith("."):
            host = os.path.normpath(os.path.join(compose_dir, host))
            if not os.path.exists(host):
                problem(where, f"mounts {rel(host)}: not in the repository")
            mounts.setdefault(name, {})[container] = host
        elif host not in compose.get("volumes", {}):
            problem(where, f"volume {host} is not declared")
ports = {}  # service -> port it listens on (our programs)
for program in ("simulator", "exporter"):
    service = services.get(program, {})
    command = service.get("command", [])
    check_flags(f"deploy/docker-compose.yml service {program}", program,
                command)
    ports[program] = listen_port(program, command)
    for mapping in service.get("ports", []):
        if int(str(mapping).split(":")[-1]) != ports[program]:
            problem(f"deploy/docker-compose.yml service {program}",
                    f"publishes {mapping}, but the program listens on "
                    f"{ports[program]}")
    # A file flag names a mounted file.
    for arg in command:
        match = re.match(r"--(?:config|scenario)\.file=(\S+)", arg)
        if match and match.group(1) not in mounts.get(program, {}):
            problem(f"deploy/docker-compose.yml service {program}",
                    f"{match.group(1)} is not mounted")
exporter_service = services.get("exporter", {})
compose_config = mounts.get("exporter", {}).get(
    "/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml")
if compose_config:
    with open(compose_config) as f:
        compose_toml = f.read()
    config_check(rel(compose_config), compose_toml,
                 {k: str(v) for k, v in
                  exporter_service.get("environment", {}).items()})
    for host, port in re.findall(r'endpoint = "http://([a-z]+):(\d+)"',
                                 compose_toml):
        if ports.get(host) != int(port):
            problem(rel(compose_config), f"endpoint {host}:{port} is not the "
                    "compose simulator's address")
    secret = re.search(r'access_key_secret_env = "(\w+)"', compose_toml)
    simulator_keys = " ".join(services.get("simulator", {}).get("command", []))
    if secret and exporter_service.get("environment", {}).get(
            secret.group(1)) is None:
        problem("deploy/docker-compose.yml", f"{secret.group(1)} is not set")
    elif secret and ":" + str(exporter_service["environment"][
            secret.group(1)]) not in simulator_keys:
        problem("deploy/docker-compose.yml",
                "the exporter's secret is not the simulator's --access-key")
else:
    problem("deploy/docker-compose.yml", "the exporter's configuration is "
            "not mounted at /etc/aliyun_sas_exporter/aliyun_sas_exporter.toml")
for path in (os.path.join(compose_dir, "compose", f)
             for f in sorted(os.listdir(os.path.join(compose_dir, "compose")))):
    if path.endswith(".yml"):
        load_yaml_documents(path)

# The compose Prometheus: promtool on the files laid out as mounted.
prometheus = services.get("prometheus", {})
prometheus_config = next((a.split("=", 1)[1] for a in prometheus.get(
    "command", []) if a.startswith("--config.file=")), None)
if prometheus_config not in mounts.get("prometheus", {}):
    problem("deploy/docker-compose.yml service prometheus",
            f"--config.file {prometheus_config} is not mounted")
else:
    with tempfile.TemporaryDirectory() as root:
        for container, host in mounts["prometheus"].items():
            os.makedirs(os.path.dirname(root + container), exist_ok=True)
            shutil.copy(host, root + container)
        run = subprocess.run(["promtool", "check", "config",
                              root + prometheus_config],
                             capture_output=True, text=True)
        if run.returncode != 0:
            problem("deploy/compose/prometheus.yml",
                    "promtool check config fails:\n" + run.stdout + run.stderr)
    with open(mounts["prometheus"][prometheus_config]) as f:
        prometheus_yaml = yaml.safe_load(f)
    for job in prometheus_yaml.get("scrape_configs", []):
        for static in job.get("static_configs", []):
            for target in static.get("targets", []):
                host, port = target.rsplit(":", 1)
                if ports.get(host) != int(port):
                    problem("deploy/compose/prometheus.yml",
                            f"target {target} is not a program of the stack")
    for am in prometheus_yaml.get("alerting", {}).get("alertmanagers", []):
        for static in am.get("static_configs", []):
            for target in static.get("targets", []):
                if target.split(":")[0] not in services:
                    problem("deploy/compose/prometheus.yml",
                            f"alertmanager {target} is not a service")

# ---- Kubernetes -------------------------------------------------------------
k8s_dir = os.path.join(source, "deploy/kubernetes")
kustomization = load_yaml_documents(
    os.path.join(k8s_dir, "kustomization.yaml"))[0]
objects = {}  # (kind, name) -> object
for resource in kustomization.get("resources", []):
    path = os.path.join(k8s_dir, resource)
    if not os.path.isfile(path):
        problem("deploy/kubernetes/kustomization.yaml",
                f"resource {resource} does not exist")
        continue
    for document in load_yaml_documents(path):
        objects[(document.get("kind"), document["metadata"]["name"])] = document
for extra in ("secret.example.yaml",):
    for document in load_yaml_documents(os.path.join(k8s_dir, extra)):
        objects[(document.get("kind"), document["metadata"]["name"])] = document

statefulset = objects.get(("StatefulSet", "aliyun-sas-exporter"))
if not statefulset:
    problem("deploy/kubernetes", "no StatefulSet aliyun-sas-exporter")
else:
    where = "deploy/kubernetes/statefulset.yaml"
    pod = statefulset["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "exporter")
    command = container.get("command", []) + container.get("args", [])
    # The shell line is what runs: its words are the exporter's arguments.
    words = shlex.split(command[-1]) if command[:2] == ["/bin/sh", "-c"] \
        else command
    check_flags(where, "exporter", words)
    if not any(w.startswith("--shard=") and "${HOSTNAME##*-}" in w
               for w in words):
        problem(where, "--shard does not come from the pod's ordinal")
    if not any(w.startswith("--total-shards=") and "${TOTAL_SHARDS}" in w
               for w in words):
        problem(where, "--total-shards does not come from TOTAL_SHARDS")
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    if env.get("TOTAL_SHARDS") != str(statefulset["spec"]["replicas"]):
        problem(where, "TOTAL_SHARDS differs from spec.replicas")
    replaced = [t for r in kustomization.get("replacements", [])
                if r["source"].get("fieldPath") == "spec.replicas"
                for t in r["targets"]]
    if not any("env.[name=TOTAL_SHARDS].value" in p
               for t in replaced for p in t["fieldPaths"]):
        problem("deploy/kubernetes/kustomization.yaml",
                "no replacement copies spec.replicas into TOTAL_SHARDS")
    port = listen_port("exporter", words)
    named_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    if port not in named_ports.values():
        problem(where, f"containerPort is not the listen port {port}")
    for probe in ("livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        if path not in ("/-/healthy", "/-/ready"):
            problem(where, f"{probe} asks {path}")
        if container[probe]["httpGet"]["port"] not in named_ports:
            problem(where, f"{probe} port is not a container port")
    # The mounted ConfigMap holds the files the flags and task_files name.
    mount_paths = {m["name"]: m["mountPath"]
                   for m in container.get("volumeMounts", [])}
    config_volume = next(v for v in pod["volumes"] if "configMap" in v)
    configmap = objects.get(("ConfigMap", config_volume["configMap"]["name"]))
    config_flag = next(w.split("=", 1)[1] for w in words
                       if w.startswith("--config.file="))
    if not configmap:
        problem(where, "the configuration ConfigMap is not a resource")
    else:
        mounted = {os.path.join(mount_paths[config_volume["name"]], key): value
                   for key, value in configmap["data"].items()}
        if config_flag not in mounted:
            problem(where, f"--config.file {config_flag} is not in the "
                    "mounted ConfigMap")
        else:
            config_check("deploy/kubernetes/configmap.yaml",
                         mounted[config_flag])
            for pattern in re.findall(r'task_files = \[(.*)\]',
                                      mounted[config_flag]):
                for task_file in re.findall(r'"([^"]+)"', pattern):
                    if task_file not in mounted:
                        problem("deploy/kubernetes/configmap.yaml",
                                f"task file {task_file} is not in the "
                                "ConfigMap")
                    else:
                        json.loads(mounted[task_file])
    storage = next(w.split("=", 1)[1] for w in words
                   if w.startswith("--storage.path="))
    if storage not in mount_paths.values():
        problem(where, f"--storage.path {storage} is not a mounted volume")
    account = objects.get(("ServiceAccount", pod.get("serviceAccountName")))
    if not account or "pod-identity.alibabacloud.com/role-name" not in \
            account["metadata"].get("annotations", {}):
        problem("deploy/kubernetes/serviceaccount.yaml",
                "no RRSA role-name annotation on the pods' ServiceAccount")
    secret_ref = next((e["secretRef"]["name"] for e in
                       container.get("envFrom", []) if "secretRef" in e), None)
    secret = objects.get(("Secret", secret_ref))
    if not secret:
        problem("deploy/kubernetes/secret.example.yaml",
                f"no Secret {secret_ref}, which the StatefulSet reads")
    else:
        with open(os.path.join(source, "config/aliyun_sas_exporter.toml")) as f:
            documented = f.read()
        for key in secret.get("stringData", {}):
            if key not in documented:
                problem("deploy/kubernetes/secret.example.yaml",
                        f"{key} is not a variable of the default chain")
    headless = objects.get(("Service", statefulset["spec"]["serviceName"]))
    if not headless or headless["spec"].get("clusterIP") != "None":
        problem("deploy/kubernetes/service.yaml",
                "the StatefulSet's serviceName is not a headless Service")
    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    for (kind, name), service in objects.items():
        if kind != "Service":
            continue
        if any(pod_labels.get(k) != v
               for k, v in service["spec"]["selector"].items()):
            problem("deploy/kubernetes/service.yaml",
                    f"Service {name} selects no exporter pod")
        for service_port in service["spec"]["ports"]:
            if service_port["targetPort"] not in named_ports:
                problem("deploy/kubernetes/service.yaml",
                        f"Service {name} targets no container port")
    monitor = objects.get(("ServiceMonitor", "aliyun-sas-exporter"))
    if not monitor:
        problem("deploy/kubernetes", "no ServiceMonitor")
    elif headless:
        labels = dict(headless["metadata"].get("labels", {}))
        for label in kustomization.get("labels", []):
            labels.update(label.get("pairs", {}))
        selector = monitor["spec"]["selector"]["matchLabels"]
        if any(labels.get(k) != v for k, v in selector.items()):
            problem("deploy/kubernetes/servicemonitor.yaml",
                    "the selector does not match the headless Service")
        for endpoint in monitor["spec"]["endpoints"]:
            if endpoint["port"] not in [p["name"] for p in
                                        headless["spec"]["ports"]]:
                problem("deploy/kubernetes/servicemonitor.yaml",
                        f"port {endpoint['port']} is not the Service's")
if not any(kind == "PrometheusRule" for kind, _ in objects):
    problem("deploy/kubernetes/kustomization.yaml", "no PrometheusRule")
# `kubectl kustomize` where kubectl is installed (not a Debian package).
if shutil.which("kubectl") and os.path.isfile(
        os.path.join(k8s_dir, "prometheus-rule.yaml")):
    run = subprocess.run(["kubectl", "kustomize", k8s_dir],
                         capture_output=True, text=True)
    if run.returncode != 0:
        problem("deploy/kubernetes", "kubectl kustomize fails: " + run.stderr)

for line in problems:
    print(line, file=sys.stderr)
print(f"check_deploy_files: {len(problems)} problems")
sys.exit(1 if problems else 0)
