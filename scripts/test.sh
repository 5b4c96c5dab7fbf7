#!/usr/bin/env bash
# The one test command (npm test, and .ci/run through it): installs the Debian packages
# the integration tests start (when root; otherwise names them and stops), lints, checks the
# formatting, builds, runs every test under test/ with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package that provides it
declare -A NEED=(
  [influxd]=influxdb
  [victoria-metrics]=victoria-metrics
  [socat]=socat
  [udevadm]=udev
  [curl]=curl
  [openssl]=openssl
  [mosquitto]=mosquitto
  [mdb-tables]=mdbtools
  [systemd-analyze]=systemd
  [prometheus]=prometheus
  [ser2net]=ser2net
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
# NUT's upsd and dummy-ups live outside PATH (/lib/nut on Debian 12).
{ test -x /lib/nut/upsd || test -x /usr/lib/nut/upsd; } && { test -x /lib/nut/dummy-ups || test -x /usr/lib/nut/dummy-ups; } || missing+=(nut-server)
# Python modules: pymodbus is the independent Modbus RTU slave of the HDHK tests.
/usr/bin/python3 -c 'import pymodbus, serial, serial_asyncio' 2>/dev/null || missing+=(python3-pymodbus python3-serial python3-serial-asyncio)
# collectd and the libmodbus its modbus plugin needs (collectd-core only recommends it): the
# poll-cpu bench's side-by-side baseline and its smoke test.
test -x /usr/sbin/collectd || missing+=(collectd-core)
ldconfig -p 2>/dev/null | grep -q 'libmodbus\.so\.5' || missing+=(libmodbus5)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "test: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

if [[ ! -d node_modules ]]; then
  export npm_config_nodedir=${npm_config_nodedir:-/usr}
  npm ci
fi

# Files given on the command line narrow the run to those tests: no lint or format check then.
if (($# == 0)); then
  # Seconds each, and a finding needs no build to show: ESLint (eslint.config.mjs), then Prettier
  # (.prettierrc.json; `npm run format` rewrites what it reports).
  npm run --silent lint
  npm run --silent format:check
fi

# A clean build: stale compiled tests of deleted sources must not run. tsconfig.json compiles
# the tests and benchmarks too; `npm run build` (tsconfig.build.json) only what runs.
rm -rf dist
npx tsc -p tsconfig.json
# Files given on the command line narrow the run: npm test -- dist/test/unit/foo.test.js
if (($#)); then
  exec node --test --test-reporter=spec --test-concurrency=2 "$@"
fi
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if ((${#files[@]} == 0)); then
  echo "test: no compiled tests found under dist/test" >&2
  exit 1
fi
exec node --test --test-reporter=spec --test-concurrency=2 "${files[@]}"
