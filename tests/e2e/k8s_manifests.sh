#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# contrib/kubernetes: every manifest parses as YAML and holds what the
# others refer to; the StatefulSet runs as many replicas as --shard
# auto/N has shards; both workloads run without root or capabilities,
# with the health endpoints of serve; pulse accepts the options they give
# it; and the ConfigMap's targets file validates, split over the shards.
# Nothing is probed.  Skips (77) without python3 and its yaml module.
. "$E2E_LIB"

K8S=$(dirname "$E2E_LIB")/../../contrib/kubernetes
[ -d "$K8S" ] || hard_error "no $K8S"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"

# The checks, in Python: each failure is a line on stdout.  Then the
# targets file goes to $2, and the lines "ARGS kind arg..." and
# "SHARDS n" to stdout for the shell.
cat >"$E2E_TMP/check.py" <<'EOF'
import os, sys, yaml

k8s, targets_out = sys.argv[1], sys.argv[2]
docs = {}
for name in sorted(os.listdir(k8s)):
    if not name.endswith(".yaml"):
        continue
    try:
        with open(os.path.join(k8s, name)) as f:
            loaded = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        print("FAIL %s does not parse: %s" % (name, e))
        continue
    if not loaded:
        print("FAIL %s holds no document" % name)
    for d in loaded:
        if not isinstance(d, dict) or "apiVersion" not in d or "kind" not in d:
            print("FAIL %s: a document without apiVersion and kind" % name)
            continue
        docs.setdefault(d["kind"], []).append((name, d))

def one(kind):
    if len(docs.get(kind, [])) != 1:
        print("FAIL expected one %s, found %d" % (kind, len(docs.get(kind, []))))
        return {}
    return docs[kind][0][1]

def fail(msg):
    print("FAIL " + msg)

kust = one("Kustomization")
for r in kust.get("resources", []):
    if not os.path.exists(os.path.join(k8s, r)):
        fail("kustomization names %s, which is not there" % r)
if "daemonset.yaml" in kust.get("resources", []):
    fail("kustomization applies the DaemonSet with the StatefulSet")

cm = one("ConfigMap")
svc = one("Service")
sts = one("StatefulSet")
ds = one("DaemonSet")
cm_name = cm.get("metadata", {}).get("name")
with open(targets_out, "w") as f:
    f.write(cm.get("data", {}).get("targets.yaml", ""))

def subset(a, b):
    return all(b.get(k) == v for k, v in (a or {}).items())

def check_workload(w, kind):
    spec = w.get("spec", {})
    tmpl = spec.get("template", {})
    labels = tmpl.get("metadata", {}).get("labels", {})
    ann = tmpl.get("metadata", {}).get("annotations", {})
    pod = tmpl.get("spec", {})
    if not subset(spec.get("selector", {}).get("matchLabels"), labels):
        fail("%s: selector does not match the pod labels" % kind)
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True or not psc.get("runAsUser"):
        fail("%s: pods may run as root" % kind)
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        fail("%s: no RuntimeDefault seccomp profile" % kind)
    sysctls = {s["name"]: s["value"] for s in psc.get("sysctls", [])}
    if sysctls.get("net.ipv4.ping_group_range") != "0 2147483647":
        fail("%s: ping sockets not allowed to the pod's groups" % kind)
    if pod.get("automountServiceAccountToken") is not False:
        fail("%s: mounts an API token it has no use for" % kind)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    cs = pod.get("containers", [])
    if len(cs) != 1:
        fail("%s: expected one container" % kind)
        return []
    c = cs[0]
    sc = c.get("securityContext", {})
    if sc.get("allowPrivilegeEscalation") is not False:
        fail("%s: privilege escalation allowed" % kind)
    if sc.get("readOnlyRootFilesystem") is not True:
        fail("%s: root filesystem writable" % kind)
    if sc.get("capabilities") != {"drop": ["ALL"]}:
        fail("%s: capabilities are not just drop: [ALL]" % kind)
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    if ports.get("metrics") != 9098:
        fail("%s: no metrics port 9098" % kind)
    if ann.get("prometheus.io/scrape") != "true" or \
            ann.get("prometheus.io/port") != "9098" or \
            ann.get("prometheus.io/path") != "/metrics":
        fail("%s: Prometheus annotations" % kind)
    for probe, path in (("livenessProbe", "/-/healthy"),
                        ("readinessProbe", "/-/ready")):
        get = c.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") != "metrics":
            fail("%s: %s is not GET %s on metrics" % (kind, probe, path))
    args = c.get("args", [])
    if c.get("command") != ["/usr/bin/pulse"] or args[:1] != ["serve"]:
        fail("%s: does not run pulse serve" % kind)
    config = [a.split("=", 1)[1] for a in args if a.startswith("--config=")]
    mounts = c.get("volumeMounts", [])
    ok = False
    for m in mounts:
        v = volumes.get(m["name"], {})
        if v.get("configMap", {}).get("name") == cm_name and config and \
                config[0] == m["mountPath"].rstrip("/") + "/targets.yaml":
            ok = True
    if not ok:
        fail("%s: --config is not the ConfigMap's targets.yaml" % kind)
    if "memory" not in c.get("resources", {}).get("limits", {}):
        fail("%s: no memory limit" % kind)
    return args

