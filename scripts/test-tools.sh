#!/bin/sh
# Tools the tests need that npm cannot install, run by `npm test` (pretest). One line each in
# TOOLS: the command, the Debian package that has it, what needs it.
# Installs what is missing when it can (root with apt-get); otherwise stops with one line
# naming what is missing.
set -u
TOOLS='
promtool prometheus test/metrics/metrics.test.ts and test/deploy/prometheus.test.ts check /metrics and deploy/prometheus
prometheus prometheus test/deploy/prometheus-live.test.ts scrapes a live server with it
chromium chromium   test/public/dashboard.test.ts drives the dashboard in it with playwright-core
'
# The packages whose command is missing, space-separated.
missing() {
  echo "$TOOLS" | while read -r cmd pkg _; do
    if [ -n "$cmd" ] && ! command -v "$cmd" >/dev/null 2>&1; then printf '%s ' "$pkg"; fi
  done
}
need=$(missing)
[ -z "$need" ] && exit 0
log="${TMPDIR:-/tmp}/kscand-sim-test-tools.log"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test tools: installing the Debian packages ${need}(log in $log)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Package lists first: an old list can name a chromium that playwright-core cannot drive.
  { apt-get update && apt-get install -y --no-install-recommends $need; } >"$log" 2>&1
fi
need=$(missing)
[ -z "$need" ] && exit 0
echo "test tools: missing the Debian packages ${need}(apt-get install ${need}as root), then run npm test again" >&2
exit 1
