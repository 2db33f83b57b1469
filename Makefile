# The project's two commands: `make test` (install + tests) and `make demo`.
.PHONY: venv test

venv:
	bash tools/venv.sh

test: venv
	.venv/bin/python -m pytest tests
