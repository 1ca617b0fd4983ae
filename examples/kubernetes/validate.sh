#!/usr/bin/env bash
# Validates the manifests in this folder, offline, against the Kubernetes API schemas that the PyPI
# package kubernetes-validate ships inside it (no cluster, no network):
#   - every *.yaml but kustomization.yaml parses (duplicate keys refused), and each of its resources
#     passes the strict schema (unknown fields refused) of every version in K8S_VERSIONS;
#     a resource whose kind or apiVersion has no schema is an error, not a warning;
#   - kustomization.yaml lists exactly those files;
#   - the config in configmap.yaml uses only hookspool's top-level keys, and its spool, report and
#     file: secret paths are where cronjob.yaml mounts them;
#   - the CronJob's string choices that the schemas do not enumerate (concurrencyPolicy,
#     restartPolicy, podFailurePolicy actions and operators) are valid.
# Needs python3 with kubernetes-validate (.ci/run installs it in its venv):
#   python3 -m pip install "kubernetes-validate>=1.37,<1.38"
# Exits 0 when all is valid, 1 on any error.
set -euo pipefail
cd "$(dirname "$0")"

# 1.31: the oldest the example supports (podFailurePolicy is stable there); 1.37: the newest bundled.
K8S_VERSIONS="${K8S_VERSIONS:-1.31.0 1.37.0}"

exec python3 - "$K8S_VERSIONS" <<'PY'
import glob
import sys

import yaml

try:
    import kubernetes_validate
except ImportError:
    sys.exit("validate.sh: kubernetes-validate is not installed: python3 -m pip install 'kubernetes-validate>=1.37,<1.38'")

versions = sys.argv[1].split()
errors = []


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; the API server and hookspool's loader refuse them."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_all(text, name):
    try:
        return [doc for doc in yaml.load_all(text, Loader=UniqueKeyLoader) if doc is not None]
    except yaml.YAMLError as e:
        errors.append(f"{name}: not valid YAML: {e}")
        return []


manifests = sorted(f for f in glob.glob("*.yaml") if f != "kustomization.yaml")
resources = {}
for name in manifests:
    with open(name) as f:
        docs = load_all(f.read(), name)
    if not docs:
        errors.append(f"{name}: no resource in it")
    resources[name] = docs
    for doc in docs:
        what = f"{name}: {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}" if isinstance(doc, dict) else name
        for version in versions:
            try:
                used = kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path) or "(top)"
                errors.append(f"{what}: Kubernetes {version}: {path}: {e.message}")
                continue
            except kubernetes_validate.SchemaNotFoundError as e:
                errors.append(f"{what}: {e.message}")
                continue
            except Exception as e:  # a version the package lacks, a resource without kind, ...
                errors.append(f"{what}: Kubernetes {version}: cannot validate: {getattr(e, 'message', e)!r}")
                continue
            if used != ".".join(version.split(".")[:2]):
                errors.append(f"{what}: asked for Kubernetes {version}, the package validated against {used}")
                continue
            print(f"ok   {what} (Kubernetes {used}, strict)")

# kustomization.yaml: exactly the manifests of this folder.
with open("kustomization.yaml") as f:
    kustomization = (load_all(f.read(), "kustomization.yaml") or [{}])[0]
listed = kustomization.get("resources") or []
if sorted(listed) != manifests:
    errors.append(f"kustomization.yaml: resources {sorted(listed)} are not this folder's manifests {manifests}")
else:
    print(f"ok   kustomization.yaml lists {', '.join(listed)}")

# The config in the ConfigMap against the CronJob's mounts.
def find(kind):
    return [doc for docs in resources.values() for doc in docs if isinstance(doc, dict) and doc.get("kind") == kind]