args = check_workload(sts, "StatefulSet")
print("ARGS StatefulSet " + " ".join(args))
shard = [a.split("=", 1)[1] for a in args if a.startswith("--shard=")]
if len(shard) != 1 or not shard[0].startswith("auto/"):
    fail("StatefulSet: no --shard=auto/N")
else:
    n = int(shard[0].split("/")[1])
    if sts.get("spec", {}).get("replicas") != n:
        fail("StatefulSet: %s replicas for %d shards"
             % (sts.get("spec", {}).get("replicas"), n))
    print("SHARDS %d" % n)
if sts.get("spec", {}).get("serviceName") != svc.get("metadata", {}).get("name"):
    fail("StatefulSet: serviceName is not the Service")
if svc.get("spec", {}).get("clusterIP") != "None":
    fail("Service: not headless")
if not subset(svc.get("spec", {}).get("selector"),
              sts.get("spec", {}).get("template", {}).get("metadata", {})
              .get("labels", {})):
    fail("Service: selects no pod of the StatefulSet")
if subset(svc.get("spec", {}).get("selector"),
          ds.get("spec", {}).get("template", {}).get("metadata", {})
          .get("labels", {})):
    fail("Service: selects the DaemonSet's pods too")

args = check_workload(ds, "DaemonSet")
print("ARGS DaemonSet " + " ".join(args))
if any(a.startswith("--shard") for a in args):
    fail("DaemonSet: every node should probe every target, not a shard")
EOF

t=$E2E_TMP/targets.yaml
python3 "$E2E_TMP/check.py" "$K8S" "$t" >"$E2E_TMP/checks" ||
    fail "check.py: $(cat "$E2E_TMP/checks")"
if grep -q '^FAIL ' "$E2E_TMP/checks"; then
	grep '^FAIL ' "$E2E_TMP/checks" >&2
	fail "$(grep -c '^FAIL ' "$E2E_TMP/checks") problems in contrib/kubernetes"
fi
n=$(sed -n 's/^SHARDS //p' "$E2E_TMP/checks")
assert_eq "$n" 3 "shards of the StatefulSet"

# The options each workload gives pulse, with --help last: all are parsed
# and checked, then nothing runs.  auto/N needs a pod's name: 1/N here.
for kind in StatefulSet DaemonSet; do
	args=$(sed -n "s/^ARGS $kind //p" "$E2E_TMP/checks" |
	    sed 's|--shard=auto/|--shard=1/|')
	# shellcheck disable=SC2086
	run_pulse $args --help
	assert_rc 0 "pulse $args --help ($kind)"
	assert_contains "$OUT" "usage: pulse serve" "$kind: usage of serve"
	assert_empty "$ERR" "$kind: stderr of pulse $args --help"
done

# The targets file of the ConfigMap, whole and in shards.
run_pulse validate "$t"
assert_rc 0 "the ConfigMap's targets.yaml"
total=$(tail -n 1 "$OUT" | sed -n 's/^\([0-9]*\) targets*$/\1/p')
case $total in
'' | 0) fail "validate counted no targets: $(tail -n 1 "$OUT")" ;;
esac
sum=0
k=1
while [ $k -le "$n" ]; do
	run_pulse validate --shard "$k/$n" "$t"
	assert_rc 0 "the ConfigMap's targets.yaml, shard $k/$n"
	kept=$(tail -n 1 "$OUT" |
	    sed -n "s|^\([0-9]*\) of $total targets* in shard $k/$n\$|\1|p")
	[ -n "$kept" ] || fail "shard $k/$n: $(tail -n 1 "$OUT")"
	sum=$((sum + kept))
	k=$((k + 1))
done
assert_eq "$sum" "$total" "targets over the shards of the ConfigMap's file"

# kubectl, where there is one, builds the kustomization (offline).
if command -v kubectl >/dev/null 2>&1; then
	if timeout 30 kubectl kustomize "$K8S" >"$E2E_TMP/built.yaml" \
	    2>"$E2E_TMP/kubectl.err"; then
		assert_eq "$(grep -c '^kind: ' "$E2E_TMP/built.yaml")" 3 \
		    "documents built by kubectl kustomize"
	else
		log "kubectl kustomize failed, not checked:" \
		    "$(head -c 300 "$E2E_TMP/kubectl.err")"
	fi
fi

log "ok"
