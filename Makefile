# The two commands of the README:
#   make lab    set up everything on this machine and build the lab (ansible-playbook site.yml)
#   make test   run every test (what CI runs)
# The other targets are the pieces of `make test`, for working on one part.

SHELL := /bin/bash
VENV ?= .venv
ACTIVATE := . $(VENV)/bin/activate &&
PLAYBOOK_ARGS ?=

.PHONY: lab test bootstrap bootstrap-test lint yamllint ansible-lint syntax sanity build docs unit integration pytest changelog teardown render

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
