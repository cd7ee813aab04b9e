"""What the Python benchmarks (bcast, import-storm) share: messages, tools, the
corpus, a private copy of the binary, and jobs on simulated nodes."""
import os
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMNODES = os.path.join(REPO, "test", "mpi", "simnodes")
NODE_NAMES = ["nodeA", "nodeB", "nodeC", "nodeD", "nodeE", "nodeF", "nodeG", "nodeH"]
_name = os.path.basename(sys.argv[0])


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