try:
    (configmap,) = find("ConfigMap")
    (cronjob,) = find("CronJob")
    config = load_all(configmap["data"]["config.yaml"], "configmap.yaml: config.yaml")[0]
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
except (ValueError, KeyError, IndexError, TypeError) as e:
    errors.append(f"configmap.yaml, cronjob.yaml: not the expected shape (one ConfigMap with config.yaml, one CronJob with one container): {e!r}")
else:
    allowed = {"spool", "report", "delivery", "limits", "metrics", "endpoints"}  # ConfigReader.swift
    unknown = set(config) - allowed
    if unknown:
        errors.append(f"configmap.yaml: config.yaml: unknown top-level keys {sorted(unknown)}")
    command = container.get("command", [])
    config_path = command[command.index("--config") + 1] if "--config" in command else None

    def mounted(path):
        """The mount that serves `path`, and the path inside its volume."""
        for mount_path, mount in sorted(mounts.items(), key=lambda m: -len(m[0])):
            if path == mount_path or path.startswith(mount_path.rstrip("/") + "/"):
                return mount, path[len(mount_path):].lstrip("/")
        return None, None

    def projected_item(path, key_kind):
        mount, inner = mounted(path)
        volume = volumes.get(mount["name"], {}) if mount else {}
        for source in (volume.get("projected") or {}).get("sources", []):
            for kind, ref in source.items():
                for item in ref.get("items", []):
                    if item["path"] == inner and kind == key_kind:
                        return ref["name"], item["key"]
        return None

    if projected_item(config_path or "", "configMap") != (configmap["metadata"]["name"], "config.yaml"):
        errors.append(f"cronjob.yaml: --config {config_path} is not the ConfigMap's config.yaml")
    for key, folder in (("spool", "spool"), ("report", "reports")):
        path = (config.get(key) or {}).get("dir")
        mount = mounts.get(path)
        if not mount or mount.get("subPath") != folder or mount.get("readOnly"):
            errors.append(f"configmap.yaml: {key}.dir {path} is not mounted writable from the claim's {folder}/ in cronjob.yaml")
    secret_names = {doc["metadata"]["name"]: doc for doc in find("Secret")}
    for endpoint in config.get("endpoints") or []:
        secrets = endpoint.get("secret")
        for ref in secrets if isinstance(secrets, list) else [secrets]:
            if isinstance(ref, str) and ref.startswith("file:"):
                found = projected_item(ref[5:], "secret")
                if not found or found[0] not in secret_names or found[1] not in (secret_names[found[0]].get("stringData") or secret_names[found[0]].get("data") or {}):
                    errors.append(f"configmap.yaml: endpoint {endpoint.get('name')}: {ref} is not a key of secret.yaml mounted there")
    if not errors:
        print("ok   the config's spool, report and secret paths are mounted by the CronJob")

    # Choices the schemas leave as free strings (the API server would refuse them at apply time).
    job = cronjob["spec"]["jobTemplate"]["spec"]
    choices = [("spec.concurrencyPolicy", cronjob["spec"].get("concurrencyPolicy", "Allow"), {"Allow", "Forbid", "Replace"}),
               ("restartPolicy", pod.get("restartPolicy"), {"Never"})]  # podFailurePolicy requires Never
    for i, rule in enumerate((job.get("podFailurePolicy") or {}).get("rules", [])):
        choices.append((f"podFailurePolicy.rules[{i}].action", rule.get("action"), {"FailJob", "FailIndex", "Ignore", "Count"}))
        if "onExitCodes" in rule:
            choices.append((f"podFailurePolicy.rules[{i}].onExitCodes.operator", rule["onExitCodes"].get("operator"), {"In", "NotIn"}))
    for where, value, allowed in choices:
        if value not in allowed:
            errors.append(f"cronjob.yaml: {where} is {value!r}, not one of {sorted(allowed)}")

for error in errors:
    print(f"FAIL {error}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"validate.sh: {len(manifests)} manifests valid against Kubernetes {', '.join(versions)} "
      f"(strict schemas of kubernetes-validate {kubernetes_validate.__version__})")
PY
