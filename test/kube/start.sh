#!/usr/bin/env bash
# Starts a throwaway Kubernetes API server (kube-apiserver and etcd; no kubelet, scheduler
# or controller manager) and prints the path of a kubeconfig for it:
#
#   export KUBECONFIG=$(test/kube/start.sh /tmp/hoist-kube)
#   ...
#   test/kube/stop.sh /tmp/hoist-kube
#
# The two binaries are built from the Go module proxy by test/kube/build (go.mod there pins
# the versions) into ${HOIST_KUBE_CACHE:-$HOME/.cache/hoist-kube}, once: again only when
# that go.mod, go.sum or the Go version changes. A cold build takes minutes.
#
# DIR (made if absent; a new temporary directory when not given) holds a CA and a serving
# certificate for 127.0.0.1, the service-account key pair, a static token file with one
# token (user hoist-admin, group system:masters), etcd's data, both logs and the kubeconfig,
# which trusts the CA and carries the token. Both listen on 127.0.0.1 only, on free ports.
# A pair already running in DIR is reused; a stopped one is started again with its data.
#
# What is missing without a controller manager: no ServiceAccount objects appear in new
# namespaces, so the ServiceAccount admission plugin is off (pods need none); nothing
# schedules pods or runs them, so pods stay Pending; deleted namespaces stay Terminating;
# nothing collects garbage. And the API server advertises 127.0.0.1, which the endpoint
# reconciler refuses, so it runs without one: the kubernetes Service has no endpoints.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "test/kube: $*" >&2; }

dir=${1:-}
if [ -z "$dir" ]; then
  dir=$(mktemp -d)
  say "in $dir; stop it with test/kube/stop.sh $dir"
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cache=${HOIST_KUBE_CACHE:-${HOME:?HOME or HOIST_KUBE_CACHE must be set}/.cache/hoist-kube}

alive() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

