# Bramblewood Bank assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
RASA_VENV := .venv-rasa
BOT       := $(VENV)/bin/bankbot
RASA      := $(RASA_VENV)/bin/rasa
# Rasa 3.6 needs Python 3.10: pyenv's build here; `python3.10` on PATH is a pyenv shim.
PY310 ?= $(shell ls -d $$(pyenv root 2>/dev/null)/versions/3.10.*/bin/python 2>/dev/null | tail -n 1 || command -v python3.10)
PY311 ?= $(shell ls -d $$(pyenv root 2>/dev/null)/versions/3.11.*/bin/python 2>/dev/null | tail -n 1 || command -v python3.11)
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export HF_HUB_OFFLINE := 1
# endpoints.yml reads these; `bankbot run` sets its own. Without them Rasa commands started
# here (rasa test) would create a database file literally named ${RASA_TRACKER_DB}.
export RASA_TRACKER_DB ?= var/rasa_tracker.db
export BOT_URL ?= http://127.0.0.1:8000
RASA_DATA := --domain domain.yml --config config.yml

.PHONY: bench rasa-test db-seed help setup run shell test test-fast test-e2e lint rasa-validate rasa-train db-upgrade tune train eval eval-diet system-deps clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	# CPU torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(VENV)/bin/pip install -q torch==2.13.0
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

$(RASA_VENV)/.installed:
	test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q 'rasa==3.6.21'
	touch $@

models/core.tar.gz: $(RASA_VENV)/.installed domain.yml config.yml data/rules.yml channels/policy.py
	$(RASA) train core $(RASA_DATA) --stories data/rules.yml --out models --fixed-model-name core

# The served encoder: all-MiniLM-L6-v2 fine-tuned on the seed FAQ phrasings, once (three
# seeds, the best on held-out phrasings kept: about 24 min on 2 cores); bot/thresholds.yml is
# fitted for it. FAQ edits never need a retune, and data/faq_added is served without one (nor
# the router's training), as staff edits are.
# out_of_scope.txt holds its non-banking negatives as well as the router's examples.
# (Order-only on the virtualenv: reinstalling packages is no reason to retune.)
var/model-tuned/config.json: bot/search/tune.py bot/evaluation/tuning.py $(wildcard data/faq/*.yml) data/router/out_of_scope.txt | $(VENV)/.installed
	$(BOT) tune

var/router.joblib: $(VENV)/.installed var/model-tuned/config.json bot/search/embedder.py bot/search/onnx_encoder.py bot/nlu/router.py bot/nlu/training_data.py bot/nlu/words.py data/nlu.yml $(wildcard data/router/*.txt data/faq/*.yml)
	$(BOT) train

db-upgrade: $(VENV)/.installed ## Apply database migrations (BOT_DATABASE_URL, default SQLite in var/)
	$(BOT) db upgrade

db-seed: db-upgrade ## Load the seed FAQs into an empty database
	$(BOT) faq seed

setup: $(VENV)/.installed $(RASA_VENV)/.installed db-seed models/core.tar.gz var/router.joblib ## Install both virtualenvs, migrate and seed the database, tune the encoder, train Rasa core and the router

run: setup ## Run the assistant: Rasa on :5005 (REST + socketio), the bot service on :8000
	$(BOT) run

shell: setup ## Chat with the full assistant in the terminal
	$(BOT) shell

rasa-validate: $(RASA_VENV)/.installed ## Check domain, rules and config
	$(RASA) data validate $(RASA_DATA) --data data/rules.yml --fail-on-warnings

rasa-test: models/core.tar.gz ## Run the dialogue tests in tests/test_stories.yml
	$(RASA) test core --model models/core.tar.gz --stories tests/test_stories.yml \
		--fail-on-prediction-errors --out var/rasa-test-results

rasa-train: models/core.tar.gz ## Train the Rasa core (dialogue) model

tune: var/model-tuned/config.json ## Fine-tune the encoder on the seed FAQ phrasings (once; part of setup)

train: var/router.joblib ## Train the router (conversational intents, banking, out of scope)

eval: setup ## Measure on BANKING77 and the OOS sets (../shared/datasets); write reports/eval.md
	$(BOT) eval

# DIET takes about 75 s an epoch on 2 cores; Rasa's own default is 100 epochs.
DIET_EPOCHS ?= 10
eval-diet: setup ## make eval, plus stock Rasa NLU (count vectors + DIET, DIET_EPOCHS=10) beside it
	$(BOT) eval --diet-epochs $(DIET_EPOCHS)

bench: setup ## Measure speed, edit-to-live, cold start and memory beside stock Rasa; write reports/bench.md
	$(BOT) bench

system-deps: ## Install the Debian packages the tests need (PostgreSQL, Chromium)
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

lint: $(VENV)/.installed ## Check the code with ruff
	$(VENV)/bin/ruff check bot actions channels tests

test: setup rasa-validate rasa-test ## Run every test (unit, PostgreSQL, end to end through Rasa)
	$(VENV)/bin/pytest -q

test-fast: setup ## Run the tests that don't start Rasa
	$(VENV)/bin/pytest -q -m "not e2e"

test-e2e: setup ## Run only the end-to-end tests
	$(VENV)/bin/pytest -q -m e2e

clean: ## Remove trained models and runtime files (keeps the virtualenvs)
	rm -rf models var
