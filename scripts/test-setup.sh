#!/usr/bin/env bash
# Test setup, run first by `npm test` (its `pretest` script) and by `.ci/run`:
#   1. installs the Debian packages the tests use when they are missing;
#   2. starts the local Redis (127.0.0.1:6379) and MariaDB (127.0.0.1:3306) when they do not
#      answer, with this machine kind's own commands, and waits (bounded) until they do.
# Fast when all is there: one dpkg-query and two connects, no `apt-get update`.
#
# ADDING A PACKAGE: append one line to PACKAGES below (package name, then a comment naming the
# test that needs it). That is the only list; CI and `npm test` both read it from here.
#
#   bash scripts/test-setup.sh              install what is missing, then start services
#   bash scripts/test-setup.sh --check      say what is missing and exit 1, change nothing
#   bash scripts/test-setup.sh --services   only start the services (tests call this)
#
# When it cannot install (not root and no passwordless sudo, or apt fails, e.g. no package
# index), it stops at once and prints the one command to run.
set -euo pipefail

PACKAGES=(
  openssl            # test/integration/grpc-tls: certificates made per test run
  python3-grpcio     # test/integration/xds-c-core: gRPC C-core as a second xDS client
  python3-protobuf   # strict descriptor pools: xDS resources, and test/integration/reflection-strict
  chromium           # browser tests (playwright-core drives /usr/bin/chromium)
  prometheus         # test/integration/prometheus: a real Prometheus scraping us, and `promtool check metrics`
  redis-server       # 127.0.0.1:6379 and the private redis-servers some tests start
  mariadb-server     # 127.0.0.1:3306 (mysql probes)
  nginx-light        # test/integration/import: a real nginx is the oracle of `checkups import nginx`
)

REDIS_START=(redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log)
MARIADB_START=(start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd)
START_WAIT_S=20

say() { printf 'test-setup: %s\n' "$*" >&2; }

mode=${1:-install}
case "$mode" in install | --check | --services) ;; *) say "unknown argument $mode (use --check or --services)"; exit 2 ;; esac

# --- 1. Debian packages -------------------------------------------------------------------
missing_packages() {
  # `dpkg-query -W` prints "ii " for installed packages; unknown ones go to stderr, not stdout.
  local installed
  installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PACKAGES[@]}" 2>/dev/null | awk '$1 == "ii" { print $2 }' || true)
  local p
  for p in "${PACKAGES[@]}"; do
    grep -qx -- "$p" <<<"$installed" || printf '%s\n' "$p"
  done
}

install_packages() {
  local -a need=("$@")
  local cmd="apt-get update && apt-get install -y --no-install-recommends ${need[*]}"
  local -a sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
      cmd="sudo sh -c '$cmd'"
    else
      say "missing Debian packages: ${need[*]}"
      say "cannot install them (not root, no passwordless sudo). Run this once, then npm test again:"
      printf '  sudo sh -c '\''%s'\''\n' "$cmd" >&2
      exit 1
    fi
  fi
  say "installing missing Debian packages: ${need[*]}"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
    || ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; then
    say "apt-get could not install ${need[*]} (see above). Run this once, then npm test again:"
    printf '  %s\n' "$cmd" >&2
    exit 1
  fi
}

if [ "$mode" != --services ]; then
  mapfile -t need < <(missing_packages)
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$mode" = --check ]; then
      say "missing Debian packages: ${need[*]} (npm test installs them)"
      exit 1
    fi
    install_packages "${need[@]}"
    mapfile -t still < <(missing_packages)
    if [ ${#still[@]} -gt 0 ]; then
      say "still missing after apt-get install: ${still[*]}"
      exit 1
    fi
  fi
fi

# --- 2. services ---------------------------------------------------------------------------
# A connect is enough for "up": the tests then speak the protocol and say what is wrong.
answers() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

ensure_service() {
  local name=$1 port=$2
  shift 2
  answers "$port" && return 0
  if [ "$mode" = --check ]; then
    say "$name is not answering on 127.0.0.1:$port (npm test starts it)"
    return 1
  fi
  say "starting $name: $*"
  "$@" >&2 || { say "could not start $name; run: $*"; exit 1; }
  local i
  for ((i = 0; i < START_WAIT_S * 10; i++)); do
    answers "$port" && return 0
    sleep 0.1
  done
  say "$name did not answer on 127.0.0.1:$port within ${START_WAIT_S}s after: $*"
  exit 1
}

status=0
ensure_service Redis 6379 "${REDIS_START[@]}" || status=1
ensure_service MariaDB 3306 "${MARIADB_START[@]}" || status=1
exit $status
