#!/usr/bin/env bash
# Installs what `npm ci` needs to build better-sqlite3 from source, then the project's dependencies.
# Debian/Ubuntu as root: python3, make and g++ from apt when missing. macOS: the Xcode Command Line Tools.
# With --test, also a Chromium for the dashboard's browser tests (Debian: apt's chromium) and promtool for
# the metrics tests (Debian: apt's prometheus).
set -euo pipefail
cd "$(dirname "$0")/.."

need_node() {
  if ! command -v node >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
      echo "bootstrap: Node.js >= 20.19 is required (https://nodejs.org or 'brew install node@22')" >&2
      exit 1
    fi
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "bootstrap: Node.js $(node -v) is too old; exo-sentinel needs >= 20.19" >&2
    exit 1
  fi
}

need_build_tools() {
  case "$(uname -s)" in
    Linux)
      local missing=()
      for tool in python3 make g++; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
      if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
          echo "bootstrap: installing ${missing[*]} (needed to build better-sqlite3)"
          apt-get update -qq
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 make g++ >/dev/null
        else
          echo "bootstrap: please install ${missing[*]} (needed to build better-sqlite3)" >&2
          exit 1
        fi
      fi
      ;;
    Darwin)
      if ! xcode-select -p >/dev/null 2>&1; then
        echo "bootstrap: run 'xcode-select --install' first (Command Line Tools build better-sqlite3)" >&2
        exit 1
      fi
      ;;
  esac
}

need_browser() {
  if [ -n "${CHROMIUM_PATH:-}" ] || [ -x /usr/bin/chromium ] || [ -x "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" ]; then return; fi
  if [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing chromium (the dashboard's browser tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "bootstrap: no Chromium found; the browser tests will be skipped (install Chrome or set CHROMIUM_PATH)" >&2
  fi
}

need_promtool() {
  command -v promtool >/dev/null 2>&1 && return
  if [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing prometheus (its promtool checks /metrics in the tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    # Only promtool is wanted: a Prometheus server the package started under systemd is stopped again.
    if [ -d /run/systemd/system ]; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  else
    echo "bootstrap: no promtool found; the promtool tests will be skipped (Debian: apt-get install prometheus; macOS: brew install prometheus)" >&2
  fi
}

need_node
need_build_tools
if [ "${1:-}" = "--test" ]; then
  need_browser
  need_promtool
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
