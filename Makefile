# The project's two commands:
#   make demo   install, then run the mini recipe (stages 1-6), decode the shipped model beside it,
#               and print both RESULTS tables
#   make test   install, then run the test suite
.PHONY: venv test demo

venv:
	bash tools/venv.sh

test: venv
	.venv/bin/python -m pytest tests

demo: venv
	PATH="$(CURDIR)/.venv/bin:$$PATH" egs2/mini_2mix/enh1/demo.sh
