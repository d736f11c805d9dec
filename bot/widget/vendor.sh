#!/bin/sh
# Reproduce static/vendor/ from the pinned socket.io client (package.json, package-lock.json).
# Run from anywhere: sh bot/widget/vendor.sh (needs node and npm; nothing runs at serve time).
# The widget speaks Engine.IO 4, the protocol of Rasa 3.6's python-socketio 5: keep
# socket.io-client on 4.x (issue 6).
set -eu
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
mkdir -p static/vendor
cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/socket.io.min.js
cp node_modules/socket.io-client/LICENSE static/vendor/socket.io-client.LICENSE
echo "vendored socket.io-client $(node -p 'require("./node_modules/socket.io-client/package.json").version')"
