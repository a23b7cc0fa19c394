# Public-health data tools: build, test, demo, man pages, benchmarks, install.
# `make demo` and `make test` are the two commands a new machine needs.

PREFIX  ?= /usr/local
DESTDIR ?=
CARGO   ?= cargo
BINDIR   = $(DESTDIR)$(PREFIX)/bin
MANDIR   = $(DESTDIR)$(PREFIX)/share/man

# Every package under tools/ is a tool, except the shared library and the man generator.
TOOLS   := $(filter-out common mangen,$(notdir $(wildcard tools/*)))
RELEASE := $(addprefix target/release/,$(TOOLS))
SCRIPTS := $(shell find pipelines tests bench .ci \( -path bench/out -o -path bench/data -o -path bench/peers \) -prune -o -type f \( -name '*.sh' -o -name run \) -print 2>/dev/null)

.PHONY: all build build-deps test fmt-check clippy unit flows examples scripts man man-check shellcheck demo demo-db eod bz-out bz-in printer-pdfs reqcheck reportstream primero-oscar sipca-mapping sipca bench install uninstall clean

all: build

build: build-deps $(RELEASE)

# The system headers -sys crates compile against: OpenSSL for libssh2 (sftp-put).
build-deps:
	tests/ensure-packages.sh pkg-config:pkg-config /usr/include/openssl/ssl.h:libssl-dev

$(RELEASE) &: Cargo.toml Cargo.lock $(shell find tools -name '*.rs' -o -name Cargo.toml) | build-deps
	$(CARGO) build --locked --release $(addprefix -p ,$(TOOLS))

# The order is the one CI relies on: cheap checks first.
test: fmt-check clippy unit flows examples scripts man-check shellcheck

fmt-check:
	$(CARGO) fmt --all --check

clippy: build-deps
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit: build-deps
	tests/servers/with-servers.sh $(CARGO) test --locked --workspace

# Every flow end to end against the local servers and the sandbox, with the
# debug binaries the unit tests built (the sandbox is a workspace member).
flows: demo-db
	tests/servers/with-servers.sh tests/flows/run.sh target/debug

# The README's console transcripts, run against the debug binaries the unit tests built.
examples:
	tests/examples.sh README.md target/debug

# Script-level checks, against the same debug binaries.
scripts:
	tests/demo-db.sh target/debug

# man/<tool>.1 for every tool and man/man7/phtools-flows.7 (tools/mangen/src/flows.rs).
man: build-deps
	$(CARGO) run --locked -q -p mangen -- man

man-check: build-deps
	$(CARGO) run --locked -q -p mangen -- --check man

shellcheck:
	tests/ensure-packages.sh shellcheck:shellcheck
	shellcheck -x $(SCRIPTS)

# The deterministic SQLite demo database of synthetic patients (flows 1-3 and 5).
demo-db: data/demo.sqlite

data/demo.sqlite: pipelines/demo-db/demo-db.sql pipelines/demo-db/build.sh
	pipelines/demo-db/build.sh $@

# The runbook flows (pipelines/*/run.sh; see env.example beside each). Cron
# calls the scripts directly: make turns every failure into exit 2.
eod: build
	pipelines/eod/run.sh $(DATE)

# START= and END= ('YYYY-MM-DD HH:MM') override the last full hour.
bz-out: build
	pipelines/bz-out/run.sh

printer-pdfs: build
	pipelines/printer-pdfs/run.sh $(DATE)

bz-in: build
	pipelines/bz-in/run.sh

# F5, ReqCheck extract (nightly).
reqcheck: build
	pipelines/reqcheck/run.sh

# F6, test results to ReportStream (every 2 minutes).
reportstream: build
	pipelines/reportstream/run.sh

# F7, Primero <-> OSCaR case sync, both directions.
primero-oscar: build
	pipelines/primero-oscar/run.sh

# F8, Kobo survey to dhis2 events: the mapping (rerun when the program changes), then the daily run.
sipca-mapping: build
	pipelines/sipca/mapping.sh

sipca: build
	pipelines/sipca/run.sh

# Every flow once against the sandbox, a local sshd and SMTP server; see pipelines/demo.sh.
demo: build demo-db
	$(CARGO) build --locked --release -p sandbox
	pipelines/demo.sh

bench: build
	$(CARGO) build --locked --release -p sandbox
	bench/run.sh

install: build
	for t in $(TOOLS); do install -Dm755 target/release/$$t $(BINDIR)/$$t; done
	for p in man/*.1; do install -Dm644 $$p $(MANDIR)/man1/$$(basename $$p); done
	for p in man/man7/*.7; do install -Dm644 $$p $(MANDIR)/man7/$$(basename $$p); done

uninstall:
	for t in $(TOOLS); do rm -f $(BINDIR)/$$t; done
	for p in man/*.1; do rm -f $(MANDIR)/man1/$$(basename $$p); done
	for p in man/man7/*.7; do rm -f $(MANDIR)/man7/$$(basename $$p); done

clean:
	$(CARGO) clean
	rm -rf bench/data bench/out demo-out data/demo.sqlite
