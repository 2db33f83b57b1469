# The project's two commands:
#   make demo   install, then run the mini recipe (stages 1-6) and print its RESULTS table
#   make test   install, then run the test suite
.PHONY: venv test demo

venv:
	bash tools/venv.sh

test: venv
	.venv/bin/python -m pytest tests

demo: venv
	cd egs2/mini_2mix/enh1 && PATH="$(CURDIR)/.venv/bin:$$PATH" ./run.sh --stage 1 --stop_stage 6
	@cat egs2/mini_2mix/enh1/exp/tisdiss_mini/RESULTS.md
	@echo "plot: egs2/mini_2mix/enh1/exp/tisdiss_mini/quality_vs_depth.png"
