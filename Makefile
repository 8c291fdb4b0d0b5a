# The two commands of the README. Each installs the Debian packages it needs first (only the
# missing ones; apt-get through sudo unless root), then runs SwiftPM.
#
#   make run                                  # jacod on the built-in default (./data)
#   make run ARGS="--config Configs/lmdb.toml"
#   make test                                 # the whole suite, then a short fuzzing run per parser, as CI runs it
#   make fuzz FUZZ_SECONDS=600                # longer fuzzing (scripts/fuzz.sh)
#   make fuzz-parallel FUZZ_SECONDS=7200      # every target at once, at the lowest CPU priority

.PHONY: run test build fuzz fuzz-parallel setup-run setup-test

FUZZ_SECONDS ?= 60

run: setup-run
	swift run jacod $(ARGS)

test: setup-test
	swift test $(ARGS)
	scripts/fuzz.sh --smoke

fuzz: setup-run
	scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-parallel: setup-run
	scripts/fuzz.sh --parallel $(FUZZ_SECONDS)

build: setup-run
	swift build

setup-run:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test
