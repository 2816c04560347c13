#!/usr/bin/env bash
# Regenerates this module's go.mod and go.sum for the versions below. k8s.io/kubernetes
# requires its staging modules (k8s.io/api, k8s.io/client-go, ...) as v0.0.0 and replaces
# them with directories of its own repository, which a module that requires it does not
# have; this module replaces each of them with its published release, v0.MINOR.PATCH for
# Kubernetes v1.MINOR.PATCH. The list is read from the replace block of Kubernetes' own
# go.mod, so it follows whatever that release lists.
#
#   test/kube/build/update.sh                  # after changing a version below
set -euo pipefail
cd "$(dirname "$0")"

kube=v1.37.2   # k8s.io/kubernetes, for cmd/kube-apiserver
etcd=v3.7.3    # go.etcd.io/etcd/server/v3, whose root package is the etcd binary
staging=v0.${kube#v1.}

kubemod=$(go mod download -json "k8s.io/kubernetes@$kube" | jq -r .GoMod)
mapfile -t mods < <(go mod edit -json "$kubemod" |
  jq -r '.Replace[] | select(.New.Path | startswith("./staging/")) | .Old.Path')
[ "${#mods[@]}" -gt 0 ] || { echo "no staging replaces in $kubemod" >&2; exit 1; }

# Start again from the module and go lines, then the replace block, one line a module.
{
  printf 'module hoist-kube-build\n\ngo %s\n\nreplace (\n' "$(go mod edit -json "$kubemod" | jq -r .Go)"
  printf '\t%s => %s %s\n' $(for m in "${mods[@]}"; do echo "$m $m $staging"; done)
  printf ')\n'
} >go.mod
rm -f go.sum
go mod edit -require="k8s.io/kubernetes@$kube" -require="go.etcd.io/etcd/server/v3@$etcd" \
  -tool=k8s.io/kubernetes/cmd/kube-apiserver -tool=go.etcd.io/etcd/server/v3
go mod tidy
echo "go.mod: k8s.io/kubernetes $kube, etcd $etcd, ${#mods[@]} staging modules at $staging" >&2
