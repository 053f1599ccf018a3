# On a fresh machine (Python 3.11 + make): `make demo` (a small fresh grid into a scratch folder),
# `make test`; `make leaderboard` regenerates the committed leaderboard.md from results/.
VENV ?= .venv
PY := $(VENV)/bin/python
BENCH := $(VENV)/bin/plasticbench

.PHONY: demo leaderboard test install clean

demo: install
	$(PY) -m plasticbench.benchmark.demo

leaderboard: install
	$(BENCH) leaderboard

# OMP_NUM_THREADS=1: torch.set_num_threads(1) alone leaves MKL's LAPACK free to round the batched SVD of the
# rank metrics differently for a seed at S = 1 and S > 1 (seen on multitask critics); the seed tests compare bits.
test: install
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

install: $(VENV)/.installed

# torch==2.13.0 first: on these CPU machines it is a local CPU wheel; an unpinned torch would pull a
# multi-GB CUDA build. pyproject.toml keeps a range, so GPU users can bring their own build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) *.egg-info