# --- the binaries ---------------------------------------------------------------------
kube_version=$(sed -n 's/^[[:space:]]*k8s\.io\/kubernetes \(v[^ ]*\).*/\1/p' "$here/build/go.mod")
build_key() {
  {
    cat "$here/build/go.mod" "$here/build/go.sum"
    go env GOVERSION
    sed -n '/^build_binaries()/,/^}/p' "$0"  # the build commands themselves
  } | sha256sum | cut -d' ' -f1
}
build_binaries() {
  local out=$1
  # The version ldflags are what Kubernetes' own build sets; without them the server
  # reports v0.0.0-master.
  local ver=${kube_version#v} ldflags
  ldflags="-X k8s.io/component-base/version.gitVersion=$kube_version"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=${ver%%.*}"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$ver" | cut -d. -f2)"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  (cd "$here/build" &&
    CGO_ENABLED=0 go build -buildvcs=false -o "$out/etcd" go.etcd.io/etcd/server/v3 &&
    CGO_ENABLED=0 go build -buildvcs=false -ldflags "$ldflags" -o "$out/kube-apiserver" \
      k8s.io/kubernetes/cmd/kube-apiserver)
}
mkdir -p "$cache"
(
  flock 9  # one build at a time per cache directory
  key=$(build_key)
  if [ -x "$cache/etcd" ] && [ -x "$cache/kube-apiserver" ] &&
    [ "$(cat "$cache/build-key" 2>/dev/null)" = "$key" ]; then
    exit 0
  fi
  say "building etcd and kube-apiserver $kube_version into $cache (minutes when cold)"
  start=$(date +%s)
  tmp=$(mktemp -d "$cache/build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  build_binaries "$tmp" >&2
  rm -f "$cache/build-key"
  mv -f "$tmp/etcd" "$tmp/kube-apiserver" "$cache/"
  echo "$key" >"$cache/build-key"
  say "built in $(($(date +%s) - start)) s"
) 9>"$cache/lock"

# --- already running? -----------------------------------------------------------------
if alive etcd && alive kube-apiserver && [ -f "$dir/kubeconfig" ]; then
  echo "$dir/kubeconfig"
  exit 0
fi
for p in kube-apiserver etcd; do  # half of a pair: stop it and start both again
  if alive "$p"; then kill "$(cat "$dir/$p.pid")"; fi
  rm -f "$dir/$p.pid"
done

# --- keys, certificates, token --------------------------------------------------------
umask 077
if [ ! -f "$dir/pki/serving.crt" ]; then
  say "generating certificates and keys"
  mkdir -p "$dir/pki"
  (
    cd "$dir/pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj /CN=hoist-kube-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout serving.key -out serving.csr \
      -subj /CN=kube-apiserver 2>/dev/null
    printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes' \
      'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' >serving.ext
    openssl x509 -req -in serving.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile serving.ext -out serving.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
fi
if [ ! -f "$dir/tokens.csv" ]; then
  echo "$(openssl rand -hex 24),hoist-admin,hoist-admin,\"system:masters\"" >"$dir/tokens.csv"
fi
token=$(cut -d, -f1 "$dir/tokens.csv")
umask 022

# --- ports ----------------------------------------------------------------------------
free_port() {
  local port
  port=$((20000 + RANDOM % 30000))
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((20000 + RANDOM % 30000)); done
  echo "$port"
}
# etcd remembers its peer URL, so a directory keeps its ports once etcd has data.
if [ -f "$dir/ports" ]; then
  read -r etcd_port peer_port api_port <"$dir/ports"
else
  etcd_port=$(free_port) peer_port=$(free_port) api_port=$(free_port)
fi

# --- etcd -----------------------------------------------------------------------------
start_etcd() {
  setsid "$cache/etcd" --name hoist --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "hoist=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --log-level warn \
    </dev/null >>"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
}
started=$(date +%s.%N)
for attempt in 1 2 3 4 5; do
  start_etcd
  for _ in $(seq 100); do
    if curl -sf "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"'; then
      break 2
    fi
    alive etcd || break
    sleep 0.1
  done
  if alive etcd; then kill "$(cat "$dir/etcd.pid")"; fi
  rm -f "$dir/etcd.pid"
  if [ -d "$dir/etcd/member" ] || [ "$attempt" = 5 ]; then
    echo "etcd did not start; its log:" >&2
    tail -n 20 "$dir/etcd.log" >&2
    exit 1
  fi
  say "etcd did not start on $etcd_port/$peer_port; trying other ports"
  etcd_port=$(free_port) peer_port=$(free_port)
done

# --- kube-apiserver -------------------------------------------------------------------
start_apiserver() {
  setsid "$cache/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$dir/pki/serving.crt" --tls-private-key-file "$dir/pki/serving.key" \
    --cert-dir "$dir/pki" \
    --token-auth-file "$dir/tokens.csv" --anonymous-auth=false \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$dir/pki/sa.pub" \
    --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --disable-admission-plugins ServiceAccount \
    </dev/null >>"$dir/kube-apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"
}
ready() {
  [ "$(curl -s --cacert "$dir/pki/ca.crt" -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$api_port/readyz" 2>/dev/null)" = ok ]
}
echo "$etcd_port $peer_port $api_port" >"$dir/ports"
for attempt in 1 2 3 4 5; do
  touch "$dir/kube-apiserver.log"
  logged=$(wc -l <"$dir/kube-apiserver.log")
  start_apiserver
  for _ in $(seq 600); do  # 60 s
    if ready; then break 2; fi
    alive kube-apiserver || break
    sleep 0.1
  done
  if alive kube-apiserver; then kill "$(cat "$dir/kube-apiserver.pid")"; fi
  rm -f "$dir/kube-apiserver.pid"
  if ! tail -n +$((logged + 1)) "$dir/kube-apiserver.log" | grep -q 'address already in use' ||
    [ "$attempt" = 5 ]; then
    echo "kube-apiserver did not become ready; its log:" >&2
    tail -n 20 "$dir/kube-apiserver.log" >&2
    kill "$(cat "$dir/etcd.pid")" 2>/dev/null || true
    exit 1
  fi
  say "port $api_port is taken; trying another"
  api_port=$(free_port)
done
echo "$etcd_port $peer_port $api_port" >"$dir/ports"
say "ready in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $started }") s: https://127.0.0.1:$api_port (etcd on $etcd_port)"

umask 077
cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hoist
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$dir/pki/ca.crt")
users:
- name: hoist-admin
  user:
    token: $token
contexts:
- name: hoist
  context:
    cluster: hoist
    user: hoist-admin
current-context: hoist
EOF
echo "$dir/kubeconfig"
