"""What the Python benchmarks (all, bcast, import-storm) share: their common options,
messages, tools, the corpus, a private copy of the binary, jobs on simulated nodes,
alternated rounds, medians and the JSON they write."""
import argparse
import json
import os
import shutil
import subprocess
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMNODES = os.path.join(REPO, "test", "mpi", "simnodes")
NODE_NAMES = ["nodeA", "nodeB", "nodeC", "nodeD", "nodeE", "nodeF", "nodeG", "nodeH"]
_name = os.path.basename(sys.argv[0])


CORPUS_DIR = os.environ.get("SHMSTACK_CORPUS_DIR", os.path.join(REPO, "bench", "corpus"))


def parser(corpus=None, runs=None):
    """The options every benchmark takes: -h/--help, --json FILE, --corpus-dir DIR and,
    where given a default, --corpus NAME and --runs N."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("--json")
    p.add_argument("--corpus-dir", default=CORPUS_DIR)
    if corpus is not None:
        p.add_argument("--corpus", default=corpus)
    if runs is not None:
        p.add_argument("--runs", type=int, default=runs)
    return p


def parse(p, doc):
    """Parses the command line; --help prints `doc` (the script's docstring) and exits."""
    args = p.parse_args()
    if args.help:
        print(doc.strip())
        sys.exit(0)
    return args


def require_root(why):
    if os.geteuid() != 0:
        die(f"needs root ({why})")


def log(message):
    print(f"{_name}: {message}", file=sys.stderr, flush=True)


def die(message):
    log("error: " + message)
    sys.exit(1)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_packages(commands, packages=()):
    """Installs (apt-get) the package of each missing command ({command: package}) and `packages`."""
    missing = [p for c, p in commands.items() if not shutil.which(c)] + list(packages)
    if missing:
        log("installing " + " ".join(missing))
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing, stdout=subprocess.DEVNULL)


def corpus(corpus_dir, name):
    """The corpus directory, built with scripts/build-corpora when missing."""
    path = os.path.join(corpus_dir, name)
    if not os.path.isdir(path):
        log(f"building corpus {name}")
        run([os.path.join(REPO, "scripts", "build-corpora"), "--only", name, corpus_dir])
    return path


def private_binary(work):
    """A copy of $SHMSTACK (default build/apps/shmstack) in `work`: a rebuild during the
    run changes nothing measured."""
    copy = os.path.join(work, "shmstack")
    shutil.copy2(os.environ.get("SHMSTACK", os.path.join(REPO, "build", "apps", "shmstack")), copy)
    return copy


def sim_job(spec, command, timeout=600, options=()):
    """Runs `command` on simulated nodes (`spec`: host:ranks,...; `options`: more simnodes
    options); returns seconds, dies on failure."""
    start = time.monotonic()
    result = subprocess.run([SIMNODES, spec, *options, "--timeout", str(timeout), "--"] + command,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if result.returncode != 0 or result.stdout.startswith("SKIP:"):
        die(f"job failed ({result.returncode}): {' '.join(command)}\n{result.stdout}{result.stderr[-3000:]}")
    return seconds


def rounds(names, runs):
    """The order of each timed round: every command once, rotated by one each round
    (A B C, B C A, ...), never all runs of one command first."""
    for r in range(runs):
        k = r % len(names)
        yield names[k:] + names[:k]


def medians(samples):
    """{name: [values]} -> {name: median}."""
    return {name: statistics.median(values) for name, values in samples.items()}


def write_json(path, results):
    if path:
        with open(path, "w") as f:
            json.dump(results, f, indent=2)
