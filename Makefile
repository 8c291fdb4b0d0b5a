# The two commands of the README. Each installs the Debian packages it needs first (only the
# missing ones; apt-get through sudo unless root), then runs SwiftPM.
#
#   make run                                  # jacod on the built-in default (./data)
#   make run ARGS="--config Configs/lmdb.toml"
#   make test                                 # the whole suite, as CI runs it

.PHONY: run test build setup-run setup-test

run: setup-run
	swift run jacod $(ARGS)

test: setup-test
	swift test $(ARGS)

build: setup-run
	swift build

setup-run:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test
