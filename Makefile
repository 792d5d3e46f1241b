# The two commands of the README:
#   make lab    set up everything on this machine and build the lab (ansible-playbook site.yml)
#   make test   run every test (what CI runs)
# The other targets are the pieces of `make test`, for working on one part.

SHELL := /bin/bash
VENV ?= .venv
ACTIVATE := . $(VENV)/bin/activate &&
PLAYBOOK_ARGS ?=

.PHONY: help lab test bootstrap bootstrap-test lint yamllint ansible-lint syntax sanity build docs unit integration pytest changelog teardown render

# The default target only prints this list: building a lab is always asked for by name (make lab).
help:
	@echo "make lab        set up this machine (venv, collections) and build the lab: ansible-playbook site.yml"
	@echo "make test       every test, as CI runs it (lint, sanity, build, unit, integration, simulated cluster)"
	@echo "make render     write every object the lab would apply into udn_lab_render_dir, no cluster needed"
	@echo "make teardown   remove the lab's workshop objects (PLAYBOOK_ARGS=\"-e udn_lab_teardown_scope=cluster\": the cluster)"
	@echo "make lint | sanity | build | unit | integration | changelog   one part of make test"
	@echo "PLAYBOOK_ARGS=\"-e udn_lab_ip_family=dual\" passes extra arguments to the playbooks of lab, render, teardown"

lab: bootstrap
	$(ACTIVATE) ansible-playbook site.yml $(PLAYBOOK_ARGS)

render: bootstrap
	$(ACTIVATE) ansible-playbook playbooks/render.yml $(PLAYBOOK_ARGS)

teardown: bootstrap
	$(ACTIVATE) ansible-playbook playbooks/teardown.yml $(PLAYBOOK_ARGS)

bootstrap:
	hack/bootstrap.sh

bootstrap-test:
	hack/bootstrap.sh --test

test: bootstrap-test
	hack/test.sh all

lint: bootstrap-test
	hack/test.sh lint

sanity: bootstrap-test
	hack/test.sh sanity

build: bootstrap-test
	hack/test.sh build

unit: bootstrap-test
	$(ACTIVATE) python -m pytest tests/unit

integration: bootstrap-test
	$(ACTIVATE) python -m pytest tests/integration

changelog: bootstrap-test
	$(ACTIVATE) antsibull-changelog lint
