# SPDX-License-Identifier: GPL-3.0-or-later
# make demo   bring the Arizu stack up locally in Docker and print its health
# make test   run the whole test suite (unit, Molecule on real containers, build)
# Both install what they need: virtualenv, Docker engine, local images.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: demo test setup images engine unit molecule collection demo-down clean-state

demo:
	@scripts/demo.sh

test:
	@scripts/test.sh

setup:
	@scripts/setup-venv.sh
	@scripts/docker-engine.sh
	@scripts/build-images.sh

engine:
	@scripts/docker-engine.sh

images: engine
	@scripts/build-images.sh

unit:
	@scripts/setup-venv.sh
	@.venv/bin/pytest -q tests/unit

molecule:
	@scripts/test.sh molecule

collection:
	@scripts/test.sh collection

# Stop and remove the demo containers (volumes stay: `docker volume ls`).
demo-down:
	@scripts/docker-engine.sh --clean
