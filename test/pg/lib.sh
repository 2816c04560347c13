# Shared by start.sh, stop.sh and restart.sh: where PostgreSQL's programs are, and who runs
# them. PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged
# user: postgres (made by Debian's package) or, failing that, hoist-pg, made here.

pg_bindir() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  # Debian keeps them out of PATH, one directory per major version: take the newest.
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ]; then
    echo "no PostgreSQL found: apt-get install -y postgresql" >&2
    return 1
  fi
  echo "$dir"
}

pg_owner() {
  if [ "$(id -u)" != 0 ]; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    echo postgres
  else
    id hoist-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin hoist-pg
    echo hoist-pg
  fi
}

# as_owner OWNER CMD...: runs CMD as OWNER (as is when that is who we are).
as_owner() {
  local owner=$1
  shift
  if [ "$(id -un)" = "$owner" ]; then
    "$@"
  else
    runuser -u "$owner" -- "$@"
  fi
}
