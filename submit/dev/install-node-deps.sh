#!/usr/bin/env bash
# Installs the Node.js packages of src/test/node (onnxruntime-node, pinned by its
# package-lock.json) for ExportNodeTest, which scores an exported ONNX model in a second runtime.
# Idempotent: runs `npm ci` only when node_modules is missing or was installed from another
# package-lock.json. Needs node and npm (Node.js 20) and the npm registry, nothing else:
# onnxruntime-node ships its CPU binaries inside the package, and its postinstall script, which
# would download the CUDA provider libraries from NuGet on linux/x64, is skipped
# (ONNXRUNTIME_NODE_INSTALL=skip, and --ignore-scripts).
set -euo pipefail

dir="$(cd "$(dirname "$0")/../../src/test/node" && pwd)"
stamp="$dir/node_modules/.bottleneck-package-lock.json"

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "install-node-deps: node and npm are needed (Node.js 20, e.g. Debian's nodejs and npm packages)" >&2
  exit 1
fi
if [ -d "$dir/node_modules/onnxruntime-node" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
  echo "install-node-deps: $dir/node_modules is up to date" >&2
  exit 0
fi
echo "install-node-deps: npm ci in $dir" >&2
(cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund)
cp "$dir/package-lock.json" "$stamp"
