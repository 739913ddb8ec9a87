# Set-up and everyday commands. The CPU build of torch is pinned here (not in pyproject.toml) so that CI and the
# demo never pull a multi-GB CUDA build; GPU users install ganforge with their own torch.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo demo-images demo-text demo-audio test bench-env clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e '.[datasets,test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p demo
	$(BIN)/ganforge demo-data males --out demo/males.csv --force
	$(BIN)/ganforge fit demo/males.csv --out demo/model --seed 0 --force \
		--report demo/report.html --target union
	$(BIN)/ganforge sample demo/model --num-rows 4360 --out demo/synthetic.csv --seed 0 --force
	$(BIN)/ganforge info demo/model
	@echo "real rows: demo/males.csv; synthetic rows: demo/synthetic.csv; model: demo/model/"
	@echo "report: $(CURDIR)/demo/report.html"

# Fashion-MNIST is a Debian package (no download at run time); installed here when missing.
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
$(FASHION):
	$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get install -y -q dataset-fashion-mnist

# Images: a conditional DCGAN on 10,000 Fashion-MNIST images for ten minutes, samples, a grid and a report.
demo-images: $(STAMP) $(FASHION)
	mkdir -p demo
	$(BIN)/python -c "from ganforge.datasets import load_image_dataset as load; from ganforge.image.data import write_images; \
		d = load('fashion-mnist').subset(slice(0, 10000)); write_images('demo/fashion.npz', d.images, d.labels, d.classes, force=True)"
	$(BIN)/ganforge fit demo/fashion.npz --out demo/image-model --max-minutes 10 --seed 0 --force
	$(BIN)/ganforge sample demo/image-model --num 2000 --out demo/fashion-samples --grid demo/fashion-grid.png \
		--seed 0 --force
	$(BIN)/ganforge evaluate --real demo/fashion.npz --synthetic demo/fashion-samples \
		--report demo/image-report.html --out demo/image-metrics.json --force
	@echo "samples: demo/fashion-samples/; grid: demo/fashion-grid.png; report: $(CURDIR)/demo/image-report.html"

# Fortunes are Debian packages (no download at run time); installed here when missing.
FORTUNES := /usr/share/games/fortunes/fortunes
$(FORTUNES):
	$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get install -y -q fortunes fortunes-min

# Held-out text corpora for benchmarks/text_quality.py.
MORE_FORTUNES := /usr/share/games/fortunes/es
$(MORE_FORTUNES):
	$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get install -y -q fortunes-bofh-excuses fortunes-mario \
		fortunes-de fortunes-es

# Texts: a GRU GAN on short fortunes for ten minutes (its level and shipped generator chosen by fit), with its maximum-likelihood baseline beside
# it in the report, then samples and their scores against the held-out sentences.
demo-text: $(STAMP) $(FORTUNES)
	mkdir -p demo
	$(BIN)/ganforge demo-data fortunes --out demo/fortunes.txt --force
	$(BIN)/ganforge fit demo/fortunes.txt --out demo/text-model --max-minutes 10 --seed 0 --force \
		--report demo/text-report.html
	$(BIN)/ganforge sample demo/text-model --num 1000 --out demo/fortunes-generated.txt --seed 0 --force
	$(BIN)/ganforge info demo/text-model
	@echo "generated: demo/fortunes-generated.txt; report: $(CURDIR)/demo/text-report.html"

# Sounds: a conditional spectrogram GAN on the bundled spoken digits (500 clips of one speaker, CC BY-SA 4.0, written
# out with their notice) for ten minutes, then a folder of WAV files per digit, their scores and a report to listen to.
demo-audio: $(STAMP)
	mkdir -p demo
	$(BIN)/ganforge demo-data spoken-digits --out demo/spoken-digits --force
	$(BIN)/ganforge fit demo/spoken-digits --out demo/audio-model --max-minutes 10 --seed 0 --force
	$(BIN)/ganforge sample demo/audio-model --num 500 --out demo/audio-samples --seed 0 --force
	$(BIN)/ganforge evaluate --real demo/spoken-digits --synthetic demo/audio-samples \
		--report demo/audio-report.html --out demo/audio-metrics.json --force
	$(BIN)/ganforge info demo/audio-model
	@echo "clips: demo/audio-samples/ (a folder per digit); report: $(CURDIR)/demo/audio-report.html"

# One test worker a core, at most four (each worker and the commands it starts use one thread; a test file's
# fixtures stay with one worker): on two cores the suite takes half the time it takes in one process.
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile

# Benchmarks compare against ctgan, sdv, sdmetrics and arfpy, which pin an older pandas: they get their own venv
# (with mlxtend, which ships the 5,000 MNIST digits of the image benchmark; Fashion-MNIST is a Debian package).
# TabularARGN (mostlyai-engine) pins clash with those, so it gets another; the torchvision it pulls in does not
# import beside the pinned torch and is removed (the engine runs without it).
bench-env: .bench/.installed .bench-argn/.installed .bench-dp/.installed $(FORTUNES) $(MORE_FORTUNES) $(FASHION)
.bench/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv .bench
	.bench/bin/pip install --quiet "$(TORCH)"
	.bench/bin/pip install --quiet -e '.[datasets]' 'ctgan==0.12.*' sdv sdmetrics arfpy mlxtend
	touch .bench/.installed
.bench-argn/.installed: Makefile
	$(PYTHON) -m venv .bench-argn
	.bench-argn/bin/pip install --quiet "$(TORCH)"
	.bench-argn/bin/pip install --quiet 'mostlyai-engine==2.7.*' pyarrow
	.bench-argn/bin/pip uninstall --quiet -y torchvision
	touch .bench-argn/.installed
# MST and AIM (smartnoise-synth 1.0.8) pin mbi<2, which the package index no longer holds: the package is
# installed without its pins and benchmarks/peers/smartnoise_run.py maps the names mbi 2 moved.
.bench-dp/.installed: Makefile
	$(PYTHON) -m venv .bench-dp
	.bench-dp/bin/pip install --quiet --no-deps 'smartnoise-synth==1.0.8'
	.bench-dp/bin/pip install --quiet 'mbi==2.0.*' smartnoise-sql Faker 'disjoint-set<0.10' pyarrow packaging "$(TORCH)"
	.bench-dp/bin/pip install --quiet --no-deps 'opacus==0.14.0'  # DP-CTGAN: smartnoise 1.0.8 pins opacus 0.14
	touch .bench-dp/.installed

clean:
	rm -rf $(VENV) .bench .bench-argn .bench-dp demo .pytest_cache .hypothesis
