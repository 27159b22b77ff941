#!/usr/bin/env bash
# Opens a report.html (default: demo-out/report.html) in headless Chromium and
# fails on a console error, an external request, or a plot that does not
# decode or shows blank. The page screenshot is written beside the report as
# report.screenshot.png. Usage: scripts/check-report-html.sh [path/to/report.html]
set -euo pipefail
html=$(realpath -m "${1:-demo-out/report.html}")
cd "$(dirname "$0")/.."
if [ ! -f "$html" ]; then
	echo "check-report-html: $html not found: run \`make demo\` or pass the path of a report.html" >&2
	exit 2
fi
make -s setup-browser
GOEXPERIMENT=simd VIDREP_REPORT_HTML="$html" go test -count=1 -run '^TestReportFile$' -v ./internal/browsercheck/
