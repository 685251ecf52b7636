# The two set-up commands (see README.md):
#   make run    build and serve the console on http://127.0.0.1:3000 with demo data
#   make test   run every test (unit, integration, end-to-end in headless Chromium,
#               outside clients, contract, crash and fuzz suites)

.PHONY: run test release dev

run:
	scripts/run.sh

test:
	scripts/test.sh

# Optimised build and serve.
release:
	scripts/run.sh --release

# Live-reloading development loop with cargo-leptos (installed on first use).
dev:
	@command -v cargo-leptos >/dev/null || cargo install --locked cargo-leptos@0.3.10 --features no_downloads
	scripts/setup.sh
	cargo leptos watch
